"""`rag search` and `rag ask`: passages, and a cited, checked answer (or one from a running
`rag serve`), optionally exported with its proof."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from rag.cli import (
    ExportOpt,
    IndexOpt,
    JsonOpt,
    ModeOpt,
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
from rag.cli.show import _options_json, _read_json, _say, _served, _show_answer


@app.command()
def search(
    question: Annotated[str, typer.Argument(help="要检索的问题 / the question")],
    k: Annotated[int, typer.Option("-k", help="返回的段落数 / passages to return")] = 5,
    place: PlaceOpt = None,
    year: YearOpt = None,
    report: ReportOpt = None,
    mode: ModeOpt = "hybrid",
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """检索最能回答问题的段落 / Retrieve the passages that best answer QUESTION."""
    from rag.factory import open_pipeline

    try:
        from rag.request import check_search

        settings = settings_for(index)
        asked = checked_options(place, year, report, mode, k, settings)  # no model yet
        check_search(question, k)
        engine = open_pipeline(settings)
        chosen = with_years(engine, asked)
        opts = engine.options(
            k=k, mode=mode, places=chosen.places, years=chosen.years, reports=chosen.reports
        )
        hits = engine.search(question, opts)
    except RagError as e:
        fail(e)
        return
    if as_json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return
    err.print(engine.embedding, markup=False)
    if not hits:
        console.print("没有找到段落", markup=False)
    for h in hits:
        console.print(
            f"[bold][{h.rank}] {escape(h.title)}[/bold]  （{h.chunk.source} {h.chunk.start}-"
            f"{h.chunk.end}，得分 {h.score:.4f}）",
            highlight=False,
        )
        if h.chunk.section:
            console.print(f"    {h.chunk.section_path}", style="dim", markup=False)
        console.print("    " + h.chunk.text.replace("\n", "\n    "), markup=False, highlight=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="问题 / the question")],
    place: PlaceOpt = None,
    year: YearOpt = None,
    report: ReportOpt = None,
    mode: ModeOpt = "hybrid",
    k: Annotated[
        int | None, typer.Option("-k", help="交给回答的段落数 / passages for the answerer")
    ] = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            help="之前几轮对话的 JSON 文件 / JSON file of earlier turns: "
            '[{"question": …, "answer": …}, …]，最早的在前 / oldest first',
        ),
    ] = None,
    export: ExportOpt = None,
) -> None:
    """根据报告回答问题，逐句核对所引原文 / Answer QUESTION from the reports, cited and checked."""
    from rag.answer.converse import turns_from_json
    from rag.factory import open_pipeline
    from rag.pipeline import check_question

    settings = settings_for(index)
    try:
        asked = checked_options(place, year, report, mode, k, settings)  # no model yet
        check_question(question, settings.max_question_chars)
        checked_export(export)
        raw_turns = _read_json(history) if history else None
        turns = turns_from_json(raw_turns, str(history)) if history else []
        payload = {"question": question, "history": raw_turns, **_options_json(asked)}
        served = _served("ask", payload, settings) if export is None else None
        if served is not None:
            _say(served)
            if as_json:
                print(json.dumps(served, ensure_ascii=False, indent=1))
                return
            err.print(f"回答方式：{served['mode']}（由 {settings.server_url} 的 rag serve 回答）")
            console.print(served["answer"], markup=False, highlight=False)
            _show_answer(served)
            return
        pipeline = open_pipeline(settings)
        opts = with_years(pipeline, asked)
        if as_json:
            result = pipeline.ask(question, turns, opts)
            _export([result], pipeline, export)
            print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
            return
        err.print(f"回答方式：{pipeline.mode}", markup=False)
        answer = None
        for event in pipeline.stream(question, turns, opts):
            if event.kind == "token":
                console.print(event.text, end="", markup=False, highlight=False)
            elif event.answer is not None:
                answer = event.answer
    except RagError as e:
        fail(e)
        return
    assert answer is not None
    console.print()
    _show_answer(answer.to_dict())
    _export([answer], pipeline, export)


def _export(answers: list[Any], pipeline: Any, path: Path | None) -> None:
    if path is None:
        return
    from rag.export import export_answers

    try:
        export_answers(answers, path)
    except OSError as e:
        fail(ConfigError(f"--export {path}：无法写入（{e.strerror or e}）"))
    err.print(f"已导出（含引用原文）：{path}", markup=False)
