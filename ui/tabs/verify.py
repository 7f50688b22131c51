"""The 核查 tab: an answer's claims one by one, approved or rejected by a reviewer (on the
server: ui/review.py), the conversation exported with the review log, past decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.review import CLAIM_HEADERS, HISTORY_HEADERS
from ui.tabs.context import Context


@dataclass
class VerifyTab:
    pick: Any
    picked_q: Any
    claims: Any
    claim_no: Any
    reviewer: Any
    comment: Any
    approve: Any
    reject: Any
    audit_msg: Any
    export_fmt: Any
    export_btn: Any
    export_file: Any
    hist_reviewer: Any
    hist_decision: Any
    hist_report: Any
    hist_btn: Any
    hist_table: Any

    @property
    def review(self) -> list[Any]:
        """What an answer fills here: the claims table, the picker and the question."""
        return [self.claims, self.pick, self.picked_q]


def layout(ctx: Context) -> VerifyTab:
    with gr.Tab("核查", elem_id="verify-tab"):
        with gr.Row():
            pick = gr.Dropdown(
                [], label="要核查的回答", elem_id="answer-pick", type="value", scale=1
            )
            picked_q = gr.Textbox(
                label="问题", interactive=False, elem_id="picked-question", scale=2
            )
        claims = gr.Dataframe(
            headers=CLAIM_HEADERS,
            interactive=False,
            wrap=True,
            elem_id="claims",
            column_widths=["5%", "35%", "10%", "10%", "15%", "25%"],
        )
        with gr.Row():
            claim_no = gr.Number(
                label="句子编号（点击上表的一行即选中）",
                precision=0,
                value=1,
                minimum=1,
                elem_id="claim-no",
            )
            reviewer = gr.Textbox(label="核查人", elem_id="reviewer")
            comment = gr.Textbox(label="意见", elem_id="comment")
        with gr.Row():
            approve = gr.Button("通过", variant="primary", elem_id="approve")
            reject = gr.Button("驳回", variant="stop", elem_id="reject")
        audit_msg = gr.Textbox(label="审核结果", interactive=False, elem_id="audit-msg")
        with gr.Row():
            export_fmt = gr.Radio(
                [("Word（批注中引用原文）", ".docx"), ("Excel（每条引用一行）", ".xlsx"),
                 ("Markdown（含审核记录）", ".md")],
                value=".docx",
                label="导出格式",
                elem_id="export-format",
            )  # fmt: skip
            export_btn = gr.Button("导出对话", elem_id="export")
        export_file = gr.File(label="导出文件", elem_id="export-file")
        with gr.Accordion("历史审核记录", open=False, elem_id="history"):
            with gr.Row():
                hist_reviewer = gr.Textbox(label="核查人")
                hist_decision = gr.Dropdown(
                    [("全部", ""), ("通过", "approve"), ("驳回", "reject")],
                    value="",
                    label="决定",
                )
                hist_report = gr.Dropdown(
                    [("全部", ""), *ctx.report_choices], value="", label="报告"
                )
                hist_btn = gr.Button("查询", elem_id="history-btn")
            hist_table = gr.Dataframe(
                headers=HISTORY_HEADERS, interactive=False, wrap=True, elem_id="history-table"
            )
    return VerifyTab(
        pick, picked_q, claims, claim_no, reviewer, comment, approve, reject, audit_msg,
        export_fmt, export_btn, export_file, hist_reviewer, hist_decision, hist_report, hist_btn, hist_table,
    )  # fmt: skip


def wire(ctx: Context, tab: VerifyTab, answers: Any) -> None:
    desk = ctx.desk
    tab.pick.input(
        desk.show_answer,
        [answers, tab.pick],
        [tab.claims, tab.picked_q, tab.claim_no],
        api_visibility="private",
    )
    tab.claims.select(desk.select_claim, None, tab.claim_no, api_visibility="private")
    tab.hist_btn.click(
        desk.past_decisions,
        [tab.hist_reviewer, tab.hist_decision, tab.hist_report],
        tab.hist_table,
        api_visibility="private",
    )
    decision = [answers, tab.pick, tab.claim_no, tab.reviewer, tab.comment]
    tab.approve.click(desk.approve_claim, decision, tab.audit_msg, api_visibility="private")
    tab.reject.click(desk.reject_claim, decision, tab.audit_msg, api_visibility="private")

    def export(answers: list[Any], fmt: str, request: gr.Request) -> str | None:
        return desk.export(answers, fmt, request)

    tab.export_btn.click(
        export, [answers, tab.export_fmt], tab.export_file, api_visibility="private"
    )
