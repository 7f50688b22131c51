"""The Gradio app: chat with cited answers, sources panel, verification view, reports list.

Report text and model output are shown as text: the sources panel escapes every string
(ui/render.py) and the chat renders no Markdown or HTML.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag.converse import Turn  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.pipeline import AskOptions, Pipeline  # noqa: E402
from rag.types import Answer  # noqa: E402
from ui import audit  # noqa: E402
from ui.render import answer_markdown, claim_rows, sources_html, status_line  # noqa: E402

logger = logging.getLogger(__name__)

EXAMPLES = [
    "瓦屋镇2023年开展了多少场法治宣传活动？",
    "哪些镇设立了调解室？",
    "对比水口镇和峡口镇的执法培训",
    "水口镇2024年对执法人员进行了多少次执法培训？",
    "峡口镇存在哪些不足？",
]
CLAIM_HEADERS = ["#", "陈述", "核查结果", "未找到的数字", "理由", "引用原文"]


def as_text(text: str) -> str:
    """Chat messages are rendered as HTML by the browser: escape them so markup shows as text."""
    return html.escape(text, quote=False)


def _options(place: str, years: list[Any] | None, reports: list[str] | None) -> AskOptions:
    return AskOptions(
        places=tuple(p for p in (place or "").replace("，", ",").split(",") if p.strip()),
        years=tuple(int(y) for y in years or ()),
        reports=tuple(reports or ()),
    )


def build_app(pipeline: Pipeline, audit_path: Path) -> gr.Blocks:
    reports = pipeline.reports
    report_choices = [(f"{r.meta.title}（{s}）", s) for s, r in reports.items()]
    years = sorted({r.meta.year for r in reports.values() if r.meta.year})

    def respond(
        question: str,
        messages: list[dict[str, str]],
        turns: list[Turn],
        answers: list[Answer],
        place: str,
        years_: list[Any],
        reports_: list[str],
    ):  # type: ignore[no-untyped-def]
        question = (question or "").strip()
        if not question:
            yield messages, "请输入问题", gr.skip(), gr.skip(), turns, answers, question
            return
        messages = [
            *messages,
            {"role": "user", "content": as_text(question)},
            {"role": "assistant", "content": ""},
        ]
        text, answer = "", None
        try:
            for event in pipeline.stream(question, turns, _options(place, years_, reports_)):
                if event.kind == "rewritten" and event.text != question:
                    yield (
                        messages,
                        f"改写后的问题：{event.text}",
                        gr.skip(),
                        gr.skip(),
                        turns,
                        answers,
                        "",
                    )
                elif event.kind == "token":
                    text += event.text
                    messages[-1] = {"role": "assistant", "content": as_text(text)}
                    yield messages, gr.skip(), gr.skip(), gr.skip(), turns, answers, ""
                elif event.answer is not None:
                    answer = event.answer
        except RagError as e:
            messages[-1] = {"role": "assistant", "content": as_text(f"出错：{e}")}
            yield messages, f"出错：{e}", gr.skip(), gr.skip(), turns, answers, ""
            return
        assert answer is not None
        messages[-1] = {"role": "assistant", "content": as_text(answer.text)}
        turns = [*turns, Turn(answer.question, answer.rewritten, answer.text)]
        answers = [*answers, answer]
        yield (
            messages,
            status_line(answer),
            sources_html(answer, reports),
            claim_rows(answer),
            turns,
            answers,
            "",
        )

    def decide(
        decision: str, answers: list[Answer], claim: float | None, reviewer: str, comment: str
    ) -> str:
        if not answers:
            return "还没有可核查的回答"
        try:
            entry = audit.record(
                audit_path, answers[-1], int(claim or 0), decision, reviewer, comment
            )
        except ValueError as e:
            return f"未记录：{e}"
        return f"已记录：{entry['reviewer']} {entry['decision']} 第{int(claim or 0)}句（{entry['time']}）"

    def export(answers: list[Answer]) -> str | None:
        if not answers:
            return None
        path = audit_path.parent / "exports" / f"conversation-{len(answers)}-{os.getpid()}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(answer_markdown(a) for a in answers), encoding="utf-8")
        return str(path)

    def api_ask(question: str, place: str = "", year: int = 0, report: str = "") -> dict:
        """The JSON of `rag ask --json` for one question."""
        opts = _options(place, [year] if year else [], [report] if report else [])
        return pipeline.ask(question, (), opts).to_dict()

    with gr.Blocks(title="法治政府建设报告问答") as demo:
        gr.Markdown("## 法治政府建设报告问答\n回答中的 [n] 指向右侧的引用原文；核查页可逐句审核。")
        turns = gr.State([])
        answers = gr.State([])
        with gr.Tab("问答"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="对话", render_markdown=False, height=460, elem_id="chat")
                status = gr.Textbox(
                    label="状态",
                    interactive=False,
                    elem_id="status",
                    value=f"回答方式：{'抽取式（未使用大模型）' if pipeline.llm is None else pipeline.mode}",
                )
                question = gr.Textbox(label="问题", placeholder=EXAMPLES[0], elem_id="question")
                with gr.Row():
                    send = gr.Button("提问", variant="primary", elem_id="send")
                    clear = gr.Button("清空对话")
                gr.Examples(EXAMPLES, inputs=question, label="示例问题")
                with gr.Accordion("筛选", open=False):
                    report_f = gr.Dropdown(report_choices, multiselect=True, label="报告")
                    place_f = gr.Textbox(label="地方（多个用逗号分隔）")
                    year_f = gr.Dropdown(years, multiselect=True, label="年份")
            with gr.Column(scale=2):
                sources = gr.HTML(
                    "<p>引用的原文会显示在这里。</p>", label="引用来源", elem_id="sources"
                )
        with gr.Tab("核查", elem_id="verify-tab"):
            claims = gr.Dataframe(
                headers=CLAIM_HEADERS,
                interactive=False,
                wrap=True,
                elem_id="claims",
                column_widths=["5%", "35%", "10%", "10%", "15%", "25%"],
            )
            with gr.Row():
                claim_no = gr.Number(label="句子编号 #", precision=0, value=0, elem_id="claim-no")
                reviewer = gr.Textbox(label="核查人", elem_id="reviewer")
                comment = gr.Textbox(label="意见", elem_id="comment")
            with gr.Row():
                approve = gr.Button("通过", variant="primary", elem_id="approve")
                reject = gr.Button("驳回", variant="stop", elem_id="reject")
            audit_msg = gr.Textbox(label="审核记录", interactive=False, elem_id="audit-msg")
            export_btn = gr.Button("导出对话（Markdown）")
            export_file = gr.File(label="导出文件")
        with gr.Tab("报告"):
            gr.Dataframe(
                [
                    [
                        s,
                        r.meta.title,
                        r.meta.issuer or "",
                        r.meta.year or "",
                        r.meta.published or "",
                    ]
                    for s, r in reports.items()
                ],
                headers=["文件", "标题", "发布机构", "年份", "发布日期"],
                interactive=False,
            )
        inputs = [question, chat, turns, answers, place_f, year_f, report_f]
        outputs = [chat, status, sources, claims, turns, answers, question]
        send.click(respond, inputs, outputs, api_visibility="private")
        question.submit(respond, inputs, outputs, api_visibility="private")
        clear.click(
            lambda: ([], [], [], "对话已清空", "<p></p>", []),
            None,
            [chat, turns, answers, status, sources, claims],
            api_visibility="private",
        )
        approve.click(
            lambda *a: decide("approve", *a),
            [answers, claim_no, reviewer, comment],
            audit_msg,
            api_visibility="private",
        )
        reject.click(
            lambda *a: decide("reject", *a),
            [answers, claim_no, reviewer, comment],
            audit_msg,
            api_visibility="private",
        )
        export_btn.click(export, answers, export_file, api_visibility="private")
        gr.api(api_ask, api_name="ask")
    return demo


def launch(pipeline: Pipeline, audit_path: Path, host: str, port: int) -> None:
    demo = build_app(pipeline, audit_path)
    demo.queue(default_concurrency_limit=8).launch(
        server_name=host, server_port=port, share=False, show_error=True
    )
