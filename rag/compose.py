"""Answer pieces that do not depend on the answerer: cross-report detection, proof of absence."""

from __future__ import annotations

from collections.abc import Sequence

from rag.lang import lexicon
from rag.types import Report

_CROSS = lexicon()["ask_across"].pattern  # rag/lang/data/question.toml

ABSTAIN_PREFIX = "所检索的报告中没有找到能回答该问题的内容"
# the line of an answer across reports that lists the reports with nothing (not a claim)
MISSING_PREFIX = "未找到相关内容的报告："
# the line an answer opens with when it read the question in a way the user should know
# (去年 as the newest report's year): not a claim
NOTE_PREFIX = "注："


def note_line(said: str) -> str:
    return f"{NOTE_PREFIX}{said}。\n" if said else ""


def is_cross(question: str, named_reports: int) -> bool:
    """A question about several reports: names two or more places, or asks across them."""
    return named_reports > 1 or bool(_CROSS.search(question))


LISTED = 10  # reports named one by one in an answer; the rest are counted


def scope_text(searched: Sequence[str], reports: dict[str, Report]) -> str:
    named = "；".join(f"《{reports[s].meta.title}》（{s}）" for s in searched[:LISTED])
    rest = len(searched) - LISTED
    return named + (f"；等，另有 {rest} 份" if rest > 0 else "")


def absence_text(
    searched: Sequence[str],
    reports: dict[str, Report],
    filters: Sequence[str],
    reason: str = "",
) -> str:
    """The abstention answer: what was searched, under which filters, and why nothing fits."""
    if not searched:  # the filters exclude each other: nothing was searched at all
        lines = ["没有报告同时符合这些筛选条件，未检索任何报告，无法作答。请放宽或清除筛选条件。"]
        if filters:
            lines.append("检索条件：" + "；".join(filters))
        return "\n".join(lines)
    lines = [f"{ABSTAIN_PREFIX}{('（' + reason + '）') if reason else ''}，无法作答。"]
    lines.append(f"已检索 {len(searched)} 份报告：{scope_text(searched, reports)}")
    if filters:
        lines.append("检索条件：" + "；".join(filters))
    return "\n".join(lines)
