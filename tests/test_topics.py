"""Questions in staff words: the figure asked (几宗, 多少钱, 比例), and the plans and
shortcomings of a report, answered from their own part with every item."""

from __future__ import annotations

import pytest

from rag.pipeline import Pipeline
from rag.retrieve.sections import PLANS, SHORTCOMINGS, asked_topic
from rag.retrieve.terms import asked_figure
from rag.verify.cite import supporting_sentence

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
        ("水口镇有几个人专门搞执法？", "人"),
        ("瓦屋镇执法办公场所面积多大？", "平方米"),
        ("水口镇和瓦屋镇各化解了多少纠纷？", ""),
        ("水口镇设立了哪些调解室？", None),
        ("峡口镇联合检查了哪几种场景？", None),
        # 好几年, 十几, 几十 say "some": the figure asked is the one after them
        ("瓦屋那些拖了好几年的上访老问题，2023年了结了几件？", "件"),
        ("十几个村里有多少个配了法律顾问？", "个"),
        ("几十名干部里有多少人考取了执法证？", "人"),
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


def test_staff_count_events_and_kinds_in_their_own_measure_words(extractive: Pipeline) -> None:
    # 几场 行政复议 is answered by 行政复议1宗; 几类场景 by 8个场景 (claim checks stay strict)
    a = extractive.ask("水口镇去年吃了几场行政复议？")
    assert not a.abstained and "行政复议1宗" in a.text
    b = extractive.ask("峡口镇综合查一次覆盖了几类场景？")
    assert not b.abstained and "8个场景" in b.text


def test_words_no_report_uses_weigh_less_than_the_reports_words(extractive: Pipeline) -> None:
    terms = extractive.analyze("金湖县法律顾问一年经手了多少件次法律事务？").terms
    # 经手 occurs in no chunk: a fixed weight, half its IDF over the samples; 法律顾问
    # occurs: its full IDF
    from rag.retrieve.terms import OOV_WEIGHT

    assert terms.weights["经手"] == OOV_WEIGHT
    half = extractive.index.lexical.idf("经手") * 0.5
    assert abs(OOV_WEIGHT - half) < 0.01 * half
    assert terms.weights["法律顾问"] == pytest.approx(extractive.index.lexical.idf("法律顾问"))
    # a generic head leaves the word it qualifies: 信访工作 -> 信访
    assert "信访" in extractive.analyze("峡口镇以后怎么改进信访工作？").terms.weights


def test_a_common_part_of_a_long_word_is_not_evidence(extractive: Pipeline) -> None:
    # 瓦屋镇 never reports 行政复议; its 依法行政 shares only the common 行政 (low IDF)
    a = extractive.ask("瓦屋镇行政复议有多少件？")
    assert a.abstained, a.text


def test_semantic_similarity_alone_does_not_answer() -> None:
    from rag.retrieve.support import shares_content
    from rag.retrieve.terms import QuestionTerms

    terms = QuestionTerms({"行政复议": 2.7}, True, unit="件")
    assert not shares_content(terms, "8件人大代表建议得到高质量办理落实")
    assert shares_content(terms, "2024年新增行政诉讼案件1宗,行政复议1宗。")


def test_plans_across_reports_list_each_reports_items(extractive: Pipeline) -> None:
    a = extractive.ask("峡口镇和三墩镇下一步分别有什么打算？")
    lines = [line for line in a.text.splitlines() if line.startswith("- ")]
    assert len(lines) == 2, a.text
    xiakou = next(line for line in lines if line.startswith("- 峡口镇"))
    assert "执法队伍建设" in xiakou and "宣传方式" in xiakou and "信访法治化宣传" in xiakou
    sandun = next(line for line in lines if line.startswith("- 三墩镇"))
    assert "法律法规教育" in sandun and "应诉意识" in sandun


def test_a_figure_about_another_thing_does_not_answer(extractive: Pipeline) -> None:
    # 瓦屋镇 counts 92份文件, never 合同: "多少份合同" is not in the reports
    terms = extractive.analyze("瓦屋镇法律顾问一年审了多少份合同？").terms
    assert terms.counted == "合同"
    assert extractive.ask("瓦屋镇法律顾问一年审了多少份合同？").abstained
    # a counted word no report uses is not demanded (执法队员 is said 执法队伍 there)
    assert extractive.analyze("瓦屋镇配了多少执法队员？").terms.counted == ""
    # the counted thing present: answered
    b = extractive.ask("瓦屋镇下面有几个行政村？")
    assert not b.abstained and "19个行政村" in b.text


def test_who_and_lacking_are_asking_words(extractive: Pipeline) -> None:
    assert "谁" not in extractive.analyze("三墩镇领导小组由谁牵头？").terms.weights
    assert asked_topic("水口镇法治保障上缺什么？")[0] == SHORTCOMINGS


def test_list_numbering_is_not_a_figure() -> None:
    from rag.retrieve.support import has_figure

    assert not has_figure("(1)重点开展干部普法培训,做到干部必须懂法知法守法", "次")
    assert not has_figure("1. 开展法治培训", "")
    assert has_figure("对执法人员共进行执法培训15次", "次")


def test_what_is_counted_before_the_asking_word_must_stand_next_to_the_figure(
    extractive: Pipeline,
) -> None:
    # 瓦屋镇 says 落实法律顾问制度…92份文件: the figure counts 文件, not 法律顾问
    terms = extractive.analyze("瓦屋镇法律顾问有几个？").terms
    assert (terms.counted, terms.counted_before) == ("法律顾问", True)
    assert extractive.ask("瓦屋镇法律顾问有几个？").abstained
    # 公职律师9名: the counted noun right before its figure
    a = extractive.ask("金湖县的公职律师到底有几个？")
    assert not a.abstained and "9名" in a.text, a.text
    # a verb before the asking word (抓了多少人) names no counted thing
    assert extractive.analyze("三墩镇扫黑除恶抓了多少人？").terms.counted == ""


def test_a_bare_number_is_no_count_and_loose_measure_words_still_are() -> None:
    from rag.retrieve.support import has_figure

    # “12.4”宪法日 and 12345热线 name days and lines; they count nothing
    assert not has_figure("参观“12.4”宪法日等为契机", "份")
    assert not has_figure("12345市长热线流转事件", "件")
    assert has_figure("参观“12.4”宪法日等为契机", "")  # any figure at all: still one
    # staff say 多少条标语 / 多少本读本 where reports write 幅 / 份
    assert has_figure("悬挂法治宣传标语50余幅", "条")
    assert has_figure("各类法律读本1500余份", "本")
    assert not has_figure("建设配套完善综合执法办公场所1处", "平方米")


def test_a_test_is_a_test_in_either_word(extractive: Pipeline) -> None:
    # the report says 法律法规知识测试6次; staff say 考试
    a = extractive.ask("水口镇组织了几回法律知识考试？")
    assert not a.abstained and "测试6次" in a.text, a.text


def test_a_yes_no_question_about_a_value_asks_for_the_figure(extractive: Pipeline) -> None:
    # 到九成五了没: the value named is the figure asked (95%), not words to match
    terms = extractive.analyze("瓦屋镇群众受教育率到九成五了没？").terms
    assert terms.unit == "%" and not any("九" in t or "成" in t for t in terms.weights)
    a = extractive.ask("瓦屋镇群众受教育率到九成五了没？")
    assert not a.abstained and "95％以上" in a.text, a.text
    # 什么 is no yes/no word: a list question keeps asking for the items
    assert extractive.analyze("三墩镇四个平台分别指什么？").terms.unit == ""
