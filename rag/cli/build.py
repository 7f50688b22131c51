"""`rag index`: build or update the index, with a progress bar per stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from rag.cli import (
    IndexOpt,
    JsonOpt,
    app,
    console,
    err,
    fail,
    settings_for,
)
from rag.errors import RagError

if TYPE_CHECKING:
    pass
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn


@app.command()
def index(
    reports: Annotated[
        Path | None,
        typer.Option("--reports", help="报告文件夹 / folder of report files [默认: data/reports]"),
    ] = None,
    index: IndexOpt = None,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            help="等待同一索引的另一次构建结束的秒数（默认不等，直接拒绝）"
            " / seconds to wait for another build of this index",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """建立或更新索引（只处理新增或改过的报告）/ Build or update the index."""
    from rag.factory import build

    s = settings_for(index, reports)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            summary, resolution = build(s, progress=progress, wait=wait)
        except RagError as e:
            fail(e)
            return
    if as_json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))
        return
    err.print(resolution.message, markup=False)
    console.print(
        f"已索引 {summary.reports} 份报告、{summary.chunks} 个段落，存入 {s.index_dir}，"
        f"用时 {summary.seconds:.1f} 秒：新增或改过 {len(summary.new_reports)} 份，"
        f"未变 {len(summary.reused_reports)} 份，移除 {len(summary.removed_reports)} 份；"
        f"向量 {summary.embedded} 个（复用 {summary.reused_embeddings}），"
        f"句子向量新算 {summary.sentences_encoded} 个，"
        f"BM25 分词 {summary.tokenized} 个（复用 {summary.reused_tokens}）",
        markup=False,
    )
    if summary.store_update:
        console.print(f"{summary.store}: {summary.store_update}", markup=False)
    for name, why in summary.skipped:
        err.print(f"[yellow]已跳过[/yellow] {escape(name)}：{escape(why)}")


STAGES = {
    "read": "读取报告",
    "ocr": "识别扫描页（OCR）",
    "chunk": "切分段落",
    "embed": "计算向量",
    "sentences": "计算句子向量",
    "tokenize": "BM25 分词",
}
