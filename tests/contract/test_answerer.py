"""The `Answerer` contract: the markers of its text resolve to the hits it chose, and each
citation to an exact span of its report."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import RecordingChat
from rag.answer import LLMAnswerer
from rag.cite import MARKER, parse, resolve_citations
from rag.config import PROJECT_ROOT
from rag.contracts import Answerer
from rag.extractive import ExtractiveAnswerer
from rag.pipeline import AskOptions, Pipeline
from rag.prompting import load_prompt

PROMPT = load_prompt(PROJECT_ROOT / "prompts", "answer")
QUESTIONS = (
    "水口镇2024年对执法人员进行了多少次执法培训？",
    "哪些镇设立了调解室？",  # across reports: one line per report
    "瓦屋镇开展了多少场法治宣传活动？",
)

ANSWERERS: dict[str, Callable[[], Answerer]] = {
    "extractive": lambda: ExtractiveAnswerer(),
    "llm-chat": lambda: LLMAnswerer(
        RecordingChat(reply="共开展培训15次[1]。另见【2】与[1,2]。", seen=[]),
        PROMPT,
        "chat",
        "llm:fake",
    ),
    "llm-small-window": lambda: LLMAnswerer(
        RecordingChat(reply="见[1]。", seen=[]), PROMPT, "chat", "llm:fake", 1400, 256
    ),
}


@pytest.fixture(params=sorted(ANSWERERS))
def answerer(request: pytest.FixtureRequest) -> Answerer:
    return ANSWERERS[request.param]()


@pytest.mark.parametrize("question", QUESTIONS)
def test_markers_resolve_to_the_chosen_hits(
    answerer: Answerer, question: str, extractive: Pipeline
) -> None:
    assert isinstance(answerer, Answerer) and answerer.label
    draft = extractive.draft(extractive.analyze(question, (), AskOptions()))
    assert draft.hits
    used = answerer.select(draft, draft.hits)
    assert used and all(h in draft.hits for h in used)
    text = "".join(answerer.stream(draft, used))
    numbers = [int(n) for m in MARKER.finditer(text) for n in MARKER_NUMBERS(m.group(0))]
    assert numbers and all(1 <= n <= len(used) for n in numbers)
    parsed = parse(text, len(used))
    assert not parsed.invalid
    for c in resolve_citations(parsed.claims, used):
        report = extractive.reports[c.source].text
        assert report[c.start : c.end] == c.text
        assert report[c.support_start : c.support_end] == c.support_text


def MARKER_NUMBERS(marker: str) -> list[str]:  # noqa: N802 - reads like the pattern it pairs with
    import re

    return re.findall(r"\d+", marker)
