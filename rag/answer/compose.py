"""Answer pieces that do not depend on the answerer: cross-report detection, proof of absence."""

from __future__ import annotations

from collections.abc import Sequence

from rag.lang import lexicon, phrase
from rag.types import Report

_CROSS = lexicon()["ask_across"].pattern  # rag/lang/data/question.toml

# The phrases (rag/lang/data/answer.toml) are written here and read back by the pipeline
# (lines that are no claims start with their prefixes)
ABSTAIN_PREFIX = phrase("refusal").prefix
# the line of an answer across reports that lists the reports with nothing (not a claim)
MISSING_PREFIX = phrase("missing").prefix
# the line an answer opens with when it read the question in a way the user should know
# (去年 as the newest report's year): not a claim
NOTE_PREFIX = phrase("note").prefix


def note_line(said: str) -> str:
    return phrase("note").render(said=said) + "\n" if said else ""


def missing_line(labels: str) -> str:
    """The line of an answer across reports that lists the reports with nothing."""
    return phrase("missing").render(reports=labels)


def is_cross(question: str, named_reports: int) -> bool:
    """A question about several reports: names two or more places, or asks across them."""
    return named_reports > 1 or bool(_CROSS.search(question))


LISTED = 10  # reports named one by one in an answer; the rest are counted


def scope_text(searched: Sequence[str], reports: dict[str, Report]) -> str:
    named = "；".join(f"《{reports[s].meta.title}》（{s}）" for s in searched[:LISTED])
    rest = len(searched) - LISTED
    return named + (phrase("more_reports").render(n=rest) if rest > 0 else "")


def absence_text(
    searched: Sequence[str],
    reports: dict[str, Report],
    filters: Sequence[str],
    reason: str = "",
) -> str:
    """The abstention answer: what was searched, under which filters, and why nothing fits."""
    if not searched:  # the filters exclude each other: nothing was searched at all
        lines = [phrase("nothing_searched").render()]
    else:
        lines = [
            phrase("refusal").render(reason=f"（{reason}）" if reason else ""),
            phrase("searched").render(n=len(searched), reports=scope_text(searched, reports)),
        ]
    if filters:
        lines.append(phrase("conditions").render(filters="；".join(filters)))
    return "\n".join(lines)
