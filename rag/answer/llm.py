"""LLM providers by name (RAG_LLM_BACKEND): OpenAI-compatible endpoints or a local GGUF
(llama-cpp), each with the errors its calls raise; another is one class and one
`register_provider` call (docs/architecture.md, "Adding an LLM provider")."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from rag.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseLanguageModel

logger = logging.getLogger(__name__)

Style = Literal["chat", "completion"]
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class LLMConfig:
    backend: str  # a registered provider: "openai", "llamacpp"…
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


@runtime_checkable
class LLMProvider(Protocol):
    """Where answers are written: one kind of LLM endpoint or local runtime (RAG_LLM_BACKEND)."""

    name: str

    def configure(self, cfg: LLMConfig) -> LLMConfig:
        """`cfg` checked and completed (a ConfigError names the setting that is missing)."""
        ...

    def make(self, cfg: LLMConfig, api_key: str | None) -> BaseLanguageModel:
        """A LangChain model for `cfg`; `api_key` is passed through, never logged."""
        ...

    def errors(self) -> tuple[type[BaseException], ...]:
        """What its calls raise when the endpoint is down, slow or refuses the request (the
        answer then falls back to the extractive answerer, RAG_LLM_FALLBACK)."""
        ...


PROVIDERS: dict[str, LLMProvider] = {}
# a connection's own failures, whatever the provider's client
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)


def register_provider(provider: LLMProvider) -> None:
    """Make `provider.name` a value of RAG_LLM_BACKEND."""
    if not provider.name.isidentifier() or provider.name == "none":
        raise ConfigError(
            f"大模型后端的名字须是字母、数字或下划线组成的词，且不是 none：{provider.name!r}"
        )
    PROVIDERS[provider.name] = provider


def llm_provider(name: str) -> LLMProvider:
    provider = PROVIDERS.get(name)
    if provider is None:
        known = "、".join(["none", *sorted(PROVIDERS)])
        raise ConfigError(f"RAG_LLM_BACKEND={name!r} 不是已知的大模型后端；可选：{known}")
    return provider


def provider_errors() -> tuple[type[BaseException], ...]:
    """Errors an LLM call of any registered provider may raise when its endpoint is down, slow
    or refuses the request."""
    out = list(CONNECTION_ERRORS)
    for provider in PROVIDERS.values():
        out += [e for e in provider.errors() if e not in out]
    return tuple(out)


def make_model(cfg: LLMConfig, api_key: str | None = None) -> BaseLanguageModel:
    """A LangChain model for `cfg` by its provider; `api_key` is passed through, never logged."""
    return llm_provider(cfg.backend).make(cfg, api_key)


class OpenAIProvider:
    """Any OpenAI-compatible endpoint (vLLM, llama-cpp's server, Xinference, Ollama, a cloud)."""

    name = "openai"

    def configure(self, cfg: LLMConfig) -> LLMConfig:
        if not cfg.base_url or not cfg.model:
            raise ConfigError(
                "RAG_LLM_BACKEND=openai 需要设置 RAG_LLM_BASE_URL（例如 http://127.0.0.1:8000/v1）"
                "和 RAG_LLM_MODEL"
            )
        return cfg

    def errors(self) -> tuple[type[BaseException], ...]:
        import httpx
        import openai

        return (openai.APIError, httpx.HTTPError)

    def make(self, cfg: LLMConfig, api_key: str | None) -> BaseLanguageModel:
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


class LlamaCppProvider:
    """A local GGUF file run in this process by llama-cpp-python (an optional extra)."""

    name = "llamacpp"

    def configure(self, cfg: LLMConfig) -> LLMConfig:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError(
                "RAG_LLM_BACKEND=llamacpp 需要 llama-cpp-python 包，尚未安装："
                "pip install -e '.[llamacpp]'（需编译 llama.cpp：空闲的双核机器约 8 分钟，繁忙时约 40 分钟），"
                "或改用 RAG_LLM_BACKEND=openai"
            )
        path = Path(cfg.gguf_path) if cfg.gguf_path else None
        if path is None or not path.is_file():
            raise ConfigError(
                f"RAG_LLM_BACKEND=llamacpp 需要 RAG_LLM_GGUF_PATH 指向一个 .gguf 文件，现为 {path}"
            )
        return replace(cfg, model=cfg.model or path.name, base_url=None)

    def errors(self) -> tuple[type[BaseException], ...]:
        return ()  # in-process: only the connection-free OSError of a file that went away

    def make(self, cfg: LLMConfig, api_key: str | None) -> BaseLanguageModel:
        try:
            from rag.answer.llamacpp import LlamaCppChat, LlamaCppCompletion
        except ImportError as e:  # pragma: no cover - depends on the optional extra
            raise ModelError(
                'llamacpp 后端需要 llama-cpp-python：pip install -e ".[llamacpp]"'
            ) from e
        cls = LlamaCppChat if cfg.style == "chat" else LlamaCppCompletion
        return cls(
            model_path=cfg.gguf_path or "",
            n_ctx=cfg.context_tokens,
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
        )


register_provider(OpenAIProvider())
register_provider(LlamaCppProvider())
