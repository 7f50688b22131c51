"""The `SparseIndex` contract, run against every lexical backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from contract_data import REPORTS, make_chunks

from rag.contracts import SparseIndex
from rag.index.rows import Rows
from rag.index.sparse import BM25Store, JiebaTokenizer
from rag.types import Chunk

Make = Callable[[Sequence[Chunk]], SparseIndex]
Reopen = Callable[[SparseIndex, Path, Sequence[Chunk]], SparseIndex]


def _bm25() -> tuple[Make, Reopen]:
    def make(chunks: Sequence[Chunk]) -> SparseIndex:
        return BM25Store.build(chunks, JiebaTokenizer())

    def reopen(store: SparseIndex, folder: Path, chunks: Sequence[Chunk]) -> SparseIndex:
        store.save(folder)
        return BM25Store.open(folder, Rows(chunks), JiebaTokenizer())

    return make, reopen


def _milvus() -> tuple[Make, Reopen]:
    """Milvus Lite's own BM25 function with its jieba analyzer."""
    import tempfile
    import uuid

    from rag.index.milvus_store import MilvusSparseIndex, connect

    uri = str(Path(tempfile.mkdtemp()) / "milvus.db")

    def make(chunks: Sequence[Chunk]) -> SparseIndex:
        name = f"sparse_{uuid.uuid4().hex[:8]}"
        return MilvusSparseIndex.build(connect(uri), name, uri, chunks)

    def reopen(store: SparseIndex, folder: Path, chunks: Sequence[Chunk]) -> SparseIndex:
        store.save(folder)
        return MilvusSparseIndex.open(folder)

    return make, reopen


def _milvus_tokens() -> tuple[Make, Reopen]:
    """Our jieba tokens as sparse vectors in Milvus Lite, IDF from the local BM25 statistics."""
    import tempfile
    import uuid

    from rag.index.milvus_store import MilvusTokenIndex, connect

    uri = str(Path(tempfile.mkdtemp()) / "milvus.db")
    local: dict[str, BM25Store] = {}

    def make(chunks: Sequence[Chunk]) -> SparseIndex:
        name = f"tokens_{uuid.uuid4().hex[:8]}"
        stats = local["stats"] = BM25Store.build(chunks, JiebaTokenizer())
        store = MilvusTokenIndex.build(connect(uri), name, uri, chunks, stats.tokens or [])
        return store.use(stats)

    def reopen(store: SparseIndex, folder: Path, chunks: Sequence[Chunk]) -> SparseIndex:
        store.save(folder)
        return MilvusTokenIndex.open(folder).use(local["stats"])

    return make, reopen


BACKENDS = {"bm25s-jieba": _bm25(), "milvus-lite-bm25": None, "milvus-lite-jieba-tokens": None}
MARKS = {
    "milvus-lite-bm25": [pytest.mark.integration],
    "milvus-lite-jieba-tokens": [pytest.mark.integration],
}
LATE = {"milvus-lite-bm25": _milvus, "milvus-lite-jieba-tokens": _milvus_tokens}


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    return make_chunks()


@pytest.fixture(params=[pytest.param(name, marks=MARKS.get(name, [])) for name in sorted(BACKENDS)])
def backend(request: pytest.FixtureRequest) -> tuple[Make, Reopen]:
    return BACKENDS[request.param] or LATE[request.param]()


def test_is_a_sparse_index(backend, chunks) -> None:
    store = backend[0](chunks)
    assert isinstance(store, SparseIndex)
    assert len(store) == len(chunks)


def test_a_chunks_own_text_finds_it(backend, chunks) -> None:
    store = backend[0](chunks)
    top1 = 0
    for c in chunks:
        ranked = store.search(c.text, 3)
        assert c.id in [cid for cid, _ in ranked]
        top1 += ranked[0][0] == c.id
        scores = [s for _, s in ranked]
        assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert top1 >= 0.95 * len(chunks)


def test_only_positive_scores(backend, chunks) -> None:
    store = backend[0](chunks)
    assert store.search("完全无关的外语词汇", 5) == []


def test_report_filter(backend, chunks) -> None:
    store = backend[0](chunks)
    source_of = {c.id: c.source for c in chunks}
    ranked = store.search("执法 培训 调解", 30, reports=[REPORTS[2]])
    assert ranked and {source_of[cid] for cid, _ in ranked} == {REPORTS[2]}
    assert store.search("执法", 5, reports=[]) == []
    assert store.search("执法", 5, reports=["missing.txt"]) == []


def test_delete_then_add(backend, chunks) -> None:
    store = backend[0](chunks)
    gone = [c for c in chunks if c.source == REPORTS[1]]
    assert store.delete(REPORTS[1]) == len(gone)
    assert store.delete(REPORTS[1]) == 0
    assert len(store) == len(chunks) - len(gone)
    ids = {cid for cid, _ in store.search("执法 培训 调解 普法", 200)}
    assert ids and not ids & {c.id for c in gone}
    store.add(gone)
    assert len(store) == len(chunks)
    assert gone[0].id in [cid for cid, _ in store.search(gone[0].text, 3)]


def test_save_and_open(backend, chunks, tmp_path: Path) -> None:
    make, reopen = backend
    store = make(chunks)
    again = reopen(store, tmp_path, chunks)
    for q in ("执法培训", chunks[7].text):
        assert again.search(q, 5) == store.search(q, 5)
