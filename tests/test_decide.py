"""The answer decision's one home (rag/answer/decide.py): route, answer or refuse, for extractive and
LLM answers alike; an LLM's "not in the reports" is its prompt's abstention line, not prose."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import RecordingChat
from rag.answer.chain import LLMAnswerer
from rag.answer.decide import Decider
from rag.answer.prompting import load_prompt
from rag.config import PROJECT_ROOT
from rag.errors import ConfigError
from rag.pipeline import AskOptions, Pipeline

PROMPT = load_prompt(PROJECT_ROOT / "prompts", "answer")
SHUIKOU = "000_4e493ef760f0cb20.txt"


def _llm(extractive: Pipeline, reply: str) -> Pipeline:
    model = RecordingChat(reply=reply)
    return extractive.with_answerer(LLMAnswerer(model, PROMPT, "chat", "llm:fake"))  # type: ignore[arg-type]


def test_the_threshold_is_checked_once_where_it_is_given() -> None:
    with pytest.raises(ValueError, match="within 0..1, got 1.5"):
        Decider(1.5, {})


def test_the_decision_refuses_for_a_reason_and_answers_otherwise(extractive: Pipeline) -> None:
    d = extractive.decider
    town = d.decide(extractive.draft(extractive.analyze("青山镇2024年执法培训多少次？")))
    assert (town.route, town.reason) == ("refuse", "语料中没有关于青山镇的报告")
    year = d.decide(extractive.draft(extractive.analyze("水口镇2021年执法培训多少次？")))
    assert year.route == "refuse" and "不涉及2021年" in year.reason
    ok = d.decide(extractive.draft(extractive.analyze("水口镇2024年执法培训多少次？")))
    assert ok.route == "answer" and ok.missing == ()


def test_across_reports_the_decision_names_the_reports_without_support(
    extractive: Pipeline,
) -> None:
    """The extractive answerer no longer applies a threshold of its own: it lists what the
    decision calls missing."""
    q = "水口镇和瓦屋镇的执法证各有多少人考取？"
    decision = extractive.decider.decide(extractive.draft(extractive.analyze(q)))
    assert decision.route == "answer" and decision.missing == ("001_e78c042d1c9dcf59.txt",)
    a = extractive.ask(q)
    assert "19人" in a.text and "未找到相关内容的报告" in a.text and "瓦屋镇" in a.text


def test_a_metadata_question_naming_its_report_is_routed_to_the_metadata(
    extractive: Pipeline,
) -> None:
    q = extractive.analyze("瓦屋镇这份报告是哪天发布的？")
    assert extractive.decider.route(q, False)[0] == "metadata"
    assert extractive.decider.route(extractive.analyze("报告是哪天发布的？"), False)[0] == "answer"
    scoped = extractive.analyze("报告是哪天发布的？", options=AskOptions(reports=(SHUIKOU,)))
    assert extractive.decider.route(scoped, True)[0] == "metadata"


def test_an_llm_refusal_is_its_prompts_abstention_line(extractive: Pipeline) -> None:
    a = _llm(extractive, "所检索的报告中没有相关内容。").ask("水口镇2024年执法培训多少次？")
    assert a.abstained and a.citations == ()
    assert a.text.startswith("所检索的报告中没有找到能回答该问题的内容")


def test_an_llm_answer_that_mentions_absence_in_passing_is_not_a_refusal(
    extractive: Pipeline,
) -> None:
    """A regex over prose took 未提及 anywhere for a refusal; the signal is the opening line."""
    reply = "水口镇共进行执法培训15次[1]，报告未提及培训经费。"
    a = _llm(extractive, reply).ask("水口镇2024年执法培训多少次？")
    assert not a.abstained and "15次" in a.text and a.citations


def test_a_prompt_that_does_not_ask_for_its_abstention_line_is_refused(tmp_path: Path) -> None:
    text = (PROJECT_ROOT / "prompts" / "answer.toml").read_text(encoding="utf-8")
    broken = text.replace(
        "资料中没有答案时回答“所检索的报告中没有相关内容”", "资料中没有答案时说明"
    )
    assert broken != text
    (tmp_path / "answer.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match="模板 'completion' 没有逐字要求拒答行"):
        load_prompt(tmp_path, "answer")
