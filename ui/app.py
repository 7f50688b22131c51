"""The Gradio app: chat with cited answers, sources panel, verification view, reports list.

Report text and model output are shown as text: the sources panel escapes every string
(ui/render.py) and the chat renders no Markdown or HTML.
"""

from __future__ import annotations

import html
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.converse import Turn  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.factory import open_pipeline  # noqa: E402
from rag.ingest import read_text  # noqa: E402
from rag.pipeline import AskOptions, Pipeline  # noqa: E402
from rag.request import parse_filters, resolve  # noqa: E402
from rag.types import Answer, Chunk, Citation  # noqa: E402
from ui.guard import Access, Guard  # noqa: E402
from ui.render import (  # noqa: E402
    check_html,
    filter_chips,
    report_link,
    sources_html,
    status_line,
)
from ui.review import (  # noqa: E402
    CLAIM_HEADERS,
    HISTORY_HEADERS,
    READ_ONLY,
    ReviewDesk,
    answer_choices,
    claims_frame,
)
from ui.service import ask_json, check_json, filtered  # noqa: E402
from ui.upload import ALLOWED, add_report  # noqa: E402
from ui.users import User, check_password  # noqa: E402

logger = logging.getLogger(__name__)

EXAMPLES = [
    "瓦屋镇2023年开展了多少场法治宣传活动？",
    "哪些镇设立了调解室？",
    "对比水口镇和峡口镇的执法培训",
    "水口镇2024年对执法人员进行了多少次执法培训？",
    "峡口镇存在哪些不足？",
]
KEEP = (gr.skip(), gr.skip())  # the review desk's answer picker and question, unchanged


def as_text(text: str) -> str:
    """Chat messages are rendered as HTML by the browser: escape them so markup shows as text."""
    return html.escape(text, quote=False)


def _options(
    pipeline: Pipeline, place: str, years: list[Any] | None, reports: list[str] | None
) -> AskOptions:
    """The question tab's filters (several years or reports may be picked), by the one
    request model (rag/request.py)."""
    return resolve(pipeline, parse_filters(place, years or (), reports or ()))[0]


UPLOAD_MAX_MB = 20.0
STAGE_ZH = {"read": "读取文件", "embed": "计算向量", "sentences": "计算句子向量"}
REPORT_HEADERS = [
    "文件", "标题", "发布机构", "地方", "年份", "发布日期", "成文日期", "索引号", "文号", "段数",
]  # fmt: skip
# the whole table fits a 1366 px screen: long cells (titles, 索引号) wrap inside their column
REPORT_WIDTHS = ["13%", "22%", "11%", "12%", "5%", "8%", "8%", "10%", "6%", "5%"]
SYNTHESIZED = "＊"  # the file has no title line: the title was composed from its metadata


def report_rows(pipeline: Pipeline) -> list[list[Any]]:
    manifest = pipeline.index.manifest.reports
    rows = []
    for s, r in pipeline.reports.items():
        m = r.meta
        entry = manifest.get(s)
        rows.append(
            [
                s,
                m.title + (SYNTHESIZED if m.title_synthesized else ""),
                m.issuer or "",
                " ".join(m.places.names()),
                m.year or "",
                m.published or "",
                m.written or "",
                m.index_no or "",
                m.doc_no or "",
                entry.chunks if entry else "",
            ]
        )
    return rows


class Live:
    """The pipeline the app answers with; replaced whole when an upload updates the index."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.swap(pipeline)

    def swap(self, pipeline: Pipeline) -> None:
        spans = section_spans(pipeline.index.chunks)
        self.pipeline, self.spans = pipeline, spans  # one assignment: readers see old or new


def section_spans(chunks: list[Chunk]) -> dict[tuple[str, str], tuple[int, int]]:
    """(source, section path) -> span of the report covering every chunk under that path."""
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for c in chunks:
        for depth in range(1, len(c.section) + 1):
            key = (c.source, " > ".join(c.section[:depth]))
            a, b = spans.get(key, (c.start, c.end))
            spans[key] = (min(a, c.start), max(b, c.end))
    return spans


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
    desk = ReviewDesk(audit_path, users, anonymous_edits, access)
    reports = pipeline.reports
    folder = Path(reports_dir or pipeline.index.manifest.reports_dir or ".")

    def section_of(c: Citation) -> tuple[int, int] | None:
        """The smallest section around the cited passage that is larger than the passage."""
        parts = c.section.split(" > ") if c.section else []
        for depth in range(len(parts), 0, -1):
            span = live.spans.get((c.source, " > ".join(parts[:depth])))
            if span and (span[0] < c.start or span[1] > c.end):
                return span
        return None

    def download_of(source: str) -> str | None:
        # a link by file name (ui/server.py serves it): never the server's path
        return report_link(source) if (folder / source).is_file() else None

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
            yield messages, "请输入问题", gr.skip(), gr.skip(), turns, answers, question, *KEEP
            return
        messages = [
            *messages,
            {"role": "user", "content": as_text(question)},
            {"role": "assistant", "content": ""},
        ]
        text, answer = "", None
        try:
            opts = _options(live.pipeline, place, years_, reports_)
            for event in live.pipeline.stream(question, turns, opts):
                if event.kind == "rewritten" and event.text != question:
                    yield (
                        messages,
                        f"改写后的问题：{event.text}",
                        gr.skip(),
                        gr.skip(),
                        turns,
                        answers,
                        "",
                        *KEEP,
                    )
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
            sources_html(answer, live.pipeline.reports, section_of, download_of),
            claims_frame(answer),
            turns,
            answers,
            "",
            gr.update(choices=answer_choices(answers), value=len(answers) - 1),
            answer.question,
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

    def check_draft(
        text: str, file: str | None, place: str, years: list[Any], reports_: list[str]
    ) -> tuple[str, dict[str, Any] | None]:
        """The 核稿 tab: the pasted text (or the uploaded file's), checked claim by claim under
        the question tab's filters; the table and the result (with the text) to review."""
        if file:
            try:
                text = read_text(Path(file)).text
            except (OSError, RagError) as e:
                return f"<p>读不了这个文件：{html.escape(str(e))}</p>", None
        result = filtered(
            lambda asked: check_json(live.pipeline, text or "", asked), place, years, reports_
        )
        if "error" in result:
            return f"<p>{html.escape(result['error'])}</p>", None
        return check_html(result, live.pipeline.reports), {**result, "text": text}

    def upload(file: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        if users is not None:
            user = users.get(getattr(request, "username", None) or "")
            if user is None or not user.can("upload"):
                yield "只有管理员（admin）可以上传报告", gr.skip()
                return
        elif not anonymous_edits:
            yield READ_ONLY, gr.skip()
            return
        if not file:
            yield "请选择文件", gr.skip()
            return
        s = settings or Settings()
        target = index_dir or live.pipeline.index.folder.parent.parent  # builds/<id>
        steps: list[str] = []
        done: dict[str, Any] = {}

        def work() -> None:
            try:
                done["summary"] = add_report(
                    Path(file),
                    Path(file).name,
                    s,
                    folder,
                    target,
                    UPLOAD_MAX_MB,
                    lambda stage, i, n: steps.append(f"{STAGE_ZH.get(stage, stage)} {i}/{n}"),
                )
                live.swap(open_pipeline(s, target))
            except RagError as e:
                done["error"] = str(e)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        while worker.is_alive():  # progress while the index is updated; chat keeps answering
            worker.join(0.5)
            yield f"正在加入索引：{steps[-1] if steps else '读取文件'}", gr.skip()
        if "error" in done:
            yield f"未加入：{done['error']}", gr.skip()
            return
        summary = done["summary"]
        yield (
            f"已加入：{Path(file).name}（共 {summary.reports} 份报告、{summary.chunks} 段；"
            f"新增或变化 {len(summary.new_reports)} 份）",
            report_rows(live.pipeline),
        )

    with gr.Blocks(title="法治政府建设报告问答") as demo:
        gr.Markdown("## 法治政府建设报告问答\n回答中的 [n] 指向右侧的引用原文；核查页可逐句审核。")
        turns = gr.State([])
        answers = gr.State([])
        with gr.Tab("问答"):
            # the answer and its sources side by side; on a phone the row wraps and the
            # sources come right after the answer, before the question box
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=340):
                    chat = gr.Chatbot(
                        label="对话", render_markdown=False, height=460, elem_id="chat"
                    )
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
                max_length=live.pipeline.knobs.max_question_chars,
            )
            chips = gr.HTML("", elem_id="filter-chips")
            with gr.Row():
                send = gr.Button("提问", variant="primary", elem_id="send")
                clear = gr.Button("清空对话（含筛选）", elem_id="clear")
            gr.Examples(EXAMPLES, inputs=question, label="示例问题")
            with gr.Accordion("筛选", open=False):
                report_f = gr.Dropdown(report_choices, multiselect=True, label="报告")
                place_f = gr.Textbox(label="地方（多个用逗号分隔）", elem_id="place-filter")
                year_f = gr.Dropdown(years, multiselect=True, label="年份")
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
            export_btn = gr.Button("导出对话（含审核记录，.md 文件）", elem_id="export")
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
                        [("全部", ""), *report_choices], value="", label="报告"
                    )
                    hist_btn = gr.Button("查询", elem_id="history-btn")
                hist_table = gr.Dataframe(
                    headers=HISTORY_HEADERS, interactive=False, wrap=True, elem_id="history-table"
                )
        with gr.Tab("核稿", elem_id="check-tab"):
            gr.Markdown("把草稿或大模型的回答贴在下面（或上传 .txt/.docx），逐句与报告核对。")
            draft = gr.Textbox(label="要核对的文字", lines=8, elem_id="draft")
            draft_file = gr.File(
                label="或上传文件（.txt、.docx）",
                file_types=[".txt", ".docx"],
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
        with gr.Tab("报告"):
            report_table = gr.Dataframe(
                report_rows(pipeline),
                headers=REPORT_HEADERS,
                interactive=False,
                wrap=True,
                column_widths=REPORT_WIDTHS,
                elem_id="reports",
            )
            gr.Markdown(f"{SYNTHESIZED} 报告文件中没有标题，标题由发布机构、年份等信息生成。")
            with gr.Accordion("上传报告（管理员）", open=False):
                upload_file = gr.File(
                    label=f"报告文件（{'、'.join(ALLOWED)}，不超过 {UPLOAD_MAX_MB:g} MB）",
                    file_types=list(ALLOWED),
                    type="filepath",
                    elem_id="upload",
                )
                upload_btn = gr.Button("加入索引", elem_id="upload-btn")
                upload_msg = gr.Textbox(label="进度", interactive=False, elem_id="upload-msg")
        inputs = [question, chat, turns, answers, place_f, year_f, report_f]
        outputs = [chat, status, sources, claims, turns, answers, question, pick, picked_q]
        send.click(respond, inputs, outputs, api_visibility="private")
        question.submit(respond, inputs, outputs, api_visibility="private")
        clear.click(
            lambda: (
                [], [], [], "对话和筛选已清空", "<p></p>", [], [], "", [], "",
                gr.update(choices=[], value=None), "",
            ),
            None,
            [chat, turns, answers, status, sources, claims, report_f, place_f, year_f, chips,
             pick, picked_q],
            api_visibility="private",
        )  # fmt: skip
        pick.input(
            desk.show_answer,
            [answers, pick],
            [claims, picked_q, claim_no],
            api_visibility="private",
        )
        claims.select(desk.select_claim, None, claim_no, api_visibility="private")
        hist_btn.click(
            desk.past_decisions,
            [hist_reviewer, hist_decision, hist_report],
            hist_table,
            api_visibility="private",
        )
        titles = {s: r.meta.title for s, r in reports.items()}
        for box in (report_f, place_f, year_f):
            box.change(
                lambda p, y, r: filter_chips(p, y, r, titles),
                [place_f, year_f, report_f],
                chips,
                api_visibility="private",
            )
        approve.click(
            desk.approve_claim,
            [answers, pick, claim_no, reviewer, comment],
            audit_msg,
            api_visibility="private",
        )
        reject.click(
            desk.reject_claim,
            [answers, pick, claim_no, reviewer, comment],
            audit_msg,
            api_visibility="private",
        )
        export_btn.click(desk.export, answers, export_file, api_visibility="private")
        upload_btn.click(
            upload,
            upload_file,
            [upload_msg, report_table],
            api_visibility="private",
            concurrency_id="upload",
            concurrency_limit=1,
        )
        check_btn.click(
            check_draft, [draft, draft_file, place_f, year_f, report_f], [check_out, checked],
            api_visibility="private",
        )  # fmt: skip
        review_check = [checked, check_no, check_reviewer, check_comment]
        check_approve.click(desk.approve_check, review_check, check_msg, api_visibility="private")
        check_reject.click(desk.reject_check, review_check, check_msg, api_visibility="private")
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
