"""The `Answerer` contract: the markers of its text resolve to the hits it chose, and each
citation to an exact span of its report."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conftest import RecordingChat
from rag.answer.chain import LLMAnswerer
from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.prompting import load_prompt
from rag.config import PROJECT_ROOT
from rag.contracts import Answerer
from rag.pipeline import AskOptions, Pipeline
from rag.verify.cite import MARKER, parse, resolve_citations

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


class _Toy:
    """An answerer of no class the pipeline knows: a model writing in two deltas, or a
    writer of whole answers, as its `streams` says."""

    label = "llm:toy"
    abstain_marker: str | None = None

    def __init__(self, streams: bool, mode: str) -> None:
        self.streams = streams
        self.mode = mode

    def select(self, draft: object, hits: list[object]) -> list[object]:
        return list(hits[:2])

    def stream(self, draft: object, hits: list[object]) -> Iterator[str]:
        yield "共开展执法培训[2]，"
        yield "覆盖执法人员[1]。"


@pytest.mark.parametrize("streams", [True, False])
def test_the_pipeline_reads_streaming_and_mode_off_the_protocol(
    extractive: Pipeline, streams: bool
) -> None:
    """Any class: one that streams has its deltas shown as they come (its markers
    renumbered only in the finished answer); one that does not is shown whole, numbered 1, 2…
    first. Its mode, not its class, says whether a model answers."""
    toy = _Toy(streams, "llm")
    assert isinstance(toy, Answerer)
    pipeline = extractive.with_answerer(toy)  # type: ignore[arg-type]
    assert pipeline.generative and pipeline.mode == "llm:toy"
    assert not extractive.generative
    events = list(pipeline.stream(QUESTIONS[0]))
    tokens = [e.text for e in events if e.kind == "token"]
    answer = [e.answer for e in events if e.answer is not None][0]
    assert answer is not None and answer.mode == "llm:toy"
    if streams:
        assert tokens == ["共开展执法培训[2]，", "覆盖执法人员[1]。"]
    else:
        assert tokens == ["共开展执法培训[1]，覆盖执法人员[2]。"]
    assert answer.text == "共开展执法培训[1]，覆盖执法人员[2]。"
