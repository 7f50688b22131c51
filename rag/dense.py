"""FAISS inner-product index over normalised vectors."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from rag.errors import IndexStoreError

EXACT_LIMIT = 50_000  # up to this many vectors an exact (flat) index is fast enough


def set_threads(n: int) -> None:
    """OpenMP threads for FAISS; one is fastest for single queries on small machines."""
    faiss.omp_set_num_threads(max(1, n))


class DenseIndex:
    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, hnsw_m: int = 32) -> DenseIndex:
        if vectors.ndim != 2 or vectors.shape[0] == 0:
            raise IndexStoreError(
                f"need a non-empty 2-d array of vectors, got shape {vectors.shape}"
            )
        n, dim = vectors.shape
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if n <= EXACT_LIMIT:
            index: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 128
        index.add(vectors)
        return cls(index)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids and scores of the k nearest vectors, optionally only among `allowed` ids."""
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        params = None
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = (  # faiss ships no complete type stubs
                faiss.SearchParametersHNSW(sel=sel, efSearch=max(128, k))  # type: ignore[attr-defined]
                if isinstance(self.index, faiss.IndexHNSW)
                else faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
            )
        scores, ids = self.index.search(q, k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as e:
            raise IndexStoreError(f"cannot read FAISS index {path}: {e}") from e
