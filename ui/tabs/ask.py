"""The 问答 tab: the chat with cited answers streaming in, the sources beside them, the
filters (report, place, year) and their chips."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.answer.converse import Turn
from rag.errors import RagError
from rag.pipeline import AskOptions, Pipeline
from rag.request import parse_filters, resolve
from rag.types import Answer
from ui.render import filter_chips, sources_html, status_line
from ui.review import answer_choices, claims_frame
from ui.tabs.context import Context, as_text

EXAMPLES = [
    "瓦屋镇2023年开展了多少场法治宣传活动？",
    "哪些镇设立了调解室？",
    "对比水口镇和峡口镇的执法培训",
    "水口镇2024年对执法人员进行了多少次执法培训？",
    "峡口镇存在哪些不足？",
]
KEEP = (gr.skip(), gr.skip())  # the review desk's answer picker and question, unchanged


def options(
    pipeline: Pipeline, place: str, years: list[Any] | None, reports: list[str] | None
) -> AskOptions:
    """The tab's filters (several years or reports may be picked), by the one request model
    (rag/request.py)."""
    return resolve(pipeline, parse_filters(place, years or (), reports or ()))[0]


@dataclass
class AskTab:
    chat: Any
    status: Any
    sources: Any
    question: Any
    chips: Any
    send: Any
    clear: Any
    report_f: Any
    place_f: Any
    year_f: Any
    export_btn: Any
    export_file: Any


def layout(ctx: Context) -> AskTab:
    pipeline = ctx.live.pipeline
    with gr.Tab("问答"):
        # the answer and its sources side by side; on a phone the row wraps and the
        # sources come right after the answer, before the question box
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                chat = gr.Chatbot(label="对话", render_markdown=False, height=460, elem_id="chat")
                status = gr.Textbox(
                    label="状态",
                    interactive=False,
                    elem_id="status",
                    value="回答方式："
                    + (pipeline.mode if pipeline.generative else "抽取式（未使用大模型）"),
                )
            with gr.Column(scale=2, min_width=340):
                sources = gr.HTML(
                    "<p>引用的原文会显示在这里。</p>", label="引用来源", elem_id="sources"
                )
        question = gr.Textbox(
            label="问题",
            placeholder=EXAMPLES[0],
            elem_id="question",
            max_length=pipeline.knobs.max_question_chars,
        )
        chips = gr.HTML("", elem_id="filter-chips")
        with gr.Row():
            send = gr.Button("提问", variant="primary", elem_id="send")
            clear = gr.Button("清空对话（含筛选）", elem_id="clear")
            export_btn = gr.Button("下载最新回答（Word，批注中引用原文）", elem_id="answer-export")
        export_file = gr.File(label="回答文件", elem_id="answer-export-file")
        gr.Examples(EXAMPLES, inputs=question, label="示例问题")
        with gr.Accordion("筛选", open=False):
            report_f = gr.Dropdown(ctx.report_choices, multiselect=True, label="报告")
            place_f = gr.Textbox(label="地方（多个用逗号分隔）", elem_id="place-filter")
            year_f = gr.Dropdown(ctx.years, multiselect=True, label="年份")
    return AskTab(
        chat, status, sources, question, chips, send, clear, report_f, place_f, year_f,
        export_btn, export_file,
    )  # fmt: skip


def responder(ctx: Context) -> Callable[..., Iterator[tuple[Any, ...]]]:
    """The handler of a question: the answer streams into the chat; then its sources, its
    claims for the 核查 tab, and the answer added to the desk's picker."""
    live = ctx.live

    def respond(
        question: str,
        messages: list[dict[str, str]],
        turns: list[Turn],
        answers: list[Answer],
        place: str,
        years_: list[Any],
        reports_: list[str],
    ) -> Iterator[tuple[Any, ...]]:
        question = (question or "").strip()
        if not question:
            yield messages, "请输入问题", gr.skip(), gr.skip(), turns, answers, question, *KEEP
            return
        messages = [
            *messages,
            {"role": "user", "content": as_text(question)},
            {"role": "assistant", "content": ""},
        ]
        text, answer = "", None
        try:
            opts = options(live.pipeline, place, years_, reports_)
            for event in live.pipeline.stream(question, turns, opts):
                if event.kind == "rewritten" and event.text != question:
                    status = f"改写后的问题：{event.text}"
                    yield messages, status, gr.skip(), gr.skip(), turns, answers, "", *KEEP
                elif event.kind == "token":
                    text += event.text
                    messages[-1] = {"role": "assistant", "content": as_text(text)}
                    yield messages, gr.skip(), gr.skip(), gr.skip(), turns, answers, "", *KEEP
                elif event.answer is not None:
                    answer = event.answer
        except RagError as e:
            messages[-1] = {"role": "assistant", "content": as_text(f"出错：{e}")}
            yield messages, f"出错：{e}", gr.skip(), gr.skip(), turns, answers, "", *KEEP
            return
        assert answer is not None
        messages[-1] = {"role": "assistant", "content": as_text(answer.text)}
        turns = [*turns, Turn(answer.question, answer.rewritten, answer.text)]
        answers = [*answers, answer]
        yield (
            messages,
            status_line(answer),
            sources_html(answer, live.pipeline.reports, ctx.section_of, ctx.download_of),
            claims_frame(answer),
            turns,
            answers,
            "",
            gr.update(choices=answer_choices(answers), value=len(answers) - 1),
            answer.question,
        )

    return respond


def wire(ctx: Context, tab: AskTab, turns: Any, answers: Any, review: list[Any]) -> None:
    """The tab's events; `review`: the 核查 tab's claims table, answer picker and question,
    which an answer fills."""
    claims, pick, picked_q = review
    inputs = [tab.question, tab.chat, turns, answers, tab.place_f, tab.year_f, tab.report_f]
    outputs = [tab.chat, tab.status, tab.sources, claims, turns, answers, tab.question, pick,
               picked_q]  # fmt: skip
    respond = responder(ctx)
    tab.send.click(respond, inputs, outputs, api_visibility="private")
    tab.question.submit(respond, inputs, outputs, api_visibility="private")
    tab.clear.click(
        lambda: (
            [], [], [], "对话和筛选已清空", "<p></p>", [], [], "", [], "",
            gr.update(choices=[], value=None), "",
        ),
        None,
        [tab.chat, turns, answers, tab.status, tab.sources, claims, tab.report_f, tab.place_f,
         tab.year_f, tab.chips, pick, picked_q],
        api_visibility="private",
    )  # fmt: skip

    def export(answers: list[Answer], request: gr.Request) -> str | None:
        """The latest answer as Word, each sentence's proof in a comment (rag/export.py)."""
        return ctx.desk.export(answers[-1:], ".docx", request)

    tab.export_btn.click(export, answers, tab.export_file, api_visibility="private")
    for box in (tab.report_f, tab.place_f, tab.year_f):
        box.change(
            lambda p, y, r: filter_chips(p, y, r, ctx.titles),
            [tab.place_f, tab.year_f, tab.report_f],
            tab.chips,
            api_visibility="private",
        )
