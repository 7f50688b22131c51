"""The `Reranker` contract: it returns the hits it was given, in its order, and the retriever
numbers them again from 1."""

from __future__ import annotations

from collections.abc import Sequence

from rag.config import QueryOptions
from rag.contracts import IdentityReranker, Reranker
from rag.retrieve import Retriever
from rag.store import LoadedIndex
from rag.types import Hit


class Reverse:
    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        return list(reversed(hits))


def test_rerankers_keep_the_hits(lexical_index_dir) -> None:  # noqa: ANN001
    from rag.store import load_index

    index: LoadedIndex = load_index(lexical_index_dir)
    opts = QueryOptions(k=5, mode="bm25")
    base = Retriever.over(index, None).search("执法培训", opts)
    for reranker, expected in ((IdentityReranker(), base), (Reverse(), base[::-1])):
        assert isinstance(reranker, Reranker)
        hits = Retriever.over(index, None, reranker).search("执法培训", opts)
        assert [h.chunk for h in hits] == [h.chunk for h in expected]
        assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
