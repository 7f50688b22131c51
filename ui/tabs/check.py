"""The 核稿 tab: a draft (pasted or uploaded) checked claim by claim under the question
tab's filters, and a reviewer's decision on each verdict."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.factory import read_report
from ui.render import check_html
from ui.service import check_json, filtered
from ui.tabs.context import Context


@dataclass
class CheckTab:
    draft: Any
    draft_file: Any
    check_btn: Any
    check_out: Any
    checked: Any
    check_no: Any
    check_reviewer: Any
    check_comment: Any
    check_approve: Any
    check_reject: Any
    check_msg: Any
    export_fmt: Any
    export_btn: Any
    export_file: Any


def layout(ctx: Context) -> CheckTab:
    with gr.Tab("核稿", elem_id="check-tab"):
        gr.Markdown("把草稿或大模型的回答贴在下面（或上传文件），逐句与报告核对。")
        draft = gr.Textbox(label="要核对的文字", lines=8, elem_id="draft")
        draft_file = gr.File(
            label="或上传文件（.txt、.docx、.pdf、.ofd 等）",
            file_types=[".txt", ".md", ".docx", ".pdf", ".ofd", ".html", ".htm"],
            type="filepath",
            elem_id="draft-file",
        )
        check_btn = gr.Button("逐句核对", variant="primary", elem_id="check-btn")
        check_out = gr.HTML("", elem_id="check-out")
        checked = gr.State(None)
        with gr.Row():
            check_no = gr.Number(
                label="第几句", precision=0, value=1, minimum=1, elem_id="check-no"
            )
            check_reviewer = gr.Textbox(label="核查人", elem_id="check-reviewer")
            check_comment = gr.Textbox(label="意见", elem_id="check-comment")
        with gr.Row():
            check_approve = gr.Button("同意结论", variant="primary", elem_id="check-approve")
            check_reject = gr.Button("不同意结论", variant="stop", elem_id="check-reject")
        check_msg = gr.Textbox(label="审核结果", interactive=False, elem_id="check-msg")
        with gr.Row():
            export_fmt = gr.Radio(
                [("Word（批注中引用原文）", ".docx"), ("Excel（每条引用一行）", ".xlsx")],
                value=".docx",
                label="导出格式",
                elem_id="check-export-format",
            )
            export_btn = gr.Button("导出核稿结果", elem_id="check-export")
        export_file = gr.File(label="导出文件", elem_id="check-export-file")
    return CheckTab(
        draft, draft_file, check_btn, check_out, checked, check_no, check_reviewer,
        check_comment, check_approve, check_reject, check_msg, export_fmt, export_btn,
        export_file,
    )  # fmt: skip


def checker(ctx: Context) -> Callable[..., tuple[str, dict[str, Any] | None]]:
    def check_draft(
        text: str, file: str | None, place: str, years: list[Any], reports_: list[str]
    ) -> tuple[str, dict[str, Any] | None]:
        """The pasted text (or the uploaded file's), checked claim by claim under the question
        tab's filters; the table and the result (with the text) to review."""
        if file:  # read as `rag index` reads it: in a child process, under the read limits
            try:
                text = read_report(Path(file), ctx.settings).text
            except (OSError, RagError) as e:
                return f"<p>读不了这个文件：{html.escape(str(e))}</p>", None
        result = filtered(
            lambda asked: check_json(ctx.live.pipeline, text or "", asked), place, years, reports_
        )
        if "error" in result:
            return f"<p>{html.escape(result['error'])}</p>", None
        return check_html(result, ctx.live.pipeline.reports), {**result, "text": text}

    return check_draft


def wire(ctx: Context, tab: CheckTab, filters: list[Any]) -> None:
    """`filters`: the question tab's place, year and report boxes."""
    tab.check_btn.click(
        checker(ctx), [tab.draft, tab.draft_file, *filters], [tab.check_out, tab.checked],
        api_visibility="private",
    )  # fmt: skip
    review = [tab.checked, tab.check_no, tab.check_reviewer, tab.check_comment]
    desk = ctx.desk
    tab.check_approve.click(desk.approve_check, review, tab.check_msg, api_visibility="private")
    tab.check_reject.click(desk.reject_check, review, tab.check_msg, api_visibility="private")

    def export(checked: dict[str, Any] | None, fmt: str, request: gr.Request) -> str | None:
        return desk.export_check(checked, fmt, ctx.live.pipeline.reports, request)

    tab.export_btn.click(
        export, [tab.checked, tab.export_fmt], tab.export_file, api_visibility="private"
    )
