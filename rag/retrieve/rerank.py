"""Rerankers by name (RAG_RERANKER): the stage between fusion and the cut to k.

The retriever hands a reranker the first `RAG_RERANK_POOL` fused candidates, before the cut,
so a reranker can bring up a passage fusion ranked 15th, not only reorder the final k.
`none` (the default) keeps the fused order and skips the stage. `cross-encoder:<id or folder>`
scores (question, passage) pairs with a sentence-transformers CrossEncoder (a Hugging Face id
such as `BAAI/bge-reranker-base`, or a local folder). Others are registered by name
(`register_reranker`, see docs/architecture.md "Adding a reranker").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.contracts import Reranker
from rag.errors import ConfigError, ModelError
from rag.types import Hit

RERANKERS: dict[str, Callable[[str], Reranker]] = {}


def register_reranker(name: str, make: Callable[[str], Reranker]) -> None:
    """Make `name` (or `name:<argument>`) a value of RAG_RERANKER; `make` gets the argument
    after the colon ('' without one)."""
    if not name or ":" in name:
        raise ConfigError(f"重排器的名字不能为空，也不能含冒号：{name!r}")
    RERANKERS[name] = make


def make_reranker(spec: str) -> Reranker | None:
    """The reranker RAG_RERANKER names; None for `none` (the fused order is kept)."""
    spec = spec.strip()
    if spec in ("", "none"):
        return None
    name, _, argument = spec.partition(":")
    make = RERANKERS.get(name)
    if make is None:
        known = "、".join(["none", *sorted(RERANKERS)])
        raise ConfigError(f"RAG_RERANKER={spec!r} 不是已知的重排器；可选：{known}")
    return make(argument)


@dataclass
class CrossEncoderReranker:
    """`Reranker`: a sentence-transformers CrossEncoder's score of (question, passage); ties
    keep the fused order. The model is loaded at the first question."""

    model: str
    batch_size: int = 16
    _encoder: Any = field(default=None, repr=False)

    def _loaded(self) -> Any:
        if self._encoder is None:
            try:
                from sentence_transformers import CrossEncoder

                self._encoder = CrossEncoder(self.model, device="cpu")
            except (OSError, ValueError) as e:
                raise ModelError(
                    f"RAG_RERANKER=cross-encoder:{self.model} 无法加载：{e}"
                    "（Hugging Face 模型名或本地文件夹；离线时须为本地文件夹）"
                ) from e
        return self._encoder

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        if len(hits) < 2:
            return list(hits)
        pairs = [(question, h.chunk.text) for h in hits]
        scores = self._loaded().predict(pairs, batch_size=self.batch_size)
        order = sorted(range(len(hits)), key=lambda i: -float(scores[i]))
        return [hits[i] for i in order]


def _cross_encoder(argument: str) -> Reranker:
    if not argument:
        raise ConfigError(
            "RAG_RERANKER=cross-encoder 需要模型：cross-encoder:<Hugging Face 模型名或本地文件夹>"
        )
    return CrossEncoderReranker(argument)


register_reranker("cross-encoder", _cross_encoder)
