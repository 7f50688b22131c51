"""What every tab of one app shares: the pipeline answering now, the review desk, where the
report files are, and the choices the filters offer."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.pipeline import Pipeline
from rag.types import Chunk, Citation
from ui.guard import Access
from ui.render import report_link
from ui.review import ReviewDesk
from ui.users import User


def as_text(text: str) -> str:
    """Chat messages are rendered as HTML by the browser: escape them so markup shows as text."""
    return html.escape(text, quote=False)


def section_spans(chunks: list[Chunk]) -> dict[tuple[str, str], tuple[int, int]]:
    """(source, section path) -> span of the report covering every chunk under that path."""
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for c in chunks:
        for depth in range(1, len(c.section) + 1):
            key = (c.source, " > ".join(c.section[:depth]))
            a, b = spans.get(key, (c.start, c.end))
            spans[key] = (min(a, c.start), max(b, c.end))
    return spans


class Live:
    """The pipeline the app answers with; replaced whole when an upload updates the index."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.swap(pipeline)

    def swap(self, pipeline: Pipeline) -> None:
        spans = section_spans(pipeline.index.chunks)
        self.pipeline, self.spans = pipeline, spans  # one assignment: readers see old or new


@dataclass
class Context:
    live: Live
    desk: ReviewDesk
    access: Access
    folder: Path  # the report files (downloads)
    users: dict[str, User] | None = None
    settings: Settings | None = None
    index_dir: Path | None = None
    anonymous_edits: bool = False
    report_choices: list[tuple[str, str]] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, live: Live, desk: ReviewDesk, access: Access, folder: Path, **kw: Any) -> Context:
        reports = live.pipeline.reports
        return cls(
            live, desk, access, folder, **kw,
            report_choices=[(f"{r.meta.title}（{s}）", s) for s, r in reports.items()],
            years=sorted({r.meta.year for r in reports.values() if r.meta.year}),
            titles={s: r.meta.title for s, r in reports.items()},
        )  # fmt: skip

    def section_of(self, c: Citation) -> tuple[int, int] | None:
        """The smallest section around the cited passage that is larger than the passage."""
        parts = c.section.split(" > ") if c.section else []
        for depth in range(len(parts), 0, -1):
            span = self.live.spans.get((c.source, " > ".join(parts[:depth])))
            if span and (span[0] < c.start or span[1] > c.end):
                return span
        return None

    def download_of(self, source: str) -> str | None:
        # a link by file name (ui/server.py serves it): never the server's path
        return report_link(source) if (self.folder / source).is_file() else None
