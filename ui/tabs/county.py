"""The 汇总 tab, the county's view: an indicator table across the reports (a citation per
figure, Word/Excel export), one place year over year with last year's plans, and the text
reports copy from each other. Filters are the question tab's."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.compare import Comparer
from rag.errors import RagError
from rag.request import resolve
from rag.table import Table, TableBuilder, indicator_names
from ui.render_county import similar_html, table_html, trend_html
from ui.service import options, similar_json
from ui.tabs.context import Context

DEFAULT = "执法培训次数，行政复议案件数，普法活动场次，法律顾问，调解成功率"


@dataclass
class CountyTab:
    indicators: Any
    sort: Any
    table_btn: Any
    table_out: Any
    table: Any
    export_fmt: Any
    export_btn: Any
    export_file: Any
    place: Any
    trend_btn: Any
    trend_out: Any
    similar_btn: Any
    similar_out: Any


def layout(ctx: Context) -> CountyTab:
    with gr.Tab("汇总", elem_id="county-tab"):
        gr.Markdown("按指标汇总各报告的数字（每个数字都引原句），逐年对比一个地方，查找雷同文字。"
                    "筛选条件用问答页的地方、年份和报告。")  # fmt: skip
        with gr.Row():
            indicators = gr.Textbox(label="指标（逗号分隔，用自己的说法）", value=DEFAULT,
                                    elem_id="indicators", scale=4)  # fmt: skip
            sort = gr.Textbox(label="按哪个指标排序（可空）", elem_id="sort", scale=1)
        table_btn = gr.Button("生成汇总表", variant="primary", elem_id="table-btn")
        table_out = gr.HTML("", elem_id="table-out")
        table = gr.State(None)
        with gr.Row():
            export_fmt = gr.Radio([("Excel（汇总、原句、合计三页）", ".xlsx"),
                                   ("Word（表格，批注引原句）", ".docx")], value=".xlsx",
                                  label="导出格式", elem_id="table-export-format")  # fmt: skip
            export_btn = gr.Button("导出汇总表", elem_id="table-export")
        export_file = gr.File(label="导出文件", elem_id="table-export-file")
        with gr.Row():
            place = gr.Textbox(label="逐年对比的地方（如 水口镇）", elem_id="trend-place", scale=4)
            trend_btn = gr.Button("逐年对比", elem_id="trend-btn", scale=1)
        trend_out = gr.HTML("", elem_id="trend-out")
        similar_btn = gr.Button("查找雷同文字", elem_id="similar-btn")
        similar_out = gr.HTML("", elem_id="similar-out")
    return CountyTab(indicators, sort, table_btn, table_out, table, export_fmt, export_btn,
                     export_file, place, trend_btn, trend_out, similar_btn, similar_out)  # fmt: skip


def _error(e: RagError | str) -> str:
    return f'<p class="county-error">{html.escape(str(e))}</p>'


def wire(ctx: Context, tab: CountyTab, filters: list[Any]) -> None:
    """`filters`: the question tab's place, year and report boxes."""

    def tabled(
        names: str, sort: str, place: str, years: list[Any], reports: list[str]
    ) -> tuple[str, Table | None]:
        pipeline = ctx.live.pipeline
        try:
            opts, _ = resolve(pipeline, options(place, years, reports))
            built = TableBuilder(pipeline).build(indicator_names(names), opts)
            built = built.sorted_by(sort.strip()) if sort.strip() else built
        except RagError as e:
            return _error(e), None
        return table_html(built.to_dict(pipeline.reports)), built

    def trended(place: str, names: str) -> str:
        pipeline = ctx.live.pipeline
        try:
            trend = Comparer(pipeline).trend(place, indicator_names(names))
        except RagError as e:
            return _error(e)
        return trend_html(trend.to_dict(pipeline.reports), pipeline.reports)

    def copies(place: str, years: list[Any], reports: list[str]) -> str:
        found = similar_json(ctx.live.pipeline, options(place, years, reports))
        if "error" in found:
            return _error(found["error"])
        return similar_html(found, ctx.live.pipeline.reports)

    def export(table: Table | None, fmt: str, request: gr.Request) -> str | None:
        return ctx.desk.export_table(table, fmt, ctx.live.pipeline.reports, request)

    tab.table_btn.click(tabled, [tab.indicators, tab.sort, *filters], [tab.table_out, tab.table],
                        api_visibility="private")  # fmt: skip
    tab.export_btn.click(export, [tab.table, tab.export_fmt], tab.export_file,
                         api_visibility="private")  # fmt: skip
    tab.trend_btn.click(
        trended, [tab.place, tab.indicators], tab.trend_out, api_visibility="private"
    )
    tab.similar_btn.click(copies, filters, tab.similar_out, api_visibility="private")
