"""`rag check` (核稿): any text checked against the reports, claim by claim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

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

if TYPE_CHECKING:
    pass
from rag.cli.show import _options_json, _say, _served

_MARKS = {
    "supported": "有依据",
    "contradicted": "与报告不符",
    "not_found": "报告未载",
    "not_a_claim": "非陈述",
}


@app.command("check")
def check(
    text: Annotated[
        str | None, typer.Argument(help="要核对的文字（或用 --file）/ the text to check")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="要核对的文件 .txt/.docx/.pdf/.html / a draft to check"),
    ] = None,
    place: PlaceOpt = None,
    year: YearOpt = None,
    report: ReportOpt = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    export: ExportOpt = None,
) -> None:
    """核稿：逐句对照报告核对文字（有依据、与报告不符并给出报告原值、报告未载、非陈述）
    / check TEXT (or --file) against the reports, claim by claim."""
    from rag.check import ClaimChecker
    from rag.factory import open_pipeline
    from rag.ingest.reader import read_text
    from rag.request import check_text

    try:
        if (text is None) == (file is None):
            raise ConfigError("请给出要核对的文字，或用 --file 指定文件（二者选一）")
        settings = settings_for(index)
        asked = checked_options(place, year, report, settings=settings)  # no model yet
        checked_export(export)
        if file is not None:
            try:
                text = read_text(file).text
            except OSError as e:
                raise ConfigError(f"{file}：无法读取（{e.strerror or e}）") from e
        assert text is not None
        check_text(text)
        served = (
            _served("check", {"text": text, **_options_json(asked)}, settings)
            if export is None
            else None
        )
        if served is None:
            pipeline = open_pipeline(settings)
            checked = ClaimChecker(pipeline).check(text, with_years(pipeline, asked))
            if export is not None:
                from rag.export import export_check

                try:
                    export_check(checked, pipeline.reports, export)
                except OSError as e:
                    raise ConfigError(f"--export {export}：无法写入（{e.strerror or e}）") from e
                err.print(f"已导出（含引用原文）：{export}", markup=False)
        else:
            _say(served)
        result = served if served is not None else checked.to_dict()
    except RagError as e:
        fail(e)
        return
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    for i, c in enumerate(result["claims"], start=1):
        console.print(
            f"[bold]{i}. [{_MARKS[c['verdict']]}][/bold] {escape(c['text'])}", highlight=False
        )
        if c["verdict"] != "not_a_claim":
            console.print(f"   {escape(c['reason'])}", style="dim", highlight=False)
        for ev in c["citations"]:
            console.print(
                f"   原文（{ev['source']} {ev['start']}-{ev['end']}）：{escape(ev['text'])}",
                highlight=False,
            )
    counts = result["summary"]
    console.print(
        f"{counts['claims']} 句：有依据 {counts['supported']}，与报告不符 {counts['contradicted']}，"
        f"报告未载 {counts['not_found']}，非陈述 {counts['not_a_claim']}",
        markup=False,
    )
