"""Row positions of the local index files <-> chunk ids and report names.

FAISS and BM25 address chunks by row; the contracts (rag/contracts.py) speak chunk ids and
report names. One `Rows` is shared by both local backends of an index.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from rag.types import Chunk


class Rows:
    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks: list[Chunk] = list(chunks)
        self.ids: list[str] = [c.id for c in self.chunks]
        self._row_of: dict[str, int] | None = None
        self._of_report: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.chunks)

    def copy(self) -> Rows:
        """An independent copy (ids are not hashed again): a backend that shares its rows with
        another copies them before it adds or deletes."""
        other = Rows.__new__(Rows)
        other.chunks, other.ids = list(self.chunks), list(self.ids)
        other._row_of, other._of_report = None, None
        return other

    @property
    def row_of(self) -> dict[str, int]:
        """chunk id -> row (built on first use)."""
        if self._row_of is None:
            self._row_of = {cid: i for i, cid in enumerate(self.ids)}
        return self._row_of

    def chunk(self, chunk_id: str) -> Chunk:
        return self.chunks[self.row_of[chunk_id]]

    def _by_report(self) -> dict[str, np.ndarray]:
        if self._of_report is None:
            sources = np.array([c.source for c in self.chunks], dtype=object)
            order = np.argsort(sources, kind="stable")
            names, starts = np.unique(sources[order], return_index=True)
            bounds = [*starts.tolist(), len(order)]
            self._of_report = {
                str(n): order[a:b].astype(np.int64)
                for n, a, b in zip(names, bounds[:-1], bounds[1:], strict=True)
            }
        return self._of_report

    def of_reports(self, reports: Collection[str] | None) -> np.ndarray | None:
        """Sorted rows of the chunks of `reports` (None: no filter)."""
        if reports is None:
            return None
        by = self._by_report()
        parts = [by[r] for r in reports if r in by]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def ranked(self, rows: np.ndarray, scores: np.ndarray) -> list[tuple[str, float]]:
        return [(self.ids[int(r)], float(s)) for r, s in zip(rows, scores, strict=True)]

    def add(self, chunks: Sequence[Chunk]) -> None:
        new = [c.id for c in chunks]
        clash = set(new) & set(self.row_of)
        if clash:
            raise ValueError(f"chunk id(s) already indexed: {sorted(clash)[:3]}")
        start = len(self.ids)
        self.chunks.extend(chunks)
        self.ids.extend(new)
        self.row_of.update({cid: start + i for i, cid in enumerate(new)})
        self._of_report = None

    def delete(self, report: str) -> np.ndarray:
        """Drop the chunks of `report` (later rows move up); returns the rows removed."""
        gone = self._by_report().get(report, np.empty(0, dtype=np.int64))
        if len(gone):
            keep = np.ones(len(self.chunks), dtype=bool)
            keep[gone] = False
            self.chunks = [c for c, k in zip(self.chunks, keep, strict=True) if k]
            self.ids = [i for i, k in zip(self.ids, keep, strict=True) if k]
            self._row_of = None
            self._of_report = None
        return gone
