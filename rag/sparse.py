"""BM25 over jieba tokens (bm25s), saved as JSON + .npy (no pickle)."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from pathlib import Path

import bm25s
import jieba
import numpy as np

from rag.errors import IndexStoreError

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

STOPWORDS = frozenset(
    "的 了 和 与 及 等 在 是 对 为 以 将 把 被 从 向 由 中 上 下 有 也 都 并 或 其 之 于 年 "
    "哪些 什么 多少 怎么 如何 怎样 哪个 是否 吗 呢 吧 啊 请 问 一下 情况 方面".split()
)
_KEEP = re.compile(r"[\u4e00-\u9fff0-9A-Za-z%％]")


class JiebaTokenizer:
    """jieba search-mode tokens (words and their sub-words), stopwords and punctuation removed."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self._tk = jieba.Tokenizer()
        self.extra_words = sorted(set(extra_words))
        for w in self.extra_words:
            self._tk.add_word(w, freq=2000)

    def __call__(self, text: str) -> list[str]:
        return _filtered(self._tk.cut_for_search(text.lower()))

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
        if not texts:
            raise IndexStoreError("cannot build a BM25 index over no texts")
        model = bm25s.BM25()
        model.index([tokenizer(t) for t in texts], show_progress=False)
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

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a token (highest for tokens absent from the index)."""
        n = len(self)
        i = self.model.vocab_dict.get(token)
        indptr = self.model.scores["indptr"]
        df = 0 if i is None or i + 1 >= len(indptr) else int(indptr[i + 1] - indptr[i])
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def save(self, folder: Path) -> None:
        self.model.save(str(folder), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, folder: Path, tokenizer: JiebaTokenizer) -> BM25Index:
        try:
            model = bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False)
        except (OSError, ValueError) as e:
            raise IndexStoreError(f"cannot read BM25 index {folder}: {e}") from e
        return cls(model, tokenizer)
