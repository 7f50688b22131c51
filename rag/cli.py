"""Command line: rag index | reports | search | ask | eval | check-dataset | doctor."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from rag.config import Settings
from rag.errors import RagError
from rag.types import Answer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Q&A over 法治政府建设 reports: index, inspect and search them.",
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

IndexOpt = Annotated[Path | None, typer.Option("--index", help="index folder [default: ./index]")]
PlaceOpt = Annotated[list[str] | None, typer.Option("--place", help="only reports of this place")]
YearOpt = Annotated[
    list[int] | None, typer.Option("--year", help="only reports covering this year")
]
ReportOpt = Annotated[list[str] | None, typer.Option("--report", help="only this report file")]


def _settings(index: Path | None = None, reports: Path | None = None) -> Settings:
    overrides = {k: v for k, v in (("index_dir", index), ("reports_dir", reports)) if v is not None}
    return Settings(**overrides)  # type: ignore[arg-type]


def _fail(e: RagError) -> None:
    err.print(f"[red]error:[/red] {e}")
    raise typer.Exit(1)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for handler in logging.getLogger().handlers:  # bm25s sets its own logger to DEBUG
        handler.setLevel(logging.INFO if verbose else logging.WARNING)


@app.command()
def index(
    reports: Annotated[
        Path | None, typer.Option("--reports", help="folder of report files")
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Build or update the index (only new or changed reports are processed)."""
    from rag.pipeline import build

    s = _settings(index, reports)
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
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            summary, resolution = build(s, s.reports_dir, s.index_dir, progress)
        except RagError as e:
            _fail(e)
            return
    err.print(resolution.message)
    console.print(
        f"indexed {summary.reports} report(s), {summary.chunks} chunks into {s.index_dir} "
        f"in {summary.seconds:.1f}s: {len(summary.new_reports)} new/changed, "
        f"{len(summary.reused_reports)} unchanged, {len(summary.removed_reports)} removed; "
        f"{summary.embedded} chunks embedded, {summary.reused_embeddings} reused"
    )
    for name, why in summary.skipped:
        err.print(f"[yellow]skipped[/yellow] {name}: {why}")


@app.command()
def reports(
    index: IndexOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List the indexed reports with their metadata."""
    from rag.store import load_index

    s = _settings(index)
    try:
        loaded = load_index(s.index_dir)
    except RagError as e:
        _fail(e)
        return
    rows = [
        {
            "source": r.source,
            **r.meta.to_dict(),
            "chunks": loaded.manifest["reports"][r.source]["chunks"],
        }
        for r in loaded.reports.values()
    ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table("source", "title", "issuer", "places", "year", "published", "index no.", "chunks")
    for row in rows:
        places = " ".join(v for v in row["places"].values() if v)
        table.add_row(
            row["source"],
            row["title"] + (" *" if row["title_synthesized"] else ""),
            row["issuer"] or "",
            places,
            str(row["year"] or ""),
            row["published"] or "",
            row["index_no"] or "",
            str(row["chunks"]),
        )
    console.print(table)
    console.print("* title synthesized: the file has none")


@app.command()
def search(
    question: str,
    k: Annotated[int, typer.Option("-k", help="passages to return")] = 5,
    place: PlaceOpt = None,
    year: YearOpt = None,
    report: ReportOpt = None,
    mode: Annotated[str, typer.Option(help="hybrid | bm25 | dense")] = "hybrid",
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Retrieve the passages that best answer QUESTION."""
    from rag.pipeline import SearchEngine

    s = _settings(index)
    try:
        engine = SearchEngine.open(s, s.index_dir)
        opts = engine.options(
            k=k,
            mode=mode,
            places=tuple(place or ()),
            years=tuple(year or ()),
            reports=tuple(report or ()),
        )
        hits = engine.search(question, opts)
    except RagError as e:
        _fail(e)
        return
    if as_json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return
    err.print(engine.resolution.message)
    if not hits:
        console.print("no passages found")
    for h in hits:
        console.print(
            f"[bold][{h.rank}] {h.title}[/bold]  ({h.chunk.source} {h.chunk.start}-"
            f"{h.chunk.end}, score {h.score:.4f})",
            markup=True,
            highlight=False,
        )
        if h.chunk.section:
            console.print(f"    {h.chunk.section_path}", style="dim", markup=False)
        console.print("    " + h.chunk.text.replace("\n", "\n    "), markup=False, highlight=False)


@app.command()
def ask(
    question: str,
    place: PlaceOpt = None,
    year: YearOpt = None,
    report: ReportOpt = None,
    mode: Annotated[str, typer.Option(help="retrieval: hybrid | bm25 | dense")] = "hybrid",
    k: Annotated[int | None, typer.Option("-k", help="passages for the answerer")] = None,
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Answer QUESTION from the reports, with cited sources checked claim by claim."""
    from rag.pipeline import AskOptions, Pipeline

    s = _settings(index)
    opts = AskOptions(tuple(place or ()), tuple(year or ()), tuple(report or ()), mode, k)
    try:
        pipeline = Pipeline.open(s)
        if as_json:
            print(
                json.dumps(pipeline.ask(question, (), opts).to_dict(), ensure_ascii=False, indent=1)
            )
            return
        err.print(f"answering: {pipeline.mode}", markup=False)
        answer = None
        for event in pipeline.stream(question, (), opts):
            if event.kind == "token":
                console.print(event.text, end="", markup=False, highlight=False)
            elif event.answer is not None:
                answer = event.answer
    except RagError as e:
        _fail(e)
        return
    assert answer is not None
    console.print()
    _show_answer(answer)


def _show_answer(answer: Answer) -> None:
    if answer.rewritten != answer.question:
        err.print(f"(question rewritten as: {answer.rewritten})", markup=False)
    console.print(
        f"\n[dim]mode {answer.mode}; evidence score {answer.support:.2f}; "
        f"{answer.latency_ms.get('total', 0):.0f} ms[/dim]"
    )
    for w in answer.warnings:
        err.print(f"[yellow]warning:[/yellow] {w}")
    for c in answer.citations:
        console.print(
            f"[bold][{c.n}][/bold] {c.title} ({c.source} {c.support_start}-{c.support_end})",
            highlight=False,
        )
        console.print(f"    {c.support_text}", markup=False, highlight=False)
    marks = {"supported": "green", "partly": "yellow", "unsupported": "red", "uncited": "red"}
    for claim in answer.claims:
        color = marks.get(claim.verdict, "white")
        console.print(f"[{color}]{claim.verdict}[/{color}] ", end="")
        console.print(f"{claim.text}  ({'; '.join(claim.reasons)})", markup=False, highlight=False)


DatasetOpt = Annotated[
    Path, typer.Option("--dataset", help="JSONL questions (see eval/dataset.py)")
]


@app.command("check-dataset")
def check_dataset(dataset: Path, index: IndexOpt = None) -> None:
    """Validate a question file: fields, every quote found in its report, key facts in quotes."""
    from eval.dataset import read_questions
    from rag.store import load_index

    s = _settings(index)
    try:
        loaded = load_index(s.index_dir)
    except RagError as e:
        _fail(e)
        return
    questions, problems = read_questions(dataset, {k: r.text for k, r in loaded.reports.items()})
    for p in problems:
        err.print(p, markup=False, highlight=False)
    console.print(f"{len(questions)} valid question(s), {len(problems)} problem(s) in {dataset}")
    if problems:
        raise typer.Exit(1)


@app.command("eval")
def evaluate(
    dataset: DatasetOpt = Path("eval/dev.jsonl"),
    out: Annotated[Path, typer.Option("--out", help="folder for the results")] = Path("eval/out"),
    k: Annotated[int, typer.Option("-k", help="passages per answer (recall@k)")] = 5,
    mode: Annotated[str, typer.Option(help="retrieval: hybrid | bm25 | dense")] = "hybrid",
    ablations: Annotated[
        bool, typer.Option("--ablations/--no-ablations", help="BM25/dense/hybrid, headers, scoping")
    ] = True,
    judge: Annotated[bool, typer.Option("--judge", help="LLM-judge scores (needs an LLM)")] = False,
    index: IndexOpt = None,
) -> None:
    """Answer every question of DATASET and write predictions.jsonl, metrics.json, report.md."""
    from eval.run import run_eval

    try:
        report = run_eval(_settings(index), dataset, out, k, mode, ablations, judge, err.print)
    except (RagError, ValueError) as e:
        err.print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"wrote {report}")


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="address to bind (keep 127.0.0.1 unless proxied)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 7860,
    audit_log: Annotated[
        Path | None,
        typer.Option(
            "--audit-log", help="JSONL of review decisions [default: ./audit/audit.jsonl]"
        ),
    ] = None,
    users: Annotated[
        Path | None, typer.Option("--users", help="TOML of users and roles: turns on login")
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Open the chat UI (Gradio) over the index; the API is at /ask (see README)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from rag.config import PROJECT_ROOT
    from rag.pipeline import Pipeline
    from ui.app import launch
    from ui.users import load_users

    s = _settings(index)
    try:
        accounts = load_users(users) if users else None
        pipeline = Pipeline.open(s)
    except RagError as e:
        _fail(e)
        return
    login = f"login on ({len(accounts)} users)" if accounts else "no login"
    err.print(f"answering: {pipeline.mode}; {login}; http://{host}:{port}", markup=False)
    launch(pipeline, audit_log or PROJECT_ROOT / "audit" / "audit.jsonl", host, port, accounts)


@app.command("hash-password")
def hash_password_cmd(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
) -> None:
    """Print a password hash for the users file of `rag serve --users`."""
    from ui.users import hash_password

    print(hash_password(password))


@app.command()
def doctor(index: IndexOpt = None) -> None:
    """Show the models, settings and index in use."""
    from rag.embed import resolve_embedder
    from rag.llm import config_from
    from rag.store import read_manifest

    s = _settings(index)
    console.print(f"python {sys.version.split()[0]}")
    for key, value in s.model_dump().items():
        console.print(f"setting {key} = {value}", markup=False)
    res = resolve_embedder(s.embed_model, s.embed_fallback, s.query_instruction)
    console.print(res.message, markup=False)
    if res.embedder is not None:
        console.print(f"embedding model path: {res.embedder.path}", markup=False)
    try:
        cfg = config_from(s)
    except RagError as e:
        console.print(f"[red]LLM configuration:[/red] {e}")
        cfg = None
    if cfg is None:
        console.print("answering: extractive (no LLM configured: RAG_LLM_BACKEND=none)")
    else:
        where = cfg.base_url or cfg.gguf_path
        console.print(
            f"answering: {cfg.label} via {cfg.backend} at {where} ({cfg.style})", markup=False
        )
    manifest = read_manifest(s.index_dir)
    if manifest is None:
        console.print(f"index: none in {s.index_dir} (run `rag index`)")
        return
    console.print(
        f"index: {s.index_dir} ({manifest['n_chunks']} chunks, {len(manifest['reports'])} "
        f"reports, built {manifest['created']} with {manifest['embed_model']}, dim "
        f"{manifest['dim']})",
        markup=False,
    )
    if manifest["embed_model"] not in ("none", res.model_name):
        console.print(f"[red]mismatch:[/red] the index was built with {manifest['embed_model']}")
