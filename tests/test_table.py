"""Indicator tables (rag/table.py, `rag table`, /v1/rag/table, MCP): every figure is the
report's own at its offsets, in its sentence; next year's plans and other years never fill a
cell; totals add only figures that count the same thing; every front end says what is wrong
with a request; the exports keep a proof per cell."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SAMPLES
from rag.cli import app
from rag.errors import ConfigError
from rag.export import export_table
from rag.lang import lexicon
from rag.pipeline import AskOptions, Pipeline
from rag.table import Cell, Indicator, Table, TableBuilder, indicator_names

SHUIKOU = "000_4e493ef760f0cb20.txt"
XIAKOU = "004_ec6daf499c9a8590.txt"
SANDUN = "003_bf156fa8c0c17ca2.txt"
runner = CliRunner()


@pytest.mark.parametrize(
    ("suffix", "example"),
    [(e.text, x) for e in lexicon()["indicator_suffix"].entries for x in e.examples],
)
def test_each_column_ending_asks_its_unit(suffix: str, example: str) -> None:
    """rag/lang/data/question.toml indicator_suffix: each example asks the entry's unit, and
    what is searched is the name less the characters the entry drops."""
    v = lexicon()["indicator_suffix"]
    ind = Indicator.read(example)
    assert ind.unit == v.attr(suffix, "unit")
    assert ind.stem == example[: len(example) - int(v.attr(suffix, "drop"))]


def test_a_column_with_no_figure_ending_asks_whether_it_is_stated() -> None:
    assert Indicator.read("法律顾问") == Indicator("法律顾问", "法律顾问", None)
    assert indicator_names(["执法培训次数，行政复议案件数", "法律顾问、调解成功率"]) == [
        "执法培训次数", "行政复议案件数", "法律顾问", "调解成功率",
    ]  # fmt: skip


def _cells(table: Table) -> dict[tuple[str, str], Cell]:
    return {(c.source, c.indicator): c for _, row in table.rows for c in row}


def test_each_figure_is_the_reports_own_at_its_offsets_in_its_sentence(
    extractive: Pipeline,
) -> None:
    names = ["执法培训次数", "行政复议案件数", "法律顾问", "调解成功率", "普法活动场次"]
    table = TableBuilder(extractive).build(names)
    assert [s for s, _ in table.rows] == sorted(extractive.reports)
    cells = _cells(table)
    assert cells[(SHUIKOU, "执法培训次数")].value == "15次"
    assert cells[(XIAKOU, "执法培训次数")].value == "4次"
    assert cells[(SANDUN, "行政复议案件数")].value == "5件"
    stated = [c for c in cells.values() if c.stated]
    assert len(stated) >= 8
    for c in stated:
        text = extractive.reports[c.source].text
        assert c.start <= c.figure_start < c.figure_end <= c.end
        if c.value != "是":
            assert text[c.figure_start : c.figure_end] == c.value
    shuikou = extractive.reports[SHUIKOU].text
    c = cells[(SHUIKOU, "执法培训次数")]
    assert "执法培训15次" in shuikou[c.start : c.end]
    assert table.labels[SHUIKOU] == "水口镇（2024年）"


def test_a_figure_no_report_states_is_unstated_everywhere(extractive: Pipeline) -> None:
    table = TableBuilder(extractive).build(["无人机巡查架次"])
    assert all(not c.stated for _, row in table.rows for c in row)
    assert table.totals()[0].value is None
    assert table.to_dict()["rows"][0]["cells"][0]["shown"] == "未载明"


def test_filters_leave_their_rows(extractive: Pipeline) -> None:
    table = TableBuilder(extractive).build(["执法培训次数"], AskOptions(places=("水口镇",)))
    assert [s for s, _ in table.rows] == [SHUIKOU]


def _corpus(tmp_path: Path, texts: dict[str, str]) -> Pipeline:
    from rag.config import Settings
    from rag.factory import build, open_pipeline

    folder = tmp_path / "reports"
    folder.mkdir()
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(embed_model="none", llm_backend="none", reports_dir=folder,
                        index_dir=tmp_path / "index")  # fmt: skip
    build(settings)
    return open_pipeline(settings, settings.index_dir)


def _report(town: str, year: int, body: str) -> str:
    return (
        f"{town}人民政府关于{year}年法治政府建设工作情况的报告\n"
        f"{year}年，{town}深入学习贯彻习近平法治思想，扎实推进法治政府建设。现将有关情况报告如下。\n"
        f"一、主要工作\n{body}\n"
        f"{town}人民政府\n{year + 1}年1月10日\n"
    )


def test_next_years_plans_other_years_and_shortcomings_never_fill_a_cell(tmp_path: Path) -> None:
    planned = _report(
        "青山镇", 2024,
        "全镇持续加强执法队伍建设，执法人员素质不断提升。\n"
        "二、下一步工作计划\n2025年，计划组织执法人员开展执法培训20次，全面提升执法水平。",
    )  # fmt: skip
    earlier = _report(
        "绿水镇", 2024,
        "2022年，全镇组织执法人员开展执法培训9次。\n全年共调解矛盾纠纷35起，调解成功率98%。\n"
        "全面落实法律顾问制度。镇政府聘请2名律师作为常年法律顾问。",
    )  # fmt: skip
    done = _report(
        "白云镇", 2024,
        "全年组织执法人员开展执法培训12次，比2023年的8次有所增加。\n"
        "全年共调解矛盾纠纷40件，调解成功率96.5%。\n"
        "二、存在的问题\n执法人员中仍有4人未取得执法资格，持证上岗率有待提高。",
    )  # fmt: skip
    pipeline = _corpus(tmp_path, {"a.txt": planned, "b.txt": earlier, "c.txt": done})
    table = TableBuilder(pipeline).build(
        ["执法培训次数", "矛盾纠纷调解件数", "调解成功率", "执法人员数", "法律顾问"]
    )
    cells = _cells(table)
    assert not cells[("a.txt", "执法培训次数")].stated  # only planned for 2025
    assert not cells[("b.txt", "执法培训次数")].stated  # 2022's, in a 2024 report
    assert cells[("c.txt", "执法培训次数")].value == "12次"  # not 2023's 8次 beside it
    assert not cells[("c.txt", "执法人员数")].stated  # a shortcoming's 4人 is no head count
    assert cells[("b.txt", "矛盾纠纷调解件数")].value == "35起"
    assert cells[("b.txt", "法律顾问")].value == "2名"  # the sentence that says how many
    assert cells[("c.txt", "调解成功率")].value == "96.5%"
    totals = {t.indicator: t for t in table.totals()}
    disputes = totals["矛盾纠纷调解件数"]  # 35起 + 40件: both count cases
    assert disputes.value == 75 and set(disputes.summed) == {"b.txt", "c.txt"}
    rates = totals["调解成功率"]  # shares are never added
    assert rates.value is None and {w for _, w in rates.left_out} == {"比例不相加"}
    ordered = table.sorted_by("调解成功率")
    assert [s for s, _ in ordered.rows] == ["b.txt", "c.txt", "a.txt"]  # 98%, 96.5%, 未载明


@pytest.mark.parametrize(
    ("names", "error"),
    [
        ([], "至少要给出一个指标"),
        (["数" * 40], "超过 30 个字符"),
        ([f"指标{i}次数" for i in range(21)], "指标最多 20 个"),
    ],  # fmt: skip
)
def test_a_table_request_that_cannot_be_answered_says_why(
    extractive: Pipeline, names: list[str], error: str
) -> None:
    with pytest.raises(ConfigError, match=error):
        TableBuilder(extractive).build(names)
    with pytest.raises(ConfigError, match="不在表中"):
        TableBuilder(extractive).build(["执法培训次数"]).sorted_by("法律顾问")


def _assert_proof(pipeline: Pipeline, source: str, start: int, end: int, quote: str) -> None:
    assert pipeline.reports[source].text[start:end] == quote


def test_the_table_exports_with_a_proof_per_figure(extractive: Pipeline, tmp_path: Path) -> None:
    import re

    import docx
    from openpyxl import load_workbook

    table = TableBuilder(extractive).build(["执法培训次数", "行政复议案件数"])
    stated = [c for _, row in table.rows for c in row if c.stated]
    book = load_workbook(export_table(table, extractive.reports, tmp_path / "t.xlsx"))
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert summary[0][2:] == ("执法培训次数", "行政复议案件数")
    assert summary[-1][0] == "合计" and len(summary) == len(table.rows) + 2
    quotes = list(book["引文"].iter_rows(values_only=True))[1:]
    assert len(quotes) == len(stated)
    for row in quotes:
        _assert_proof(extractive, row[6], row[8], row[9], row[10])
        text = extractive.reports[row[6]].text
        assert text[row[11] : row[12]] == row[2]
    document = docx.Document(str(export_table(table, extractive.reports, tmp_path / "t.docx")))
    comments = [c.text for c in document.comments]
    assert len(comments) == len(stated)
    proof = re.compile(r"原文（(\S+) (\d+)-(\d+)(?:，[^）]+)?）：“(.*)”$")
    for text in comments:
        m = proof.search(text.splitlines()[-1])
        assert m is not None, text
        _assert_proof(extractive, m[1], int(m[2]), int(m[3]), m[4])
    grid = document.tables[0]
    assert grid.rows[0].cells[1].text == "执法培训次数" and grid.rows[-1].cells[0].text == "合计"


def test_rag_table_prints_json_and_exports(
    lexical_index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBED_MODEL", "none")
    index = str(lexical_index_dir)
    out = tmp_path / "t.xlsx"
    r = runner.invoke(app, ["table", "执法培训次数,行政复议案件数", "--place", "水口镇",
                            "--index", index, "--json", "--export", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout[r.stdout.index("{") :])
    assert [row["source"] for row in data["rows"]] == [SHUIKOU]
    cell = data["rows"][0]["cells"][0]
    assert cell["value"] == "15次" and "执法培训15次" in cell["sentence"]
    assert out.exists()
    r = runner.invoke(app, ["table", "执法培训次数", "--index", index, "--sort", "法律顾问"])
    assert r.exit_code == 1 and "不在表中" in r.output
    r = runner.invoke(app, ["table", "执法培训次数", "--index", index, "--export", "t.pdf"])
    assert r.exit_code == 1 and ".docx、.xlsx" in r.output


def test_the_api_and_mcp_build_and_export_tables(extractive: Pipeline) -> None:
    import asyncio
    import base64
    import io

    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from mcp.shared.memory import create_connected_server_and_client_session
    from openpyxl import load_workbook

    from ui.cli_api import router
    from ui.mcp_server import build_mcp

    api = FastAPI()
    api.include_router(router(lambda: extractive))
    client = TestClient(api)
    r = client.post("/v1/rag/table", json={"indicators": ["执法培训次数"], "places": "峡口镇"})
    assert r.status_code == 200
    assert r.json()["rows"][0]["cells"][0]["value"] == "4次"
    r = client.post("/v1/rag/table", json={"indicators": []})
    assert r.status_code == 400 and "至少要给出一个指标" in r.json()["error"]
    r = client.post("/v1/rag/table", json={"indicators": [3]})
    assert r.status_code == 400 and "指标须是文字" in r.json()["error"]
    r = client.post("/v1/rag/export/table?format=xlsx", json={"indicators": "执法培训次数"})
    assert r.status_code == 200
    assert "引文" in load_workbook(io.BytesIO(r.content)).sheetnames

    async def main() -> list:  # type: ignore[type-arg]
        server = build_mcp(lambda: extractive)
        async with create_connected_server_and_client_session(server._mcp_server) as session:
            table = await session.call_tool(
                "indicator_table", {"indicators": "执法培训次数,法律顾问", "sort": "执法培训次数"}
            )
            exported = await session.call_tool("export_table", {"indicators": "执法培训次数"})
            return [table, exported]

    table, exported = asyncio.run(main())
    data = table.structuredContent or json.loads(table.content[0].text)
    assert data["rows"][0]["cells"][0]["value"] == "20余次"  # sorted: the most first (瓦屋镇)
    blob = exported.content[1].resource.blob
    assert "汇总" in load_workbook(io.BytesIO(base64.b64decode(blob))).sheetnames


def test_a_copy_of_a_report_is_one_row(tmp_path: Path) -> None:
    """The same report published on two sites (a word-for-word copy) is one row, not two."""
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(SAMPLES / SHUIKOU, folder / "a.txt")
    shutil.copy(SAMPLES / SHUIKOU, folder / "b.txt")
    pipeline = _corpus(
        tmp_path, {n: (folder / n).read_text(encoding="utf-8") for n in ("a.txt", "b.txt")}
    )
    table = TableBuilder(pipeline).build(["执法培训次数"])
    assert len(table.rows) == 1 and table.rows[0][1][0].value == "15次"


def test_a_change_or_last_years_figure_is_not_the_years_total(tmp_path: Path) -> None:
    """由上年的10次增加到15次 is 15次; 同比减少3件，全年共12件 is 12件 (3件 is a change);
    full-width digits are read where they stand (１５场)."""
    text = _report(
        "红星镇", 2024,
        "执法培训由上年的10次增加到15次。\n受理行政复议案件同比减少3件，全年共12件。\n"
        "全年开展普法活动１５场，覆盖群众2000余人次。",
    )  # fmt: skip
    pipeline = _corpus(tmp_path, {"a.txt": text})
    cells = _cells(TableBuilder(pipeline).build(["执法培训次数", "行政复议案件数", "普法活动场次"]))
    assert cells[("a.txt", "执法培训次数")].value == "15次"
    assert cells[("a.txt", "行政复议案件数")].value == "12件"
    wide = cells[("a.txt", "普法活动场次")]
    assert wide.value == "１５场" and wide.number == 15
    assert pipeline.reports["a.txt"].text[wide.figure_start : wide.figure_end] == "１５场"


def test_a_total_never_adds_attendances_to_heads() -> None:
    from rag.table import _total, counts_alike

    assert counts_alike("起", "件") and not counts_alike("人次", "人") and counts_alike("名", "人")
    cells = [Cell("a", "x", "3000人次", 3000.0, "人次"), Cell("b", "x", "500人", 500.0, "人")]
    total = _total("x", cells)
    assert total.value == 3000 and total.left_out == (("b", "单位 人 与 人次 不同"),)


def test_an_export_of_a_table_older_than_its_reports_is_refused(
    extractive: Pipeline, tmp_path: Path
) -> None:
    """A table kept in the UI, exported after a report changed, would quote the new text at
    the old offsets: refused, by name; an indicator a spreadsheet would run is refused too."""
    from dataclasses import replace

    table = TableBuilder(extractive).build(["执法培训次数"])
    report = extractive.reports[SHUIKOU]
    changed = {**extractive.reports, SHUIKOU: replace(report, text="（修订）" + report.text)}
    with pytest.raises(ConfigError, match=f"报告 {SHUIKOU} 在生成汇总表之后有改动"):
        export_table(table, changed, tmp_path / "t.xlsx")
    for name in ("=HYPERLINK(1)次数", "执法\x01培训次数"):
        with pytest.raises(ConfigError, match="控制字符|公式"):
            Indicator.read(name)
