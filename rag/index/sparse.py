"""BM25 over jieba tokens, in segments (rag.index.postings), saved as JSON + .npy (no pickle)."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jieba
import numpy as np

from rag.errors import IndexStoreError
from rag.index.layout import link_tree, new_id
from rag.index.postings import Postings, Segment
from rag.index.rows import Rows
from rag.recent import Recent
from rag.types import Chunk

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

STOPWORDS = frozenset(
    "的 了 和 与 及 等 在 是 对 为 以 将 把 被 从 向 由 中 上 下 有 也 都 并 或 其 之 于 年 "
    "哪些 什么 多少 怎么 如何 怎样 哪个 是否 吗 呢 吧 啊 请 问 一下 情况 方面".split()
)
_KEEP = re.compile(r"[\u4e00-\u9fff0-9A-Za-z%％]")


_BASE: jieba.Tokenizer | None = None
_BASE_LOCK = threading.Lock()


def _fresh_jieba() -> jieba.Tokenizer:
    """A jieba tokenizer with the default dictionary, copied from one loaded per process
    (loading it takes about a second; copying its word table a few milliseconds)."""
    global _BASE
    with _BASE_LOCK:
        if _BASE is None:
            base = jieba.Tokenizer()
            base.initialize()
            _BASE = base
    tk = jieba.Tokenizer()
    tk.FREQ, tk.total, tk.initialized = dict(_BASE.FREQ), _BASE.total, True
    return tk


class JiebaTokenizer:
    """jieba search-mode tokens (words and their sub-words), stopwords and punctuation removed."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self._tk = _fresh_jieba()
        self.extra_words = sorted(set(extra_words))
        for w in self.extra_words:
            self._tk.add_word(w, freq=2000)

    def __call__(self, text: str) -> list[str]:
        return _filtered(self._tk.cut_for_search(text.lower()))

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """jieba precise-mode words with their offsets (every character covered)."""
        return [(w, a, b) for w, a, b in self._tk.tokenize(text)]

    def words(self, text: str) -> list[str]:
        """jieba precise-mode words (no sub-words), filtered like `__call__`."""
        return _filtered(self._tk.lcut(text.lower()))


def _filtered(tokens: Iterable[str]) -> list[str]:
    """Stripped tokens without stopwords and punctuation."""
    out = []
    for tok in tokens:
        tok = tok.strip()
        if tok and tok not in STOPWORDS and _KEEP.search(tok):
            out.append(tok)
    return out


class BM25Index:
    """BM25 scores over the live chunks of one or more postings segments."""

    def __init__(self, postings: Postings, tokenizer: JiebaTokenizer) -> None:
        self.postings = postings
        self.tokenizer = tokenizer

    @classmethod
    def build(cls, texts: list[str], tokenizer: JiebaTokenizer) -> BM25Index:
        return cls.from_tokens([tokenizer(t) for t in texts], tokenizer)

    @classmethod
    def from_tokens(cls, tokens: list[list[str]], tokenizer: JiebaTokenizer) -> BM25Index:
        """The index over texts already tokenised by `tokenizer` (jieba is the slow part)."""
        if not tokens:
            raise IndexStoreError("cannot build a BM25 index over no texts")
        seg = Segment.from_tokens(tokens)
        return cls(Postings([(seg, np.ones(len(seg), dtype=bool))]), tokenizer)

    def __len__(self) -> int:
        return len(self.postings)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query` (zeros when no query token is indexed)."""
        return self.postings.scores(self.tokenizer(query))

    def search(
        self,
        query: str,
        k: int,
        allowed: np.ndarray | None = None,
        scores: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids and scores of the top-k chunks with a positive score, optionally only among
        `allowed`; `scores` may be passed when already computed for this query."""
        s = self.scores(query) if scores is None else scores
        ids = (
            np.arange(len(s), dtype=np.int64) if allowed is None else np.asarray(allowed, np.int64)
        )
        sub = s if allowed is None else s[ids]
        k = min(k, len(sub))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        top = np.argpartition(-sub, k - 1)[:k] if k < len(sub) else np.arange(len(sub))
        top = top[np.argsort(-sub[top], kind="stable")]
        top = top[sub[top] > 0]
        return ids[top], sub[top]

    def df(self, token: str) -> int:
        """How many chunks contain the token (0: a word the corpus never uses)."""
        return self.postings.df(token)

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a token (highest for tokens absent from the index)."""
        return self.postings.idf_of(token)


CACHE_ENTRIES = 8  # questions whose full BM25 score arrays are kept


@dataclass
class _Part:
    """One segment of a store: its postings, which of its chunks are live, and whether its
    files are already in the folder the store was opened from."""

    name: str
    segment: Segment
    live: np.ndarray
    saved: bool


def _read_parts(folder: Path) -> list[dict[str, Any]]:
    path = folder / BM25Store.FOLDER / BM25Store.SEGMENTS
    try:
        parts = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(parts, list):
            raise ValueError("not a list")
        for p in parts:
            str(p["name"]), int(p["docs"]), list(p["dead"])
    except FileNotFoundError as e:
        raise IndexStoreError(f"索引文件 {path} 不存在；请用 `rag index` 重建索引") from e
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise IndexStoreError(f"索引文件 {path} 已损坏（{e}）；请用 `rag index` 重建索引") from e
    return parts


def segment_counts(folder: Path) -> tuple[int, int]:
    """Chunks in the BM25 segments of a build folder, and how many of them are dead."""
    parts = _read_parts(folder)
    return sum(int(p["docs"]) for p in parts), sum(len(p["dead"]) for p in parts)


def _write_parts(folder: Path, parts: list[dict[str, Any]]) -> None:
    (folder / BM25Store.FOLDER).mkdir(parents=True, exist_ok=True)
    (folder / BM25Store.FOLDER / BM25Store.SEGMENTS).write_text(json.dumps(parts), encoding="utf-8")


def _without_rows(lives: list[np.ndarray], gone: np.ndarray) -> list[np.ndarray]:
    """Each segment's live mask with the rows `gone` (numbering the live chunks of all
    segments in order) no longer live."""
    out, offset = [], 0
    for live in lives:
        local = np.flatnonzero(live)
        mine = gone[(gone >= offset) & (gone < offset + len(local))]
        live = live.copy()
        live[local[mine - offset]] = False
        out.append(live)
        offset += len(local)
    return out


def update_segments(
    src: Path, dst: Path, gone: np.ndarray, tokens: list[list[str]], name: str
) -> None:
    """The BM25 files of `src` with the chunks at rows `gone` dropped and a segment `name`
    of `tokens` added, written to `dst`, without opening the postings: the old segments'
    files are hard-linked, only the new one is written (what an update costs)."""
    parts = _read_parts(src)
    lives = []
    for p in parts:
        live = np.ones(p["docs"], dtype=bool)
        live[np.asarray(p["dead"], dtype=np.int64)] = False
        lives.append(live)
    for p, live in zip(parts, _without_rows(lives, np.asarray(gone, np.int64)), strict=True):
        p["dead"] = np.flatnonzero(~live).tolist()
        link_tree(src / BM25Store.FOLDER / p["name"], dst / BM25Store.FOLDER / p["name"])
    if tokens:
        seg = Segment.from_tokens(tokens)
        seg.save(dst / BM25Store.FOLDER / name)
        parts.append({"name": name, "docs": len(seg), "dead": []})
    _write_parts(dst, [p for p in parts if len(p["dead"]) < p["docs"]])


class BM25Store:
    """`SparseIndex` over BM25 segments: chunk ids and report filters in, chunk ids out.

    The score array of the last few questions is kept: a cross-report answer searches each
    report with the same question. `add` writes a new segment and `delete` marks chunks
    dead; neither re-indexes the other chunks (IDF and lengths are summed again, in numpy)."""

    FOLDER = "bm25"
    SEGMENTS = "segments.json"
    TOKENS = "tokens.jsonl"  # each chunk's tokens, by chunk id: the next build reuses them

    def __init__(
        self,
        parts: list[_Part],
        rows: Rows,
        tokenizer: JiebaTokenizer,
        shared: bool = False,
        tokens: list[list[str]] | None = None,
        origin: Path | None = None,
    ) -> None:
        live = sum(int(p.live.sum()) for p in parts)
        if live != len(rows):
            raise IndexStoreError(
                f"BM25 索引有 {live} 个文档，索引清单却列出 {len(rows)} 个段落；"
                "请用 `rag index` 重建索引"
            )
        self.parts, self.rows, self._shared = parts, rows, shared
        self._tokenizer, self.tokens, self._origin = tokenizer, tokens, origin
        self._bm25: BM25Index | None = None
        self._scores: Recent[str, np.ndarray] = Recent(CACHE_ENTRIES)

    @classmethod
    def build(
        cls,
        chunks: Sequence[Chunk],
        tokenizer: JiebaTokenizer,
        reuse: Mapping[str, list[str]] | None = None,
    ) -> BM25Store:
        """The store over `chunks`, one segment; `reuse`: tokens of chunks (by id) an earlier
        build made with the same tokenizer, so only new chunks go through jieba."""
        reuse = reuse or {}
        tokens = [reuse.get(c.id) or tokenizer(c.index_text) for c in chunks]
        if not tokens:
            raise IndexStoreError("cannot build a BM25 index over no texts")
        seg = Segment.from_tokens(tokens)
        part = _Part(new_id(), seg, np.ones(len(seg), dtype=bool), saved=False)
        return cls([part], Rows(chunks), tokenizer, tokens=tokens)

    @classmethod
    def saved_tokens(cls, folder: Path, segments: Iterable[str]) -> dict[str, list[str]]:
        """The tokens the segments of a build folder saved, by chunk id."""
        out = {}
        for name in segments:
            path = folder / "segments" / name / cls.TOKENS
            if not path.exists():
                continue
            with path.open(encoding="utf-8") as f:
                for line in f:
                    row = json.loads(line)
                    out[str(row["id"])] = [str(t) for t in row["t"]]
        return out

    @classmethod
    def open(cls, folder: Path, rows: Rows, tokenizer: JiebaTokenizer) -> BM25Store:
        parts = []
        for p in _read_parts(folder):
            seg = Segment.load(folder / cls.FOLDER / p["name"])
            live = np.ones(len(seg), dtype=bool)
            live[np.asarray(p["dead"], dtype=np.int64)] = False
            parts.append(_Part(p["name"], seg, live, saved=True))
        return cls(parts, rows, tokenizer, shared=True, origin=folder)

    @property
    def bm25(self) -> BM25Index:
        """The merged postings (built on first use: an update never needs them)."""
        if self._bm25 is None:
            live = [(p.segment, p.live) for p in self.parts if p.live.any()]
            self._bm25 = BM25Index(Postings(live), self._tokenizer)
        return self._bm25

    @property
    def tokenizer(self) -> JiebaTokenizer:
        return self._tokenizer

    def idf(self, token: str) -> float:
        return self.bm25.idf(token)

    def df(self, token: str) -> int:
        return self.bm25.df(token)

    def vocabulary(self) -> list[str]:
        """Every token the live chunks use (search-mode words and sub-words)."""
        return list(self.bm25.postings.terms)

    def query_weights(self, query: str) -> dict[str, float]:
        """The query's indexed tokens with their IDF (a repeated token counts again, as in
        `scores`): the query side of BM25 for a store that keeps the chunk side."""
        out: dict[str, float] = {}
        for t in self.tokenizer(query):
            if self.df(t):
                out[t] = out.get(t, 0.0) + self.idf(t)
        return out

    def __len__(self) -> int:
        return len(self.rows)

    def _changed(self) -> None:
        self._scores.clear()
        self._bm25 = None
        self.tokens = None

    def add(self, chunks: Sequence[Chunk], tokens: list[list[str]] | None = None) -> None:
        if not chunks:
            return
        if self._shared:
            self.rows, self._shared = self.rows.copy(), False
        self.rows.add(chunks)
        tokens = tokens or [self.tokenizer(c.index_text) for c in chunks]
        seg = Segment.from_tokens(tokens)
        self.parts.append(_Part(new_id(), seg, np.ones(len(seg), bool), saved=False))
        self._changed()

    def delete(self, report: str) -> int:
        if self._shared:
            self.rows, self._shared = self.rows.copy(), False
        gone = self.rows.delete(report)
        if not len(gone):
            return 0
        for p, live in zip(
            self.parts, _without_rows([p.live for p in self.parts], gone), strict=True
        ):
            p.live = live
        self.parts = [p for p in self.parts if p.live.any()]
        if not self.parts:
            raise IndexStoreError("a BM25 index cannot be empty: delete the index instead")
        self._changed()
        return len(gone)

    def scores(self, query: str) -> np.ndarray:
        return self._scores.get(query, lambda: self.bm25.scores(query))

    def search(
        self, query: str, k: int, reports: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        ids, scores = self.bm25.search(query, k, self.rows.of_reports(reports), self.scores(query))
        return self.rows.ranked(ids, scores)

    def save(self, folder: Path) -> None:
        """The segments' files (those already in the folder it was opened from are linked)
        and which of their chunks are dead."""
        for p in self.parts:
            target = folder / self.FOLDER / p.name
            if p.saved and self._origin is not None and self._origin != folder:
                link_tree(self._origin / self.FOLDER / p.name, target)
            elif not p.saved or self._origin != folder:
                p.segment.save(target)
        _write_parts(
            folder,
            [
                {"name": p.name, "docs": len(p.segment), "dead": np.flatnonzero(~p.live).tolist()}
                for p in self.parts
            ],
        )
