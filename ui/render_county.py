"""The county's view as escaped HTML: an indicator table (each figure with its sentence on
hover and in the list below), one place year over year with last year's plans, and copied
text with both spans side by side. Everything shown comes from the reports: escaped."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from rag.similar import KIND_ZH
from rag.types import Report

UNSTATED = "未载明"


def _e(value: Any) -> str:
    return html.escape(str(value))


def _grid(head: list[str], rows: list[tuple[str, list[dict[str, Any]]]], elem: str) -> str:
    out = [
        f'<table id="{elem}" class="county-table"><tr>'
        + "".join(f"<th>{_e(h)}</th>" for h in head)
        + "</tr>"
    ]
    for label, cells in rows:
        tds = []
        for c in cells:
            if c.get("value") is None:
                tds.append(f'<td class="unstated">{UNSTATED}</td>')
            else:
                tip = _e(c.get("sentence", ""))
                tds.append(f'<td class="stated" title="{tip}">{_e(c["value"])}</td>')
        out.append(f"<tr><td>{_e(label)}</td>{''.join(tds)}</tr>")
    return "".join(out) + "</table>"


def _sources(rows: list[dict[str, Any]]) -> str:
    items = [
        f"<li><b>{_e(row['label'])} · {_e(c['indicator'])}：{_e(c['value'])}</b>"
        f"（{_e(c['source'])} {c['start']}–{c['end']}）：{_e(c.get('sentence', ''))}</li>"
        for row in rows
        for c in row["cells"]
        if c.get("value") is not None
    ]
    return f'<details open><summary>每个数字的原文（{len(items)} 处）</summary><ol class="county-cites">{"".join(items)}</ol></details>'


def table_html(data: dict[str, Any]) -> str:
    """`Table.to_dict(reports)` as a table, its totals and each figure's sentence."""
    names = [i["name"] for i in data["indicators"]]
    grid = _grid(["报告", *names], [(r["label"], r["cells"]) for r in data["rows"]], "county-grid")
    totals = []
    for t in data["totals"]:
        if t["value"] is not None:
            left = f"；未计入 {len(t['left_out'])} 格" if t["left_out"] else ""
            totals.append(f"<li>{_e(t['indicator'])}：合计 {t['value']:g}{_e(t['unit'])}"
                          f"（{len(t['summed'])} 格相加{left}）</li>")  # fmt: skip
    note = f"<p>{len(data['rows'])} 份报告 × {len(names)} 个指标，用时 {data['seconds']} 秒；{UNSTATED}：报告全文中没有找到。</p>"
    return note + grid + (f"<ul>{''.join(totals)}</ul>" if totals else "") + _sources(data["rows"])


def _delta(c: dict[str, Any]) -> str:
    return f"{c['delta']:+g}{c['unit']}" if c["delta"] is not None else str(c["why"])


def trend_html(data: dict[str, Any], reports: Mapping[str, Report]) -> str:
    """`Trend.to_dict(reports)`: the place's years, the changes and last year's plans."""
    table = data["table"]
    names = [i["name"] for i in table["indicators"]]
    rows = [(str(data["years"][r["source"]]), r["cells"]) for r in table["rows"]]
    out = [f"<h4>{_e(data['place'])}</h4>", _grid(["年份", *names], rows, "trend-grid")]
    for step in data["changes"]:
        y0, y1 = data["years"][step["from"]], data["years"][step["to"]]
        items = "".join(
            f"<li>{_e(c['indicator'])}：{_e(c['before'] or UNSTATED)} → {_e(c['after'] or UNSTATED)}"
            f"（{_e(_delta(c))}）</li>"
            for c in step["changes"]
        )
        out.append(f"<p>{y0} → {y1}</p><ul>{items}</ul>")
    promised = []
    for p in data["promises"]:
        seen = p.get("evidence")
        where = (f'<div class="promise-evidence">{_e(p["later"])} {seen["start"]}–{seen["end"]}：'
                 f"{_e(seen.get('text', ''))}</div>") if seen else ""  # fmt: skip
        promised.append(f'<tr class="promise-{p["verdict"]}"><td>{_e(p["verdict_zh"])}</td>'
                        f"<td>{_e(p['text'])}{where}</td></tr>")  # fmt: skip
    if promised:
        out.append('<p>上一年“下一步工作安排”的落实</p><table id="promises">'
                   "<tr><th>情况</th><th>计划及今年的原文</th></tr>" + "".join(promised) + "</table>")  # fmt: skip
    elif not data["changes"]:
        out.append("<p>只有一年的报告：没有可对比的上一年。</p>")
    return "".join(out)


def similar_html(data: dict[str, Any], reports: Mapping[str, Report]) -> str:
    """`Similarity.to_dict(reports)`: each report's share, each copied span beside its twin."""
    shares = sorted(data["shares"].items(), key=lambda x: -x[1])
    label = {s: reports[s].label if s in reports else s for s, _ in shares}
    head = "".join(
        f"<tr><td>{_e(label[s])}</td><td>{_e(s)}</td><td>{v:.0%}</td></tr>" for s, v in shares
    )
    out = [
        '<table id="similar-shares"><tr><th>报告</th><th>文件</th><th>雷同比例</th></tr>'
        + head
        + "</table>"
    ]
    for c in data["spans"]:
        out.append(
            f'<div class="copied"><p><b>{_e(label.get(c["source"], c["source"]))}</b> '
            f"{c['start']}–{c['end']} ≈ <b>{_e(reports[c['other']].label if c['other'] in reports else c['other'])}</b> "
            f"{c['other_start']}–{c['other_end']}（{KIND_ZH[c['kind']]}，{c['overlap']:.0%}）</p>"
            f'<table class="copied-pair"><tr><td>{_e(c.get("text", ""))}</td><td>{_e(c.get("other_text", ""))}</td></tr></table></div>'
        )
    note = (
        f"<p>共有的套话（{data['boilerplate_grams']} 个五字片段，出现在三成以上的报告中）不计。</p>"
    )
    return note + "".join(out)
