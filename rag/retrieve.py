"""Hybrid retrieval: BM25 + dense, reciprocal rank fusion, place/year scoping, diversity."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rag.embed import Embedder
from rag.errors import ConfigError
from rag.ingest import INLINE_NOISE
from rag.store import LoadedIndex
from rag.textmatch import names_in
from rag.types import Hit, Report

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "bm25", "dense"]
CACHE_ENTRIES = 8  # questions whose query vector and BM25 scores are kept
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年?")
_SUFFIXES = ("自治县", "自治州", "自治区", "街道", "省", "市", "县", "区", "镇", "乡")


@dataclass(frozen=True)
class QueryOptions:
    """Per-query knobs."""

    k: int = 5
    mode: Mode = "hybrid"
    places: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    reports: tuple[str, ...] = ()  # report file names
    scope_from_question: bool = True  # place names in the question restrict the reports
    year_boost: float = 0.25  # fused-score bonus for reports covering a year the question names
    diversify: bool = True
    dedup_threshold: float = 0.6  # char-trigram Jaccard above which a hit counts as a copy
    candidates: int = 50
    rrf_k: int = 60

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ConfigError(f"k must be >= 1, got {self.k}")
        if self.mode not in ("hybrid", "bm25", "dense"):
            raise ConfigError(f"mode must be hybrid, bm25 or dense, got {self.mode!r}")


@dataclass(frozen=True)
class Scope:
    """Which reports a query searches, and why."""

    reports: tuple[str, ...] | None  # None: all
    boosted: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default_factory=tuple)
    named: tuple[str, ...] = ()  # reports whose place the question names


def rrf(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: score(d) = sum over lists of 1 / (k + rank), rank from 1."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return scores


_MULTI_CHAR_ETHNIC = (
    "达斡尔",
    "鄂温克",
    "土家",
    "蒙古",
    "布依",
    "仡佬",
    "哈尼",
    "纳西",
    "朝鲜",
    "傈僳",
    "拉祜",
    "毛南",
    "仫佬",
    "撒拉",
    "布朗",
)


def _strip_ethnic(stem: str) -> str:
    """江华瑶族 -> 江华, 石柱土家族 -> 石柱 (自治县 names carry the ethnic groups)."""
    while stem.endswith("族"):
        body = stem[:-1]
        cut = next((len(e) for e in _MULTI_CHAR_ETHNIC if body.endswith(e)), 1)
        if len(body) - cut < 2:
            break
        stem = body[:-cut]
    return stem


def place_aliases(report: Report) -> set[str]:
    """Names a user may call a report's place by: 水口镇, 水口, 江华瑶族自治县, 江华..."""
    names: set[str] = set()
    for name in report.meta.places.names():
        names.add(name)
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                stem = name[: -len(suffix)]
                names.add(stem)
                if stem.endswith("族"):
                    names.add(_strip_ethnic(stem))
                break
    return {n for n in names if len(n) >= 2}


class PlaceIndex:
    """Every report's place aliases, looked up by the substrings of a question."""

    def __init__(self, reports: dict[str, Report]) -> None:
        self.by_source = {s: place_aliases(r) for s, r in reports.items()}
        self.by_alias: dict[str, set[str]] = {}
        for source, names in self.by_source.items():
            for name in names:
                self.by_alias.setdefault(name, set()).add(source)
        self.longest = max((len(a) for a in self.by_alias), default=2)

    def named(self, text: str) -> dict[str, set[str]]:
        """source -> the aliases of that report that occur in `text`."""
        out: dict[str, set[str]] = {}
        for alias in names_in(text, self.by_alias.keys(), self.longest):
            for source in self.by_alias[alias]:
                out.setdefault(source, set()).add(alias)
        return out


def resolve_scope(
    question: str,
    reports: dict[str, Report],
    opts: QueryOptions,
    places: PlaceIndex | None = None,
) -> Scope:
    """Reports to search and to boost; `places` may be precomputed for `reports`."""
    places = places or PlaceIndex(reports)
    allowed: set[str] | None = None  # None: every report (no set of all sources is built)
    reasons: list[str] = []

    def narrow(to: set[str]) -> set[str]:
        return to if allowed is None else allowed & to

    if opts.reports:
        unknown = [r for r in opts.reports if r not in reports]
        if unknown:
            raise ConfigError(f"unknown report(s): {', '.join(unknown)}; see `rag reports`")
        allowed = narrow(set(opts.reports))
        reasons.append("报告：" + "、".join(opts.reports))
    if opts.places:
        hit = {s for p in opts.places for s in places.by_alias.get(p, ())}
        if len(hit) < len(opts.places):  # a longer or partial name: 江华瑶族自治县水口镇, 南岸
            hit |= {
                s
                for s, r in reports.items()
                if any(p in "".join(r.meta.places.names()) for p in opts.places)
            }
        allowed = narrow(hit)
        reasons.append("地方：" + "、".join(opts.places))
    if opts.years:
        allowed = narrow({s for s, r in reports.items() if r.meta.year in opts.years})
        reasons.append("年份：" + "、".join(map(str, opts.years)))
    named: dict[str, set[str]] = {}
    if opts.scope_from_question and not opts.places and not opts.reports:
        named = {
            s: found
            for s, found in places.named(question).items()
            if allowed is None or s in allowed
        }
        if named:
            allowed = set(named)
            reasons.append(
                "问题中的地名：" + "、".join(sorted({a for v in named.values() for a in v}))
            )
    boosted: tuple[str, ...] = ()
    if not opts.years:
        years = {int(y) for y in _YEAR.findall(question)}
        if years:
            pool = reports if allowed is None else allowed
            boosted = tuple(sorted(s for s in pool if reports[s].meta.year in years))
    return Scope(
        None if allowed is None else tuple(sorted(allowed)),
        boosted,
        tuple(reasons),
        tuple(sorted(named)),
    )


def _trigrams(text: str) -> set[str]:
    s = re.sub(r"\s+", "", INLINE_NOISE.sub("", text))
    return {s[i : i + 3] for i in range(max(1, len(s) - 2))}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class Retriever:
    def __init__(self, index: LoadedIndex, embedder: Embedder | None) -> None:
        self.index = index
        self.embedder = embedder if index.dense is not None else None
        self._report_pos = {s: i for i, s in enumerate(index.reports)}
        self.places = PlaceIndex(index.reports)
        # chunk ids of each report, grouped once (a scoped query then concatenates a few arrays)
        ids = index.chunk_report_ids
        by_report = np.argsort(ids, kind="stable").astype(np.int64)
        bounds = np.searchsorted(ids[by_report], np.arange(len(index.reports) + 1))
        self._chunks_of = [by_report[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _cached(self, key: tuple[str, str], compute: Callable[[], np.ndarray]) -> np.ndarray:
        """Query vectors and BM25 score arrays of the last few questions: a cross-report
        answer searches each report with the same question."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return value

    def _allowed(self, scope: Scope) -> np.ndarray | None:
        if scope.reports is None:
            return None
        parts = [self._chunks_of[self._report_pos[s]] for s in scope.reports]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def search(
        self, question: str, opts: QueryOptions | None = None, scope: Scope | None = None
    ) -> list[Hit]:
        """Top-k hits; `scope` may be passed when already resolved for this question and opts."""
        opts = opts or QueryOptions()
        if not question.strip():
            raise ConfigError("the question is empty")
        if opts.mode == "dense" and self.embedder is None:
            raise ConfigError(
                "dense retrieval is not available: the index was built without an embedding "
                "model (BM25 only); use mode hybrid or bm25, or rebuild with a model"
            )
        scope = scope or resolve_scope(question, self.index.reports, opts, self.places)
        allowed = self._allowed(scope)
        if allowed is not None and len(allowed) == 0:
            return []
        n = max(opts.candidates, opts.k * 4)
        rankings: list[list[int]] = []
        bm25_rank: dict[int, int] = {}
        dense_rank: dict[int, int] = {}
        if opts.mode in ("hybrid", "bm25"):
            scores = self._cached(("bm25", question), lambda: self.index.bm25.scores(question))
            ids, _ = self.index.bm25.search(question, n, allowed, scores)
            rankings.append(ids.tolist())
            bm25_rank = {d: r for r, d in enumerate(ids.tolist(), start=1)}
        if opts.mode in ("hybrid", "dense") and self.embedder is not None and self.index.dense:
            embedder = self.embedder
            vector = self._cached(("query", question), lambda: embedder.embed_query(question))
            ids, _ = self.index.dense.search(vector, n, allowed)
            rankings.append(ids.tolist())
            dense_rank = {d: r for r, d in enumerate(ids.tolist(), start=1)}
        fused = rrf(rankings, opts.rrf_k)
        if scope.boosted:
            boosted = {self._report_pos[s] for s in scope.boosted}
            for d in fused:
                if self.index.chunk_report_ids[d] in boosted:
                    fused[d] *= 1.0 + opts.year_boost
        order = sorted(fused, key=lambda d: (-fused[d], d))
        return self._select(order, fused, opts, bm25_rank, dense_rank)

    def _select(
        self,
        order: list[int],
        fused: dict[int, float],
        opts: QueryOptions,
        bm25_rank: dict[int, int],
        dense_rank: dict[int, int],
    ) -> list[Hit]:
        chunks = self.index.chunks
        picked: list[int] = []
        grams: list[set[str]] = []
        for d in order:
            if opts.diversify:
                g = _trigrams(chunks[d].text)
                if any(_jaccard(g, other) >= opts.dedup_threshold for other in grams):
                    continue
                grams.append(g)
            picked.append(d)
            if len(picked) == opts.k:
                break
        return [
            Hit(
                rank=i,
                score=fused[d],
                chunk=chunks[d],
                title=self.index.reports[chunks[d].source].meta.title,
                dense_rank=dense_rank.get(d),
                bm25_rank=bm25_rank.get(d),
            )
            for i, d in enumerate(picked, start=1)
        ]
