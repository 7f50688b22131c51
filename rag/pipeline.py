"""Composition root: turns Settings into a chunker, an embedder, an index and a retriever."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.chunk import ChunkerSettings
from rag.config import Settings
from rag.dense import set_threads
from rag.embed import LEXICAL, Resolution, resolve_embedder
from rag.errors import ModelError
from rag.retrieve import QueryOptions, Retriever
from rag.store import BuildSummary, LoadedIndex, build_index, load_index
from rag.types import Hit

logger = logging.getLogger(__name__)


def chunker_settings(settings: Settings) -> ChunkerSettings:
    return ChunkerSettings(max_tokens=settings.chunk_max_tokens, encoding=settings.token_encoding)


def resolve(settings: Settings) -> Resolution:
    return resolve_embedder(
        settings.embed_model, settings.embed_fallback, settings.query_instruction
    )


def build(
    settings: Settings,
    reports_dir: Path,
    index_dir: Path,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[BuildSummary, Resolution]:
    resolution = resolve(settings)
    summary = build_index(
        reports_dir, index_dir, resolution.embedder, chunker_settings(settings), progress
    )
    return summary, resolution


@dataclass
class SearchEngine:
    index: LoadedIndex
    resolution: Resolution
    retriever: Retriever
    settings: Settings

    @classmethod
    def open(cls, settings: Settings, index_dir: Path) -> SearchEngine:
        set_threads(settings.faiss_threads)
        index = load_index(index_dir)
        resolution = resolve(settings)
        built_with = index.embed_model
        if built_with != LEXICAL and resolution.model_name != built_with:
            raise ModelError(
                f"the index in {index_dir} was built with embedding model {built_with}, but this "
                f"run uses {resolution.model_name} ({resolution.message}); set RAG_EMBED_MODEL="
                f"{built_with} or rebuild with `rag index --index {index_dir}`"
            )
        if resolution.embedder is not None and built_with != LEXICAL:
            dim = int(index.manifest["dim"])
            if resolution.embedder.dim != dim:
                raise ModelError(
                    f"embedding dimension {resolution.embedder.dim} of "
                    f"{resolution.model_name} != {dim} in the index; rebuild it"
                )
        embedder = resolution.embedder if built_with != LEXICAL else None
        return cls(index, resolution, Retriever(index, embedder), settings)

    def options(self, **overrides: object) -> QueryOptions:
        base = {"candidates": self.settings.candidates, "rrf_k": self.settings.rrf_k}
        return QueryOptions(**{**base, **overrides})  # type: ignore[arg-type]

    def search(self, question: str, opts: QueryOptions | None = None) -> list[Hit]:
        return self.retriever.search(question, opts or self.options())
