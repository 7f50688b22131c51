"""Command line: rag index | reports | search | ask | doctor.

The layers above the library add their own commands (`rag serve`, `rag hash-password` from
ui/cli.py; `rag eval`, `rag check-dataset` from eval/cli.py) through the `rag.commands` entry
points of pyproject.toml, so nothing in rag/ imports ui/ or eval/."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from rag.config import Settings
from rag.errors import RagError, first_line
from rag.types import Answer

ENTRY_POINTS = "rag.commands"  # each names a function register(app: typer.Typer) -> None

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
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


def settings_for(index: Path | None = None, reports: Path | None = None) -> Settings:
    overrides = {k: v for k, v in (("index_dir", index), ("reports_dir", reports)) if v is not None}
    return Settings(**overrides)  # type: ignore[arg-type]


def fail(e: RagError) -> None:
    err.print(f"[red]error:[/red] {escape(str(e))}")
    raise typer.Exit(1)


def run() -> None:
    """The `rag` command: no traceback reaches the user (`--debug` shows it)."""
    debug = "--debug" in sys.argv or os.environ.get("RAG_DEBUG") == "1"
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)
    except Exception as e:
        if debug:
            raise
        first = first_line(e, 300) if str(e) else ""
        err.print(f"error: {type(e).__name__}: {first}", markup=False)
        err.print("(run with --debug to see where it happened)", markup=False)
        sys.exit(1)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show the trace of an error")] = False,
) -> None:
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
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            help="seconds to wait for another build of this index to end (default: refuse)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Build or update the index (only new or changed reports are processed)."""
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
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            summary, resolution = build(s, progress=progress, wait=wait)
        except RagError as e:
            fail(e)
            return
    if as_json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))
        return
    err.print(resolution.message)
    console.print(
        f"indexed {summary.reports} report(s), {summary.chunks} chunks into {s.index_dir} "
        f"in {summary.seconds:.1f}s: {len(summary.new_reports)} new/changed, "
        f"{len(summary.reused_reports)} unchanged, {len(summary.removed_reports)} removed; "
        f"{summary.embedded} chunks embedded, {summary.reused_embeddings} reused; "
        f"{summary.tokenized} tokenised for BM25, {summary.reused_tokens} reused"
    )
    if summary.store_update:
        console.print(f"{summary.store}: {summary.store_update}", markup=False)
    for name, why in summary.skipped:
        err.print(f"[yellow]skipped[/yellow] {escape(name)}: {escape(why)}")


@app.command()
def reports(
    index: IndexOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List the indexed reports with their metadata."""
    from rag.factory import open_index

    try:
        loaded = open_index(settings_for(index))
    except RagError as e:
        fail(e)
        return
    rows = [
        {
            "source": r.source,
            **r.meta.to_dict(),
            "chunks": loaded.manifest.reports[r.source].chunks,
        }
        for r in loaded.reports.values()
    ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    wide = console.width >= 160
    table = Table("source", "title", "issuer", "places", "year", "published", "index no.", "chunks")
    for row in rows:
        places = " ".join(v for v in row["places"].values() if v)
        title = row["title"] + (" *" if row["title_synthesized"] else "")
        fields = [row["issuer"] or "", places, str(row["year"] or ""), row["published"] or ""]
        fields += [row["index_no"] or "", str(row["chunks"])]
        if wide:
            table.add_row(row["source"], title, *fields)
            continue
        # narrow terminals: one block per report, nothing cut
        console.print(row["source"], style="bold", markup=False, highlight=False)
        labels = ("issuer", "places", "year", "published", "index no.", "chunks")
        for label, value in (("title", title), *zip(labels, fields, strict=True)):
            if value:
                console.print(f"  {label}: {value}", markup=False, highlight=False)
    if wide:
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
    from rag.factory import open_pipeline

    try:
        engine = open_pipeline(settings_for(index))
        opts = engine.options(
            k=k,
            mode=mode,
            places=tuple(place or ()),
            years=tuple(year or ()),
            reports=tuple(report or ()),
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
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            help='JSON file of earlier turns: [{"question": …, "answer": …}, …], oldest first',
        ),
    ] = None,
) -> None:
    """Answer QUESTION from the reports, with cited sources checked claim by claim."""
    from rag.converse import turns_from_json
    from rag.factory import open_pipeline
    from rag.pipeline import AskOptions, check_question

    opts = AskOptions(tuple(place or ()), tuple(year or ()), tuple(report or ()), mode, k)
    settings = settings_for(index)
    try:
        check_question(question, settings.max_question_chars)  # before loading any model
        turns = turns_from_json(_read_json(history), str(history)) if history else []
        pipeline = open_pipeline(settings)
        if as_json:
            result = pipeline.ask(question, turns, opts)
            print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
            return
        err.print(f"answering: {pipeline.mode}", markup=False)
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
    _show_answer(answer)


_MARKS = {
    "supported": "有依据",
    "contradicted": "与报告不符",
    "not_found": "报告未载",
    "not_a_claim": "非陈述",
}


@app.command("check")
def check(
    text: Annotated[str | None, typer.Argument(help="the text to check (or --file)")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="a .txt/.docx/.pdf/.html draft to check")
    ] = None,
    place: PlaceOpt = None,
    year: YearOpt = None,
    report: ReportOpt = None,
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """核稿: check TEXT (or --file) against the reports, claim by claim (supported,
    contradicted with the report's own value, not found, not a claim)."""
    from rag.check import ClaimChecker
    from rag.errors import ConfigError
    from rag.factory import open_pipeline
    from rag.ingest import read_text
    from rag.pipeline import AskOptions

    try:
        if (text is None) == (file is None):
            raise ConfigError("give the text to check, or --file FILE (one of the two)")
        if file is not None:
            try:
                text = read_text(file).text
            except OSError as e:
                raise ConfigError(f"{file}: cannot read it ({e.strerror or e})") from e
        assert text is not None
        if not text.strip():
            raise ConfigError("the text to check is empty")
        opts = AskOptions(tuple(place or ()), tuple(year or ()), tuple(report or ()))
        result = ClaimChecker(open_pipeline(settings_for(index))).check(text, opts)
    except RagError as e:
        fail(e)
        return
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return
    for i, c in enumerate(result.claims, start=1):
        console.print(f"[bold]{i}. [{_MARKS[c.verdict]}][/bold] {escape(c.text)}", highlight=False)
        if c.verdict != "not_a_claim":
            console.print(f"   {escape(c.reason)}", style="dim", highlight=False)
        for ev in c.citations:
            console.print(
                f"   原文（{ev.source} {ev.start}-{ev.end}）：{escape(ev.text)}", highlight=False
            )
    counts = result.summary
    console.print(
        f"{counts['claims']} 句：有依据 {counts['supported']}，与报告不符 {counts['contradicted']}，"
        f"报告未载 {counts['not_found']}，非陈述 {counts['not_a_claim']}",
        markup=False,
    )


def _read_json(path: Path) -> object:
    from rag.errors import ConfigError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it ({e.strerror or e})") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path}: not JSON in UTF-8 ({first_line(e, 120)})") from e


def _show_answer(answer: Answer) -> None:
    if answer.rewritten != answer.question:
        err.print(f"(question rewritten as: {answer.rewritten})", markup=False)
    console.print(
        f"\n[dim]mode {answer.mode}; evidence score {answer.support:.2f}; "
        f"{answer.latency_ms.get('total', 0):.0f} ms[/dim]"
    )
    for w in answer.warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(w)}")
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


@app.command()
def doctor(
    index: IndexOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Show the models, settings and index in use, and probe the configured endpoints."""
    from rag.embed import LEXICAL
    from rag.factory import describe

    d = describe(settings_for(index))
    if as_json:
        print(json.dumps(d.to_dict(), ensure_ascii=False, indent=1, default=str))
        return
    console.print(f"python {sys.version.split()[0]}")
    for key, value in d.settings.items():
        console.print(f"setting {key} = {value}", markup=False)
    console.print(f"embedding: {d.embedding}", markup=False)
    if d.embedding_path:
        console.print(f"embedding model files: {d.embedding_path}", markup=False)
    if d.embed_endpoint:
        console.print(f"embeddings endpoint {d.embed_endpoint}", markup=False)
    if d.llm_problem:
        console.print(f"[red]LLM configuration:[/red] {escape(d.llm_problem)}", highlight=False)
    console.print(f"answering: {d.answering}", markup=False)
    if d.llm_endpoint:
        console.print(f"LLM endpoint {d.llm_endpoint}", markup=False)
    m = d.manifest
    if m is None:
        console.print(f"index: none in {d.index_dir} (run `rag index`)", markup=False)
        return
    search = (
        "keyword search only (BM25; built without an embedding model)"
        if m.embed_model == LEXICAL
        else f"keyword search (BM25) + {m.embed_model} vectors ({m.dim} dimensions)"
    )
    console.print(
        f"index: {d.index_dir}: {len(m.reports)} reports, {m.n_chunks} passages, built "
        f"{m.created}; {search}",
        markup=False,
    )
    if d.store:
        console.print(f"store: {d.store}", markup=False)
    if d.mismatch:
        console.print(f"[red]mismatch:[/red] {escape(d.mismatch)}", highlight=False)


def _plugins() -> None:
    """Commands of the outer layers (ui, eval), registered through entry points."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINTS):
        ep.load()(app)


_plugins()
