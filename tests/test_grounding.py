"""Answers about the right town and year: place names kept whole, unknown places and years
refused, substrings that are not places ignored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SAMPLES, SHUIKOU
from rag.config import Settings
from rag.factory import open_pipeline
from rag.index.build import build_index
from rag.ingest.chunk import ChunkerSettings
from rag.ingest.reader import load_report
from rag.pipeline import Pipeline
from rag.text.gazetteer import split_chain

TRAINING = "水口镇对执法人员进行了多少次执法培训？"


def _namesake(text: str, town: str, county: str, times: int) -> str:
    return (
        text.replace("江华瑶族自治县水口镇", county + town)
        .replace("水口镇", town)
        .replace("执法培训15次", f"执法培训{times}次")
    )


@pytest.fixture(scope="module")
def near_namesakes(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The samples plus 石桥镇 (11 trainings) and 大石桥镇 (22) of another county."""
    folder = tmp_path_factory.mktemp("reports")
    for p in SAMPLES.iterdir():
        shutil.copy(p, folder / p.name)
    text = (SAMPLES / SHUIKOU).read_text(encoding="utf-8")
    (folder / "100_shiqiao.txt").write_text(_namesake(text, "石桥镇", "平安县", 11), "utf-8")
    (folder / "101_dashiqiao.txt").write_text(_namesake(text, "大石桥镇", "平安县", 22), "utf-8")
    index = tmp_path_factory.mktemp("index")
    build_index(folder, index, None, ChunkerSettings())
    return open_pipeline(Settings(embed_model="none", llm_backend="none"), index)


def test_titles_keep_place_names_whole(tmp_path: Path) -> None:
    assert split_chain("平顶山市鲁山县大石桥镇人民政府") == ["平顶山市", "鲁山县", "大石桥镇"]
    path = tmp_path / "r.txt"
    path.write_text(
        "平顶山市鲁山县大石桥镇人民政府关于2024年法治政府建设情况的报告\n"
        "2024年，我镇开展普法活动20场。\n",
        encoding="utf-8",
    )
    places = load_report(path).meta.places
    assert (places.city, places.county, places.town) == ("平顶山市", "鲁山县", "大石桥镇")


def test_a_town_is_not_its_near_namesake(near_namesakes: Pipeline) -> None:
    for town, figure, source in (("大石桥镇", "22次", "101_dashiqiao.txt"), ("石桥镇", "11次", "100_shiqiao.txt")):  # fmt: skip
        a = near_namesakes.ask(TRAINING.replace("水口镇", town))
        assert not a.abstained, a.text
        assert figure in a.text
        assert {c.source for c in a.citations} == {source}
    small = near_namesakes.ask(TRAINING.replace("水口镇", "小石桥镇"))
    assert small.abstained and "小石桥镇" in small.text and not small.citations


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("城关镇去年开展了几场普法活动？", "城关镇"),
        ("江华县城关镇的执法培训有多少次？", "城关镇"),  # its county has a report: still no
        ("南岸区铜元局街道开展了什么普法活动？", "铜元局街道"),
        ("桃源县的执法培训有多少次？", "桃源县"),
        ("水口县的执法培训有多少次？", "水口县"),  # a county named like the town 水口镇
    ],
)
def test_a_place_no_report_covers_is_refused(
    extractive: Pipeline, question: str, named: str
) -> None:
    a = extractive.ask(question)
    assert a.abstained and not a.citations
    assert f"语料中没有关于{named}的报告" in a.text
    assert "已检索" in a.text  # and it says what the corpus has


def test_known_places_and_their_parents(extractive: Pipeline) -> None:
    # the report does not name its city: a city above the named town is no reason to refuse
    a = extractive.ask("平顶山市瓦屋镇开展了多少场法治宣传活动？")
    assert not a.abstained and {c.source for c in a.citations} == {"001_e78c042d1c9dcf59.txt"}
    b = extractive.ask("江华县对执法人员进行了多少次执法培训？")  # 江华瑶族自治县, by its stem
    assert not b.abstained and "15次" in b.text


def test_a_substring_inside_a_word_is_not_a_place(extractive: Pipeline) -> None:
    q = extractive.analyze("排水口附近开展了多少次执法培训？")
    assert not q.places and not q.unknown_places and q.scope.reports is None
    assert extractive.analyze("水口的执法培训").places == frozenset({"水口"})


def test_a_year_no_report_covers_is_refused(extractive: Pipeline) -> None:
    a = extractive.ask("水口镇2023年对执法人员进行了多少次执法培训？")
    assert a.abstained and "不涉及2023年" in a.text and "2024" in a.text
    # keyword questions write the year bare: it is still the year asked, not a figure
    bare = extractive.ask("水口镇 2023 执法培训 次数")
    assert bare.abstained and "不涉及2023年" in bare.text
    assert not extractive.ask("水口镇 2024 执法培训 次数").abstained
    # a 2024 report's next steps are 2025's plans
    plan = extractive.ask("水口镇2025年有什么工作计划？")
    assert not plan.abstained
    # every way of asking for plans covers the next year (the policy had its own shorter list
    # of plan words, without 接下来/准备: this one was refused as "不涉及2025年")
    for q in ("水口镇2025年接下来准备怎么干？", "水口镇2025年往后想抓什么？"):
        assert not extractive.ask(q).abstained, q


@pytest.fixture(scope="module")
def with_near_duplicates(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The samples plus 15 near-duplicates (other towns, counties, years and figures)."""
    from eval.neardup import near_duplicates

    folder = tmp_path_factory.mktemp("neardup")
    for p in SAMPLES.iterdir():
        shutil.copy(p, folder / p.name)
    assert len(near_duplicates(SAMPLES, folder)) == 15
    index = tmp_path_factory.mktemp("neardup-index")
    build_index(folder, index, None, ChunkerSettings())
    return open_pipeline(Settings(embed_model="none", llm_backend="none"), index)


@pytest.mark.parametrize(
    ("question", "source", "figure"),
    [
        ("水口镇对执法人员进行了多少次执法培训？", SHUIKOU, "15次"),
        ("瓦屋镇2023年开展了多少场法治宣传活动？", "001_e78c042d1c9dcf59.txt", "8余场次"),
        ("峡口镇有多少人通过考试入驻数字执法系统？", "004_ec6daf499c9a8590.txt", "27人"),
    ],
)
def test_near_duplicates_of_other_towns_are_never_cited(
    with_near_duplicates: Pipeline, question: str, source: str, figure: str
) -> None:
    a = with_near_duplicates.ask(question)
    assert not a.abstained, a.text
    assert {c.source for c in a.citations} == {source}
    assert figure in a.text


def test_a_town_right_after_a_known_county_is_read_from_the_characters(
    extractive: Pipeline,
) -> None:
    # jieba cuts 鲁山县张良镇发了 into 鲁山县 / 张良 / 镇发: the town is still found and refused
    a = extractive.ask("鲁山县张良镇发了多少份法律读本？")
    assert a.abstained and "语料中没有关于张良镇的报告" in a.text and not a.citations
    assert extractive.analyze("南岸区长生桥镇有多少人入驻数字执法系统？").unknown_places == (
        "长生桥镇",
    )
    # a function word or a count before 镇 is not a town; a known town is not unknown
    for q in ("金湖县对几个镇街搞了法治专项督察？", "对比金湖县和三墩镇的行政应诉工作",
              "金湖县各镇街道设了几个法治观测点？", "鲁山县瓦屋镇开展了多少场普法活动？"):  # fmt: skip
        assert extractive.analyze(q).unknown_places == (), q


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("水口镇 2023 执法培训 次数", ["2023"]),
        ("瓦屋镇2023人大代表建议", ["2023"]),  # 人大 is no unit after a year
        ("2024年办了几次", ["2024"]),
        ("发了2000份资料", []),  # a count
        ("有没有超过2000", []),  # a value compared
        ("2000余份", []),
        ("办结55318件", []),
    ],
)
def test_a_bare_year_is_a_year_unless_it_counts_something(text: str, years: list[str]) -> None:
    from rag.text.textmatch import year_strings

    assert year_strings(text) == years
