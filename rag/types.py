"""Plain data passed between the stages: reports, chunks, hits."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rag.lang import phrase


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
    published: str | None  # ISO date, YYYY-MM-DD: when the page published it (发布日期)
    index_no: str | None
    doc_no: str | None
    written: str | None = None  # ISO date the report was signed (成文日期, the 落款's date)
    addressee: str | None = None  # whom it is sent to (报送/报给 …), when the text says

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
class Page:
    """A page of a report's text (a PDF page, a scanned image): its number (from 1), its
    span, and whether its text was recognised from the page image (OCR, 识别文字)."""

    number: int
    start: int
    end: int
    recognized: bool = False


@dataclass(frozen=True)
class Report:
    """One report: `text` is the decoded file text before cleaning; offsets point into it."""

    source: str  # file name, e.g. 000_4e493ef760f0cb20.txt
    text: str
    meta: ReportMeta
    encoding: str
    noise: tuple[Span, ...] = ()  # spans of text that are not report content
    # the file's own text when it is in traditional characters: `text` is then its simplified
    # reading, of the same length, so every offset points into both (rag/lang/script.py)
    original: str = ""
    pages: tuple[Page, ...] = ()  # a PDF's or a scan's pages; () for a text, .docx or web page

    def page_at(self, offset: int) -> Page | None:
        """The page holding `offset`: the last one starting at or before it (a paragraph that
        runs on joins two pages with no break, so one's end is the next one's start); None
        for a report without pages."""
        return next((p for p in reversed(self.pages) if p.start <= offset), None)

    def shown(self, start: int, end: int) -> str:
        """The report's text from `start` to `end` as the file writes it (繁體 stays 繁體)."""
        return (self.original or self.text)[start:end]

    @property
    def label(self) -> str:
        """The report's place and year, as answers name it: 峡口镇（2024年）."""
        p = self.meta.places
        name = p.town or p.county or p.city or p.province or self.meta.title
        return (
            phrase("report_label").render(place=name, year=self.meta.year)
            if self.meta.year
            else name
        )

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
            "original": self.original,
            "pages": [[p.number, p.start, p.end, p.recognized] for p in self.pages],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        return cls(
            source=d["source"],
            text=d["text"],
            encoding=d["encoding"],
            meta=ReportMeta.from_dict(d["meta"]),
            noise=tuple(Span(a, b) for a, b in d["noise"]),
            original=d.get("original", ""),
            pages=tuple(Page(n, a, b, bool(r)) for n, a, b, r in d.get("pages", ())),
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


@dataclass(frozen=True)
class Candidate:
    """A sentence of a numbered source, scored for a question (the extractive answer and the
    evidence score)."""

    n: int  # source number, 1-based
    start: int  # offsets into the source's chunk text
    end: int
    support: float  # share of question terms (decides abstention)
    score: float  # support plus small preferences (numbers for numeric questions, rank)
    # False for a sentence without the figure a numeric question asks (it cannot answer it)
    answers: bool = True

    def text(self, hits: Sequence[Hit]) -> str:
        return hits[self.n - 1].chunk.text[self.start : self.end]


def best_evidence(ranked: Sequence[Candidate]) -> Candidate | None:
    """The best-supported sentence that can answer (for a numeric question: one stating a
    figure in the unit asked), or None."""
    return max((c for c in ranked if c.answers), key=lambda c: c.support, default=None)


CitationView = Literal["passage", "support"]


def page_label(page: int | None, recognized: bool = False) -> str:
    """A cited page as it is shown: 第3页, 第2页，识别文字 (read by OCR: check the scan), or ''."""
    if page is None:
        return ""
    return phrase("recognized_page" if recognized else "page").render(page=page)


@dataclass(frozen=True)
class Citation:
    """Marker [n] of one claim, resolved to a passage and to the sentence that best supports it.

    start/end are the cited passage's offsets into the report text; support_start/support_end
    the supporting sentence's (report_text[support_start:support_end] == support_text).
    """

    n: int
    claim: int  # index into Answer.claims
    source: str
    title: str
    section: str
    start: int
    end: int
    text: str
    support_start: int
    support_end: int
    support_text: str
    page: int | None = None  # the page of the supporting sentence (a PDF or a scan)
    recognized: bool = False  # that page's text was recognised from its image (识别文字)

    @property
    def where(self) -> str:
        return page_label(self.page, self.recognized)

    def to_dict(self, view: CitationView = "passage") -> dict[str, Any]:
        """`passage`: start/end/text are the cited passage's, `support` the sentence's.
        `support` (predictions.jsonl): start/end/text are the supporting sentence's, and
        passage_start/passage_end the passage's."""
        d = asdict(self)
        support = {
            "start": d.pop("support_start"),
            "end": d.pop("support_end"),
            "text": d.pop("support_text"),
        }
        if view == "support":
            d["passage_start"], d["passage_end"] = d["start"], d["end"]
            d.update(support)
        else:
            d["support"] = support
        return d


Verdict = str  # "supported" | "partly" | "unsupported" | "uncited"


@dataclass(frozen=True)
class ClaimCheck:
    """One sentence of an answer, checked against the spans it cites."""

    text: str
    markers: tuple[int, ...]
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    unmatched_numbers: tuple[str, ...] = ()
    overlap: float = 0.0  # share of the claim's characters found in its cited spans

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["markers"] = list(self.markers)
        d["reasons"] = list(self.reasons)
        d["unmatched_numbers"] = list(self.unmatched_numbers)
        d["overlap"] = round(self.overlap, 3)
        return d


@dataclass(frozen=True)
class Answer:
    question: str  # as asked
    rewritten: str  # standalone question that was searched (== question on a first turn)
    text: str  # with [n] markers; invalid markers removed
    mode: str  # "extractive" or "llm:<model>"
    abstained: bool
    citations: tuple[Citation, ...]
    claims: tuple[ClaimCheck, ...]
    contexts: tuple[Hit, ...]  # the numbered sources [1]..[n] the answerer was given
    searched: tuple[str, ...]  # report files searched
    filters: tuple[str, ...]  # how the search was scoped, e.g. "question names 水口镇"
    warnings: tuple[str, ...] = ()
    support: float = 0.0  # evidence score the abstention decision used
    latency_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self, citations: CitationView = "passage") -> dict[str, Any]:
        """The one JSON form of an answer: `rag ask --json`, the /ask API, the audit log and,
        with citations="support", predictions.jsonl of `rag eval`."""
        return {
            "question": self.question,
            "rewritten": self.rewritten,
            "answer": self.text,
            "mode": self.mode,
            "abstained": self.abstained,
            "support": round(self.support, 4),
            "citations": [c.to_dict(citations) for c in self.citations],
            "claims": [c.to_dict() for c in self.claims],
            "contexts": [
                {k: v for k, v in h.to_dict().items() if k not in ("dense_rank", "bm25_rank")}
                for h in self.contexts
            ],
            "searched": list(self.searched),
            "filters": list(self.filters),
            "warnings": list(self.warnings),
            "latency_ms": {k: round(v, 2) for k, v in self.latency_ms.items()},
        }
