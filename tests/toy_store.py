"""A toy index backend, written by following docs/architecture.md "Adding a store" and nothing
else: the vectors in one .npy file searched by brute force, the words by the local BM25 files.
tests/test_recipe_store.py registers it; tests/contract/ runs it with the other backends."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from rag.contracts import SparseIndex, VectorIndex
from rag.index.backends import ChangeSet, StoreOptions, Written
from rag.index.layout import Manifest
from rag.index.rows import Rows
from rag.index.sparse import BM25Store
from rag.types import Chunk


class NumpyVectors:
    """Step 1: a `VectorIndex` (rag/contracts.py)."""

    FILE = "vectors.npy"

    def __init__(self, rows: Rows, matrix: np.ndarray) -> None:
        self.rows, self.matrix = rows.copy(), np.asarray(matrix, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        self.rows.add(chunks)
        self.matrix = np.vstack([self.matrix, np.asarray(vectors, dtype=np.float32)])

    def delete(self, report: str) -> int:
        gone = self.rows.delete(report)
        self.matrix = np.delete(self.matrix, gone, axis=0)
        return len(gone)

    def search(
        self, vector: np.ndarray, k: int, reports: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        allowed = self.rows.of_reports(reports)
        rows = np.arange(len(self.rows)) if allowed is None else allowed
        scores = self.matrix[rows] @ np.asarray(vector, dtype=np.float32)
        best = np.argsort(-scores, kind="stable")[:k]
        return self.rows.ranked(rows[best], scores[best])

    def save(self, folder: Path) -> None:
        np.save(folder / self.FILE, self.matrix, allow_pickle=False)


class NumpyBackend:
    """Step 2: an `IndexBackend` (rag/index/backends.py) that writes, opens and describes it."""

    name = "numpy"

    def __init__(self, options: StoreOptions) -> None:
        self.options = options

    def updatable(self, folder: Path, manifest: Manifest) -> bool:
        return False  # every build writes every row

    def write(self, folder: Path, change: ChangeSet) -> Written:
        if change.vectors is not None:
            NumpyVectors(Rows(change.chunks), change.vectors).save(folder)
        return Written(self.name, f"{len(change.chunks)} row(s) in {NumpyVectors.FILE}")

    def open(
        self, folder: Path, manifest: Manifest, rows: Rows, lexical: BM25Store
    ) -> tuple[SparseIndex, VectorIndex | None]:
        path = folder / NumpyVectors.FILE
        if not path.exists():
            return lexical, None
        return lexical, NumpyVectors(rows, np.load(path, allow_pickle=False))

    def describe(self, folder: Path, manifest: Manifest) -> str:
        return f"numpy: {manifest.n_chunks} rows in {NumpyVectors.FILE}"
