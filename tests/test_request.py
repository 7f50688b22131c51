"""The one request model (rag/request.py): every front end reads filters by the same rules,
reads 去年 against the reports, checks report names, and refuses an empty or over-long text
with the same Chinese words."""

from __future__ import annotations

import pytest

from rag.errors import ConfigError
from rag.pipeline import AskOptions, Pipeline
from rag.request import (
    CHECK_MAX_CHARS,
    Asked,
    FilterError,
    check_search,
    check_text,
    parse_filters,
    resolve,
)


@pytest.mark.parametrize(
    ("places", "years", "reports", "expected"),
    [
        ("水口镇，峡口镇", 2024, "", Asked(AskOptions(("水口镇", "峡口镇"), (2024,)))),
        (
            ["水口镇", "水口镇"],
            ["2023年", "2024"],
            None,
            Asked(AskOptions(("水口镇",), (2023, 2024))),
        ),
        ("", 0, "", Asked()),  # the UI's and the APIs' empty values: any
        (None, "去年", "a.txt", Asked(AskOptions(reports=("a.txt",)), ("去年",))),
        (None, ["2023年度", "前年"], None, Asked(AskOptions(years=(2023,)), ("前年",))),
        # a report's file name may hold a comma: it is not split as places are
        (None, None, ["报告，附件.txt"], Asked(AskOptions(reports=("报告，附件.txt",)))),
    ],
)
def test_filters_are_read_by_one_set_of_rules(
    places: object, years: object, reports: object, expected: Asked
) -> None:
    assert parse_filters(places, years, reports) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"years": "明年"}, "year", "四位年份"),
        ({"years": 3024}, "year", "四位年份"),
        ({"years": True}, "year", "文字或数字"),
        ({"years": "²⁰²³"}, "year", "四位年份"),  # digits int() cannot read
        ({"places": ["水口镇", 3]}, "place", "名称"),
        ({"mode": "vector"}, "mode", "hybrid"),
        ({"k": 0}, "k", "正整数"),
    ],
)
def test_a_bad_filter_names_its_field(kwargs: dict, field: str, words: str) -> None:
    with pytest.raises(FilterError, match=words) as e:
        parse_filters(**kwargs)
    assert e.value.field == field
    with pytest.raises(FilterError) as e:  # the CLI's own names for them
        parse_filters(**kwargs, names=("--place", "--year", "--report", "--mode", "-k"))
    assert e.value.field.startswith("-") and e.value.field in str(e.value)


def test_relative_years_and_report_names_are_read_against_the_reports(
    extractive: Pipeline,
) -> None:
    newest = max(r.meta.year for r in extractive.reports.values() if r.meta.year)
    opts, said = resolve(extractive, parse_filters(None, "去年"))
    assert opts.years == (newest,) and said == (f"年份“去年”按最近一份报告（{newest}年）回答",)
    opts, _ = resolve(extractive, parse_filters(None, "前年"))
    assert opts.years == (newest - 1,)
    with pytest.raises(FilterError, match="没有这些报告：nosuch.txt") as e:
        resolve(extractive, parse_filters(reports="nosuch.txt"))
    assert e.value.field == "report"


def test_texts_and_searches_are_refused_with_the_same_words() -> None:
    with pytest.raises(ConfigError, match="^要核对的文字为空$"):
        check_text("  \n")
    with pytest.raises(ConfigError, match=f"上限是 {CHECK_MAX_CHARS} 个"):
        check_text("水" * (CHECK_MAX_CHARS + 1))
    check_text("水口镇开展培训15次。")
    with pytest.raises(ConfigError, match="检索词为空"):
        check_search(" ", 5)
    with pytest.raises(ConfigError, match="1 到 50"):
        check_search("培训", 51)


def test_every_front_end_reads_the_same_filters_the_same_way() -> None:
    """The CLI, the UI/MCP service, `rag serve`'s /v1/rag routes and /v1/chat/completions."""
    from rag.cli import checked_options
    from ui.cli_api import _options
    from ui.openai_api import parse_request
    from ui.service import options

    expected = Asked(AskOptions(("水口镇",), (2024,)), ("去年",))
    assert checked_options(["水口镇"], ["2024", "去年"], None) == expected
    assert _options({"places": ["水口镇"], "years": [2024, "去年"]}) == expected
    one = Asked(AskOptions(("水口镇",)), ("去年",))
    assert options("水口镇", "去年") == one
    body = {
        "messages": [{"role": "user", "content": "培训几次？"}],
        "place": "水口镇",
        "year": "去年",
    }
    assert parse_request(body).asked == one


def test_the_cli_checks_a_text_as_the_server_does(tmp_path, lexical_index_dir) -> None:  # noqa: ANN001
    """`rag check` refuses an over-long text as the UI, /v1 and MCP do (it did not before),
    with the same words for an empty one."""
    from typer.testing import CliRunner

    from rag.cli import app

    runner = CliRunner()
    env = {"RAG_EMBED_MODEL": "none", "RAG_USE_SERVER": "0", "HF_HUB_OFFLINE": "1"}
    long = tmp_path / "long.txt"
    long.write_text("水口镇开展培训15次。" * 2100, encoding="utf-8")
    out = runner.invoke(
        app, ["check", "--file", str(long), "--index", str(lexical_index_dir)], env=env
    )
    assert out.exit_code == 1 and f"上限是 {CHECK_MAX_CHARS} 个" in out.output
    out = runner.invoke(app, ["check", " ", "--index", str(lexical_index_dir)], env=env)
    assert out.exit_code == 1 and "要核对的文字为空" in out.output


def test_the_service_and_the_ui_say_how_a_relative_year_was_read(extractive: Pipeline) -> None:
    from ui.service import ask_json, check_json, filtered, options

    newest = max(r.meta.year for r in extractive.reports.values() if r.meta.year)
    result = ask_json(extractive, "水口镇开展了几次执法培训？", options("", "去年"))
    assert result["said"] == [f"年份“去年”按最近一份报告（{newest}年）回答"]
    assert check_json(extractive, " ", options()) == {"error": "要核对的文字为空"}
    bad = filtered(lambda asked: {"ok": True}, "", "明年", "")
    assert "四位年份" in bad["error"]
