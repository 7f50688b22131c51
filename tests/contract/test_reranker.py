"""The `Reranker` contract: it is handed the fused candidates before the cut to k (the pool of
RAG_RERANK_POOL), returns them in its order, and the retriever keeps the first k of that order,
numbered again from 1."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from rag.config import QueryOptions
from rag.contracts import IdentityReranker, Reranker
from rag.index.store import LoadedIndex, load_index
from rag.retrieve.retriever import Retriever
from rag.types import Hit

QUESTION = "执法培训"
OPTS = QueryOptions(k=5, mode="bm25")


class Recording:
    """Reverses what it is given and remembers it."""

    def __init__(self) -> None:
        self.seen: list[Hit] = []

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        self.seen = list(hits)
        return list(reversed(hits))


@pytest.fixture(scope="module")
def index(lexical_index_dir) -> LoadedIndex:  # noqa: ANN001
    return load_index(lexical_index_dir)


def test_the_identity_reranker_keeps_the_fused_order(index: LoadedIndex) -> None:
    base = Retriever.over(index, None).search(QUESTION, OPTS)
    hits = Retriever.over(index, None, IdentityReranker()).search(QUESTION, OPTS)
    assert isinstance(IdentityReranker(), Reranker)
    assert [h.chunk for h in hits] == [h.chunk for h in base]
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]


def test_the_identity_reranker_keeps_the_hybrid_order_and_each_rankings_best(
    sample_index: LoadedIndex,
    fake_embedder,  # noqa: ANN001
) -> None:
    """With two rankings fused, each ranking's best passage is kept even when fusion puts it
    below the pool the reranker sees: identity gives what no reranker gives."""
    opts = QueryOptions(k=5, mode="hybrid")
    for question in ("执法培训", "调解室", "行政复议案件", "普法宣传活动"):
        base = Retriever.over(sample_index, fake_embedder).search(question, opts)
        for pool in (1, 3, 20):
            same = Retriever.over(sample_index, fake_embedder, IdentityReranker(), pool)
            assert [h.chunk.id for h in same.search(question, opts)] == [
                h.chunk.id for h in base
            ], (question, pool)


class _Against:
    """A dense ranking that disagrees with BM25: every passage, last row first."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, vector, k, reports=None):  # noqa: ANN001, ANN201
        return [(d, 1.0) for d in self.ids[::-1][:k]]


def test_each_rankings_best_survives_any_reranker(sample_index: LoadedIndex, fake_embedder) -> None:  # noqa: ANN001
    """BM25's best passage, ranked last by the vectors, falls below the first k of the fused
    order; it is kept all the same, with or without a reranker."""
    idx = sample_index
    against = _Against(list(idx.rows.ids))
    opts = QueryOptions(k=2, mode="hybrid")

    def retriever(reranker: Reranker | None, pool: int = 20) -> Retriever:
        return Retriever(
            idx.reports,
            idx.rows,
            idx.sparse,
            against,
            fake_embedder,
            reranker,
            rerank_pool=pool,  # type: ignore[arg-type]
        )

    question = "行政复议"
    best = idx.sparse.search(question, 5)[0][0]
    base = [h.chunk.id for h in retriever(None).search(question, opts)]
    assert best in base
    for pool in (1, 2, 20):
        got = [h.chunk.id for h in retriever(IdentityReranker(), pool).search(question, opts)]
        assert got == base, pool
        assert best in [h.chunk.id for h in retriever(Recording(), pool).search(question, opts)]


def test_a_reranker_sees_the_pool_before_the_cut(index: LoadedIndex) -> None:
    base = Retriever.over(index, None).search(QUESTION, OPTS)
    recording = Recording()
    assert isinstance(recording, Reranker)
    hits = Retriever.over(index, None, recording, rerank_pool=12).search(QUESTION, OPTS)
    assert len(recording.seen) == 12  # the pool, not the k the answer gets
    assert [h.rank for h in recording.seen] == list(range(1, 13))
    # its order decides: the first hits now come from the pool's end, which the fused
    # order had cut (a passage fusion ranked 12th can lead)
    pool = [h.chunk.id for h in recording.seen]
    got = [h.chunk.id for h in hits]
    assert got[0] == pool[-1] and got[0] not in {h.chunk.id for h in base}
    assert [pool.index(c) for c in got] == sorted((pool.index(c) for c in got), reverse=True)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1)) and len(hits) == 5
