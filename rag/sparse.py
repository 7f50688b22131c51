"""BM25 over jieba tokens (bm25s), saved as JSON + .npy (no pickle)."""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

import bm25s
import jieba
import numpy as np

from rag.errors import IndexStoreError
from rag.recent import Recent
from rag.rows import Rows
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
    def __init__(self, model: bm25s.BM25, tokenizer: JiebaTokenizer) -> None:
        self.model = model
        self.tokenizer = tokenizer

    @classmethod
    def build(cls, texts: list[str], tokenizer: JiebaTokenizer) -> BM25Index:
        return cls.from_tokens([tokenizer(t) for t in texts], tokenizer)

    @classmethod
    def from_tokens(cls, tokens: list[list[str]], tokenizer: JiebaTokenizer) -> BM25Index:
        """The index over texts already tokenised by `tokenizer` (jieba is the slow part)."""
        if not tokens:
            raise IndexStoreError("cannot build a BM25 index over no texts")
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        return cls(model, tokenizer)

    def __len__(self) -> int:
        return int(self.model.scores["num_docs"])

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query` (zeros when no query token is indexed)."""
        tokens = [t for t in self.tokenizer(query) if t in self.model.vocab_dict]
        if not tokens:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)

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
        i = self.model.vocab_dict.get(token)
        indptr = self.model.scores["indptr"]
        return 0 if i is None or i + 1 >= len(indptr) else int(indptr[i + 1] - indptr[i])

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a token (highest for tokens absent from the index)."""
        df = self.df(token)
        return math.log(1.0 + (len(self) - df + 0.5) / (df + 0.5))

    def save(self, folder: Path) -> None:
        self.model.save(str(folder), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, folder: Path, tokenizer: JiebaTokenizer) -> BM25Index:
        try:
            model = bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False)
        except (OSError, ValueError) as e:
            raise IndexStoreError(f"cannot read BM25 index {folder}: {e}") from e
        return cls(model, tokenizer)


CACHE_ENTRIES = 8  # questions whose full BM25 score arrays are kept


class BM25Store:
    """`SparseIndex` over a `BM25Index` folder: chunk ids and report filters in, chunk ids out.

    The score array of the last few questions is kept: a cross-report answer searches each
    report with the same question. bm25s cannot add or remove documents, so `add` and
    `delete` re-index the remaining chunks' texts (what a full build does)."""

    FOLDER = "bm25"
    TOKENS = "tokens.jsonl"  # each chunk's tokens, by chunk id: the next build reuses them

    def __init__(
        self,
        bm25: BM25Index,
        rows: Rows,
        shared: bool = False,
        tokens: list[list[str]] | None = None,
    ) -> None:
        if len(bm25) != len(rows):
            raise IndexStoreError(
                f"the BM25 index holds {len(bm25)} documents but the index lists {len(rows)} "
                "chunks; rebuild it with `rag index`"
            )
        self.bm25, self.rows, self._shared = bm25, rows, shared
        self.tokens = tokens
        self._scores: Recent[str, np.ndarray] = Recent(CACHE_ENTRIES)

    @classmethod
    def build(
        cls,
        chunks: Sequence[Chunk],
        tokenizer: JiebaTokenizer,
        reuse: Mapping[str, list[str]] | None = None,
    ) -> BM25Store:
        """The store over `chunks`; `reuse`: tokens of chunks (by id) an earlier build made
        with the same tokenizer, so only new chunks go through jieba."""
        reuse = reuse or {}
        tokens = [reuse.get(c.id) or tokenizer(c.index_text) for c in chunks]
        return cls(BM25Index.from_tokens(tokens, tokenizer), Rows(chunks), tokens=tokens)

    @classmethod
    def saved_tokens(cls, folder: Path) -> dict[str, list[str]]:
        """The tokens a build folder saved, by chunk id ({} if it saved none)."""
        path = folder / cls.TOKENS
        if not path.exists():
            return {}
        out = {}
        with path.open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                out[str(row["id"])] = [str(t) for t in row["t"]]
        return out

    @classmethod
    def open(cls, folder: Path, rows: Rows, tokenizer: JiebaTokenizer) -> BM25Store:
        return cls(BM25Index.load(folder / cls.FOLDER, tokenizer), rows, shared=True)

    @property
    def tokenizer(self) -> JiebaTokenizer:
        return self.bm25.tokenizer

    def idf(self, token: str) -> float:
        return self.bm25.idf(token)

    def df(self, token: str) -> int:
        return self.bm25.df(token)

    def query_weights(self, query: str) -> dict[str, float]:
        """The query's indexed tokens with their IDF (a repeated token counts again, as in
        `scores`): the query side of BM25 for a store that keeps the chunk side."""
        out: dict[str, float] = {}
        for t in self.tokenizer(query):
            if t in self.bm25.model.vocab_dict:
                out[t] = out.get(t, 0.0) + self.idf(t)
        return out

    def __len__(self) -> int:
        return len(self.bm25)

    def _rebuild(self) -> None:
        self._scores.clear()
        texts = [c.index_text for c in self.rows.chunks]
        if not texts:
            raise IndexStoreError("a BM25 index cannot be empty: delete the index instead")
        self.bm25 = BM25Index.build(texts, self.bm25.tokenizer)
        self.tokens = None

    def add(self, chunks: Sequence[Chunk]) -> None:
        if not chunks:
            return
        if self._shared:
            self.rows, self._shared = self.rows.copy(), False
        self.rows.add(chunks)
        self._rebuild()

    def delete(self, report: str) -> int:
        if self._shared:
            self.rows, self._shared = self.rows.copy(), False
        gone = self.rows.delete(report)
        if len(gone):
            self._rebuild()
        return len(gone)

    def scores(self, query: str) -> np.ndarray:
        return self._scores.get(query, lambda: self.bm25.scores(query))

    def search(
        self, query: str, k: int, reports: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        ids, scores = self.bm25.search(query, k, self.rows.of_reports(reports), self.scores(query))
        return self.rows.ranked(ids, scores)

    def save(self, folder: Path) -> None:
        (folder / self.FOLDER).mkdir(exist_ok=True)
        self.bm25.save(folder / self.FOLDER)
        if self.tokens is not None:
            with (folder / self.TOKENS).open("w", encoding="utf-8") as f:
                for chunk, toks in zip(self.rows.chunks, self.tokens, strict=True):
                    f.write(json.dumps({"id": chunk.id, "t": toks}, ensure_ascii=False) + "\n")
