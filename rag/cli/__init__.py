"""Command line: rag index | reports | search | ask | check | doctor (one module per group of
commands: build.py, info.py, answer.py, check.py; show.py prints and asks a running server).

The layers above the library add their own commands (`rag serve`, `rag hash-password` from
ui/cli.py; `rag eval`, `rag check-dataset` from eval/cli.py) through the `rag.commands` entry
points of pyproject.toml, so nothing in rag/ imports ui/ or eval/."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from rag.config import Settings
from rag.errors import ConfigError, RagError, first_line

if TYPE_CHECKING:
    from rag.pipeline import AskOptions, Pipeline
    from rag.request import Asked

ENTRY_POINTS = "rag.commands"  # each names a function register(app: typer.Typer) -> None

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="法治政府建设报告问答：建索引、查报告、检索、问答、核稿。"
    " / Q&A over 法治政府建设 reports: index, inspect, search, ask, check.",
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="索引文件夹 / index folder [默认 default: ./index]")
]
PlaceOpt = Annotated[
    list[str] | None,
    typer.Option("--place", help="只查这个地方的报告 / only reports of this place"),
]
YearOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--year",
        help="只查这一年的报告：2023、2023年，或 去年/今年/前年（按报告的年份推算）"
        " / only reports of this year (去年: the newest report's)",
    ),
]
ReportOpt = Annotated[
    list[str] | None, typer.Option("--report", help="只查这份报告（文件名）/ only this report file")
]
ModeOpt = Annotated[str, typer.Option("--mode", help="检索方式 / retrieval: hybrid | bm25 | dense")]
FLAGS = ("--place", "--year", "--report", "--mode", "-k")  # the filters' names in errors
ExportOpt = Annotated[
    Path | None,
    typer.Option(
        "--export",
        help="同时导出为 .docx（每句的批注引用报告原文、文件、位置和核对结论）或 .xlsx（每句每条引用一行）"
        " / also write it with its proof to FILE.docx or FILE.xlsx (answered here, not by rag serve)",
    ),
]


def checked_export(path: Path | None) -> None:
    """An --export file's type, checked before any model loads."""
    from rag.export import FORMATS

    if path is not None and path.suffix.lower() not in FORMATS:
        raise ConfigError(f"--export {path.name}：导出文件的类型须是 {'、'.join(FORMATS)} 之一")


def settings_for(index: Path | None = None, reports: Path | None = None) -> Settings:
    overrides = {k: v for k, v in (("index_dir", index), ("reports_dir", reports)) if v is not None}
    return Settings(**overrides)  # type: ignore[arg-type]


def fail(e: RagError) -> None:
    err.print(f"[red]错误：[/red]{escape(str(e))}")
    raise typer.Exit(1)


def checked_options(
    place: list[str] | None,
    year: list[str] | None,
    report: list[str] | None,
    mode: str = "hybrid",
    k: int | None = None,
    settings: Settings | None = None,
) -> Asked:
    """The filters and knobs of a command by the one request model (rag/request.py), checked
    before any model loads; with `settings`, the report names against the index's manifest."""
    from rag.request import check_report_names, parse_filters

    asked = parse_filters(place, year, report, mode, k, names=FLAGS)
    if asked.options.reports and settings is not None:
        from rag.factory import manifest

        built = manifest(settings)
        if built is not None:  # no index yet: opening the pipeline says so
            check_report_names(asked, built.reports)
    return asked


def with_years(pipeline: Pipeline, asked: Asked) -> AskOptions:
    """The options with the relative year words read against the years of the reports the
    other filters leave (said on stderr: 年份“去年”按最近一份报告（2023年）回答)."""
    from rag.request import resolve

    opts, said = resolve(pipeline, asked)
    for line in said:
        err.print(line, markup=False)
    return opts


def run() -> None:
    """The `rag` command: no traceback reaches the user (`--debug` shows it)."""
    debug = "--debug" in sys.argv or os.environ.get("RAG_DEBUG") == "1"
    try:
        app()
    except KeyboardInterrupt:
        err.print("已中断", markup=False)
        sys.exit(130)
    except Exception as e:
        if debug:
            raise
        first = first_line(e, 300) if str(e) else ""
        err.print(f"错误：{type(e).__name__}: {first}", markup=False)
        err.print("（加 --debug 可看到出错的位置）", markup=False)
        sys.exit(1)


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="多输出过程信息 / verbose")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="出错时显示调用栈 / show the trace of an error")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s" if verbose else "%(message)s",
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for handler in logging.getLogger().handlers:  # bm25s sets its own logger to DEBUG
        handler.setLevel(logging.INFO if verbose else logging.WARNING)


JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]


def _plugins() -> None:
    """Commands of the outer layers (ui, eval), registered through entry points."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINTS):
        ep.load()(app)


from rag.cli import answer, build, check, county, info  # noqa: E402, F401  (their commands)

_plugins()
