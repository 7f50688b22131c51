"""Answer pieces as safe HTML/text for the UI: every report or model string is escaped."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from rag.types import Answer, Citation, Report
from rag.verify.answers import VERDICT_ZH, reason_zh
from ui.audit import DECISION_ZH, beijing


def _marked(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    """text[start:end] escaped, with each of `spans` (clipped to it, merged) in <mark>."""
    clipped = sorted((max(start, a), min(end, b)) for a, b in spans if a < end and b > start)
    merged: list[tuple[int, int]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    out, at = [], start
    for a, b in merged:
        out += [html.escape(text[at:a]), "<mark>", html.escape(text[a:b]), "</mark>"]
        at = b
    out.append(html.escape(text[at:end]))
    return "".join(out)


def passage_html(
    cites: list[Citation],
    report: Report,
    section: tuple[int, int] | None = None,
    download: str | None = None,
) -> str:
    """One cited passage with every supporting sentence of `cites` (all of this passage)
    marked; `section`, the span of the whole section it belongs to, folds out below it;
    `download` links the original file. All report text is escaped."""
    c = cites[0]
    meta = report.meta
    text = report.original or report.text  # as the file writes it (繁體 stays 繁體), same offsets
    numbers = "".join(f"[{n}]" for n in sorted({x.n for x in cites}))
    spans = [(x.support_start, x.support_end) for x in cites]
    head = " · ".join(
        html.escape(x)
        for x in (
            meta.title,
            meta.issuer or "",
            f"{meta.year}年" if meta.year else "",
            c.section,
            c.where,
            f"{c.source} {c.start}-{c.end}",
        )
        if x
    )
    parts = [
        f'<div class="cite"><div class="cite-head"><b>{numbers}</b> {head}</div>',
        '<div class="cite-body" style="white-space:pre-wrap">'
        + _marked(text, c.start, c.end, spans)
        + "</div>",
    ]
    if section and (section[0] < c.start or section[1] > c.end):
        parts.append(
            '<details class="cite-section"><summary>展开整节原文</summary>'
            '<div style="white-space:pre-wrap">'
            + _marked(text, section[0], section[1], spans)
            + "</div></details>"
        )
    if download:
        parts.append(f'<a href="{html.escape(download)}" target="_blank" download>下载原文件</a>')
    parts.append("</div>")
    return "".join(parts)


def sources_html(
    answer: Answer,
    reports: dict[str, Report],
    section_of: Callable[[Citation], tuple[int, int] | None] | None = None,
    download_of: Callable[[str], str | None] | None = None,
) -> str:
    """One entry per cited passage, in citation order, with all its supporting sentences."""
    if answer.abstained or not answer.citations:
        searched = "、".join(html.escape(s) for s in answer.searched[:10])
        return f"<p>没有引用。已检索：{searched}</p>"
    passages: dict[tuple[str, int, int], list[Citation]] = {}
    for c in answer.citations:
        passages.setdefault((c.source, c.start, c.end), []).append(c)
    return "\n".join(
        passage_html(
            cites,
            reports[cites[0].source],
            section_of(cites[0]) if section_of else None,
            download_of(cites[0].source) if download_of else None,
        )
        for cites in passages.values()
    )


def claim_rows(answer: Answer) -> list[list[Any]]:
    """One row per claim: #, claim, verdict, numbers not found, reasons, cited spans."""
    rows = []
    for i, claim in enumerate(answer.claims):
        cited = [c for c in answer.citations if c.claim == i]
        rows.append(
            [
                i + 1,
                claim.text,
                VERDICT_ZH.get(claim.verdict, claim.verdict),
                "、".join(claim.unmatched_numbers),
                reason_zh(claim),
                "\n".join(f"[{c.n}] {c.support_text}" for c in cited),
            ]
        )
    return rows


def status_line(answer: Answer) -> str:
    mode = "抽取式（未使用大模型）" if answer.mode.startswith("extractive") else answer.mode
    parts = [f"回答方式：{mode}"]
    if answer.rewritten != answer.question:
        parts.append(f"改写后的问题：{answer.rewritten}")
    if answer.abstained:
        parts.append("报告中没有找到答案")
    parts.append(f"用时 {answer.latency_ms.get('total', 0):.0f} ms")
    return " ｜ ".join(parts)


def decisions_for(answer: Answer, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit entries about this answer (same question and answer text)."""
    return [
        e
        for e in entries
        if e.get("question") == answer.question and e.get("answer") == answer.text
    ]


def answer_markdown(answer: Answer, decisions: list[dict[str, Any]] | None = None) -> str:
    """A conversation turn as Markdown for export, with citations, verdicts and the
    supervisors' decisions on its claims."""
    lines = [f"### 问：{answer.question}", ""]
    if answer.rewritten != answer.question:
        lines += [f"（改写为：{answer.rewritten}）", ""]
    mode = "抽取式（未使用大模型）" if answer.mode.startswith("extractive") else answer.mode
    lines += [answer.text, "", f"*回答方式：{mode}*", ""]
    for c in answer.citations:
        lines.append(
            f"- [{c.n}] 《{c.title}》 {c.source} {c.where + ' ' if c.where else ''}"
            f"{c.support_start}-{c.support_end}：{c.support_text}"
        )
    texts = [claim.text for claim in answer.claims]
    for i, claim in enumerate(answer.claims, start=1):
        lines.append(
            f"- 核查 第{i}句：{VERDICT_ZH.get(claim.verdict, claim.verdict)} — {claim.text}"
        )
    for e in decisions or []:
        text = e.get("claim", {}).get("text", "")
        n = texts.index(text) + 1 if text in texts else "?"
        lines.append(f"- {_review(e, f' 第{n}句')}")
    return "\n".join(lines) + "\n"


def _review(e: dict[str, Any], which: str = "") -> str:
    note = f"：{e['comment']}" if e.get("comment") else ""
    decision = DECISION_ZH.get(e["decision"], e["decision"])
    return f"审核：{e['reviewer']} {decision}{which}（{beijing(e['time'])} 北京时间）{note}"


def review_lines(answer: Answer, decisions: list[dict[str, Any]]) -> dict[int, list[str]]:
    """The supervisors' decisions on an answer by sentence (0-based), as the exports say them."""
    texts = [claim.text for claim in answer.claims]
    out: dict[int, list[str]] = {}
    for e in decisions:
        text = e.get("claim", {}).get("text", "")
        if text in texts:
            out.setdefault(texts.index(text), []).append(_review(e))
    return out


def filter_chips(
    places: str, years: list[Any] | None, reports: list[str] | None, titles: dict[str, str]
) -> str:
    """The active filters as chips beside the question box ('' when none)."""
    chips = [
        f"地方：{p.strip()}" for p in (places or "").replace("，", ",").split(",") if p.strip()
    ]
    chips += [f"年份：{y}" for y in years or ()]
    chips += [f"报告：{titles.get(r, r)}" for r in reports or ()]
    if not chips:
        return ""
    spans = "".join(f'<span class="chip">{html.escape(c)}</span>' for c in chips)
    return f'<div class="chips">当前筛选（优先于对话改写）：{spans}</div>'


CHECK_ZH = {
    "supported": "有依据",
    "contradicted": "与报告不符",
    "not_found": "报告未载",
    "not_a_claim": "非陈述",
}


def check_html(result: dict[str, Any], reports: dict[str, Report]) -> str:
    """核稿 result (`CheckResult.to_dict()`) as an escaped table: each sentence, its verdict,
    why, and the report's own sentence (with what the report states, when it disagrees)."""
    rows = []
    for i, c in enumerate(result["claims"], start=1):
        verdict = c["verdict"]
        cited = "".join(
            f'<div class="check-cite"><b>{html.escape(reports[e["source"]].label if e["source"] in reports else e["source"])}</b>'
            f"（{html.escape(e['source'])} {e['start']}–{e['end']}）：{html.escape(e['text'])}</div>"
            for e in c["citations"]
        )
        value = c.get("report_value")
        said = f'<div class="check-value">报告写的是：{html.escape(value)}</div>' if value else ""
        rows.append(
            f'<tr class="check-{verdict}"><td>{i}</td><td>{html.escape(c["text"])}</td>'
            f"<td>{CHECK_ZH[verdict]}</td><td>{html.escape(c['reason'])}{said}</td>"
            f"<td>{cited}</td></tr>"
        )
    s = result["summary"]
    head = (
        f'<p class="check-summary">{s["claims"]} 句：有依据 {s["supported"]}，与报告不符 '
        f"{s['contradicted']}，报告未载 {s['not_found']}，非陈述 {s['not_a_claim']}</p>"
    )
    return (
        head + '<table id="check-rows"><tr><th>序号</th><th>句子</th><th>结论</th><th>说明</th>'
        "<th>报告原文</th></tr>" + "".join(rows) + "</table>"
    )


def report_link(source: str) -> str:
    """The page's link to a report's original file (served by ui/server.py at /report-file)."""
    return f"/report-file/{quote(source)}"
