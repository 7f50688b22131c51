"""The plug-in contracts of each stage: what a new backend must provide.

A search scope is a set of report file names (never a backend's row positions), and search
results are chunk ids (`Chunk.id`) with scores, so a store that filters by expression
(Milvus) fits as well as the local FAISS and BM25 files. `tests/contract/` runs the same
tests against every implementation.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from rag.types import Candidate, Chunk, Hit, Report

Ranked = list[tuple[str, float]]  # (chunk id, score), best first


@runtime_checkable
class Embedder(Protocol):
    """Text -> L2-normalised float32 vectors; documents and queries may be encoded differently
    (bge and e5 models prefix the query with an instruction)."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


@runtime_checkable
class VectorIndex(Protocol):
    """Dense vectors of chunks, searched by inner product."""

    def __len__(self) -> int: ...

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...

    def delete(self, report: str) -> int:
        """Remove every chunk of `report`; returns how many were removed."""
        ...

    def search(
        self, vector: np.ndarray, k: int, reports: Collection[str] | None = None
    ) -> Ranked: ...

    def save(self, folder: Path) -> None: ...


@runtime_checkable
class SparseIndex(Protocol):
    """Lexical (BM25) scores of chunks for a question."""

    def __len__(self) -> int: ...

    def add(self, chunks: Sequence[Chunk]) -> None: ...

    def delete(self, report: str) -> int: ...

    def search(self, query: str, k: int, reports: Collection[str] | None = None) -> Ranked:
        """Chunks with a positive score, best first."""
        ...

    def save(self, folder: Path) -> None: ...


@runtime_checkable
class Tokenizer(Protocol):
    """A text's words as the keyword index splits them."""

    extra_words: list[str]  # the place names added to its dictionary (水口镇 stays one token)

    def __call__(self, text: str) -> list[str]:
        """The search tokens: words and their sub-words, stopwords and punctuation removed."""
        ...

    def words(self, text: str) -> list[str]:
        """Whole words only (no sub-words), filtered the same way."""
        ...


@runtime_checkable
class TermStatistics(Protocol):
    """The corpus's word statistics, kept in the local BM25 files whatever the search
    backend: what the reading of a question, the evidence score and a Milvus index of our
    tokens weigh words by."""

    @property
    def tokenizer(self) -> Tokenizer: ...

    def df(self, token: str) -> int:
        """How many chunks contain the token (0: a word the corpus never uses)."""
        ...

    def idf(self, token: str) -> float:
        """BM25's inverse document frequency (highest for a token no chunk has)."""
        ...

    def vocabulary(self) -> list[str]:
        """Every token the chunks use."""
        ...

    def query_weights(self, query: str) -> Mapping[str, float]:
        """The query's indexed tokens with their IDF (the query side of BM25)."""
        ...

    def __len__(self) -> int: ...


@runtime_checkable
class Reranker(Protocol):
    """Reorders the fused hits of a question (a cross-encoder, say)."""

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]: ...


class IdentityReranker:
    """The default: keeps the fused order."""

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        return list(hits)


@runtime_checkable
class Answerer(Protocol):
    """Writes the answer text with [n] markers, n numbering the hits `select` returned."""

    label: str  # "extractive" or "llm:<model>"
    mode: Literal["extractive", "llm"]  # what the UI and `rag doctor` say answers the questions
    # True: its deltas are shown as they come (an LLM writing); False: it writes the whole
    # text at once, and the pipeline numbers its markers 1, 2… before it is shown
    streams: bool

    @property
    def abstain_marker(self) -> str | None:
        """The line its answer begins with when the sources do not hold the answer (an LLM's
        prompt asks for it: prompts/answer.toml `abstain`); None for one that never does."""
        ...

    def select(self, draft: Draft, hits: Sequence[Hit]) -> list[Hit]:
        """The hits it will number [1]..[n] (an LLM keeps those that fit its context)."""
        ...

    def stream(self, draft: Draft, hits: Sequence[Hit]) -> Iterator[str]: ...


class Draft(Protocol):
    """What an answerer may read about the question (rag.answer.decide.Draft implements it)."""

    @property
    def question(self) -> str: ...

    @property
    def hits(self) -> Sequence[Hit]: ...

    @property
    def groups(self) -> Sequence[tuple[str, Sequence[int]]]:
        """A question across reports: each report with the numbers of its hits."""
        ...

    @property
    def ranked(self) -> Sequence[Sequence[Candidate]]:
        """The hits' sentences ranked for the question: one list per group, or one."""
        ...

    @property
    def searched(self) -> Sequence[str]: ...

    @property
    def missing(self) -> Sequence[str]:
        """Across reports: the reports the decision found no support in."""
        ...

    @property
    def topic(self) -> str:
        """The part of a report the question asks for (rag.retrieve.sections), or ''."""
        ...

    @property
    def terms(self) -> Any:
        """The question's terms (rag.retrieve.terms.QuestionTerms: content words, the figure asked)."""
        ...

    @property
    def reports(self) -> dict[str, Report]: ...
