"""Answer pieces as safe HTML/text for the UI: every report or model string is escaped."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from rag.types import Answer, Citation, ClaimCheck, Report

VERDICT_ZH = {
    "supported": "有依据",
    "partly": "部分有依据",
    "unsupported": "无依据",
    "uncited": "未引用",
}


def _marked(text: str, start: int, end: int, a: int, b: int) -> str:
    """text[start:end] escaped, with text[a:b] (clipped to it) in <mark>."""
    a, b = max(start, a), min(end, b)
    return (
        html.escape(text[start:a])
        + "<mark>"
        + html.escape(text[a:b])
        + "</mark>"
        + html.escape(text[b:end])
    )


def passage_html(
    c: Citation,
    report: Report,
    section: tuple[int, int] | None = None,
    download: str | None = None,
) -> str:
    """The cited passage with the supporting sentence marked; `section`, the span of the whole
    section it belongs to, folds out below it; `download` links the original file. All report
    text is escaped."""
    meta = report.meta
    text = report.text
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
    parts = [
        f'<div class="cite"><div class="cite-head"><b>[{c.n}]</b> {head}</div>',
        '<div class="cite-body" style="white-space:pre-wrap">'
        + _marked(text, c.start, c.end, c.support_start, c.support_end)
        + "</div>",
    ]
    if section and (section[0] < c.start or section[1] > c.end):
        parts.append(
            '<details class="cite-section"><summary>展开整节原文</summary>'
            '<div style="white-space:pre-wrap">'
            + _marked(text, section[0], section[1], c.support_start, c.support_end)
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
    if answer.abstained or not answer.citations:
        searched = "、".join(html.escape(s) for s in answer.searched[:10])
        return f"<p>没有引用。已检索：{searched}</p>"
    seen: set[tuple[int, int]] = set()
    parts = []
    for c in answer.citations:
        if (c.n, c.support_start) in seen:
            continue
        seen.add((c.n, c.support_start))
        parts.append(
            passage_html(
                c,
                reports[c.source],
                section_of(c) if section_of else None,
                download_of(c.source) if download_of else None,
            )
        )
    return "\n".join(parts)


def reason_zh(claim: ClaimCheck) -> str:
    """The verdict's reasons in Chinese, from the check's fields."""
    if claim.verdict == "uncited":
        return "该句没有标注引用"
    parts = [f"该句 {claim.overlap:.0%} 的字词见于所引原文"]
    if any("verbatim" in r for r in claim.reasons):
        parts.append("引号内文字与原文一致")
    if claim.unmatched_numbers:
        parts.append("所引原文中没有这些数字：" + "、".join(claim.unmatched_numbers))
    return "；".join(parts)


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
