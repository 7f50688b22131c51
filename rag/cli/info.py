"""`rag reports` and `rag doctor`: what the index holds, how the tool is set up."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from rich.markup import escape

from rag.cli import (
    IndexOpt,
    JsonOpt,
    app,
    console,
    fail,
    settings_for,
)
from rag.errors import RagError

if TYPE_CHECKING:
    pass
from rich.table import Table


@app.command()
def reports(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """列出已索引的报告及其元数据 / List the indexed reports with their metadata."""
    from rag.factory import open_index
    from rag.similar import build_shares

    try:
        loaded = open_index(settings_for(index))
    except RagError as e:
        fail(e)
        return
    copied = build_shares(loaded.folder, loaded.reports, loaded.chunks)  # rag similar: the spans
    rows = [
        {
            "source": r.source,
            **r.meta.to_dict(),
            "chunks": loaded.manifest.reports[r.source].chunks,
            "copied_share": round(copied.get(r.source, 0.0), 4),
        }
        for r in loaded.reports.values()
    ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    wide = console.width >= 160
    labels = (
        "文件",
        "标题",
        "发布机构",
        "地方",
        "年份",
        "发布日期",
        "成文日期",
        "索引号",
        "段落数",
        "雷同",
    )
    table = Table(*labels)
    for row in rows:
        places = " ".join(v for v in row["places"].values() if v)
        title = row["title"] + (" *" if row["title_synthesized"] else "")
        fields = [row["issuer"] or "", places, str(row["year"] or ""), row["published"] or ""]
        fields += [row.get("written") or "", row["index_no"] or "", str(row["chunks"])]
        fields += [f"{row['copied_share']:.0%}" if row["copied_share"] else ""]
        if wide:
            table.add_row(row["source"], title, *fields)
            continue
        # narrow terminals: one block per report, nothing cut
        console.print(row["source"], style="bold", markup=False, highlight=False)
        for label, value in zip(labels[1:], [title, *fields], strict=True):
            if value:
                console.print(f"  {label}：{value}", markup=False, highlight=False)
    if wide:
        console.print(table)
    console.print("* 标题由元数据拼成：文件本身没有标题行", markup=False)
    console.print("雷同：与其他报告几乎逐字相同的文字所占比例（共有的套话不计），rag similar 列出原文",
                  markup=False)  # fmt: skip


@app.command()
def doctor(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """显示所用的模型、设置和索引，并探测已配置的服务 / Show models, settings, index; probe endpoints."""
    from rag.factory import describe
    from rag.index.embed import LEXICAL

    d = describe(settings_for(index))
    if as_json:
        print(json.dumps(d.to_dict(), ensure_ascii=False, indent=1, default=str))
        return
    console.print(f"python {sys.version.split()[0]}")
    for key, value in d.settings.items():
        console.print(f"设置 {key} = {value}", markup=False)
    console.print(f"向量模型：{d.embedding}", markup=False)
    if d.embedding_path:
        console.print(f"向量模型文件：{d.embedding_path}", markup=False)
    if d.embed_endpoint:
        console.print(f"向量服务：{d.embed_endpoint}", markup=False)
    if d.llm_problem:
        console.print(f"[red]大模型配置：[/red]{escape(d.llm_problem)}", highlight=False)
    console.print(f"回答方式：{d.answering}", markup=False)
    if d.llm_endpoint:
        console.print(f"大模型服务：{d.llm_endpoint}", markup=False)
    m = d.manifest
    if m is None:
        console.print(f"索引：{d.index_dir} 中还没有索引（先运行 rag index）", markup=False)
        return
    search = (
        "只有关键词检索（BM25；建索引时未用向量模型）"
        if m.embed_model == LEXICAL
        else f"关键词检索（BM25）+ {m.embed_model} 向量（{m.dim} 维）"
    )
    console.print(
        f"索引：{d.index_dir}：{len(m.reports)} 份报告，{m.n_chunks} 个段落，建于 "
        f"{m.created}；{search}",
        markup=False,
    )
    if d.store:
        console.print(f"向量库：{d.store}", markup=False)
    if d.mismatch:
        console.print(f"[red]不一致：[/red]{escape(d.mismatch)}", highlight=False)
