"""Hybrid retrieval over the contracts: BM25 + dense, fused by RRF, scoped, deduplicated."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from rag.config import QueryOptions
from rag.contracts import Embedder, Reranker, SparseIndex, VectorIndex
from rag.errors import ConfigError
from rag.index.rows import Rows
from rag.index.sparse import JiebaTokenizer
from rag.index.store import LoadedIndex
from rag.recent import Recent
from rag.retrieve.fusion import jaccard, rrf, trigrams
from rag.retrieve.places import PlaceIndex, Segmenter, WordShare, place_aliases
from rag.retrieve.scope import Scope, resolve_scope
from rag.text.numbers import quantities
from rag.types import Hit, Report

logger = logging.getLogger(__name__)

CACHE_ENTRIES = 8  # questions whose query vector is kept


class Retriever:
    """Searches any `SparseIndex` and `VectorIndex` pair with one question."""

    def __init__(
        self,
        reports: dict[str, Report],
        rows: Rows,
        sparse: SparseIndex,
        dense: VectorIndex | None = None,
        embedder: Embedder | None = None,
        reranker: Reranker | None = None,
        segment: Segmenter | None = None,
        rerank_pool: int = 20,
        word_share: WordShare | None = None,
    ) -> None:
        self.reports = reports
        self.rows = rows
        self.sparse = sparse
        self.dense = dense if embedder is not None else None
        self.embedder = embedder if dense is not None else None
        self.reranker = reranker  # None: the fused order is kept (no rerank stage)
        self.rerank_pool = rerank_pool
        self.places = PlaceIndex(reports, segment, word_share)
        self._vectors: Recent[str, np.ndarray] = Recent(CACHE_ENTRIES)

    @classmethod
    def over(
        cls,
        index: LoadedIndex,
        embedder: Embedder | None,
        reranker: Reranker | None = None,
        rerank_pool: int = 20,
    ) -> Retriever:
        # the places are read with every report's short names as words too (兴平西吴 is
        # 兴平 + 西吴, not 兴 + 平西 + 吴); the keyword index keeps its own tokenizer
        aliases = {a for r in index.reports.values() for a in place_aliases(r)}
        words = [*index.lexical.tokenizer.extra_words, *sorted(aliases)]
        segment = JiebaTokenizer(words).spans
        lexical, rows = index.lexical, index.rows

        def word_share(word: str, own: set[str]) -> float:
            """The share of the passages of reports other than `own` that have `word`."""
            theirs = rows.of_reports(sorted(own))
            mine = 0 if theirs is None else len(theirs)
            return (lexical.df(word) - mine) / max(1, len(lexical) - mine)

        return cls(
            index.reports, index.rows, index.sparse, index.dense, embedder, reranker, segment,
            rerank_pool, word_share,
        )  # fmt: skip

    def _query_vector(self, question: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """Query vectors of the last few questions: a cross-report answer searches each
        report with the same question."""
        return self._vectors.get(question, compute)

    def query_vector(self, question: str) -> np.ndarray | None:
        """The question's vector (None without an embedder); kept for the last questions."""
        embedder = self.embedder
        if embedder is None:
            return None
        return self._query_vector(question, lambda: embedder.embed_query(question))

    def search(
        self,
        question: str,
        opts: QueryOptions | None = None,
        scope: Scope | None = None,
        lexical: str | None = None,
    ) -> list[Hit]:
        """Top-k hits; `scope` may be passed when already resolved for this question and opts;
        `lexical` is what BM25 searches when it differs from `question` (Query.lexical)."""
        opts = opts or QueryOptions()
        if not question.strip():
            raise ConfigError("问题为空")
        if opts.mode == "dense" and self.embedder is None:
            raise ConfigError(
                "无法用向量检索（mode dense）：索引建立时没有向量模型（只有 BM25）；"
                "请用 hybrid 或 bm25，或配置向量模型后重建索引"
            )
        scope = scope or resolve_scope(question, self.reports, opts, self.places)
        if scope.reports is not None and not scope.reports:
            return []
        n = max(opts.candidates, opts.k * 4)
        rankings: list[list[str]] = []
        bm25_rank: dict[str, int] = {}
        dense_rank: dict[str, int] = {}
        if opts.mode in ("hybrid", "bm25"):
            ids = [cid for cid, _ in self.sparse.search(lexical or question, n, scope.reports)]
            rankings.append(ids)
            bm25_rank = {d: r for r, d in enumerate(ids, start=1)}
        if opts.mode in ("hybrid", "dense") and self.embedder is not None and self.dense:
            embedder = self.embedder
            vector = self._query_vector(question, lambda: embedder.embed_query(question))
            ids = [cid for cid, _ in self.dense.search(vector, n, scope.reports)]
            rankings.append(ids)
            dense_rank = {d: r for r, d in enumerate(ids, start=1)}
        fused = rrf(rankings, opts.rrf_k)
        if scope.boosted:
            boosted = set(scope.boosted)
            for d in fused:
                if self.rows.chunk(d).source in boosted:
                    fused[d] *= 1.0 + opts.year_boost
        row = self.rows.row_of
        order = sorted(fused, key=lambda d: (-fused[d], row[d]))
        # each ranking's best passage is kept: a passage BM25 ranks first (the only one with
        # the question's rare word) must not be fused away by a low dense rank, nor the reverse
        heads = [ids[0] for ids in rankings if ids]
        if self.reranker is not None:  # between fusion and the cut: it sees the pool
            pool = [self._hit(i, d, fused, bm25_rank, dense_rank) for i, d in
                    enumerate(order[: max(self.rerank_pool, opts.k)], start=1)]  # fmt: skip
            reranked = [h.chunk.id for h in self.reranker.rerank(question, pool)]
            order = reranked + order[len(pool) :]  # each ranking's best is still kept below
        hits = self._select(order, fused, opts, bm25_rank, dense_rank, heads)
        return [replace(h, rank=i) for i, h in enumerate(hits, start=1)]

    def _hit(
        self,
        rank: int,
        d: str,
        fused: dict[str, float],
        bm25_rank: dict[str, int],
        dense_rank: dict[str, int],
    ) -> Hit:
        chunk = self.rows.chunk(d)
        return Hit(
            rank=rank,
            score=fused[d],
            chunk=chunk,
            title=self.reports[chunk.source].meta.title,
            dense_rank=dense_rank.get(d),
            bm25_rank=bm25_rank.get(d),
        )

    def _select(
        self,
        order: list[str],
        fused: dict[str, float],
        opts: QueryOptions,
        bm25_rank: dict[str, int],
        dense_rank: dict[str, int],
        heads: Sequence[str] = (),
    ) -> list[Hit]:
        picked: list[str] = []
        seen: set[str] = set()
        # a near-duplicate passage is dropped only if it states the same figures, or comes
        # from the same report: another town's copy of a sentence with its own figures
        # (黎城司法所…17起 / …21起) is another fact, and the answer must be able to show it
        kept: list[tuple[set[str], str, frozenset[tuple[float, str]]]] = []
        for d in order:
            seen.add(d)
            if opts.diversify:
                chunk = self.rows.chunk(d)
                g = trigrams(chunk.text)
                figures = frozenset((q.value, q.unit) for q in quantities(chunk.text))
                if any(
                    jaccard(g, other) >= opts.dedup_threshold
                    and (source == chunk.source or figures == theirs)
                    for other, source, theirs in kept
                ):
                    continue
                kept.append((g, chunk.source, figures))
            picked.append(d)
            owed = [h for h in dict.fromkeys(heads) if h not in seen]
            if len(picked) + len(owed) >= opts.k:
                picked += owed[: max(0, opts.k - len(picked))]
                break
        # in the order given: fused score (row on a tie), or the reranker's
        position = {d: i for i, d in enumerate(order)}
        picked.sort(key=lambda d: position[d])
        return [self._hit(i, d, fused, bm25_rank, dense_rank) for i, d in enumerate(picked, 1)]
