"""Answer pieces as safe HTML/text for the UI: every report or model string is escaped."""

from __future__ import annotations

import html
from typing import Any

from rag.types import Answer, Citation, Report

VERDICT_ZH = {
    "supported": "有依据",
    "partly": "部分有依据",
    "unsupported": "无依据",
    "uncited": "未引用",
}


def passage_html(c: Citation, report: Report, whole_section: str | None = None) -> str:
    """The cited passage (or `whole_section`, a larger span of the report containing it) with
    the supporting sentence marked; all text escaped."""
    meta = report.meta
    text = report.text
    start, end = c.start, c.end
    if whole_section is not None:
        start = text.find(whole_section)
        start, end = (c.start, c.end) if start < 0 else (start, start + len(whole_section))
    a, b = max(start, c.support_start), min(end, c.support_end)
    body = (
        html.escape(text[start:a])
        + "<mark>"
        + html.escape(text[a:b])
        + "</mark>"
        + html.escape(text[b:end])
    )
    head = " · ".join(
        html.escape(x)
        for x in (
            meta.title,
            meta.issuer or "",
            f"{meta.year}年" if meta.year else "",
            c.section,
            f"{c.source} {c.support_start}-{c.support_end}",
        )
        if x
    )
    return (
        f'<div class="cite"><div class="cite-head"><b>[{c.n}]</b> {head}</div>'
        f'<div class="cite-body" style="white-space:pre-wrap">{body}</div></div>'
    )


def sources_html(answer: Answer, reports: dict[str, Report]) -> str:
    if answer.abstained or not answer.citations:
        searched = "、".join(html.escape(s) for s in answer.searched[:10])
        return f"<p>没有引用。已检索：{searched}</p>"
    seen: set[tuple[int, int]] = set()
    parts = []
    for c in answer.citations:
        if (c.n, c.support_start) in seen:
            continue
        seen.add((c.n, c.support_start))
        parts.append(passage_html(c, reports[c.source]))
    return "\n".join(parts)


def claim_rows(answer: Answer) -> list[list[Any]]:
    """One row per claim: #, claim, verdict, numbers not found, reasons, cited spans."""
    rows = []
    for i, claim in enumerate(answer.claims):
        cited = [c for c in answer.citations if c.claim == i]
        rows.append(
            [
                i,
                claim.text,
                VERDICT_ZH.get(claim.verdict, claim.verdict),
                "、".join(claim.unmatched_numbers),
                "；".join(claim.reasons),
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


def answer_markdown(answer: Answer) -> str:
    """A conversation turn as Markdown for export, with citations and verdicts."""
    lines = [f"### 问：{answer.question}", ""]
    if answer.rewritten != answer.question:
        lines += [f"（改写为：{answer.rewritten}）", ""]
    lines += [answer.text, "", f"*回答方式：{answer.mode}*", ""]
    for c in answer.citations:
        lines.append(
            f"- [{c.n}] 《{c.title}》 {c.source} {c.support_start}-{c.support_end}：{c.support_text}"
        )
    for claim in answer.claims:
        lines.append(f"- 核查：{VERDICT_ZH.get(claim.verdict, claim.verdict)} — {claim.text}")
    return "\n".join(lines) + "\n"
