"""Claim-level verdicts: does each sentence of an answer agree with the passages it cites?"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.lang import lexicon
from rag.metadata import ISSUER_LINE, parse_date
from rag.numbers import is_year, quantities, same_quantity
from rag.textmatch import (
    bigrams,
    cited_parts,
    containment,
    content,
    sentences,
    strip_markers,
)
from rag.types import Citation, ClaimCheck, Report


@dataclass(frozen=True)
class Thresholds:
    supported: float = 0.6  # share of the claim's bigrams found in its cited passages
    partly: float = 0.3


_QUOTE = re.compile(r"“([^”]{4,})”")
# A negation and the two characters it negates (未严格按照 -> 严格). Words that start with a
# negation character but negate nothing are left out (不断加强, 无论如何, 不少于...).
_LEX = lexicon()  # rag/lang/data/claims.toml
_NEGATION = re.compile(rf"({_LEX['negation'].alternation})([\u4e00-\u9fff]{{2}})")
_NOT_NEGATIONS = _LEX["not_negation"].set


def is_furniture(report: Report | None, sentence: str) -> bool:
    """A report's title, signature (落款) or date line: it names the report, it states nothing,
    so it never supports a claim (an answer citing 云岭县白沙镇人民政府 is not 有依据)."""
    s = sentence.strip().rstrip("。")
    if not s or ISSUER_LINE.match(s) or (len(s) <= 24 and parse_date(s)):
        return True
    if report is None:
        return False
    meta = report.meta
    return s in meta.title or (meta.issuer is not None and s == meta.issuer)


def negated(text: str) -> set[str]:
    """What a text negates: the two characters after each negation (未严格 -> 严格)."""
    out = set()
    for m in _NEGATION.finditer(text):
        cue, pred = m.groups()
        if (cue + pred)[:2] not in _NOT_NEGATIONS:
            out.add(pred)
    return out


def negation_mismatch(claim: str, support: str) -> str:
    """Why the claim and its supporting sentence disagree in negation, or ''."""
    claim_neg, support_neg = negated(claim), negated(support)
    for pred in sorted(claim_neg - support_neg):
        if pred in support:
            return f"the claim negates “{pred}” but the cited sentence does not"
    for pred in sorted(support_neg - claim_neg):
        if pred in claim:
            return f"the cited sentence negates “{pred}” but the claim does not"
    return ""


def stitched(claim: str, spans: Sequence[str], threshold: float) -> str:
    """Why the claim is pieced together from two unrelated sentences of its cited passages,
    or '': a figure of the claim is not in the sentence stating the rest (nor in a sentence
    next to it that the claim goes on into) but in another one (开展执法培训15场次, the 15场次 of a sentence on 宣传); or
    no one sentence holds `threshold` of its wording, two do together, and they are not
    consecutive sentences of one passage. Either reads as one fact the reports never state."""
    units = [
        (p, i, span[a:b])
        for p, span in enumerate(spans)
        for i, (a, b) in enumerate(sentences(span))
    ]
    shares = [containment(claim, u[2]) for u in units]
    if len(units) < 2:
        return ""
    if max(shares) >= threshold:  # one sentence states it: its figures must be that sentence's
        top = units[shares.index(max(shares))]
        wording = bigrams(claim) - bigrams(top[2])  # what the top sentence does not say
        near = [f for p, i, t in units if (p, i) == top[:2] or (
                    p == top[0] and abs(i - top[1]) == 1 and _adds_words(wording, t))
                for f in quantities(t)]  # fmt: skip
        for q in quantities(strip_markers(claim)):
            if is_year(q) or any(same_quantity(q, f) for f in near):
                continue
            if any(same_quantity(q, f) for _, _, t in units for f in quantities(t)):
                return f"{q.text} is from another sentence than the one stating the rest"
        return ""
    useful = [u for u, share in zip(units, shares, strict=True) if share >= threshold / 3]
    best, pair = 0.0, None
    for x, first in enumerate(useful):
        for second in useful[x + 1 :]:
            share = containment(claim, first[2] + "\n" + second[2])
            if share > best:
                best, pair = share, (first, second)
    if pair is None or best < threshold:
        return ""
    (p1, i1, _), (p2, i2, _) = pair
    if p1 == p2 and abs(i1 - i2) == 1:  # one sentence continued in the next: one statement
        return ""
    where = "the same passage" if p1 == p2 else "two passages"
    return f"its wording comes from two unrelated sentences of {where} (no one sentence states it)"


def _adds_words(wording: set[str], sentence: str) -> bool:
    """The sentence states some of `wording` besides figures: the claim goes on into it."""
    return len({b for b in wording & bigrams(sentence) if not any(c.isdigit() for c in b)}) >= 2


def _quotes_verbatim(claim: str, passages: str) -> bool:
    """The claim quotes (“...”) text that occurs, as written, in its cited passages."""
    quotes = _QUOTE.findall(claim)
    target = content(passages)
    return bool(quotes) and all(content(q) in target for q in quotes)


def check_claim(
    claim: str,
    markers: Sequence[int],
    cited: Sequence[Citation],
    report_years: dict[str, int | None] | None = None,
    thresholds: Thresholds = Thresholds(),
    report_labels: dict[str, str] | None = None,
    reports: dict[str, Report] | None = None,
    about_report: bool = False,
) -> ClaimCheck:
    """Verdict of one claim against the passages of its citations. A claim citing only a
    title, signature or date line is unsupported, unless it is `about_report` (报告的落款日期:
    then that line is the answer).

    A year may also be matched by the cited report's own year (the body says 今年, the
    metadata says 2023). Every other number must appear in a cited passage. A leading label
    naming a cited report's place and year ("峡口镇（2024年）：") is the report's metadata,
    not wording to find in the passage; another report's label is.
    """
    if not markers:
        return ClaimCheck(claim, (), "uncited", ("the claim cites no source",))
    if (
        not about_report
        and cited
        and all(is_furniture((reports or {}).get(c.source), c.support_text) for c in cited)
    ):
        return ClaimCheck(
            claim, tuple(markers), "unsupported",
            ("it cites only a report's title, signature or date line, which states nothing",),
        )  # fmt: skip
    spans = [c.text for c in cited]
    joined = "\n".join(spans)
    worded = _without_label(claim, [(report_labels or {}).get(c.source, "") for c in cited])
    worded = _without_own_names(worded, [r for c in cited if (r := (reports or {}).get(c.source))])
    overlap = max([containment(worded, joined)] + [containment(worded, s) for s in spans])
    years = {y for c in cited if (y := (report_years or {}).get(c.source)) is not None}
    found = [q for s in spans for q in quantities(s)]
    unmatched = []
    for q in quantities(strip_markers(claim)):
        if any(same_quantity(q, f) for f in found):
            continue
        if is_year(q) and int(q.value) in years:
            continue
        unmatched.append(q.text)
    reasons = [f"{overlap:.0%} of the claim's wording is in the cited passage(s)"]
    bare = strip_markers(claim)
    clash = next((why for c in cited if (why := negation_mismatch(bare, c.support_text))), "")
    if clash:
        reasons.append(clash)
    quoted = _quotes_verbatim(claim, joined)
    if quoted:
        reasons.append("its quotation is verbatim in the cited passage")
    if unmatched:
        reasons.append("number(s) not in any cited passage: " + "、".join(unmatched))
    # each part a marker closes is one statement (a list's items: 甲[1]；乙[2])
    pieced = (
        ""
        if quoted
        else next(
            (
                why
                for part in cited_parts(worded)
                if (why := stitched(part, spans, thresholds.supported))
            ),
            "",
        )
    )
    if pieced:
        reasons.append(pieced)
    if (overlap >= thresholds.supported or quoted) and not unmatched and not clash and not pieced:
        verdict = "supported"
    elif overlap >= thresholds.partly:
        verdict = "partly"
    else:
        verdict = "unsupported"
    return ClaimCheck(claim, tuple(markers), verdict, tuple(reasons), tuple(unmatched), overlap)


def _without_own_names(claim: str, cited: Sequence[Report]) -> str:
    """The claim without the cited reports' own place names and years (水口镇2024年，…): the
    body says 我镇 and 今年, the report's metadata names them; another place stays."""
    names = {n for r in cited for n in r.meta.places.names()}
    names |= {f"{r.meta.year}年" for r in cited if r.meta.year}
    for name in sorted(names, key=len, reverse=True):
        claim = claim.replace(name, " ")
    return claim


def _without_label(claim: str, labels: Sequence[str]) -> str:
    body = claim.removeprefix("- ")
    for label in labels:
        if label and body.startswith(label + "："):
            return body[len(label) + 1 :]
    return claim


def check_answer(
    claims: Sequence[tuple[str, tuple[int, ...]]],
    citations: Sequence[Citation],
    report_years: dict[str, int | None] | None = None,
    thresholds: Thresholds = Thresholds(),
    report_labels: dict[str, str] | None = None,
    reports: dict[str, Report] | None = None,
    about_report: bool = False,
) -> list[ClaimCheck]:
    return [
        check_claim(
            text,
            markers,
            [c for c in citations if c.claim == i],
            report_years,
            thresholds,
            report_labels,
            reports,
            about_report,
        )
        for i, (text, markers) in enumerate(claims)
    ]


VERDICT_ZH = {
    "supported": "有依据",
    "partly": "部分有依据",
    "unsupported": "无依据",
    "uncited": "未引用",
}


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
