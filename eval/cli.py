"""`rag eval` and `rag check-dataset`: the evaluation's commands, added to the `rag` CLI
through the `rag.commands` entry point (pyproject.toml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from rag.cli import IndexOpt, console, err, fail, settings_for
from rag.errors import RagError

DatasetOpt = Annotated[
    Path, typer.Option("--dataset", help="评测题 JSONL / JSONL questions (see eval/dataset.py)")
]


def check_dataset(
    dataset: Path,
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """检查评测题文件：字段、每段引文在报告中、要点在引文中 / Validate a question file:
    fields, every quote found in its report, key facts in quotes."""
    from eval.dataset import read_questions
    from rag.factory import open_index

    try:
        loaded = open_index(settings_for(index))
    except RagError as e:
        fail(e)
        return
    questions, problems = read_questions(dataset, {k: r.text for k, r in loaded.reports.items()})
    if as_json:
        out = {"dataset": str(dataset), "valid": len(questions), "problems": problems}
        print(json.dumps(out, ensure_ascii=False, indent=1))
        if problems:
            raise typer.Exit(1)
        return
    for p in problems:
        err.print(p, markup=False, highlight=False)
    console.print(
        f"{len(questions)} valid question(s), {len(problems)} problem(s) in {dataset}", markup=False
    )
    if problems:
        raise typer.Exit(1)


def evaluate(
    dataset: DatasetOpt = Path("eval/dev.jsonl"),
    out: Annotated[Path, typer.Option("--out", help="结果目录 / folder for the results")] = Path(
        "eval/out"
    ),
    k: Annotated[
        int, typer.Option("-k", help="每个回答的段落数 / passages per answer (recall@k)")
    ] = 5,
    mode: Annotated[
        str, typer.Option(help="检索方式 / retrieval: hybrid | bm25 | dense")
    ] = "hybrid",
    ablations: Annotated[
        bool,
        typer.Option(
            "--ablations/--no-ablations",
            help="消融实验 / ablations: BM25/dense/hybrid, headers, scoping",
        ),
    ] = True,
    judge: Annotated[
        bool,
        typer.Option("--judge", help="大模型评分（需配置大模型）/ LLM-judge scores (needs an LLM)"),
    ] = False,
    dense_model: Annotated[
        str,
        typer.Option(
            "--dense-model",
            help="消融实验用的向量模型 / embedding model of the dense/hybrid ablations",
        ),
    ] = "packaged:all-MiniLM-L6-v2",
    index: IndexOpt = None,
) -> None:
    """回答评测集的每道题并打分 / Answer every question of DATASET and write
    predictions.jsonl, metrics.json, report.md."""
    from eval.run import run_eval

    try:
        report = run_eval(
            settings_for(index), dataset, out, k, mode, ablations, judge, err.print, dense_model
        )
    except (RagError, ValueError) as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"已写入 {report}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("check-dataset")(check_dataset)
    app.command("eval")(evaluate)
