"""The Gradio app: chat with cited answers, sources panel, verification view, 核稿, reports
list. Each tab is a module of ui/tabs/ (its layout and its events); this one builds them in
order, wires what crosses tabs (an answer fills the 核查 tab; 核稿 uses the question tab's
filters) and the two API routes, and gives the server its launch options.

Report text and model output are shown as text: the sources panel escapes every string
(ui/render.py) and the chat renders no Markdown or HTML.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from ui.guard import Access, Guard  # noqa: E402
from ui.review import READ_ONLY, ReviewDesk  # noqa: E402
from ui.service import ask_json, check_json, filtered  # noqa: E402
from ui.tabs import ask, check, county, reports, verify  # noqa: E402
from ui.tabs.ask import EXAMPLES  # noqa: E402
from ui.tabs.context import Context, Live, as_text, section_spans  # noqa: E402
from ui.tabs.reports import (  # noqa: E402
    REPORT_HEADERS,
    REPORT_WIDTHS,
    STAGE_ZH,
    SYNTHESIZED,
    UPLOAD_MAX_MB,
    report_rows,
)
from ui.users import User, check_password  # noqa: E402

logger = logging.getLogger(__name__)

__all__ = [  # what the server, the CLI and the tests take from here
    "EXAMPLES", "READ_ONLY", "REPORT_HEADERS", "REPORT_WIDTHS", "STAGE_ZH", "SYNTHESIZED",
    "UPLOAD_MAX_MB", "Live", "as_text", "build_app", "launch", "report_rows", "section_spans",
    "serve_options",
]  # fmt: skip

CSS = (
    ".chips .chip{display:inline-block;margin:2px 4px;padding:1px 8px;border-radius:10px;"
    "background:#eef2ff;border:1px solid #c7d2fe}"
    "#check-rows{border-collapse:collapse;width:100%}"
    "#check-rows td,#check-rows th{border:1px solid #ddd;padding:4px 6px;vertical-align:top}"
    ".check-supported td:nth-child(3){color:#166534}.check-contradicted td:nth-child(3){color:#b91c1c;font-weight:bold}"
    ".check-not_found td:nth-child(3){color:#92400e}.check-not_a_claim{color:#888}"
    "#reports table{table-layout:fixed;width:100%}#reports td,#reports th{overflow-wrap:anywhere}"
)


def build_app(
    pipeline: Pipeline,
    audit_path: Path,
    reports_dir: Path | None = None,
    users: dict[str, User] | None = None,
    index_dir: Path | None = None,
    settings: Settings | None = None,
    anonymous_edits: bool = False,
    access: Access | None = None,
    live: Live | None = None,
) -> gr.Blocks:
    """The app; `reports_dir` (default: the folder the index was built from) serves downloads;
    with `users`, reviewing needs a supervisor or admin login (see ui/users.py); `settings`
    (default: from the environment) open the pipeline again after an upload. Without
    `users`, the server is read-only (no upload, no review) unless `anonymous_edits`: the
    refusal is on the server, whatever the page shows. `access` records who made which
    export, for the HTTP guard of `serve_options` (one per server). `live`: the pipeline the
    app answers with, shared with the server's other front ends (default: a new one)."""
    live = live or Live(pipeline)
    access = access or Access()
    ctx = Context.of(
        live,
        ReviewDesk(audit_path, users, anonymous_edits, access),
        access,
        Path(reports_dir or pipeline.index.manifest.reports_dir or "."),
        users=users,
        settings=settings,
        index_dir=index_dir,
        anonymous_edits=anonymous_edits,
    )

    def api_ask(
        question: str,
        place: str = "",
        year: int | str = 0,
        report: str = "",
        history: list[dict[str, str]] | None = None,
    ) -> dict:
        """The JSON of `rag ask --json` for one question; `history`: earlier turns, oldest
        first, as [{"question": …, "answer": …}] (a follow-up is rewritten from them)."""
        return filtered(
            lambda asked: ask_json(live.pipeline, question, asked, history), place, year, report
        )

    def api_check(text: str, place: str = "", year: int | str = 0, report: str = "") -> dict:
        """The JSON of `rag check --json`: 核稿 of `text` against the reports, claim by claim
        (supported / contradicted / not_found / not_a_claim, each with its report spans)."""
        return filtered(lambda asked: check_json(live.pipeline, text, asked), place, year, report)

    with gr.Blocks(title="法治政府建设报告问答") as demo:
        gr.Markdown("## 法治政府建设报告问答\n回答中的 [n] 指向右侧的引用原文；核查页可逐句审核。")
        turns = gr.State([])
        answers = gr.State([])
        asking = ask.layout(ctx)
        reviewing = verify.layout(ctx)
        checking = check.layout(ctx)
        listing = reports.layout(ctx)
        summing = county.layout(ctx)
        ask.wire(ctx, asking, turns, answers, reviewing.review)
        verify.wire(ctx, reviewing, answers)
        check.wire(ctx, checking, [asking.place_f, asking.year_f, asking.report_f])
        reports.wire(ctx, listing)
        county.wire(ctx, summing, [asking.place_f, asking.year_f, asking.report_f])
        gr.api(api_ask, api_name="ask")
        gr.api(api_check, api_name="check")
    return demo


def login_checker(users: dict[str, User]) -> Callable[[str, str], bool]:
    def login(name: str, password: str) -> bool:
        user = users.get(name)
        return user is not None and check_password(password, user.password)

    return login


def serve_options(
    access: Access, users: dict[str, User] | None, allowed: list[str] | None = None
) -> dict[str, Any]:
    """`Blocks.launch` arguments every server uses: login (when there are users) with
    throttling, upload size refused at the HTTP layer, exports kept to their maker."""
    from starlette.middleware import Middleware

    return {
        "share": False,
        "allowed_paths": allowed,
        "auth": login_checker(users) if users else None,
        "auth_message": "法治政府建设报告问答：请登录",
        "max_file_size": f"{UPLOAD_MAX_MB:g}mb",
        "css": CSS,
        "footer_links": [],  # Gradio's footer is English ("Use via API", "Built with Gradio")
        "app_kwargs": {"middleware": [Middleware(Guard, access=access, login=bool(users))]},
    }


def launch(
    pipeline: Pipeline,
    settings: Settings,
    audit_path: Path,
    host: str,
    port: int,
    users: dict[str, User] | None = None,
    anonymous_edits: bool = False,
) -> None:
    """`rag serve`: the UI, /v1 (OpenAI-compatible) and /mcp on one port, until interrupted."""
    from ui.server import make_app, run

    access, live = Access(), Live(pipeline)
    demo = build_app(
        pipeline,
        audit_path,
        users=users,
        settings=settings,
        anonymous_edits=anonymous_edits,
        access=access,
        live=live,
    )
    options = serve_options(access, users)  # report files: ui/server.py /report-file
    app = make_app(demo, lambda: live.pipeline, users, options, host)
    run(app, host, port, settings.trusted_proxies)
