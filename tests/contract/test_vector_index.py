"""The `VectorIndex` contract, run against every dense backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from contract_data import REPORTS, make_chunks, make_vectors
from toy_store import NumpyVectors

from rag.contracts import VectorIndex
from rag.index.dense import FaissStore
from rag.index.rows import Rows
from rag.types import Chunk

Make = Callable[[Sequence[Chunk], np.ndarray], VectorIndex]
Reopen = Callable[[VectorIndex, Path, Sequence[Chunk]], VectorIndex]


def _faiss(exact_limit: int) -> tuple[Make, Reopen]:
    def make(chunks: Sequence[Chunk], vectors: np.ndarray) -> VectorIndex:
        return FaissStore.build(chunks, vectors, exact_limit=exact_limit)

    def reopen(store: VectorIndex, folder: Path, chunks: Sequence[Chunk]) -> VectorIndex:
        store.save(folder)
        return FaissStore.open(folder, Rows(chunks))

    return make, reopen


def _milvus() -> tuple[Make, Reopen]:
    """Milvus Lite (a local file): the same client reaches a Milvus server by URI."""
    import tempfile
    import uuid

    from rag.index.milvus_store import MilvusVectorIndex, connect

    uri = str(Path(tempfile.mkdtemp()) / "milvus.db")

    def make(chunks: Sequence[Chunk], vectors: np.ndarray) -> VectorIndex:
        name = f"dense_{uuid.uuid4().hex[:8]}"
        return MilvusVectorIndex.build(connect(uri), name, uri, chunks, vectors)

    def reopen(store: VectorIndex, folder: Path, chunks: Sequence[Chunk]) -> VectorIndex:
        store.save(folder)
        return MilvusVectorIndex.open(folder)

    return make, reopen


def _numpy() -> tuple[Make, Reopen]:
    """The toy store of docs/architecture.md "Adding a store" (tests/toy_store.py)."""

    def reopen(store: VectorIndex, folder: Path, chunks: Sequence[Chunk]) -> VectorIndex:
        store.save(folder)
        return NumpyVectors(Rows(chunks), np.load(folder / NumpyVectors.FILE))

    return (lambda chunks, vectors: NumpyVectors(Rows(chunks), vectors)), reopen


BACKENDS = {
    "faiss-flat": _faiss(10**9),
    "faiss-ivf": _faiss(10),
    "milvus-lite": None,
    "numpy": _numpy(),
}
MARKS = {"milvus-lite": [pytest.mark.integration]}


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    return make_chunks()


@pytest.fixture(scope="module")
def vectors(chunks: list[Chunk]) -> np.ndarray:
    return make_vectors(len(chunks))


@pytest.fixture(params=[pytest.param(name, marks=MARKS.get(name, [])) for name in sorted(BACKENDS)])
def backend(request: pytest.FixtureRequest) -> tuple[Make, Reopen]:
    return BACKENDS[request.param] or _milvus()


def test_is_a_vector_index(backend, chunks, vectors) -> None:
    store = backend[0](chunks, vectors)
    assert isinstance(store, VectorIndex)
    assert len(store) == len(chunks)


def test_a_stored_vector_finds_its_chunk_first(backend, chunks, vectors) -> None:
    store = backend[0](chunks, vectors)
    for i in (0, 57, len(chunks) - 1):
        ranked = store.search(vectors[i], 5)
        assert ranked[0][0] == chunks[i].id
        assert len(ranked) == 5
        scores = [s for _, s in ranked]
        assert scores == sorted(scores, reverse=True)


def test_report_filter(backend, chunks, vectors) -> None:
    store = backend[0](chunks, vectors)
    source_of = {c.id: c.source for c in chunks}
    ranked = store.search(vectors[0], 20, reports=[REPORTS[1]])
    assert len(ranked) == 20 and {source_of[cid] for cid, _ in ranked} == {REPORTS[1]}
    assert store.search(vectors[0], 5, reports=[]) == []
    assert store.search(vectors[0], 5, reports=["missing.txt"]) == []


def test_delete_then_add(backend, chunks, vectors) -> None:
    store = backend[0](chunks, vectors)
    gone = {c.id for c in chunks if c.source == REPORTS[0]}
    assert store.delete(REPORTS[0]) == len(gone)
    assert store.delete(REPORTS[0]) == 0
    assert len(store) == len(chunks) - len(gone)
    for i in (0, 1, 60):
        ranked = store.search(vectors[i], 10)
        assert not gone & {cid for cid, _ in ranked}
    assert store.search(vectors[60], 1)[0][0] == chunks[60].id  # survivors keep their vectors
    back = [c for c in chunks if c.source == REPORTS[0]]
    store.add(back, vectors[: len(back)])
    assert len(store) == len(chunks)
    assert store.search(vectors[3], 1)[0][0] == chunks[3].id


def test_save_and_open(backend, chunks, vectors, tmp_path: Path) -> None:
    make, reopen = backend
    store = make(chunks, vectors)
    again = reopen(store, tmp_path, chunks)
    for i in (5, 90):
        assert again.search(vectors[i], 5) == store.search(vectors[i], 5)
