"""One place year over year (rag/compare.py, `rag trend`, /v1/rag/trend, MCP): a corpus the
test builds from a sample report and an earlier year of it (other figures, other plans), so
the truth is known: the change of each indicator with both sides cited, and each of last
year's plan items kept (with this year's sentence), copied word for word, or not mentioned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SAMPLES
from rag.cli import app
from rag.compare import Comparer, change
from rag.errors import ConfigError
from rag.pipeline import Pipeline
from rag.table import Cell

SHUIKOU = "000_4e493ef760f0cb20.txt"
PLANS = (
    "二、法治政府建设下一步工作安排\n"
    "(一)组织执法人员开展执法培训,全面提升执法人员法律素养和执法能力。\n"
    "(二)建设无人机巡查平台,实现山林防火全天候监测。\n"
    "(三)强化普法宣传活动。通过普法,培养公民自觉守法的意识和文明生活习惯。\n"
)


# the county 水口镇 is in: its name also finds the town's reports, which are not the county's
COUNTY = (
    "江华瑶族自治县人民政府关于2023年法治政府建设情况的报告\n"
    "2023年，江华瑶族自治县深入推进法治政府建设。全县组织执法人员开展执法培训40次。\n"
    "二、2024年工作打算\n（一）建设全县行政执法监督平台，实现执法数据全程留痕。\n"
    "江华瑶族自治县人民政府\n2024年2月1日\n"
)


def earlier_year(text: str) -> str:
    """The sample report as its town's report of the year before: other figures, and plans
    of which one is done in the sample (执法培训), one never mentioned (无人机), one the
    sample writes again word for word (通过普法…)."""
    head, rest = text.split("二、法治政府建设下一步工作安排", 1)
    tail = rest[rest.index("专此报告") :].replace("2025年3月24日", "2024年3月20日")
    return head.replace("2024", "2023").replace("执法培训15次", "执法培训10次") + PLANS + tail


@pytest.fixture(scope="module")
def two_years_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index folder of the two years' reports (BM25 only)."""
    from rag.config import Settings
    from rag.factory import build

    root = tmp_path_factory.mktemp("two-years")
    folder = root / "reports"
    folder.mkdir()
    text = (SAMPLES / SHUIKOU).read_text(encoding="utf-8")
    (folder / "shuikou_2024.txt").write_text(text, encoding="utf-8")
    (folder / "shuikou_2023.txt").write_text(earlier_year(text), encoding="utf-8")
    (folder / "county_2023.txt").write_text(COUNTY, encoding="utf-8")
    settings = Settings(embed_model="none", llm_backend="none", reports_dir=folder,
                        index_dir=root / "index")  # fmt: skip
    build(settings)
    return settings.index_dir


@pytest.fixture(scope="module")
def two_years(two_years_index: Path) -> Pipeline:
    from rag.config import Settings
    from rag.factory import open_pipeline

    return open_pipeline(Settings(embed_model="none", llm_backend="none"), two_years_index)


def test_each_year_and_the_change_with_both_sides_cited(two_years: Pipeline) -> None:
    trend = Comparer(two_years).trend("水口镇", ["执法培训次数", "法律顾问"])
    assert list(trend.years.values()) == [2023, 2024]
    assert [s for s, _ in trend.table.rows] == ["shuikou_2023.txt", "shuikou_2024.txt"]
    (a, b, changes), = trend.changes  # fmt: skip
    training = changes[0]
    assert (training.before.value, training.after.value, training.delta) == ("10次", "15次", 5)
    for cell in (training.before, training.after):
        text = two_years.reports[cell.source].text
        assert text[cell.figure_start : cell.figure_end] == cell.value
    assert changes[1].delta is None and changes[1].why == "不是数字"  # 法律顾问: 是 / 是
    assert trend.to_dict()["changes"][0]["changes"][0]["share"] == 0.5


def test_last_years_plans_kept_copied_or_not_mentioned(two_years: Pipeline) -> None:
    promises = Comparer(two_years).trend("水口镇", ["执法培训次数"]).promises
    verdicts = {p.text: p.verdict for p in promises}
    assert verdicts == {
        "(一)组织执法人员开展执法培训,全面提升执法人员法律素养和执法能力。": "kept",
        "(二)建设无人机巡查平台,实现山林防火全天候监测。": "not_mentioned",
        "通过普法,培养公民自觉守法的意识和文明生活习惯。": "same_words",
    }  # the closing 专此报告 is no plan
    later = two_years.reports["shuikou_2024.txt"].text
    kept = next(p for p in promises if p.verdict == "kept")
    assert kept.evidence is not None and "执法培训15次" in later[slice(*kept.evidence)]
    earlier = two_years.reports["shuikou_2023.txt"].text
    assert all(earlier[p.start : p.end] == p.text for p in promises)


def test_a_change_is_only_between_figures_that_count_the_same_thing() -> None:
    a = Cell("a", "x", "12件", 12.0, "件", start=0, end=1)
    assert change(a, Cell("b", "x", "15起", 15.0, "起")).delta == 3  # both count cases
    assert change(a, Cell("b", "x", "15人", 15.0, "人")).why == "单位不同（件、人）"
    assert change(a, Cell("b", "x", "98%", 98.0, "%")).delta is None
    assert change(a, Cell("b", "x")).why == "有一年未载明"


def test_a_place_without_reports_or_years_says_so(two_years: Pipeline) -> None:
    with pytest.raises(ConfigError, match="请给出一个地方"):
        Comparer(two_years).trend(" ", ["执法培训次数"])
    with pytest.raises(ConfigError, match="没有瓦屋镇的标明年份的报告"):
        Comparer(two_years).trend("瓦屋镇", ["执法培训次数"])


def test_rag_trend_the_api_and_mcp(
    two_years: Pipeline, two_years_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from mcp.shared.memory import create_connected_server_and_client_session

    from ui.cli_api import router
    from ui.mcp_server import build_mcp

    monkeypatch.setenv("RAG_EMBED_MODEL", "none")
    r = CliRunner().invoke(
        app, ["trend", "水口镇", "执法培训次数", "--index", str(two_years_index), "--json"]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout[r.stdout.index("{") :])
    assert [p["verdict_zh"] for p in data["promises"]] == ["已见落实", "未见提及", "表述相同"]
    api = FastAPI()
    api.include_router(router(lambda: two_years))
    client = TestClient(api)
    r = client.post("/v1/rag/trend", json={"place": "水口镇", "indicators": "执法培训次数"})
    assert r.status_code == 200 and r.json()["changes"][0]["changes"][0]["delta"] == 5
    r = client.post("/v1/rag/trend", json={"place": 3, "indicators": "执法培训次数"})
    assert r.status_code == 400 and "地方须是文字" in r.json()["error"]

    async def main():  # type: ignore[no-untyped-def]
        server = build_mcp(lambda: two_years)
        async with create_connected_server_and_client_session(server._mcp_server) as session:
            return await session.call_tool(
                "year_over_year", {"place": "水口镇", "indicators": "执法培训次数"}
            )

    result = asyncio.run(main())
    data = result.structuredContent or json.loads(result.content[0].text)
    assert data["years"] == {"shuikou_2023.txt": 2023, "shuikou_2024.txt": 2024}


def test_a_county_is_compared_with_itself_not_with_its_towns(two_years: Pipeline) -> None:
    """江华瑶族自治县 also names 水口镇's reports (their chain holds it): the county's trend is
    the county's report alone, and 水口镇's has no county report in it."""
    county = Comparer(two_years).trend("江华瑶族自治县", ["执法培训次数"])
    assert list(county.years) == ["county_2023.txt"] and not county.changes
    assert county.table.rows[0][1][0].value == "40次"
    town = Comparer(two_years).trend("水口镇", ["执法培训次数"])
    assert "county_2023.txt" not in town.years
