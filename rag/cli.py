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
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

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
FLAGS = ("--place", "--year", "--report", "--mode", "-k")
ExportOpt = Annotated[
    Path | None,
    typer.Option(
        "--export",
        help="同时导出为 .docx（每句的批注引用报告原文、文件、位置和核对结论）或 .xlsx（每句每条引用一行）"
        " / also write it with its proof to FILE.docx or FILE.xlsx (answered here, not by rag serve)",
    ),
]


def checked_export(path: Path | None) -> None:
    from rag.export import FORMATS

    if path is not None and path.suffix.lower() not in FORMATS:
        raise ConfigError(
            f"--export {path.name}：导出文件的类型须是 {'、'.join(FORMATS)} 之一"
        )  # the filters' names in errors


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


@app.command()
def reports(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """列出已索引的报告及其元数据 / List the indexed reports with their metadata."""
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
    labels = (
        "文件",
        "标题",
        "发布机构",
        "地方",
        "年份",
        "发布日期",
        "成文日期",
        "索引号",
        "段落数",
    )
    table = Table(*labels)
    for row in rows:
        places = " ".join(v for v in row["places"].values() if v)
        title = row["title"] + (" *" if row["title_synthesized"] else "")
        fields = [row["issuer"] or "", places, str(row["year"] or ""), row["published"] or ""]
        fields += [row.get("written") or "", row["index_no"] or "", str(row["chunks"])]
        if wide:
            table.add_row(row["source"], title, *fields)
            continue
        # narrow terminals: one block per report, nothing cut
        console.print(row["source"], style="bold", markup=False, highlight=False)
        for label, value in zip(labels[1:], [title, *fields], strict=True):
            if value:
                console.print(f"  {label}：{value}", markup=False, highlight=False)
    if wide:
        console.print(table)
    console.print("* 标题由元数据拼成：文件本身没有标题行", markup=False)


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

    export_answers(answers, pipeline.reports, path)
    err.print(f"已导出（含引用原文）：{path}", markup=False)


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

                export_check(checked, pipeline.reports, export)
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


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}：无法读取（{e.strerror or e}）") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path}：不是 UTF-8 编码的 JSON（{first_line(e, 120)}）") from e


def _show_answer(answer: dict[str, Any]) -> None:
    """After the answer's text (its JSON form, local or from `rag serve`): each cited passage
    once (its supporting sentence), then each claim's verdict."""
    from rag.types import ClaimCheck, page_label
    from rag.verify.answers import VERDICT_ZH, reason_zh

    if answer["rewritten"] != answer["question"]:
        err.print(f"（问题改写为：{answer['rewritten']}）", markup=False)
    console.print(
        f"\n[dim]回答方式 {answer['mode']}；证据得分 {answer['support']:.2f}；"
        f"用时 {answer['latency_ms'].get('total', 0):.0f} ms[/dim]"
    )
    for w in answer["warnings"]:
        err.print(f"[yellow]提示：[/yellow]{escape(w)}")
    shown: set[tuple[int, str, int, int]] = set()
    for c in answer["citations"]:
        key = (c["n"], c["source"], c["support"]["start"], c["support"]["end"])
        if key in shown:
            continue
        shown.add(key)
        where = page_label(c.get("page"), c.get("recognized", False))
        console.print(
            f"[bold][{c['n']}][/bold] {escape(c['title'])}"
            f"（{c['source']} {where + ' ' if where else ''}"
            f"{c['support']['start']}-{c['support']['end']}）",
            highlight=False,
        )
        console.print(f"    {c['support']['text']}", markup=False, highlight=False)
    marks = {"supported": "green", "partly": "yellow", "unsupported": "red", "uncited": "red"}
    for d in answer["claims"]:
        claim = ClaimCheck(
            d["text"], tuple(d["markers"]), d["verdict"], tuple(d["reasons"]),
            tuple(d["unmatched_numbers"]), d["overlap"],
        )  # fmt: skip
        color = marks.get(claim.verdict, "white")
        console.print(f"[{color}]{VERDICT_ZH.get(claim.verdict, claim.verdict)}[/{color}] ", end="")
        console.print(f"{claim.text}  （{reason_zh(claim)}）", markup=False, highlight=False)


def _options_json(asked: Asked) -> dict[str, Any]:
    """The filters as `rag serve` takes them (去年 is read there, against its reports)."""
    o = asked.options
    return {"places": list(o.places), "years": [*o.years, *asked.relative],
            "reports": list(o.reports), "mode": o.mode, "k": o.k}  # fmt: skip


def _say(served: dict[str, Any]) -> None:
    """How the server read the filters (年份“去年”按最近一份报告（2023年）回答), on stderr."""
    for line in served.get("said", ()):
        err.print(line, markup=False)


def _served(kind: str, payload: dict[str, Any], settings: Settings) -> dict[str, Any] | None:
    """The answer of a `rag serve` on `settings.server_url` over this same index build (no
    model loads here), or None to answer locally: no server there, another index, no route,
    a key needed and not given. A refusal the server gives (an unknown report) is raised."""
    if not settings.use_server:
        return None
    from rag.index.layout import current_build

    build = current_build(settings.index_dir, damaged_ok=True)
    if build is None:
        return None
    import httpx

    headers = {"X-Rag-Build": build.name}
    if settings.api_key is not None:
        headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    url = f"{settings.server_url.rstrip('/')}/v1/rag/{kind}"
    try:
        r = httpx.post(url, json=payload, headers=headers,
                       timeout=httpx.Timeout(settings.request_budget, connect=0.5))  # fmt: skip
    except httpx.HTTPError:
        return None
    if r.status_code == 401:
        err.print("提示：rag serve 需要 API 密钥（RAG_API_KEY），改在本进程回答", markup=False)
        return None
    try:
        body = r.json()
    except ValueError:
        return None
    if r.status_code == 400 and isinstance(body, dict) and isinstance(body.get("error"), str):
        raise ConfigError(body["error"])
    return body if r.status_code == 200 and isinstance(body, dict) else None


@app.command()
def doctor(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """显示所用的模型、设置和索引，并探测已配置的服务 / Show models, settings, index; probe endpoints."""
    from rag.factory import describe
    from rag.index.embed import LEXICAL

    d = describe(settings_for(index))
    if as_json:
        print(json.dumps(d.to_dict(), ensure_ascii=False, indent=1, default=str))
        return
    console.print(f"python {sys.version.split()[0]}")
    for key, value in d.settings.items():
        console.print(f"设置 {key} = {value}", markup=False)
    console.print(f"向量模型：{d.embedding}", markup=False)
    if d.embedding_path:
        console.print(f"向量模型文件：{d.embedding_path}", markup=False)
    if d.embed_endpoint:
        console.print(f"向量服务：{d.embed_endpoint}", markup=False)
    if d.llm_problem:
        console.print(f"[red]大模型配置：[/red]{escape(d.llm_problem)}", highlight=False)
    console.print(f"回答方式：{d.answering}", markup=False)
    if d.llm_endpoint:
        console.print(f"大模型服务：{d.llm_endpoint}", markup=False)
    m = d.manifest
    if m is None:
        console.print(f"索引：{d.index_dir} 中还没有索引（先运行 rag index）", markup=False)
        return
    search = (
        "只有关键词检索（BM25；建索引时未用向量模型）"
        if m.embed_model == LEXICAL
        else f"关键词检索（BM25）+ {m.embed_model} 向量（{m.dim} 维）"
    )
    console.print(
        f"索引：{d.index_dir}：{len(m.reports)} 份报告，{m.n_chunks} 个段落，建于 "
        f"{m.created}；{search}",
        markup=False,
    )
    if d.store:
        console.print(f"向量库：{d.store}", markup=False)
    if d.mismatch:
        console.print(f"[red]不一致：[/red]{escape(d.mismatch)}", highlight=False)


def _plugins() -> None:
    """Commands of the outer layers (ui, eval), registered through entry points."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINTS):
        ep.load()(app)


_plugins()
