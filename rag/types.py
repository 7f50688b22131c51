"""Plain data passed between the stages: reports, chunks, hits."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


def content_hash(text: str) -> str:
    """A short, stable id for a piece of text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Places:
    """Administrative place names a report gives, one per level (None when absent)."""

    province: str | None = None
    city: str | None = None
    county: str | None = None
    town: str | None = None

    def names(self) -> list[str]:
        return [n for n in (self.province, self.city, self.county, self.town) if n]


@dataclass(frozen=True)
class ReportMeta:
    title: str
    title_synthesized: bool
    issuer: str | None
    places: Places
    year: int | None
    published: str | None  # ISO date, YYYY-MM-DD
    index_no: str | None
    doc_no: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReportMeta:
        return cls(**{**d, "places": Places(**d["places"])})


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Report:
    """One report: `text` is the decoded file text before cleaning; offsets point into it."""

    source: str  # file name, e.g. 000_4e493ef760f0cb20.txt
    text: str
    meta: ReportMeta
    encoding: str
    noise: tuple[Span, ...] = ()  # spans of text that are not report content

    @property
    def id(self) -> str:
        return content_hash(self.source + "\0" + self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "text": self.text,
            "encoding": self.encoding,
            "meta": self.meta.to_dict(),
            "noise": [[s.start, s.end] for s in self.noise],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        return cls(
            source=d["source"],
            text=d["text"],
            encoding=d["encoding"],
            meta=ReportMeta.from_dict(d["meta"]),
            noise=tuple(Span(a, b) for a, b in d["noise"]),
        )


@dataclass(frozen=True)
class Chunk:
    """A passage: `report_text[start:end] == text`."""

    source: str
    start: int
    end: int
    text: str
    section: tuple[str, ...] = field(default_factory=tuple)
    index_text: str = ""  # what is embedded and BM25-indexed: report context header + clean text

    @property
    def id(self) -> str:
        return content_hash(f"{self.source}\0{self.start}\0{self.end}\0{self.index_text}")

    @property
    def section_path(self) -> str:
        return " > ".join(self.section)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["section"] = list(self.section)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Chunk:
        return cls(**{**d, "section": tuple(d["section"])})


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    chunk: Chunk
    title: str
    dense_rank: int | None = None
    bm25_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "source": c.source,
            "title": self.title,
            "section": c.section_path,
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "dense_rank": self.dense_rank,
            "bm25_rank": self.bm25_rank,
        }
