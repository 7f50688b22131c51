"""What every front end of the server does the same way (the UI's /ask and /check, the
OpenAI-compatible API, the MCP tools): filters from plain values, the JSON of an answer, of a
核稿 check, of the reports list. The front ends only translate to and from their protocol."""

from __future__ import annotations

from typing import Any

from rag.check import ClaimChecker
from rag.converse import turns_from_json
from rag.errors import RagError
from rag.pipeline import AskOptions, Pipeline

CHECK_MAX_CHARS = 20000  # a draft longer than this is checked in parts


def options(place: str = "", year: int = 0, report: str = "") -> AskOptions:
    """Filters as the UI and the APIs take them: places comma-separated (，or ,), a year
    (0: any), a report file name ("" : any)."""
    return AskOptions(
        places=tuple(p.strip() for p in (place or "").replace("，", ",").split(",") if p.strip()),
        years=(int(year),) if year else (),
        reports=(report,) if report else (),
    )


def ask_json(
    pipeline: Pipeline, question: str, opts: AskOptions, history: Any = None
) -> dict[str, Any]:
    """The JSON of `rag ask --json`, or {"error": reason} for an empty or over-long question,
    a bad history or an unknown report."""
    try:
        turns = turns_from_json(history or [], "history")
        return pipeline.ask(question, turns, opts).to_dict()
    except RagError as e:
        return {"error": str(e), "question": question[:200]}


def check_json(pipeline: Pipeline, text: str, opts: AskOptions) -> dict[str, Any]:
    """The JSON of `rag check --json` (核稿 claim by claim), or {"error": reason}."""
    if not text.strip():
        return {"error": "要核对的文字为空"}
    if len(text) > CHECK_MAX_CHARS:
        return {"error": f"文字有 {len(text)} 个字符，上限是 {CHECK_MAX_CHARS} 个：请分段核对"}
    try:
        return ClaimChecker(pipeline).check(text, opts).to_dict()
    except RagError as e:  # an unknown report name
        return {"error": str(e)}


def search_json(pipeline: Pipeline, query: str, opts: AskOptions, k: int = 5) -> dict[str, Any]:
    """The passages that best match `query` (the JSON of `rag search --json`)."""
    if not query.strip():
        return {"error": "检索词为空"}
    if not 1 <= k <= 50:
        return {"error": f"k 必须在 1 到 50 之间，收到 {k}"}
    try:
        o = pipeline.options(k=k, places=opts.places, years=opts.years, reports=opts.reports)
        return {"passages": [h.to_dict() for h in pipeline.search(query, o)]}
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
