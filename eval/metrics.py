"""Retrieval metrics as pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    doc: str
    start: int
    end: int


@dataclass(frozen=True)
class Retrieved:
    doc: str
    start: int
    end: int


def covers(ctx: Retrieved, ev: Evidence) -> bool:
    """A context covers an evidence quote when it is from the same report and spans it."""
    return ctx.doc == ev.doc and ctx.start <= ev.start and ev.end <= ctx.end


def recall_at_k(contexts: Sequence[Retrieved], evidence: Sequence[Evidence], k: int) -> float:
    """Share of evidence quotes covered by one of the first k contexts."""
    if not evidence:
        raise ValueError("recall needs at least one evidence quote")
    top = contexts[:k]
    return sum(any(covers(c, e) for c in top) for e in evidence) / len(evidence)


def reciprocal_rank(contexts: Sequence[Retrieved], evidence: Sequence[Evidence]) -> float:
    """1/rank of the first context covering any evidence quote; 0 when none does."""
    for rank, c in enumerate(contexts, start=1):
        if any(covers(c, e) for e in evidence):
            return 1.0 / rank
    return 0.0


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def key_fact_accuracy(answer: str, key_facts: Sequence[str]) -> float:
    """Share of key facts found in the answer, after folding width, whitespace and numerals."""
    from rag.text.numbers import normalize

    if not key_facts:
        raise ValueError("key-fact accuracy needs at least one key fact")
    text = normalize(answer)
    return sum(normalize(f) in text for f in key_facts) / len(key_facts)


def overlaps(span: Retrieved, ev: Evidence) -> bool:
    return span.doc == ev.doc and span.start < ev.end and ev.start < span.end


def citation_precision(cited: Sequence[Retrieved], evidence: Sequence[Evidence]) -> float | None:
    """Share of cited spans that overlap an evidence quote; None when nothing is cited."""
    if not cited:
        return None
    return sum(any(overlaps(c, e) for e in evidence) for c in cited) / len(cited)


def citation_recall(cited: Sequence[Retrieved], evidence: Sequence[Evidence]) -> float:
    """Share of evidence quotes that some cited span overlaps."""
    if not evidence:
        raise ValueError("citation recall needs at least one evidence quote")
    return sum(any(overlaps(c, e) for c in cited) for e in evidence) / len(evidence)
