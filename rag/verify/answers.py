"""Our answers' claims checked against the passages they cite, by the one claim judge
(rag/verify/judge.py): each claim's markers name its evidence."""

from __future__ import annotations

from collections.abc import Sequence

from rag.types import Citation, ClaimCheck, Report
from rag.verify.judge import THRESHOLDS, VERDICT_ZH, Thresholds, Unit, is_furniture, judge

__all__ = ["VERDICT_ZH", "Thresholds", "check_answer", "check_claim", "is_furniture", "reason_zh"]


def check_claim(
    claim: str,
    markers: Sequence[int],
    cited: Sequence[Citation],
    reports: dict[str, Report] | None = None,
    thresholds: Thresholds = THRESHOLDS,
    about_report: bool = False,
) -> ClaimCheck:
    """Verdict of one claim against the passages of its citations (rag.verify.judge.judge). A claim
    citing only a title, signature or date line is not supported, unless the answer is
    `about_report` (报告的落款日期: then that line is the answer)."""
    if not markers:
        return ClaimCheck(claim, (), "uncited", ("该句没有标注引用",))
    known = reports or {}
    own = tuple(dict.fromkeys(known[c.source] for c in cited if c.source in known))
    unit = Unit(tuple(c.text for c in cited), tuple(c.support_text for c in cited), own)
    j = judge(claim, [unit], cited=True, about_report=about_report, thresholds=thresholds)
    return ClaimCheck(claim, tuple(markers), j.verdict, (j.reason,), j.unmatched, j.overlap)


def check_answer(
    claims: Sequence[tuple[str, tuple[int, ...]]],
    citations: Sequence[Citation],
    reports: dict[str, Report] | None = None,
    thresholds: Thresholds = THRESHOLDS,
    about_report: bool = False,
) -> list[ClaimCheck]:
    return [
        check_claim(
            text,
            markers,
            [c for c in citations if c.claim == i],
            reports,
            thresholds,
            about_report,
        )
        for i, (text, markers) in enumerate(claims)
    ]


def reason_zh(claim: ClaimCheck) -> str:
    """The verdict's reason in Chinese (the judge writes its reasons in Chinese)."""
    return "；".join(claim.reasons)
