"""What every front end of the server does the same way (the UI's /ask and /check, the
OpenAI-compatible API, the MCP tools): filters from plain values, the JSON of an answer, of a
核稿 check, of the reports list. The front ends only translate to and from their protocol."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.answer.converse import turns_from_json
from rag.check import CheckResult, ClaimChecker
from rag.errors import RagError
from rag.export import export_answers, export_check, export_table
from rag.pipeline import Pipeline
from rag.request import Asked, FilterError, check_search, check_text, parse_filters, resolve
from rag.table import Table, TableBuilder, indicator_names, reports_in_scope
from rag.types import Answer


def options(place: Any = "", year: Any = 0, report: Any = "") -> Asked:
    """Filters as the UI and the APIs take them, by the one request model (rag/request.py):
    places comma-separated (，or ,), a year (0: any; 2024, "2024年" or 去年), a report file
    name ("": any). Raises FilterError naming the field."""
    return parse_filters(place, year, report)


def filtered(
    work: Callable[[Asked], dict[str, Any]], place: Any = "", year: Any = 0, report: Any = ""
) -> dict[str, Any]:
    """`work` under the filters, or {"error": reason} naming the filter that is not one."""
    try:
        asked = options(place, year, report)
    except RagError as e:
        return {"error": str(e)}
    return work(asked)


def export_json(
    pipeline: Pipeline, kind: str, body: dict[str, Any], asked: Asked, path: Path
) -> dict[str, Any]:
    """An answer (`kind` "ask": body's question and history), a 核稿 check ("check": body's
    text) or an indicator table ("table": body's indicators and sort) exported to `path` (.docx/.xlsx) with its proof (rag/export.py): {"file": path},
    or {"error": reason}."""
    try:
        if kind == "ask":
            answer, _ = _answered(
                pipeline, str(body.get("question", "")), asked, body.get("history")
            )
            export_answers([answer], path)
        elif kind == "table":
            table, _ = _tabled(pipeline, body.get("indicators"), asked, body.get("sort"))
            export_table(table, pipeline.reports, path)
        else:
            result, _ = _checked(pipeline, str(body.get("text", "")), asked)
            export_check(result, pipeline.reports, path)
        return {"file": str(path)}
    except RagError as e:
        return {"error": str(e)}


def _with_said(result: dict[str, Any], said: tuple[str, ...]) -> dict[str, Any]:
    return {**result, "said": list(said)} if said else result


def ask_json(
    pipeline: Pipeline, question: str, asked: Asked, history: Any = None
) -> dict[str, Any]:
    """The JSON of `rag ask --json`, or {"error": reason} for an empty or over-long question,
    a bad history or an unknown report; `said`: how a relative year filter was read."""
    try:
        answer, said = _answered(pipeline, question, asked, history)
        return _with_said(answer.to_dict(), said)
    except RagError as e:
        return {"error": str(e), "question": question[:200]}


def _answered(
    pipeline: Pipeline, question: str, asked: Asked, history: Any
) -> tuple[Answer, tuple[str, ...]]:
    """The answer under the filters (relative years read), and how they were read."""
    opts, said = resolve(pipeline, asked)
    turns = turns_from_json(history or [], "history")
    return pipeline.ask(question, turns, opts), said


def _checked(pipeline: Pipeline, text: str, asked: Asked) -> tuple[CheckResult, tuple[str, ...]]:
    """核稿 of `text` under the filters (an empty or over-long text refused first)."""
    check_text(text)
    opts, said = resolve(pipeline, asked)
    return ClaimChecker(pipeline).check(text, opts), said


def _tabled(
    pipeline: Pipeline, indicators: Any, asked: Asked, sort: Any = None
) -> tuple[Table, tuple[str, ...]]:
    """The indicator table under the filters, sorted by `sort` (an indicator) if given."""
    names = indicator_names(indicators if isinstance(indicators, (str, list)) else [indicators])
    opts, said = resolve(pipeline, asked)
    table = TableBuilder(pipeline).build(names, opts)
    if sort:
        table = table.sorted_by(str(sort))
    return table, said


def table_json(
    pipeline: Pipeline, indicators: Any, asked: Asked, sort: Any = None
) -> dict[str, Any]:
    """The JSON of `rag table --json` (rows of cells, each with its sentence and offsets, and
    the column totals), or {"error": reason}."""
    try:
        table, said = _tabled(pipeline, indicators, asked, sort)
        return _with_said(table.to_dict(pipeline.reports), said)
    except RagError as e:
        return {"error": str(e)}


def trend_json(pipeline: Pipeline, place: Any, indicators: Any) -> dict[str, Any]:
    """The JSON of `rag trend --json` (one place year over year, last year's plans against
    this year's report), or {"error": reason}."""
    from rag.compare import Comparer

    try:
        if not isinstance(place, str):
            raise FilterError("place", "地方须是文字（如 水口镇）")
        names = indicator_names(indicators if isinstance(indicators, (str, list)) else [indicators])
        return Comparer(pipeline).trend(place, names).to_dict(pipeline.reports)
    except RagError as e:
        return {"error": str(e)}


def similar_json(pipeline: Pipeline, asked: Asked) -> dict[str, Any]:
    """The JSON of `rag similar --json` for the reports the filters leave (text copied from
    other reports, both spans; the share of each report), or {"error": reason}."""
    from rag.similar import find_copies

    try:
        opts, said = resolve(pipeline, asked)
        sources = reports_in_scope(pipeline, opts)  # places, years and report names
        found = find_copies(pipeline.reports, pipeline.index.chunks, sources)
        return _with_said(found.to_dict(pipeline.reports), said)
    except RagError as e:
        return {"error": str(e)}


def check_json(pipeline: Pipeline, text: str, asked: Asked) -> dict[str, Any]:
    """The JSON of `rag check --json` (核稿 claim by claim), or {"error": reason}."""
    try:
        result, said = _checked(pipeline, text, asked)
        return _with_said(result.to_dict(), said)
    except RagError as e:  # empty, too long, an unknown report
        return {"error": str(e)}


def search_json(pipeline: Pipeline, query: str, asked: Asked, k: int = 5) -> dict[str, Any]:
    """The passages that best match `query` (the JSON of `rag search --json`)."""
    try:
        check_search(query, k)
        opts, said = resolve(pipeline, asked)
        o = pipeline.options(k=k, places=opts.places, years=opts.years, reports=opts.reports)
        return _with_said({"passages": [h.to_dict() for h in pipeline.search(query, o)]}, said)
    except RagError as e:
        return {"error": str(e)}


def reports_json(pipeline: Pipeline) -> dict[str, Any]:
    """The reports the index holds: file name, title, issuer, places, year, dates, numbers."""
    rows = []
    for source, r in pipeline.reports.items():
        m = r.meta
        rows.append(
            {
                "source": source,
                "title": m.title,
                "issuer": m.issuer,
                "places": m.places.names(),
                "year": m.year,
                "published": m.published,
                "index_no": m.index_no,
                "doc_no": m.doc_no,
            }
        )
    return {"reports": rows}
