"""The knowledge base as an MCP server (the official `mcp` SDK's FastMCP).

Tools: `search_reports` (passages with their report spans), `ask` (a cited answer, the JSON of
`rag ask --json`), `check_claims` (核稿 of any text, claim by claim), `list_reports`, and
`export_answer` / `export_check`: the answer or the 核稿 result as a Word or Excel file with its
proof (rag/export.py), returned as an embedded resource (the file's bytes, base64) beside a
JSON summary, so a client on another machine gets the file itself. The county's view:
`indicator_table` / `export_table` (指标汇总, a citation per cell), `year_over_year` (one place
by year, and last year's plans against this year's report), `copied_text` (雷同文字).

Two transports: stdio (`rag mcp`, for a desktop client that starts the server itself) and
streamable HTTP at /mcp on `rag serve` (the same port as the UI and /v1; with users configured,
the same bearer API key as /v1, see ui/guard.py ApiKeyGate).

The tools run the pipeline in a worker thread: a question does not block the server's loop
(the UI and the other requests go on).
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.types import BlobResourceContents, EmbeddedResource, TextContent

from rag.pipeline import Pipeline
from rag.request import Asked
from ui.openai_api import answering
from ui.service import (
    ask_json,
    check_json,
    export_json,
    filtered,
    reports_json,
    search_json,
    similar_json,
    table_json,
    trend_json,
)

INSTRUCTIONS = (
    "法治政府建设年度报告知识库。ask 回答问题并给出可核对的引用（每个 [n] 对应报告原文的字符区间）；"
    "search_reports 返回最相关的原文段落；check_claims 逐句核对一段文字（核稿）；"
    "list_reports 列出收录的报告；export_answer、export_check 把回答或核稿结果导出为带引文"
    "核对记录的 Word（docx）或 Excel（xlsx）文件；indicator_table 按指标汇总各报告的数字（每格引原句），"
    "year_over_year 逐年对比一个地方并核对上年计划的落实，copied_text 找出与其他报告雷同的文字。"
    "地点、年份、报告文件名可作筛选。"
    " A knowledge base of Chinese local governments' annual rule-of-law reports: ask answers "
    "with citations resolved to exact report spans; check_claims checks any text claim by claim."
)


def build_mcp(pipeline: Callable[[], Pipeline], host: str = "127.0.0.1") -> FastMCP:
    """The server; `pipeline()` is the pipeline answering now. `host`: where the HTTP
    transport is bound (on 127.0.0.1 the SDK refuses other Host headers: DNS rebinding)."""
    mcp = FastMCP(
        "rag-reports",
        instructions=INSTRUCTIONS,
        host=host,
        streamable_http_path="/mcp",
        stateless_http=True,  # every call stands alone: no session to lose on a restart
        json_response=True,
    )

    _answer_tools(mcp, pipeline)
    _export_tools(mcp, pipeline)
    _county_tools(mcp, pipeline)
    return mcp


def _answer_tools(mcp: FastMCP, pipeline: Callable[[], Pipeline]) -> None:
    """search_reports, ask, check_claims, list_reports."""

    async def run(
        fn: Callable[..., dict[str, Any]], text: str, filters: tuple[Any, Any, Any], *rest: Any
    ) -> dict[str, Any]:
        def work(asked: Asked) -> dict[str, Any]:
            return fn(pipeline(), text, asked, *rest)

        return await anyio.to_thread.run_sync(filtered, work, *filters, limiter=answering())

    @mcp.tool()
    async def search_reports(
        query: str, place: str = "", year: int | str = 0, report: str = "", k: int = 5
    ) -> dict[str, Any]:
        """检索报告原文：返回与 query 最相关的 k 段（source 文件名、title 标题、section 章节、
        start/end 原文字符区间、text）。place 地名（逗号分隔），year 年份（2024，或 去年/今年/前年），report 报告文件名。"""
        return await run(search_json, query, (place, year, report), k)

    @mcp.tool()
    async def ask(
        question: str, place: str = "", year: int | str = 0, report: str = ""
    ) -> dict[str, Any]:
        """回答关于法治政府建设报告的问题。answer 中每个 [n] 对应 citations 里的一段原文
        （source、start、end、text，support 为支撑句）；claims 为逐句核查结果；abstained 为
        true 表示报告中没有答案。"""
        return await run(ask_json, question, (place, year, report))

    @mcp.tool()
    async def check_claims(
        text: str, place: str = "", year: int | str = 0, report: str = ""
    ) -> dict[str, Any]:
        """核稿：把 text 拆成逐句陈述，与报告核对。verdict 为 supported（有依据，附原文区间）、
        contradicted（报告写的是别的数字、单位、地方、年份或相反的说法，report_value 为报告原值）、
        not_found（报告中没有）或 not_a_claim（标题、落款、日期、问候语）。"""
        return await run(check_json, text, (place, year, report))

    @mcp.tool()
    async def list_reports() -> dict[str, Any]:
        """列出知识库收录的报告：文件名、标题、发布机构、地方、年份、发布日期、成文日期、索引号、文号。"""
        return await anyio.to_thread.run_sync(reports_json, pipeline(), limiter=answering())


def _export_tools(mcp: FastMCP, pipeline: Callable[[], Pipeline]) -> None:
    """export_answer, export_check, export_table: the file itself, with its proof."""

    @mcp.tool()
    async def export_answer(
        question: str,
        format: str = "docx",
        place: str = "",
        year: int | str = 0,
        report: str = "",  # noqa: A002
    ) -> list[TextContent | EmbeddedResource]:
        """回答问题并导出为文件：format 为 docx（Word，每句一条批注，引用报告原句、文件名、
        字符区间和核查结论）或 xlsx（Excel，每条引文一行）。返回文件本身（嵌入资源，base64）。"""
        return await _exported(
            pipeline, "ask", {"question": question}, format, (place, year, report)
        )

    @mcp.tool()
    async def export_check(
        text: str,
        format: str = "docx",
        place: str = "",
        year: int | str = 0,
        report: str = "",  # noqa: A002
    ) -> list[TextContent | EmbeddedResource]:
        """核稿并导出为文件：format 为 docx（Word，逐句结论，批注中引用报告原句）或 xlsx
        （Excel，每句一行）。返回文件本身（嵌入资源，base64）。"""
        return await _exported(pipeline, "check", {"text": text}, format, (place, year, report))

    @mcp.tool()
    async def export_table(
        indicators: str,
        format: str = "xlsx",
        sort: str = "",
        place: str = "",
        year: int | str = 0,
        report: str = "",  # noqa: A002
    ) -> list[TextContent | EmbeddedResource]:
        """指标汇总并导出为文件：xlsx（汇总表、每个数字的原句和字符区间、合计）或 docx（Word 表格，
        每个数字的批注引用报告原句）。返回文件本身（嵌入资源，base64）。"""
        body = {"indicators": indicators, "sort": sort or None}
        return await _exported(pipeline, "table", body, format, (place, year, report))


def _county_tools(mcp: FastMCP, pipeline: Callable[[], Pipeline]) -> None:
    """The county's view: indicator_table, year_over_year, copied_text."""

    @mcp.tool()
    async def indicator_table(
        indicators: str, sort: str = "", place: str = "", year: int | str = 0, report: str = ""
    ) -> dict[str, Any]:
        """指标汇总：indicators 为逗号分隔的指标（执法培训次数,行政复议案件数,法律顾问），每份报告一行；
        每格 value 为报告写明的数字（带单位），sentence/start/end 为所在原句及字符区间，未写明则
        shown 为“未载明”；totals 为单位相同的格相加的合计（summed 相加的报告，left_out 未计入及原因）。
        sort 为按哪个指标排序。"""

        def work(asked: Asked) -> dict[str, Any]:
            return table_json(pipeline(), indicators, asked, sort or None)

        return await anyio.to_thread.run_sync(
            filtered, work, place, year, report, limiter=answering()
        )

    @mcp.tool()
    async def year_over_year(place: str, indicators: str) -> dict[str, Any]:
        """逐年对比：place 一个地方（水口镇），indicators 逗号分隔的指标。table 为各年报告的指标
        （每格带原句区间），changes 为相邻两年的变化（delta，单位不同或未载明时 why 说明），
        promises 为上一年“下一步工作安排”各项在下一年报告中的情况：已见落实（evidence 为原句）、
        表述相同（照抄）、未见提及。"""
        return await anyio.to_thread.run_sync(
            trend_json, pipeline(), place, indicators, limiter=answering()
        )

    @mcp.tool()
    async def copied_text(report: str = "") -> dict[str, Any]:
        """雷同文字：报告中与其他报告（别的地方，或本地往年）几乎逐字相同的段落（共有的套话不计），
        spans 给出两边的文件和字符区间及原文，shares 为每份报告的雷同比例。report 只看这一份报告。"""

        def work(asked: Asked) -> dict[str, Any]:
            return similar_json(pipeline(), asked)

        return await anyio.to_thread.run_sync(filtered, work, "", 0, report, limiter=answering())


async def _exported(
    pipeline: Callable[[], Pipeline],
    kind: str,
    body: dict[str, Any],
    fmt: str,
    filters: tuple[Any, Any, Any],
) -> list[TextContent | EmbeddedResource]:
    """The answer or 核稿 result (`kind` "ask"/"check") exported in a worker thread, returned as
    a JSON summary and the file as an embedded resource; a JSON error otherwise."""
    if fmt not in MIME:
        return _text({"error": f"format 只能是 docx 或 xlsx，收到的是 {fmt!r}"})
    folder = Path(tempfile.mkdtemp(prefix="rag-export-"))
    path = folder / f"{ {'ask': '回答', 'check': '核稿'}.get(kind, '汇总') }.{fmt}"
    try:

        def work(asked: Asked) -> dict[str, Any]:
            return export_json(pipeline(), kind, body, asked, path)

        done = await anyio.to_thread.run_sync(filtered, work, *filters, limiter=answering())
        if "error" in done:
            return _text(done)
        data = path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    blob = BlobResourceContents(
        uri=f"file:///{path.name}",  # type: ignore[arg-type]  # a name, not a path on the server
        mimeType=MIME[fmt],
        blob=base64.b64encode(data).decode("ascii"),
    )
    summary = {"file_name": path.name, "format": fmt, "bytes": len(data)}
    return [*_text(summary), EmbeddedResource(type="resource", resource=blob)]


MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _text(payload: dict[str, Any]) -> list[TextContent | EmbeddedResource]:
    return [TextContent(type="text", text=json.dumps(payload, ensure_ascii=False))]
