"""The reports' words for a word of a question that no report uses, by the embedding model.

Staff ask in their own words (学习班, 罚单, 上访, 了结) where reports write 培训班, 处罚,
信访, 办结. A hand-made list of synonyms covers what its authors read; the encoder has read
far more. A corpus word stands for a question word when the two share a character (Chinese
paraphrases share a morpheme far more often than not: 罚单/处罚, 队员/队伍) and their
vectors are at least `cosine` apart; the character filter keeps the encoder's loose
neighbours (区块链 -> 管理网络, 房价 -> 公有住房) out, and keeps the words to encode few.

Only the corpus words sharing a character are encoded, each once (a cache of word vectors),
so the cost follows the question, not the size of the corpus.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property

import numpy as np

from rag.recent import Recent

_CJK = re.compile(r"^[\u4e00-\u9fff]{2,}$")
MOST = 3  # neighbours kept per word: the closest, not every word that shares a character
CANDIDATES = 400  # corpus words sharing a character encoded per question word, at most
CACHE = 100_000  # word vectors kept


class WordNeighbours:
    """`of(words)`: for each word, the corpus words that stand for it (closest first)."""

    def __init__(
        self,
        vocabulary: Callable[[], Iterable[str]],
        embed: Callable[[list[str]], np.ndarray],
        cosine: float,
        df: Callable[[str], int] | None = None,
    ) -> None:
        if not 0.0 < cosine <= 1.0:
            raise ValueError(f"the neighbour cosine must be within (0, 1], got {cosine!r}")
        self.vocabulary = vocabulary  # read on first use
        self.embed = embed
        self.cosine = cosine
        self.df = df
        self._vectors: Recent[str, np.ndarray] = Recent(CACHE)

    @cached_property
    def _by_char(self) -> dict[str, list[str]]:
        words = sorted({w for w in self.vocabulary() if _CJK.match(w)})
        if self.df is not None:  # the commonest words first when a character has too many
            df = self.df
            words.sort(key=lambda w: (-df(w), w))
        out: dict[str, list[str]] = defaultdict(list)
        for w in words:
            for ch in dict.fromkeys(w):
                out[ch].append(w)
        return dict(out)

    def candidates(self, word: str) -> list[str]:
        """Corpus words sharing a character with `word` (at most CANDIDATES)."""
        out: dict[str, None] = {}
        for ch in dict.fromkeys(word):
            for w in self._by_char.get(ch, ()):
                if w != word:
                    out[w] = None
        return list(out)[:CANDIDATES]

    def _encode(self, words: Sequence[str]) -> dict[str, np.ndarray]:
        unique = list(dict.fromkeys(words))
        vectors = self._vectors.get_many(
            unique,
            lambda missing: list(np.asarray(self.embed([unique[i] for i in missing]), np.float32)),
        )
        return dict(zip(unique, vectors, strict=True))

    def of(self, words: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each word of `words` (2+ Chinese characters) with the corpus words that stand
        for it; a word with none is left out."""
        asked = [w for w in dict.fromkeys(words) if _CJK.match(w)]
        pools = {w: pool for w in asked if (pool := self.candidates(w))}
        if not pools:
            return {}
        vectors = self._encode([*pools, *(c for pool in pools.values() for c in pool)])
        out: dict[str, tuple[str, ...]] = {}
        for w, pool in pools.items():
            sims = np.stack([vectors[c] for c in pool]) @ vectors[w]
            order = np.argsort(-sims, kind="stable")[:MOST]
            near = tuple(pool[i] for i in order if sims[i] >= self.cosine)
            if near:
                out[w] = near
        return out
