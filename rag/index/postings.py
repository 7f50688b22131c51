"""BM25 postings kept in segments, so that an update re-indexes only what changed.

A segment holds the term frequencies of the chunks one build wrote (all of them after a full
build, the changed reports' after an update). A later update writes a new segment and marks
the replaced reports' chunks dead in the old ones; it never rewrites them. `Postings` merges
the live chunks of every segment: IDF and the average length are computed over all of them
when the index is opened, so a segmented index scores exactly like one built at once.

The scoring is bm25s's "lucene" BM25 (k1 = 1.5, b = 0.75), which the index used before;
bm25s itself cannot add or remove documents (tests/test_postings.py checks the scores
against it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import IndexStoreError

K1, B = 1.5, 0.75  # bm25s's defaults
_ARRAYS = ("indptr", "docs", "tf", "lengths")


@dataclass(frozen=True)
class Segment:
    """Term frequencies of some chunks, by term: the chunks containing `terms[i]` are
    `docs[indptr[i]:indptr[i+1]]` (positions in the segment), `tf` times each."""

    terms: list[str]  # sorted
    indptr: np.ndarray  # int64, len(terms) + 1
    docs: np.ndarray  # int32
    tf: np.ndarray  # float32
    lengths: np.ndarray  # float32: tokens per chunk

    def __len__(self) -> int:
        return len(self.lengths)

    @classmethod
    def from_tokens(cls, tokens: Sequence[Sequence[str]]) -> Segment:
        terms = sorted({t for doc in tokens for t in doc})
        ids = {t: i for i, t in enumerate(terms)}
        lengths = np.fromiter((len(doc) for doc in tokens), dtype=np.int64, count=len(tokens))
        term_of = np.fromiter(
            (ids[t] for doc in tokens for t in doc), dtype=np.int64, count=int(lengths.sum())
        )
        doc_of = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
        # one key per (term, chunk): sorted by term, then chunk, with its count
        keys, tf = np.unique(term_of * max(len(tokens), 1) + doc_of, return_counts=True)
        term = keys // max(len(tokens), 1)
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=len(terms)), out=indptr[1:])
        return cls(
            terms,
            indptr,
            (keys % max(len(tokens), 1)).astype(np.int32),
            tf.astype(np.float32),
            lengths.astype(np.float32),
        )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), "utf-8")
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> Segment:
        try:
            terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
            arrays = [np.load(folder / f"{n}.npy", allow_pickle=False) for n in _ARRAYS]
        except (OSError, ValueError) as e:
            raise IndexStoreError(
                f"无法读取 BM25 分段 {folder}：{e}；请用 `rag index` 重建索引"
            ) from e
        seg = cls(terms, *arrays)
        if (
            not isinstance(terms, list)
            or len(seg.indptr) != len(terms) + 1
            or not len(seg.docs) == len(seg.tf) == int(seg.indptr[-1])
        ):
            raise IndexStoreError(f"BM25 分段 {folder} 前后不一致；请用 `rag index` 重建索引")
        return seg

    @staticmethod
    def files() -> list[str]:
        return ["terms.json", *(f"{n}.npy" for n in _ARRAYS)]


class Postings:
    """The live chunks of several segments as one BM25 index: `segments` pairs each segment
    with a mask of its live chunks; rows number the live chunks in segment order."""

    def __init__(self, segments: Sequence[tuple[Segment, np.ndarray]]) -> None:
        lengths = [seg.lengths[live] for seg, live in segments]
        self.lengths = np.concatenate(lengths) if lengths else np.empty(0, np.float32)
        n = len(self.lengths)
        if n == 0:
            raise IndexStoreError("cannot build a BM25 index over no texts")
        whole = len(segments) == 1 and bool(segments[0][1].all())
        if whole:
            seg = segments[0][0]
            self.terms, self.indptr, self.docs, tf = seg.terms, seg.indptr, seg.docs, seg.tf
        else:
            self.terms, self.indptr, self.docs, tf = _merge(segments)
        self.vocab = {t: i for i, t in enumerate(self.terms)}
        df = np.diff(self.indptr)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = float(self.lengths.mean())
        term = np.repeat(np.arange(len(self.terms), dtype=np.int64), df)
        norm = K1 * ((1 - B) + B * self.lengths / max(avgdl, 1e-9))
        self.data = (self.idf[term] * (tf / (tf + norm[self.docs]))).astype(np.float32)

    def __len__(self) -> int:
        return len(self.lengths)

    def df(self, token: str) -> int:
        i = self.vocab.get(token)
        return 0 if i is None else int(self.indptr[i + 1] - self.indptr[i])

    def idf_of(self, token: str) -> float:
        df = self.df(token)
        return math.log(1.0 + (len(self) - df + 0.5) / (df + 0.5))

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every live chunk for the query tokens (a repeated token counts
        again; tokens not in the index add nothing)."""
        out = np.zeros(len(self), dtype=np.float32)
        for t in tokens:
            i = self.vocab.get(t)
            if i is not None:
                a, b = self.indptr[i], self.indptr[i + 1]
                out[self.docs[a:b]] += self.data[a:b]  # a chunk appears once per term
        return out

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.docs.nbytes + self.data.nbytes)


def _merge(
    segments: Sequence[tuple[Segment, np.ndarray]],
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """One term-sorted posting list over the live chunks of `segments`."""
    terms = sorted({t for seg, _ in segments for t in seg.terms})
    ids = {t: i for i, t in enumerate(terms)}
    parts_term, parts_doc, parts_tf = [], [], []
    offset = 0
    for seg, live in segments:
        row = np.full(len(seg), -1, dtype=np.int64)
        row[live] = offset + np.arange(int(live.sum()), dtype=np.int64)
        offset += int(live.sum())
        to_global = np.fromiter((ids[t] for t in seg.terms), np.int64, count=len(seg.terms))
        term = np.repeat(to_global, np.diff(seg.indptr))
        doc = row[seg.docs]
        keep = doc >= 0
        parts_term.append(term[keep])
        parts_doc.append(doc[keep])
        parts_tf.append(seg.tf[keep])
    term = np.concatenate(parts_term)
    doc = np.concatenate(parts_doc)
    order = np.lexsort((doc, term))
    indptr = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term, minlength=len(terms)), out=indptr[1:])
    return terms, indptr, doc[order].astype(np.int32), np.concatenate(parts_tf)[order]
