"""docs/architecture.md, "Adding an LLM provider", followed step by step with a toy provider:
only the documented steps, nothing else touched; `rag ask`'s pipeline answers through it, and
an error of its own client type falls back to the extractive answer as the built-in ones do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag.answer import llm
from rag.config import Settings
from rag.errors import ConfigError
from rag.factory import describe, open_pipeline

QUESTION = "水口镇对执法人员进行了多少次执法培训？"


class GatewayDown(Exception):
    """The toy client's own error type (not an OSError, not openai's)."""


class DownModel(FakeListChatModel):
    def _stream(self, *args: Any, **kwargs: Any) -> Any:
        raise GatewayDown("502 from the gateway")


class Scripted:  # step 1: the LLMProvider protocol (rag/answer/llm.py)
    name = "scripted"

    def configure(self, cfg: llm.LLMConfig) -> llm.LLMConfig:
        if not cfg.model:
            raise ConfigError("RAG_LLM_BACKEND=scripted 需要设置 RAG_LLM_MODEL（up 或 down）")
        return cfg

    def make(self, cfg: llm.LLMConfig, api_key: str | None) -> Any:
        if cfg.model == "down":
            return DownModel(responses=[""])
        return FakeListChatModel(responses=["水口镇全年开展执法培训15次[1]。"])

    def errors(self) -> tuple[type[BaseException], ...]:
        return (GatewayDown,)


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(llm, "PROVIDERS", dict(llm.PROVIDERS))  # the test leaves no trace
    llm.register_provider(Scripted())  # step 2
    yield


def _settings(model: str, index: Path) -> Settings:
    # step 3: choose it by name (RAG_LLM_BACKEND=scripted)
    return Settings(embed_model="none", llm_backend="scripted", llm_model=model, index_dir=index)  # type: ignore[call-arg]


def test_the_documented_steps_add_an_llm_provider(toy_registered, lexical_index_dir: Path) -> None:  # type: ignore[no-untyped-def]
    pipeline = open_pipeline(_settings("up", lexical_index_dir))
    assert pipeline.answerer.mode == "llm" and pipeline.answerer.label == "llm:up"
    a = pipeline.ask(QUESTION)
    assert a.text.startswith("水口镇全年开展执法培训15次[1]") and a.citations
    assert a.mode == "llm:up" and not a.warnings
    assert describe(_settings("up", lexical_index_dir)).answering.startswith("llm:up via scripted")


def test_its_own_errors_fall_back_to_the_extractive_answer(
    toy_registered, lexical_index_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    assert GatewayDown in llm.provider_errors()
    a = open_pipeline(_settings("down", lexical_index_dir), lexical_index_dir).ask(QUESTION)
    assert a.mode == "extractive" and "15次" in a.text and a.citations
    assert any("大模型连不上" in w for w in a.warnings)


def test_a_provider_names_what_is_wrong(toy_registered, lexical_index_dir: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="RAG_LLM_MODEL"):
        open_pipeline(_settings("", lexical_index_dir), lexical_index_dir)
    with pytest.raises(ConfigError, match="RAG_LLM_BACKEND='nosuch'.*llamacpp、openai、scripted"):
        open_pipeline(Settings(embed_model="none", llm_backend="nosuch"), lexical_index_dir)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="不是 none"):
        llm.register_provider(type("N", (Scripted,), {"name": "none"})())
