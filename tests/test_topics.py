"""Questions in staff words: the figure asked (几宗, 多少钱, 比例), and the plans and
shortcomings of a report, answered from their own part with every item."""

from __future__ import annotations

import pytest

from rag.cite import supporting_sentence
from rag.pipeline import Pipeline
from rag.sections import PLANS, SHORTCOMINGS, asked_topic
from rag.support import asked_figure

WAWU = "001_e78c042d1c9dcf59.txt"
SANDUN = "003_bf156fa8c0c17ca2.txt"
SHUIKOU = "000_4e493ef760f0cb20.txt"


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("水口镇去年新增了几宗行政官司？", "宗"),
        ("瓦屋镇花了多少钱建执法办公场所？", "元"),
        ("瓦屋镇给群众普法的受教育比例有多高？", "%"),
        ("金湖县有多少个村（社区）配备了法律顾问？", "个"),
        ("水口镇搞了几回法律法规知识考试？", "次"),
        ("水口镇和瓦屋镇各化解了多少纠纷？", ""),
        ("水口镇设立了哪些调解室？", None),
        ("峡口镇联合检查了哪几种场景？", None),
    ],
)
def test_the_figure_a_question_asks_for(question: str, unit: str | None) -> None:
    assert asked_figure(question) == unit


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("水口镇法治建设上还有什么短板？", SHORTCOMINGS),
        ("峡口镇普法宣传有什么毛病？", SHORTCOMINGS),
        ("三墩镇下一步要重点抓哪几件事？", PLANS),
        ("水口镇接下来法治建设准备怎么干？", PLANS),
        ("峡口镇明年执法队伍建设怎么搞？", PLANS),
        ("水口镇设立了哪些调解室？", ""),
    ],
)
def test_the_topic_a_question_asks_for(question: str, topic: str) -> None:
    assert asked_topic(question)[0] == topic


def test_a_figure_in_the_wrong_unit_is_no_answer(extractive: Pipeline) -> None:
    # the report mentions 法律援助 but never counts it: "几场" has no answer
    a = extractive.ask("水口镇2024年办了几场法律援助？")
    assert a.abstained, a.text
    # the same words with the figure the report does give
    b = extractive.ask("水口镇去年新增了几宗行政官司？")
    assert not b.abstained and "1宗" in b.text


def test_shortcomings_in_a_paragraph_get_every_item(extractive: Pipeline) -> None:
    # 水口镇 states its problems in a paragraph of section 一 ("但仍存在一定困难和问题。一是…二是…")
    a = extractive.ask("水口镇法治建设上还有什么短板？")
    assert not a.abstained
    assert "工作机制还不够完善" in a.text and "保障力度还不够大" in a.text
    assert {c.source for c in a.citations} == {SHUIKOU}
    assert all(c.verdict == "supported" for c in a.claims), a.claims


def test_plans_come_from_the_plans_section_with_every_item(extractive: Pipeline) -> None:
    a = extractive.ask("三墩镇下一步要重点抓哪几件事？")
    assert not a.abstained
    for item in ("加大法律法规教育力度", "强化依法行政意识", "提高应诉意识", "强化法制工作职责"):
        assert item in a.text, (item, a.text)
    assert all("下一步计划" in c.section for c in a.citations)
    # no heading is a claim of its own: each line joins the item's head and its first sentence
    assert all("：" in c.text for c in a.claims)


def test_a_question_about_one_plan_gets_that_plan(extractive: Pipeline) -> None:
    a = extractive.ask("三墩镇打算怎么保证法制工作有专人干？")
    assert not a.abstained and "法制专员" in a.text
    assert "提高应诉意识" not in a.text


def test_a_joined_claim_cites_both_sentences() -> None:
    passage = "(一)加大学法用法力度。以宪法为核心学习法律知识。其他内容。"
    a, b = supporting_sentence("加大学法用法力度：以宪法为核心学习法律知识[1]。", passage)
    assert passage[a:b] == "(一)加大学法用法力度。以宪法为核心学习法律知识。"
    a, b = supporting_sentence("以宪法为核心学习法律知识[1]。", passage)
    assert passage[a:b] == "以宪法为核心学习法律知识。"
