"""A local GGUF model through llama-cpp-python (optional extra), as LangChain models.

Two small adapters instead of langchain_community's (which is being retired): a completion
LLM for base models and a chat model that applies the GGUF's own chat template.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.llms import LLM
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, GenerationChunk

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, int], tuple[Any, threading.Lock]] = {}


def _llama(path: str, n_ctx: int) -> tuple[Any, threading.Lock]:
    """One loaded model per (file, context size), shared by every adapter, with the lock that
    serialises its use (a llama.cpp context serves one request at a time)."""
    from llama_cpp import Llama

    with _LOCK:
        key = (path, n_ctx)
        if key not in _MODELS:
            _MODELS[key] = (Llama(model_path=path, n_ctx=n_ctx, verbose=False), threading.Lock())
        return _MODELS[key]


@atexit.register
def _close_all() -> None:
    """Free the models before the interpreter tears down the modules their destructors use."""
    with _LOCK:
        for llm, _ in _MODELS.values():
            llm.close()
        _MODELS.clear()


def _stream_texts(
    params: LlamaCppCompletion | LlamaCppChat,
    create: str,
    request: Any,
    stop: list[str] | None,
    run_manager: CallbackManagerForLLMRun | None,
) -> Iterator[str]:
    """Non-empty text deltas of a streamed llama.cpp completion or chat completion."""
    llm, lock = _llama(params.model_path, params.n_ctx)
    with lock:
        for part in getattr(llm, create)(
            request,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            stop=stop,
            stream=True,
        ):
            choice = part["choices"][0]
            text = choice["text"] if "text" in choice else choice["delta"].get("content") or ""
            if not text:
                continue
            if run_manager:
                run_manager.on_llm_new_token(text)
            yield text


class LlamaCppCompletion(LLM):
    model_path: str
    n_ctx: int = 4096
    temperature: float = 0.1
    max_tokens: int = 512

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-completion"

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        return "".join(c.text for c in self._stream(prompt, stop, run_manager, **kwargs))

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        for text in _stream_texts(self, "create_completion", prompt, stop, run_manager):
            yield GenerationChunk(text=text)


_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class LlamaCppChat(BaseChatModel):
    model_path: str
    n_ctx: int = 4096
    temperature: float = 0.1
    max_tokens: int = 512

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-chat"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(str(c.message.content) for c in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        payload = [
            {"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages
        ]
        for text in _stream_texts(self, "create_chat_completion", payload, stop, run_manager):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))
