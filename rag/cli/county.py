"""The county's view: `rag table` (指标汇总, a citation per cell), `rag trend` (one place year
over year, and whether last year's plans were kept) and `rag similar` (text copied from other
reports)."""

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
    from rag.table import TableBuilder, indicator_names

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
    _print_table(built, pipeline.reports)


def _grid(first: str, indicators, rows, title: str | None = None) -> RichTable:  # type: ignore[no-untyped-def]
    """A table of cells: a label column (`first`), one column per indicator, 未载明 dimmed."""
    from rag.table import UNSTATED

    grid = RichTable(title=escape(title) if title else None)
    grid.add_column(first)
    for ind in indicators:
        grid.add_column(escape(ind.name), justify="right")
    for label, cells in rows:
        grid.add_row(escape(label),
                     *(escape(c.value) if c.value else f"[dim]{UNSTATED}[/dim]" for c in cells))  # fmt: skip
    return grid


def _print_table(built, reports) -> None:  # type: ignore[no-untyped-def]
    """The table, its totals and each figure's sentence, on the terminal."""

    rows = [(built.labels.get(source, source), cells) for source, cells in built.rows]
    console.print(_grid("报告", built.indicators, rows))
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
                text = reports[source].text[c.start : c.end]
                console.print(f"{c.indicator} {c.value}：{source} {c.start}-{c.end} {text}",
                              markup=False, highlight=False, style="dim")  # fmt: skip


def _export(built, reports, path: Path) -> None:  # type: ignore[no-untyped-def]
    from rag.export import export_table

    try:
        export_table(built, reports, path)
    except OSError as e:
        raise ConfigError(f"--export {path}：无法写入（{e.strerror or e}）") from e
    err.print(f"已导出（含引用原文）：{path}", markup=False)


@app.command("trend")
def trend(
    place: Annotated[str, typer.Argument(help="地方（如 水口镇）/ the place")],
    indicators: Annotated[
        list[str], typer.Argument(help="指标（执法培训次数 行政复议案件数）/ indicators")
    ],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """逐年对比：一个地方各年报告的指标和变化（两边都引原句），以及上一年“下一步工作安排”
    在下一年报告中的落实（已见落实、表述相同、未见提及）
    / one place year over year: indicators, changes, and last year's plans against this year."""
    from rag.compare import VERDICT_ZH, Comparer
    from rag.factory import open_pipeline
    from rag.table import UNSTATED, indicator_names

    try:
        names = indicator_names(indicators)
        pipeline = open_pipeline(settings_for(index))
        result = Comparer(pipeline).trend(place, names)
    except RagError as e:
        fail(e)
        return
    if as_json:
        print(json.dumps(result.to_dict(pipeline.reports), ensure_ascii=False, indent=1))
        return
    rows = [(str(result.years[source]), cells) for source, cells in result.table.rows]
    console.print(_grid("年份", result.table.indicators, rows, title=result.place))
    for a, b, changes in result.changes:
        console.print(f"{result.years[a]} → {result.years[b]}：", markup=False)
        for c in changes:
            shown = f"{c.delta:+g}{c.after.unit}" if c.delta is not None else c.why
            console.print(f"  {c.indicator}：{c.before.value or UNSTATED} → "
                          f"{c.after.value or UNSTATED}（{shown}）", markup=False)  # fmt: skip
    for p in result.promises:
        line = f"[{VERDICT_ZH[p.verdict]}] {p.text}"
        console.print(line, markup=False, highlight=False)
        if p.evidence is not None:
            start, end = p.evidence
            text = pipeline.reports[p.later].text[start:end]
            console.print(f"   {p.later} {start}-{end}：{text}", markup=False, style="dim")


@app.command("similar")
def similar(
    report: ReportOpt = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """雷同文字：一份报告中与其他报告（别的镇，或本镇往年）几乎逐字相同的段落（共有的套话不计），
    两边的原文和位置，以及每份报告的雷同比例 / text copied from other reports, both spans."""
    from rag.factory import open_index
    from rag.similar import KIND_ZH, find_copies

    try:
        settings = settings_for(index)
        asked = checked_options(None, None, report, settings=settings)
        loaded = open_index(settings)
        found = find_copies(loaded.reports, loaded.chunks, asked.options.reports or None)
    except RagError as e:
        fail(e)
        return
    if as_json:
        print(json.dumps(found.to_dict(loaded.reports), ensure_ascii=False, indent=1))
        return
    for source, share in sorted(found.shares.items(), key=lambda x: -x[1]):
        console.print(f"{source}：雷同 {share:.0%}", markup=False, style="bold" if share else "")
        for c in found.of(source):
            console.print(f"  {c.start}-{c.end} ≈ {c.other} {c.other_start}-{c.other_end}"
                          f"（{KIND_ZH[c.kind]}，{c.overlap:.0%}）", markup=False)  # fmt: skip
            text = loaded.reports[source].text[c.start : c.end]
            console.print(f"    {text[:120]}{'…' if len(text) > 120 else ''}", markup=False,
                          style="dim")  # fmt: skip
