"""The knowledge base as an MCP server (the official `mcp` SDK's FastMCP).

Tools: `search_reports` (passages with their report spans), `ask` (a cited answer, the JSON of
`rag ask --json`), `check_claims` (核稿 of any text, claim by claim), `list_reports`.

Two transports: stdio (`rag mcp`, for a desktop client that starts the server itself) and
streamable HTTP at /mcp on `rag serve` (the same port as the UI and /v1; with users configured,
the same bearer API key as /v1, see ui/guard.py ApiKeyGate).

The tools run the pipeline in a worker thread: a question does not block the server's loop
(the UI and the other requests go on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from mcp.server.fastmcp import FastMCP

from rag.pipeline import Pipeline
from rag.request import Asked
from ui.openai_api import answering
from ui.service import ask_json, check_json, filtered, reports_json, search_json

INSTRUCTIONS = (
    "法治政府建设年度报告知识库。ask 回答问题并给出可核对的引用（每个 [n] 对应报告原文的字符区间）；"
    "search_reports 返回最相关的原文段落；check_claims 逐句核对一段文字（核稿）；"
    "list_reports 列出收录的报告。地点、年份、报告文件名可作筛选。"
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

    return mcp
