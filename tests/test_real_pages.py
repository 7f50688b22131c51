"""Reports as they come off government web sites (breadcrumbs, index tables, labelled date
lines, HTML tables), places known from the administrative-division dataset, and questions
grounded on them: same-name towns of two counties, an unknown county above a known town, a
place-like word that only the evidence has, explicit filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Settings
from rag.factory import open_pipeline
from rag.index.build import build_index
from rag.ingest.chunk import ChunkerSettings
from rag.ingest.reader import load_report
from rag.lang.divisions import divisions
from rag.pipeline import AskOptions, Pipeline
from rag.text.gazetteer import level_of, split_chain

BODY = (
    "{year}年，{town}坚持以习近平法治思想为指导，严格执行市、区两级部署，扎实推进法治政府建设。\n"
    "一、主要工作\n"
    "（一）规范执法。镇综合行政执法队持证执法人员{staff}人，全年办理行政处罚案件{cases}件。\n"
    "（二）化解纠纷。镇依法治镇委员会召开会议{meetings}次，调处矛盾纠纷{disputes}起。\n"
    "二、存在问题\n执法力量不足。\n"
    "三、{next}年工作打算\n开展执法培训{plan}次。\n"
)


def _report(path: Path, head: str, year: int, town: str, n: int, tail: str = "") -> None:
    body = BODY.format(
        year=year, town=town, staff=10 + n, cases=40 + n, meetings=n, disputes=100 + n,
        next=year + 1, plan=3 + n,
    )  # fmt: skip
    path.write_text(head + "\n" + body + tail, encoding="utf-8")


def test_a_web_page_gives_its_title_date_and_places_not_its_furniture(tmp_path: Path) -> None:
    p = tmp_path / "page_88213.txt"
    _report(
        p,
        "您当前的位置：首页 > 信息公开 > 乡镇动态\n"
        "名    称：沛县龙固镇2023年度法治政府建设情况报告\n"
        "发布时间：2024-02-19 08:40　　来源：龙固镇　　浏览次数：51\n"
        "【打印】【关闭】\n"
        "沛县龙固镇2023年度法治政府建设情况报告",
        2023,
        "龙固镇",
        1,
        "沛县龙固镇人民政府\n2024年2月7日\n",
    )
    meta = load_report(p).meta
    assert meta.title == "沛县龙固镇2023年度法治政府建设情况报告"
    assert (meta.year, meta.published) == (2023, "2024-02-19")  # the page's date, not 落款's
    assert (meta.places.county, meta.places.town) == ("沛县", "龙固镇")
    assert meta.places.city is None  # 执行市 (严格执行市、区) is no city


def test_an_html_index_table_keeps_each_row_on_one_line(tmp_path: Path) -> None:
    p = tmp_path / "art_2024_5.html"
    p.write_text(
        "<html><head><title>义乌市人民政府</title></head><body>"
        '<div class="crumb">首页 &gt; 政务公开</div><table>'
        "<tr><td>索引号</td><td>002609/2025-01</td><td>发布机构</td><td>稠城街道</td></tr>"
        "<tr><td>发布日期</td><td>2025-02-03</td><td>文号</td><td>稠街〔2025〕2号</td></tr>"
        "</table><h1>义乌市稠城街道办事处关于2024年法治政府建设情况的报告</h1>"
        "<p>2024年，稠城街道推进法治政府建设。持证执法人员31人。</p>"
        "<p>义乌市稠城街道办事处</p><p>2025年1月28日</p></body></html>",
        encoding="utf-8",
    )
    meta = load_report(p).meta
    assert meta.title == "义乌市稠城街道办事处关于2024年法治政府建设情况的报告"
    assert (meta.published, meta.index_no, meta.doc_no) == (
        "2025-02-03", "002609/2025-01", "稠街〔2025〕2号",
    )  # fmt: skip
    # 义乌市 is a county-level city of 金华市: a county, not a city
    assert (meta.places.county, meta.places.town, meta.places.city) == ("义乌市", "稠城街道", None)


def test_a_title_on_two_lines_is_joined(tmp_path: Path) -> None:
    p = tmp_path / "x1.txt"
    _report(p, "荆州市沙市区胜利街道办事处\n2022年法治政府建设情况报告", 2022, "胜利街道", 2)
    meta = load_report(p).meta
    assert meta.title == "荆州市沙市区胜利街道办事处2022年法治政府建设情况报告"
    assert (meta.places.city, meta.places.county, meta.places.town) == (
        "荆州市", "沙市区", "胜利街道",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "chain", "levels"),
    [
        ("沛县龙固镇人民政府", ["沛县", "龙固镇"], ["county", "town"]),
        ("临沂市兰陵县人民政府卞庄街道办事处", ["临沂市", "兰陵县", "卞庄街道"], ["city", "county", "town"]),
        ("湘西土家族苗族自治州花垣县双龙镇", ["湘西土家族苗族自治州", "花垣县", "双龙镇"], ["city", "county", "town"]),
        ("北京市海淀区学院路街道", ["北京市", "海淀区", "学院路街道"], ["province", "county", "town"]),
    ],
)  # fmt: skip
def test_a_chain_is_read_with_the_divisions_dataset(
    text: str, chain: list[str], levels: list[str]
) -> None:
    assert split_chain(text) == chain
    assert [level_of(n) for n in chain] == levels


def test_the_dataset_knows_counties_and_their_chain_and_no_made_up_city() -> None:
    d = divisions()
    assert len(d) > 3000
    assert d.level("丰县") == "county" and "徐州市" in d.above("丰县")
    assert {x.chain for x in d.get("朝阳区")} == {("北京市",), ("吉林省", "长春市")}
    assert "执行市" not in d and d.level("执行市") is None


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """Two 新华镇 of two counties, one town with reports of two years and a copy of one, a
    development zone."""
    folder = tmp_path_factory.mktemp("towns")
    _report(folder / "a.txt", "淮安市涟水县新华镇2023年法治政府建设情况报告", 2023, "新华镇", 1)
    _report(folder / "b.txt", "宿州市泗县新华镇2023年法治政府建设情况报告", 2023, "新华镇", 2)
    _report(folder / "c.txt", "沛县龙固镇2023年法治政府建设情况报告", 2023, "龙固镇", 3)
    _report(folder / "d.txt", "沛县龙固镇2024年法治政府建设情况报告", 2024, "龙固镇", 4)
    # c.txt republished on another site: other page furniture, the same report
    _report(
        folder / "e.txt",
        "沛县人民政府门户网站\n首页 > 乡镇 > 龙固镇\n发布日期：2024-03-02\n"
        "沛县龙固镇2023年法治政府建设情况报告",
        2023, "龙固镇", 3,
    )  # fmt: skip
    _report(
        folder / "f.txt",
        "潍坊高新技术产业开发区管理委员会关于2023年法治政府建设情况的报告",
        2023, "开发区", 5,
    )  # fmt: skip
    index = tmp_path_factory.mktemp("towns-index")
    build_index(folder, index, None, ChunkerSettings())
    return open_pipeline(Settings(embed_model="none", llm_backend="none"), index)


def test_a_county_named_with_a_town_picks_that_countys_town(towns: Pipeline) -> None:
    a = towns.ask("泗县新华镇持证执法人员有几个？")
    assert not a.abstained and {c.source for c in a.citations} == {"b.txt"}
    assert "12人" in a.text


def test_an_unknown_county_above_a_known_town_name_is_refused(towns: Pipeline) -> None:
    a = towns.ask("涡阳县新华镇持证执法人员有几个？")  # a real county, no report of its 新华镇
    assert a.abstained and "涡阳县" in a.text


def test_a_place_like_word_the_reports_use_is_not_refused(towns: Pipeline) -> None:
    """依法治镇 (of 依法治镇委员会) ends like a town; the evidence has it, so it is read off the
    reports instead of refusing the question."""
    a = towns.ask("泗县新华镇的依法治镇委员会开了几次会？")
    assert not a.abstained and "2次" in a.text


def test_the_year_asked_picks_that_years_report(towns: Pipeline) -> None:
    a = towns.ask("龙固镇2024年办了多少行政处罚案件？")
    assert not a.abstained and {c.source for c in a.citations} == {"d.txt"}
    assert "44件" in a.text


def test_an_explicit_report_filter_wins_over_a_place_the_question_seems_to_name(
    towns: Pipeline,
) -> None:
    q = "白马镇持证执法人员有几个？"  # the user picked the report by hand
    assert towns.ask(q).abstained
    a = towns.ask(q, options=AskOptions(reports=("c.txt",)))
    assert not a.abstained and {c.source for c in a.citations} == {"c.txt"}


def test_a_copy_of_a_report_on_another_site_is_one_report(towns: Pipeline) -> None:
    a = towns.ask("龙固镇2023年办了多少行政处罚案件？")
    cited = {c.source for c in a.citations}
    assert not a.abstained and len(cited) == 1 and cited <= {"c.txt", "e.txt"}
    assert a.searched == tuple(cited)  # the copy is not searched beside its original


def test_a_development_zone_is_called_by_its_short_name(towns: Pipeline) -> None:
    a = towns.ask("潍坊高新区持证执法人员有几个？")
    assert not a.abstained and {c.source for c in a.citations} == {"f.txt"} and "15人" in a.text
    other = towns.ask("淄博高新区持证执法人员有几个？")  # a zone no report is about
    assert other.abstained and "淄博高新区" in other.text


def test_a_common_word_that_ends_like_a_place_is_not_joined_into_one(towns: Pipeline) -> None:
    """明年 + 社区 is no place (社区 is a neighbourhood): the question is about 龙固镇."""
    q = towns.analyze("泗县新华镇明年社区法律顾问每月去几次？")
    assert q.unknown_places == () and q.searched == ("b.txt",)


def test_a_county_rules_out_the_same_name_towns_of_other_counties(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """涡阳县新华镇: the 新华镇 whose report states 泗县 is not it; the one whose report names no
    county may be, and only it is searched."""
    folder = tmp_path_factory.mktemp("two-xinhua")
    _report(folder / "b.txt", "宿州市泗县新华镇2023年法治政府建设情况报告", 2023, "新华镇", 2)
    _report(folder / "g.txt", "新华镇2023年法治政府建设情况报告", 2023, "新华镇", 6)
    index = tmp_path_factory.mktemp("two-xinhua-index")
    build_index(folder, index, None, ChunkerSettings())
    p = open_pipeline(Settings(embed_model="none", llm_backend="none"), index)
    a = p.ask("涡阳县新华镇持证执法人员有几个？")
    assert a.searched == ("g.txt",) and not a.abstained and "16人" in a.text


def test_a_report_number_question_is_answered_from_the_line_that_states_it(
    extractive: Pipeline,
) -> None:
    """索引号 and 文号 are metadata: answered from the index-table row, cited to it."""
    a = extractive.ask("金湖县2024年报告的索引号是多少？")
    assert not a.abstained and "014351098/2025-00011" in a.text
    (c,) = a.citations
    assert "014351098/2025-00011" in extractive.reports[c.source].text[c.start : c.end]
    assert extractive.ask("金湖县2024年报告的发文字号是什么？").abstained  # none is stated


def test_a_plan_word_or_a_verb_before_the_figure_is_not_what_is_counted(towns: Pipeline) -> None:
    """执法培训计划搞几次 counts 培训, not 计划; 调处了多少起 names a verb, not the thing counted
    (demanding 调处 next to the figure refused the question)."""
    plan = towns.ask("龙固镇2024年执法培训计划多少次？")
    assert not plan.abstained and "6次" in plan.text  # the 2023 report's plan for 2024
    q = towns.analyze("泗县新华镇的矛盾纠纷一年调处了多少起？")
    assert q.terms.counted == ""
    assert not towns.ask("泗县新华镇的矛盾纠纷一年调处了多少起？").abstained
