"""The LLM answer chain (LCEL): numbered sources within a token budget -> prompt -> model."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rag.answer.compose import scope_text
from rag.answer.llm import Style, provider_errors
from rag.answer.prompting import PromptSpec
from rag.contracts import Draft
from rag.errors import ConfigError, RagError
from rag.text.tokens import count_tokens
from rag.types import Hit, Report

if TYPE_CHECKING:  # LangChain is imported when an LLM is configured, not for extractive answers
    from langchain_core.language_models import BaseLanguageModel
    from langchain_core.runnables import Runnable

logger = logging.getLogger(__name__)


def source_header(n: int, hit: Hit, report: Report) -> str:
    m = report.meta
    bits = [f"[{n}] 《{m.title}》"]
    bits.append("，".join(x for x in (m.issuer, f"{m.year}年" if m.year else None) if x))
    if hit.chunk.section:
        bits.append(f"章节：{hit.chunk.section_path}")
    return " ".join(b for b in bits if b)


def source_block(n: int, hit: Hit, report: Report) -> str:
    return f"{source_header(n, hit, report)}\n{hit.chunk.text.strip()}"


def fit_sources(
    hits: Sequence[Hit],
    reports: dict[str, Report],
    budget_tokens: int,
    encoding: str = "cl100k_base",
) -> tuple[str, list[Hit]]:
    """Numbered source blocks in rank order while they fit `budget_tokens`; the hits used.

    Token counts use tiktoken, an estimate of the serving model's own tokenizer; the budget
    keeps a margin for that (see `budget`).
    """
    blocks: list[str] = []
    used: list[Hit] = []
    total = 0
    for hit in hits:
        n = len(used) + 1
        block = source_block(n, hit, reports[hit.chunk.source])
        cost = count_tokens(block, encoding) + 2
        if total + cost > budget_tokens:
            logger.info(
                "source %s:%d left out: token budget %d",
                hit.chunk.source,
                hit.chunk.start,
                budget_tokens,
            )
            continue
        blocks.append(block)
        used.append(hit)
        total += cost
    return "\n\n".join(blocks), used


def budget(context_tokens: int, max_answer_tokens: int, prompt_tokens: int) -> int:
    """Tokens left for sources: the window minus the answer, the prompt and a 10% margin for
    the difference between tiktoken and the model's tokenizer."""
    return int((context_tokens - max_answer_tokens - prompt_tokens) * 0.9)


class LLMUnavailable(RagError):
    """The LLM could not be reached or refused the request (`started`: after text came)."""

    def __init__(self, label: str, cause: BaseException, started: bool) -> None:
        super().__init__(f"the LLM ({label}) failed: {cause}")
        self.kind = type(cause).__name__
        self.started = started


@dataclass
class LLMAnswerer:
    """`Answerer`: prompt | model | str parser over the sources that fit the context window;
    streams text with [n] markers."""

    model: BaseLanguageModel
    prompt: PromptSpec
    style: Style
    label: str  # e.g. "llm:qwen2.5-7b-instruct"
    context_tokens: int = 8192
    max_tokens: int = 512
    encoding: str = "cl100k_base"
    mode: Literal["extractive", "llm"] = "llm"
    streams: bool = True

    def __post_init__(self) -> None:
        self.chain = make_chain(self.model, self.prompt, self.style)

    @property
    def abstain_marker(self) -> str | None:
        return self.prompt.abstain

    def prompt_tokens(self) -> int:
        text = (
            self.prompt.system + self.prompt.user
            if self.style == "chat"
            else self.prompt.completion
        )
        return count_tokens(text, self.encoding)

    def select(self, draft: Draft, hits: Sequence[Hit]) -> list[Hit]:
        room = budget(self.context_tokens, self.max_tokens, self.prompt_tokens())
        _, used = fit_sources(hits, draft.reports, room, self.encoding)
        if not used:
            raise ConfigError(
                f"大模型的上下文放不下任何段落：RAG_LLM_CONTEXT_TOKENS={self.context_tokens} "
                f"减去 RAG_LLM_MAX_TOKENS={self.max_tokens} 和提示词后已无空间；"
                "请调大前者或调小后者"
            )
        return used

    def stream(self, draft: Draft, hits: Sequence[Hit]) -> Iterator[str]:
        sources = "\n\n".join(
            source_block(n, h, draft.reports[h.chunk.source]) for n, h in enumerate(hits, 1)
        )
        started = False
        try:
            for delta in self.chain.stream(
                {
                    "question": draft.question,
                    "sources": sources,
                    "scope": scope_text(draft.searched, draft.reports),
                }
            ):
                started = True
                yield delta
        except provider_errors() as e:
            raise LLMUnavailable(self.label, e, started) from e


def make_chain(model: BaseLanguageModel, prompt: PromptSpec, style: Style) -> Runnable:
    """template | model | StrOutputParser: chat messages, or one text prompt for base models."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

    if style == "chat":
        template: Runnable = ChatPromptTemplate.from_messages(
            [("system", prompt.system), ("human", prompt.user)]
        )
    else:
        template = PromptTemplate.from_template(prompt.completion)
    return template | model | StrOutputParser()
