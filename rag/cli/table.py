"""`rag table` (汇总): indicators across the reports in scope, a citation per cell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from rag.cli import (
    ExportOpt,
    IndexOpt,
    JsonOpt,
    PlaceOpt,
    ReportOpt,
    YearOpt,
    app,
    checked_export,
    checked_options,
    console,
    err,
    fail,
    settings_for,
    with_years,
)
from rag.errors import ConfigError, RagError


@app.command("table")
def table(
    indicators: Annotated[
        list[str],
        typer.Argument(
            help="指标，用员工自己的说法（执法培训次数 行政复议案件数 法律顾问）/ indicators"
        ),
    ],
    sort: Annotated[
        str | None, typer.Option("--sort", help="按这一指标的数字排序（大到小）/ sort by")
    ] = None,
    ascending: Annotated[bool, typer.Option("--asc", help="从小到大 / ascending")] = False,
    place: PlaceOpt = None,
    year: YearOpt = None,
    report: ReportOpt = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    export: ExportOpt = None,
) -> None:
    """指标汇总：每份报告一行、每个指标一列，每格是报告写明的数字（带单位）和所在原句，或“未载明”
    / a table of INDICATORS across the reports, each figure cited to its sentence."""
    from rag.factory import open_pipeline
    from rag.table import UNSTATED, TableBuilder, indicator_names

    try:
        names = indicator_names(indicators)
        if not names:
            raise ConfigError("请给出至少一个指标（如 执法培训次数）")
        settings = settings_for(index)
        asked = checked_options(place, year, report, settings=settings)
        checked_export(export)
        pipeline = open_pipeline(settings)
        built = TableBuilder(pipeline).build(names, with_years(pipeline, asked))
        if sort is not None:
            built = built.sorted_by(sort, descending=not ascending)
        if export is not None:
            _export(built, pipeline.reports, export)
    except RagError as e:
        fail(e)
        return
    if as_json:
        print(json.dumps(built.to_dict(pipeline.reports), ensure_ascii=False, indent=1))
        return
    grid = RichTable(show_lines=False)
    grid.add_column("报告")
    for ind in built.indicators:
        grid.add_column(escape(ind.name), justify="right")
    for source, cells in built.rows:
        grid.add_row(escape(built.labels.get(source, source)),
                     *(escape(c.value) if c.value else f"[dim]{UNSTATED}[/dim]" for c in cells))  # fmt: skip
    console.print(grid)
    for t in built.totals():
        if t.value is not None:
            left = (
                f"；未计入 {len(t.left_out)} 格（{'；'.join(w for _, w in t.left_out)}）"
                if t.left_out
                else ""
            )
            console.print(f"合计 {t.indicator}：{t.value:g}{t.unit}（{len(t.summed)} 格相加{left}）",
                          markup=False)  # fmt: skip
    for source, cells in built.rows:
        for c in cells:
            if c.stated:
                text = pipeline.reports[source].text[c.start : c.end]
                console.print(f"{c.indicator} {c.value}：{source} {c.start}-{c.end} {text}",
                              markup=False, highlight=False, style="dim")  # fmt: skip


def _export(built, reports, path: Path) -> None:  # type: ignore[no-untyped-def]
    from rag.export import export_table

    try:
        export_table(built, reports, path)
    except OSError as e:
        raise ConfigError(f"--export {path}：无法写入（{e.strerror or e}）") from e
    err.print(f"已导出（含引用原文）：{path}", markup=False)
