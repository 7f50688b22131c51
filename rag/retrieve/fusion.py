"""Fusion of rankings and removal of near-duplicate passages."""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import TypeVar

from rag.ingest.reader import INLINE_NOISE

K = TypeVar("K", bound=Hashable)


def rrf(rankings: Sequence[Sequence[K]], k: int = 60) -> dict[K, float]:
    """Reciprocal rank fusion: score(d) = sum over lists of 1 / (k + rank), rank from 1."""
    scores: dict[K, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return scores


def trigrams(text: str) -> set[str]:
    s = re.sub(r"\s+", "", INLINE_NOISE.sub("", text))
    return {s[i : i + 3] for i in range(max(1, len(s) - 2))}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
