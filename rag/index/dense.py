"""FAISS inner-product index over normalised vectors."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from pathlib import Path

import faiss
import numpy as np

from rag.errors import IndexStoreError
from rag.index.rows import Rows
from rag.types import Chunk

EXACT_LIMIT = 50_000  # up to this many vectors an exact (flat) index is fast enough
# A filter this small is searched exactly over its own vectors: the approximate index would
# probe lists that hold few of its ids and could miss some of them.
EXACT_FILTER_LIMIT = 20_000


def set_threads(n: int) -> None:
    """OpenMP threads for FAISS; one is fastest for single queries on small machines."""
    faiss.omp_set_num_threads(max(1, n))


class DenseIndex:
    """Exact (flat) up to EXACT_LIMIT vectors; above, IVF-Flat with 4*sqrt(n) lists, of which
    `nprobe` are scanned per query. Measured by eval/bench.py on this 2-core machine at 1M
    vectors: nprobe 64 gives recall@10 0.98 against exact search in about 3 ms per query,
    with a build in about a minute; HNSW needed efSearch 512 and a 7x longer build for the
    same recall at 100k, and 10% more memory for its links."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index
        ivf = faiss.try_extract_index_ivf(index) if not isinstance(index, faiss.IndexFlat) else None
        if ivf is not None and ivf.direct_map.no():
            ivf.make_direct_map()  # for reconstructing the vectors of a small filter
        self._ivf = ivf

    @classmethod
    def build(
        cls, vectors: np.ndarray, nprobe: int = 64, exact_limit: int = EXACT_LIMIT
    ) -> DenseIndex:
        if vectors.ndim != 2 or vectors.shape[0] == 0:
            raise IndexStoreError(
                f"need a non-empty 2-d array of vectors, got shape {vectors.shape}"
            )
        n, dim = vectors.shape
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if n <= exact_limit:
            index: faiss.Index = faiss.IndexFlatIP(dim)
            index.add(vectors)
            return cls(index)
        nlist = int(4 * np.sqrt(n))
        index = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(n, min(n, 50 * nlist), replace=False)
        index.train(vectors[np.sort(sample)])
        index.add(vectors)
        faiss.extract_index_ivf(index).nprobe = nprobe
        return cls(index)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def replace_rows(self, gone: np.ndarray, vectors: np.ndarray) -> DenseIndex:
        """This index without the rows `gone` (later rows move up) and with `vectors`
        appended: an update's change. An IVF index keeps its trained lists (refilled, not
        retrained), as its vectors are samples of the same reports."""
        gone = np.asarray(gone, dtype=np.int64)
        new = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.index.d)
        if isinstance(self.index, faiss.IndexFlat):
            if len(gone):
                self.index.remove_ids(faiss.IDSelectorBatch(gone))
            if len(new):
                self.index.add(new)
            return self
        keep = np.setdiff1d(np.arange(len(self), dtype=np.int64), gone)
        kept = self.index.reconstruct_batch(keep) if len(keep) else new[:0]
        self.index.reset()
        self.index.add(np.vstack([kept, new]))
        return DenseIndex(self.index)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids and scores of the k nearest vectors, optionally only among `allowed` ids."""
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if allowed is not None and len(allowed) <= EXACT_FILTER_LIMIT:
            ids = np.asarray(allowed, dtype=np.int64)
            scores = self.index.reconstruct_batch(ids) @ q[0]
            top = np.argsort(-scores, kind="stable")[:k]
            return ids[top], scores[top].astype(np.float32)
        params = None
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = (  # faiss ships no complete type stubs
                faiss.SearchParametersIVF(sel=sel, nprobe=self._ivf.nprobe)  # type: ignore[call-arg]
                if self._ivf is not None
                else faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
            )
        scores, ids = self.index.search(q, k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))
        digest_path(path).write_text(file_digest(path), encoding="ascii")

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        """The index in `path`, checked against the digest written beside it (FAISS reads
        a file whose vectors were overwritten without complaint)."""
        if path.exists() and not intact(path):
            raise IndexStoreError(
                f"FAISS 索引 {path} 已损坏（与建索引时的校验值不符）；请用 `rag index` 重建索引"
            )
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as e:
            raise IndexStoreError(
                f"无法读取 FAISS 索引 {path}：{e}；请用 `rag index` 重建索引"
            ) from e


def digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".b2")


def intact(path: Path) -> bool:
    """Whether the index file exists and matches the digest written beside it (if any)."""
    if not path.exists():
        return False
    check = digest_path(path)
    return not check.exists() or check.read_text(encoding="ascii").strip() == file_digest(path)


def file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


class FaissStore:
    """`VectorIndex` over a `DenseIndex` file: chunk ids and report filters in, chunk ids out.

    `delete` compacts a flat index in place; an IVF index is rebuilt from its remaining
    vectors (its lists are retrained), which is what a full build does too."""

    FILE = "dense.faiss"

    def __init__(
        self, dense: DenseIndex, rows: Rows, shared: bool = False, exact_limit: int = EXACT_LIMIT
    ) -> None:
        if len(dense) != len(rows):
            raise IndexStoreError(
                f"FAISS 索引有 {len(dense)} 个向量，索引清单却列出 {len(rows)} 个段落；"
                "请用 `rag index` 重建索引"
            )
        self.dense, self.rows, self._shared = dense, rows, shared
        self.exact_limit = exact_limit  # above it, an IVF index (tests lower it)

    @classmethod
    def build(
        cls, chunks: Sequence[Chunk], vectors: np.ndarray, exact_limit: int = EXACT_LIMIT
    ) -> FaissStore:
        dense = DenseIndex.build(vectors, exact_limit=exact_limit)
        return cls(dense, Rows(chunks), exact_limit=exact_limit)

    @classmethod
    def open(cls, folder: Path, rows: Rows) -> FaissStore:
        """The store of a build folder; `rows` may be shared with the other backend."""
        return cls(DenseIndex.load(folder / cls.FILE), rows, shared=True)

    def __len__(self) -> int:
        return len(self.dense)

    def _own_rows(self) -> None:
        if self._shared:
            self.rows, self._shared = self.rows.copy(), False

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise IndexStoreError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if not chunks:
            return
        self._own_rows()
        self.rows.add(chunks)
        v = np.ascontiguousarray(vectors, dtype=np.float32)
        if isinstance(self.dense.index, faiss.IndexFlat):
            self.dense.index.add(v)
        else:
            old = self.dense.index.reconstruct_n(0, len(self.dense))
            self.dense = DenseIndex.build(np.vstack([old, v]), exact_limit=self.exact_limit)

    def delete(self, report: str) -> int:
        self._own_rows()
        gone = self.rows.delete(report)
        if not len(gone):
            return 0
        if isinstance(self.dense.index, faiss.IndexFlat):
            self.dense.index.remove_ids(faiss.IDSelectorBatch(gone))
        else:
            keep = np.setdiff1d(np.arange(len(self.dense)), gone)
            if len(keep):
                remaining = self.dense.index.reconstruct_batch(keep)
                self.dense = DenseIndex.build(remaining, exact_limit=self.exact_limit)
            else:
                self.dense = DenseIndex(faiss.IndexFlatIP(self.dense.index.d))
        return len(gone)

    def search(
        self, vector: np.ndarray, k: int, reports: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        ids, scores = self.dense.search(vector, k, self.rows.of_reports(reports))
        return self.rows.ranked(ids, scores)

    def save(self, folder: Path) -> None:
        self.dense.save(folder / self.FILE)
