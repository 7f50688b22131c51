"""Questions about a report itself (when it was published, by whom, which year, where),
answered from its metadata and cited to the line of the report that states it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.compose import absence_text
from rag.answer.extractive import place_label
from rag.ingest.metadata import parse_date
from rag.lang import lexicon, phrase
from rag.types import Chunk, Hit, Report

_LEX = lexicon()  # rag/lang/data/metadata.toml
_ABOUT_REPORT = _LEX["about_report"].pattern
# (intent, label, pattern, needs an about-report word), tried in order
INTENTS: tuple[tuple[str, str, re.Pattern[str], bool], ...] = tuple(
    (e.attrs["intent"], e.attrs["label"], re.compile(e.text), e.attrs["needs_report"])
    for e in _LEX["meta_question"].entries
    if e.attrs["intent"] != "written_for_published"
)
# how an answer names the 成文日期 given for a publication date the report does not state
_FALLBACK_LABEL = _LEX["meta_question"].by_attr("label")["未载明发布日期"]


@dataclass(frozen=True)
class MetaLine:
    source: str
    field: str  # 日期 / 报送单位 / ...
    value: str
    start: int  # the report line that states the value
    end: int


def intent(question: str) -> tuple[str, str] | None:
    """(intent, field label) when the question asks about the report itself."""
    for name, label, pattern, needs_report in INTENTS:
        if needs_report and not _ABOUT_REPORT.search(question):
            continue
        if pattern.search(question):
            return name, label
    return None


def _line(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _find(text: str, needles: Sequence[str]) -> tuple[int, int] | None:
    for needle in needles:
        if needle and (pos := text.find(needle)) >= 0:
            return _line(text, pos)
    return None


def locate(report: Report, name: str) -> MetaLine | None:
    """The metadata value for intent `name` and the line of the report that states it."""
    m, text = report.meta, report.text
    span: tuple[int, int] | None = None
    value: str | None = None
    date = {"published": m.published, "written": m.written}.get(name)
    field = ""
    if name == "published" and not date and m.written:  # only its 成文日期 is stated
        date, field = m.written, _FALLBACK_LABEL
    if date:
        value = date
        for a, b in (_line(text, mt.start()) for mt in re.finditer(r"[年\-]", text)):
            if parse_date(text[a:b]) == date:
                span = (a, b)
                break
    elif name == "addressee" and m.addressee:
        value = m.addressee
        span = _find(text, [value])
    elif name == "issuer" and m.issuer:
        value = m.issuer
        tails = [m.issuer[i:] for i in range(0, max(1, len(m.issuer) - 3))]
        span = _find(text, tails)
    elif name == "place" and m.places.names():
        value = "".join(m.places.names())
        names = m.places.names()  # province .. town
        span = _find(text, [value, *reversed(names[:-1]), names[-1]])
    elif name == "year" and m.year:
        value = f"{m.year}年"
        span = _find(text, [m.title if not m.title_synthesized else "", value])
    elif name in ("doc_no", "index_no") and (value := getattr(m, name)):
        span = _find(text, [value])
    if value is None or span is None:
        return None
    return MetaLine(report.source, field, value, *span)


def answer_lines(name: str, reports: Sequence[Report]) -> list[MetaLine]:
    return [line for r in reports if (line := locate(r, name)) is not None]


def meta_hits(lines: Sequence[MetaLine], reports: dict[str, Report]) -> list[Hit]:
    """Each stating line as a numbered source."""
    return [
        Hit(
            rank=i,
            score=1.0,
            chunk=Chunk(
                x.source, x.start, x.end, reports[x.source].text[x.start : x.end], ("报告信息",)
            ),
            title=reports[x.source].meta.title,
        )
        for i, x in enumerate(lines, start=1)
    ]


def meta_text(
    label: str, lines: Sequence[MetaLine], hits: Sequence[Hit], reports: dict[str, Report]
) -> str:
    """One cited line per report: 水口镇（2024年）报告的日期为…（原文：“…”）[1]。"""
    line = phrase("metadata_line")
    return "\n".join(
        line.render(
            label=place_label(reports[x.source]),
            field=x.field or label,
            value=x.value,
            line=h.chunk.text.strip(),
            n=h.rank,
        )  # fmt: skip
        for x, h in zip(lines, hits, strict=True)
    )


@dataclass(frozen=True)
class AboutReport:
    """The answer to a question about the report itself: the lines stating the field, as
    numbered sources, and the text citing them (or the abstention saying no report does)."""

    hits: list[Hit]
    text: str
    stated: bool  # some report in scope states the field


def about_report(
    meta: tuple[str, str],
    searched: Sequence[str],
    reports: dict[str, Report],
    filters: Sequence[str],
) -> AboutReport:
    """`meta` (field, label) of the reports `searched`, each cited to the line stating it."""
    lines = answer_lines(meta[0], [reports[r] for r in searched])
    hits = meta_hits(lines, reports)
    if not lines:
        reason = phrase("not_stated").render(field=meta[1])
        return AboutReport(hits, absence_text(searched, reports, filters, reason), False)
    return AboutReport(hits, meta_text(meta[1], lines, hits, reports), True)
