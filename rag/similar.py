"""Text one report repeats from another almost word for word (another town's report, or the
same town's earlier year), beyond the boilerplate every report shares.

Each sentence is compared as its character 5-grams after the words that change in a copy are
masked: figures and years (a copy with new dates and counts), the reports' own place names
(水口镇 copied as 峡口镇) and 我镇/本镇. Boilerplate is learned from the corpus, not listed: a
5-gram that stands in at least BOILERPLATE_SHARE of the reports (纲要 titles, 习近平法治思想
phrases) does not count for or against a copy. A sentence is copied when COPIED of its other
5-grams stand in one sentence of another report (and that sentence's own share is at least
half of it: a short line inside a long one is no copy); consecutive copied sentences from the
same report make one span. The share of a report is its copied characters over its sentences'.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rag.lang import lexicon
from rag.retrieve.sections import report_sentences
from rag.text.numbers import QUANTITY
from rag.types import Chunk, Report
from rag.verify.judge import is_furniture

GRAM = 5
BOILERPLATE_SHARE = 0.3  # of the reports, at least BOILERPLATE_MIN of them
BOILERPLATE_MIN = 3
COPIED = 0.8
MIN_GRAMS = 8  # a sentence with fewer own 5-grams says too little to be called a copy
LONE_GRAMS = 40  # nor does one copied sentence alone with fewer (a template line)
_SELF = lexicon()["self_reference"].pattern  # rag/lang/data/places.toml: 我镇, 本县
_DIGITS = re.compile(r"[0-9０-９]+")
_PUNCT = re.compile(r"[\s，,。；;：:、！？!?“”\"'（）()《》〈〉【】\[\]—\-…·]")


KIND_ZH = {"earlier_year": "本地往年", "same_place": "本地另一份", "other_place": "别的地方"}


@dataclass(frozen=True)
class Copied:
    """A span of one report that repeats a span of another."""

    source: str
    start: int
    end: int
    other: str
    other_start: int
    other_end: int
    overlap: float  # the least share of own 5-grams found, over the span's sentences
    kind: str  # "earlier_year" (the same place's earlier report), "same_place", "other_place"

    def to_dict(self, reports: Mapping[str, Report] | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "source": self.source, "start": self.start, "end": self.end, "other": self.other,
            "other_start": self.other_start, "other_end": self.other_end,
            "overlap": round(self.overlap, 3), "kind": self.kind,
        }  # fmt: skip
        if reports is not None:
            d["text"] = reports[self.source].text[self.start : self.end]
            d["other_text"] = reports[self.other].text[self.other_start : self.other_end]
        return d


@dataclass(frozen=True)
class Similarity:
    spans: tuple[Copied, ...]
    shares: dict[str, float]  # report -> share of its sentences' characters copied
    boilerplate: int  # 5-grams learned as boilerplate

    def of(self, source: str) -> list[Copied]:
        return [s for s in self.spans if s.source == source]

    def to_dict(self, reports: Mapping[str, Report] | None = None) -> dict[str, Any]:
        return {"shares": {s: round(v, 4) for s, v in self.shares.items()},
                "boilerplate_grams": self.boilerplate,
                "spans": [s.to_dict(reports) for s in self.spans]}  # fmt: skip


@dataclass(frozen=True)
class _Sentence:
    source: str
    start: int
    end: int
    grams: frozenset[str]


def _masked(text: str, names: Sequence[str]) -> str:
    for n in names:
        text = text.replace(n, "〇")
    text = _SELF.sub("〇", text)
    text = _DIGITS.sub("#", QUANTITY.sub("#", text))  # figures and years, in words or digits
    return _PUNCT.sub("", text)


def _grams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + GRAM] for i in range(len(text) - GRAM + 1))


def _sentences(report: Report, chunks: Sequence[Chunk]) -> list[_Sentence]:
    names = sorted({n for n in report.meta.places.names() if len(n) >= 2}, key=len, reverse=True)
    out = []
    for chunk, a, b in report_sentences(chunks):
        text = chunk.text[a:b]
        if not is_furniture(report, text):
            grams = _grams(_masked(text, names))
            out.append(_Sentence(report.source, chunk.start + a, chunk.start + b, grams))
    return out


def _kind(a: Report, b: Report) -> str:
    same = set(a.meta.places.names()) & set(b.meta.places.names())
    own = a.meta.places.town or a.meta.places.county
    if own and own in same:
        ya, yb = a.meta.year, b.meta.year
        return "earlier_year" if ya and yb and yb < ya else "same_place"
    return "other_place"


def find_copies(
    reports: Mapping[str, Report], chunks: Iterable[Chunk], sources: Sequence[str] | None = None
) -> Similarity:
    """The copied spans of the reports `sources` (all when None) against every report of
    `reports` (an index's reports and chunks)."""
    by_report: dict[str, list[Chunk]] = defaultdict(list)
    for c in chunks:
        by_report[c.source].append(c)
    sents = {s: _sentences(r, by_report.get(s, [])) for s, r in reports.items()}
    df: Counter[str] = Counter()
    for listed in sents.values():
        df.update({g for s in listed for g in s.grams})
    floor = max(BOILERPLATE_MIN, math.ceil(BOILERPLATE_SHARE * len(reports)))
    boiler = {g for g, n in df.items() if n >= floor}
    own = {k: [replace(s, grams=s.grams - boiler) for s in listed] for k, listed in sents.items()}
    asked = sorted(sources if sources is not None else reports)
    # only the 5-grams of the reports asked about are looked up: the index stays their size
    wanted = {g for k in asked for s in own[k] for g in s.grams} if sources is not None else None
    index: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for k, listed in own.items():
        for i, sentence in enumerate(listed):
            for g in sentence.grams if wanted is None else sentence.grams & wanted:
                index[g].append((k, i))
    whole: dict[str, frozenset[str]] = {}  # a report's own 5-grams, once per call

    def grams_of(source: str) -> frozenset[str]:
        if source not in whole:
            whole[source] = frozenset(g for s in own[source] for g in s.grams)
        return whole[source]

    spans: list[Copied] = []
    shares: dict[str, float] = {}
    for k in asked:
        matches = [_match(k, s, own, index) for s in own[k]]
        copied = 0
        for run in _runs(own[k], matches, grams_of):
            span = _span(run, own, reports)
            if span is not None:
                spans.append(span)
                copied += sum(s.end - s.start for s, _, _ in run)
        total = sum(s.end - s.start for s in own[k])
        shares[k] = copied / total if total else 0.0
    return Similarity(tuple(spans), shares, len(boiler))


_Match = tuple[str, int, float]  # the other report, its sentence, the share of own 5-grams found


def _match(
    k: str,
    s: _Sentence,
    own: dict[str, list[_Sentence]],
    index: dict[str, list[tuple[str, int]]],
) -> list[_Match]:
    """The sentences of other reports that hold COPIED of `s`'s own 5-grams (and at least
    half as much of their own), best first: several when a text was copied more than once."""
    if len(s.grams) < MIN_GRAMS:
        return []
    counts = Counter(j for g in s.grams for j in index[g] if j[0] != k)
    out = []
    for (other, i), n in counts.most_common():
        if n / len(s.grams) < COPIED:
            break
        if n / max(len(own[other][i].grams), 1) >= COPIED / 2:
            out.append((other, i, n / len(s.grams)))
    return out


def _runs(
    listed: list[_Sentence],
    matches: list[list[_Match]],
    grams_of: Callable[[str], frozenset[str]],
) -> list[list[tuple[_Sentence, _Match | None, str]]]:
    """Consecutive sentences copied from one other report (when a text was copied into
    several, the one that holds the most of the run); a short sentence between or before
    them (a heading: too short to judge alone) joins them when that report holds all of its
    words."""
    runs: list[list[tuple[_Sentence, _Match | None, str]]] = []
    current: list[tuple[_Sentence, list[_Match]]] = []
    common: set[str] = set()  # the reports every copied sentence of the run is found in
    pending: list[_Sentence] = []  # short sentences since the last copied one

    def close() -> None:
        if current:
            runs.append(_assigned(current, common))

    for s, found in zip(listed, matches, strict=True):
        if not s.grams:  # boilerplate only: neither part of a copy nor an end to one
            continue
        if found:
            others = {m[0] for m in found}
            held = [p for p in pending if any(p.grams <= grams_of(o) for o in others)]
            if not current or not (common & others) or len(held) < len(pending):
                close()
                current, common = [], set(others)
                held = [p for p in held if len(held) == len(pending)]
            common &= others
            current += [(p, []) for p in held] + [(s, found)]
            pending = []
        elif len(s.grams) < MIN_GRAMS:
            pending.append(s)
        else:
            close()
            current, common, pending = [], set(), []
    close()
    return runs


def _assigned(
    run: list[tuple[_Sentence, list[_Match]]], common: set[str]
) -> list[tuple[_Sentence, _Match | None, str]]:
    """The run with each copied sentence's match in the one report chosen for it."""

    def held(other: str) -> float:
        return sum(m[2] for _, found in run for m in found if m[0] == other)

    other = max(sorted(common), key=held)
    return [(s, next((m for m in found if m[0] == other), None), other) for s, found in run]


def _span(
    run: list[tuple[_Sentence, _Match | None, str]],
    own: dict[str, list[_Sentence]],
    reports: Mapping[str, Report],
) -> Copied | None:
    """The run as one span, and the other report's span it repeats; None for a lone short
    sentence (a template line two reports share: 全年重大行政决策事项5项)."""
    copied = [(s, m) for s, m, _ in run if m is not None]
    if len(copied) == 1 and len(copied[0][0].grams) < LONE_GRAMS:
        return None
    other = run[0][2]
    theirs = [own[other][m[1]] for _, m in copied]
    first = min(theirs, key=lambda t: t.start)
    at = own[other].index(first)
    lead = [s for s, m, _ in run[: next(i for i, x in enumerate(run) if x[1] is not None)]]
    other_start = first.start
    for s in reversed(lead):  # a heading copied too, right before the first copied sentence
        if at > 0 and own[other][at - 1].grams == s.grams:
            at -= 1
            other_start = own[other][at].start
    source = run[0][0].source
    return Copied(
        source, run[0][0].start, run[-1][0].end, other, other_start,
        max(t.end for t in theirs), min(m[2] for _, m in copied),
        _kind(reports[source], reports[other]),
    )  # fmt: skip


SHARES_FILE = "copied-shares.json"


def build_shares(
    folder: Path, reports: Mapping[str, Report], chunks: Iterable[Chunk]
) -> dict[str, float]:
    """Each report's copied share for the index build in `folder`, computed once per build and
    kept beside it (a build never changes once written; a new build is a new folder): the 雷同
    column of `rag reports` does not search the whole corpus on every listing. A folder that
    cannot be written is searched each time."""
    path = folder / SHARES_FILE
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(kept, dict) and set(kept) == set(reports):
            return {k: float(v) for k, v in kept.items()}
    except (OSError, ValueError):
        pass
    shares = find_copies(reports, chunks).shares
    with contextlib.suppress(OSError):
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(shares, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    return shares
