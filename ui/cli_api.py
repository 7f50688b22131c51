"""The routes `rag ask` and `rag check` use when a `rag serve` answers on the configured address:
the loaded pipeline answers, so a one-shot command loads no model.

    POST /v1/rag/ask    {"question", "history"?, "places"?, "years"?, "reports"?, "mode"?, "k"?}
    POST /v1/rag/check  {"text", "places"?, "years"?, "reports"?}
    POST /v1/rag/export/ask?format=docx|xlsx    the body of /ask: the answer as a file with
    POST /v1/rag/export/check?format=docx|xlsx  its proof (rag/export.py); the body of /check
    POST /v1/rag/table  {"indicators": [..] or "a,b", "sort"?, "places"?, "years"?, "reports"?}
    POST /v1/rag/export/table?format=docx|xlsx  the body of /table: the table with a proof per cell
    POST /v1/rag/trend  {"place", "indicators"}: one place year over year, and its plans kept
    POST /v1/rag/similar  {"reports"?}: text copied from other reports, both spans

Each answers the JSON of `rag ask --json` / `rag check --json` (or {"error": …} with 400). The
request names the index build it wants (`X-Rag-Build`, the build folder's name): a server over
another index answers 409 and the command answers locally. Under /v1, so the API key (with
users) and the body checks (ui/guard.py) apply as to every API request.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask

from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.request import Asked, parse_filters
from ui.openai_api import answering
from ui.service import ask_json, check_json, export_json, similar_json, table_json, trend_json

BUILD_HEADER = "x-rag-build"


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} 必须是字符串")
    return value


def _options(body: dict[str, Any]) -> Asked:
    """The filters `rag ask/check` sends, by the one request model (years may be 去年)."""
    mode = body.get("mode", "hybrid")
    try:
        return parse_filters(
            body.get("places"), body.get("years"), body.get("reports"),
            mode if isinstance(mode, str) else repr(mode), body.get("k"),
            names=("places", "years", "reports", "mode", "k"),
        )  # fmt: skip
    except RagError as e:
        raise ValueError(str(e)) from e


Work = Callable[[Pipeline, dict[str, Any]], dict]
# The JSON routes: each reads its body by the one request model and answers the JSON of the
# command (`rag ask --json`, `rag check --json`, `rag table --json`, ...).
_ROUTES: dict[str, Work] = {
    "ask": lambda p, b: ask_json(p, _text(b, "question"), _options(b), b.get("history")),
    "check": lambda p, b: check_json(p, _text(b, "text"), _options(b)),
    "table": lambda p, b: table_json(p, b.get("indicators"), _options(b), b.get("sort")),
    "trend": lambda p, b: trend_json(p, b.get("place"), b.get("indicators")),
    "similar": lambda p, b: similar_json(p, _options(b)),
}


def _route(
    run: Callable[[Request, Work], Awaitable[Any]], work: Work
) -> Callable[[Request], Awaitable[Any]]:
    async def route(request: Request) -> Any:
        return await run(request, work)

    return route


def router(pipeline: Callable[[], Pipeline]) -> APIRouter:
    api = APIRouter(prefix="/v1/rag")

    async def run(request: Request, work: Work) -> Any:
        now = pipeline()
        if request.headers.get(BUILD_HEADER, now.index.folder.name) != now.index.folder.name:
            return JSONResponse({"error": "此服务用的是另一份索引"}, 409)
        body = await request.json()
        if not isinstance(body, dict):
            return JSONResponse({"error": "请求体必须是 JSON 对象"}, 400)
        try:
            result = await anyio.to_thread.run_sync(work, now, body, limiter=answering())
        except ValueError as e:
            return JSONResponse({"error": str(e)}, 400)
        return JSONResponse(result, 400 if "error" in result else 200)

    for name, work in _ROUTES.items():
        api.add_api_route(f"/{name}", _route(run, work), methods=["POST"], name=name)

    @api.post("/export/{kind}")
    async def export(request: Request, kind: str, format: str = "docx") -> Any:  # noqa: A002
        if kind not in ("ask", "check", "table") or format not in ("docx", "xlsx"):
            return JSONResponse(
                {"error": "导出：/export/ask、/export/check 或 /export/table，format=docx 或 xlsx"},
                404,
            )
        folder = Path(tempfile.mkdtemp(prefix="rag-export-"))
        path = folder / f"{kind}.{format}"

        def work(p: Pipeline, body: dict[str, Any]) -> dict:
            if kind != "table":
                _text(body, "question" if kind == "ask" else "text")  # a string, as /ask and /check
            return export_json(p, kind, body, _options(body), path)

        try:
            result = await run(request, work)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if not path.exists():
            shutil.rmtree(folder, ignore_errors=True)
            return result
        return FileResponse(
            path, filename=path.name, background=BackgroundTask(shutil.rmtree, folder, True)
        )

    return api
