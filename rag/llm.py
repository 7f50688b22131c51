"""Chat/completion model factory: OpenAI-compatible endpoints or a local GGUF (llama-cpp)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rag.errors import ModelError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseLanguageModel

logger = logging.getLogger(__name__)

Style = Literal["chat", "completion"]
CONNECT_TIMEOUT = 10.0


def provider_errors() -> tuple[type[BaseException], ...]:
    """Errors an LLM call may raise when the endpoint is down, slow or refuses the request."""
    import httpx
    import openai

    return (openai.APIError, httpx.HTTPError, ConnectionError, TimeoutError, OSError)


@dataclass(frozen=True)
class LLMConfig:
    backend: Literal["openai", "llamacpp"]
    model: str
    style: Style
    base_url: str | None = None
    gguf_path: str | None = None
    temperature: float = 0.1
    max_tokens: int = 512
    context_tokens: int = 8192
    timeout: float = 120.0

    @property
    def label(self) -> str:
        return f"llm:{self.model}"


def make_model(cfg: LLMConfig, api_key: str | None = None) -> BaseLanguageModel:
    """A LangChain model for `cfg`; `api_key` is passed through, never logged."""
    if cfg.backend == "openai":
        from langchain_openai import ChatOpenAI, OpenAI
        from openai import Timeout

        kwargs = {
            "model": cfg.model,
            "base_url": cfg.base_url,
            "api_key": api_key or "not-needed",  # local servers accept any key
            "temperature": cfg.temperature,
            "max_tokens": cfg.max_tokens,
            # one bounded attempt: a hung endpoint costs `timeout`, not twice that; a
            # connection that cannot be made fails in at most 10 s
            "timeout": Timeout(cfg.timeout, connect=min(cfg.timeout, CONNECT_TIMEOUT)),
            "max_retries": 0,
            "streaming": True,
        }
        logger.info("LLM: %s at %s (%s)", cfg.model, cfg.base_url, cfg.style)
        if cfg.style == "chat":
            # ChatOpenAI sends the limit only as max_completion_tokens, which llama-cpp's server
            # (and other OpenAI-compatible servers) ignore: without max_tokens they generate
            # until the context is full. Send both.
            return ChatOpenAI(**kwargs, extra_body={"max_tokens": cfg.max_tokens})  # type: ignore[arg-type]
        return OpenAI(**kwargs)  # type: ignore[arg-type]
    try:
        from rag.llamacpp import LlamaCppChat, LlamaCppCompletion
    except ImportError as e:  # pragma: no cover - depends on the optional extra
        raise ModelError('llamacpp 后端需要 llama-cpp-python：pip install -e ".[llamacpp]"') from e
    cls = LlamaCppChat if cfg.style == "chat" else LlamaCppCompletion
    return cls(
        model_path=cfg.gguf_path or "",
        n_ctx=cfg.context_tokens,
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
    )
