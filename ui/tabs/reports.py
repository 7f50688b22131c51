"""The 报告 tab: the reports the index holds with their metadata, and an admin's upload that
adds one to the index while the chat keeps answering."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from rag.config import Settings
from rag.errors import RagError
from rag.factory import open_pipeline
from rag.pipeline import Pipeline
from ui.review import READ_ONLY
from ui.tabs.context import Context
from ui.upload import ALLOWED, add_report

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


@dataclass
class ReportsTab:
    table: Any
    upload_file: Any
    upload_btn: Any
    upload_msg: Any


def layout(ctx: Context) -> ReportsTab:
    with gr.Tab("报告"):
        table = gr.Dataframe(
            report_rows(ctx.live.pipeline),
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
    return ReportsTab(table, upload_file, upload_btn, upload_msg)


def uploader(ctx: Context) -> Callable[..., Iterator[tuple[Any, Any]]]:
    live = ctx.live

    def upload(file: str | None, request: gr.Request) -> Iterator[tuple[Any, Any]]:
        """Admins only (refused on the server, whatever the page shows); the index is updated
        in a worker while progress is shown and the chat keeps answering."""
        if ctx.users is not None:
            user = ctx.users.get(getattr(request, "username", None) or "")
            if user is None or not user.can("upload"):
                yield "只有管理员（admin）可以上传报告", gr.skip()
                return
        elif not ctx.anonymous_edits:
            yield READ_ONLY, gr.skip()
            return
        if not file:
            yield "请选择文件", gr.skip()
            return
        s = ctx.settings or Settings()
        target = ctx.index_dir or live.pipeline.index.folder.parent.parent  # builds/<id>
        steps: list[str] = []
        done: dict[str, Any] = {}

        def work() -> None:
            try:
                done["summary"] = add_report(
                    Path(file),
                    Path(file).name,
                    s,
                    ctx.folder,
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

    return upload


def wire(ctx: Context, tab: ReportsTab) -> None:
    tab.upload_btn.click(
        uploader(ctx),
        tab.upload_file,
        [tab.upload_msg, tab.table],
        api_visibility="private",
        concurrency_id="upload",
        concurrency_limit=1,
    )
