"""The one claim judge: does a claim agree with the report text it is compared to?

Our answers' claims (against the passages they cite) and 核稿's claims (against the report
sentences retrieved for them) are judged here, by one function with one set of thresholds
and verdicts and one vocabulary of reasons:

- `supported`: the evidence states it: its wording (with the evidence reports' own place
  names, years and labels read as metadata), every figure with its unit, the same negation;
- `contradicted`: the evidence states another figure or unit for it, the negation, or another
  year (`report_value` says what the report states instead);
- `not_found`: the evidence does not state it (too little of its wording, a figure it lacks,
  wording or a figure pieced together from two unrelated sentences, only a title or 落款);
- `partly`: an answer's claim with some of its wording in the passages it cites;
- `uncited`: an answer's claim with no marker; `not_a_claim`: a heading, 落款, date line
  (told by rag/check.py's `not_a_claim`, for any text).

Each `Unit` is one body of evidence: an answer's claim has one (the passages its markers
cite); a 核稿 claim has one per retrieved sentence, and the judge compares it with the
sentence that states its figures and most of its wording.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.ingest.metadata import ISSUER_LINE, parse_date
from rag.lang import lexicon
from rag.text.numbers import Quantity, compatible_units, is_year, quantities, same_quantity
from rag.text.textmatch import (
    bigrams,
    cited_parts,
    containment,
    content,
    sentences,
    strip_markers,
    years_in,
)
from rag.types import Report

Verdict = Literal["supported", "partly", "contradicted", "not_found", "uncited", "not_a_claim"]
VERDICTS: tuple[Verdict, ...] = (
    "supported", "partly", "contradicted", "not_found", "uncited", "not_a_claim",
)  # fmt: skip
VERDICT_ZH: dict[str, str] = {
    "supported": "有依据",
    "partly": "部分有依据",
    "contradicted": "与报告不符",
    "not_found": "报告中没有",
    "uncited": "未引用",
    "not_a_claim": "不是陈述",
}
_LEX = lexicon()  # rag/lang/data/claims.toml
_QUOTE = re.compile(r"“([^”]{4,})”")
_ITEMS = re.compile(r"[；;]")  # the items of a list written as one sentence


@dataclass(frozen=True)
class Thresholds:
    supported: float = 0.6  # share of the claim's bigrams found in its evidence
    partly: float = 0.3  # an answer's claim below it is not_found


THRESHOLDS = Thresholds()  # the one set, for our answers and for 核稿


@dataclass(frozen=True)
class Unit:
    """One body of evidence: `passages` (the text the claim's wording is sought in) and the
    `sentences` of them that state it (an answer's cited sentences, a 核稿 sentence)."""

    passages: tuple[str, ...]
    sentences: tuple[str, ...]
    reports: tuple[Report, ...] = ()  # the reports they are from


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str  # in Chinese, for staff
    report_value: str | None = None  # what the report states instead (contradicted)
    overlap: float = 0.0
    unmatched: tuple[str, ...] = ()  # figures of the claim the evidence lacks
    unit: int = 0  # the unit judged against


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


_NEGATION = re.compile(rf"({_LEX['negation'].alternation})([\u4e00-\u9fff]{{2}})")
_NOT_NEGATIONS = _LEX["not_negation"].set


def negated(text: str) -> set[str]:
    """What a text negates: the two characters after each negation (未严格 -> 严格)."""
    out = set()
    for m in _NEGATION.finditer(text):
        cue, pred = m.groups()
        if (cue + pred)[:2] not in _NOT_NEGATIONS:
            out.add(pred)
    return out


def negation_mismatch(claim: str, support: str) -> str:
    """Why the claim and its evidence sentence disagree in negation ('' when they agree)."""
    claim_neg, support_neg = negated(claim), negated(support)
    for pred in sorted(claim_neg - support_neg):
        if pred in support:
            return f"文中否定了“{pred}”，报告原文没有否定"
    for pred in sorted(support_neg - claim_neg):
        if pred in claim:
            return f"报告原文否定了“{pred}”，文中没有否定"
    return ""


def own_names_removed(claim: str, reports: Sequence[Report]) -> str:
    """The claim without its evidence reports' labels (峡口镇（2024年）：), place names and
    years: the body says 我镇 and 今年, the metadata names them; another place stays."""
    body = claim.removeprefix("- ")
    for r in reports:
        if body.startswith(r.label + "："):
            body = body[len(r.label) + 1 :]
            break
    names = {n for r in reports for n in r.meta.places.names()}
    names |= {f"{r.meta.year}年" for r in reports if r.meta.year}
    for name in sorted(names, key=len, reverse=True):
        body = body.replace(name, " ")
    return body


def _figures(text: str) -> list[Quantity]:
    return [q for q in quantities(text) if not is_year(q)]


def _before(text: str, q: Quantity, width: int = 8) -> str:
    at = text.find(q.text)
    return text[max(0, at - width) : max(0, at)]


def _aligned(q: Quantity, claim: str, found: list[Quantity], sentence: str) -> Quantity | None:
    """Of the sentence's figures, the one the claim's figure stands for: the one after the
    same words (配置执法人员5名，全镇考取执法证19人: 考取执法证25人 is about 19人)."""
    if not found:
        return None
    context = _before(claim, q)
    return max(found, key=lambda f: containment(context, _before(sentence, f)))


ALIGNED = 0.5  # share of a figure's preceding words that must match to be the same figure


def _misaligned(
    q: Quantity, claim: str, sentence: str, min_context: float = ALIGNED
) -> tuple[str, str] | None:
    """(reason, report value) when the sentence stating the claim gives, after the same words,
    another figure or unit than the claim's (创建5种特色调解室 where it writes 创建6种, even if a
    5 stands elsewhere in the passage), and no figure equal to the claim's after words as close.
    With `min_context` 0 (no figure equal to the claim's anywhere): the figure after the most
    similar words, however similar."""
    context = _before(claim, q)

    def ctx(f: Quantity) -> float:
        return containment(context, _before(sentence, f))

    near = _figures(sentence)
    here = max((ctx(f) for f in near if same_quantity(q, f)), default=-1.0)
    for kind, pool in (
        ("", [f for f in near if compatible_units(q.unit, f.unit) and not same_quantity(q, f)]),
        (
            "单位不符：",
            [f for f in near if f.value == q.value and not compatible_units(q.unit, f.unit)],
        ),
    ):
        f = _aligned(q, claim, pool, sentence)
        if f is not None and ctx(f) >= min_context and ctx(f) > here:
            return f"{kind}报告写的是{f.text}，文中是{q.text}", f.text
    return None


def _adds_words(wording: set[str], sentence: str) -> bool:
    return len({b for b in wording & bigrams(sentence) if not any(c.isdigit() for c in b)}) >= 2


def stitched(claim: str, spans: Sequence[str], threshold: float) -> str:
    """Why the claim is pieced together from two unrelated sentences of its evidence ('' when
    not): a figure of the claim is not in the sentence stating the rest (nor in a next one
    the claim goes on into) but in another one; or no one sentence holds `threshold` of its
    wording, two do together, and they are not consecutive sentences of one passage."""
    units = [(p, i, s[a:b]) for p, s in enumerate(spans) for i, (a, b) in enumerate(sentences(s))]
    if len(units) < 2:
        return ""
    shares = [containment(claim, u[2]) for u in units]
    if max(shares) >= threshold:
        top = units[shares.index(max(shares))]
        wording = bigrams(claim) - bigrams(top[2])
        near = [f for p, i, t in units if (p, i) == top[:2] or (
                    p == top[0] and abs(i - top[1]) == 1 and _adds_words(wording, t))
                for f in quantities(t)]  # fmt: skip
        for q in quantities(strip_markers(claim)):
            if is_year(q) or any(same_quantity(q, f) for f in near):
                continue
            if any(same_quantity(q, f) for _, _, t in units for f in quantities(t)):
                return f"{q.text}出自另一句话，不是陈述其余内容的那句"
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
    if p1 == p2 and abs(i1 - i2) == 1:
        return ""
    return "文字拼自两句互不相干的原文，没有一句这样写"


def _quotes_verbatim(claim: str, passages: str) -> bool:
    quotes = _QUOTE.findall(claim)
    target = content(passages)
    return bool(quotes) and all(content(q) in target for q in quotes)


def _overlap(worded: str, unit: Unit) -> float:
    joined = "\n".join(unit.passages)
    return max([containment(worded, joined)] + [containment(worded, p) for p in unit.passages])


def _choose(claim: str, units: Sequence[Unit]) -> int:
    """The unit that states the claim's figures, then most of its wording."""
    figures = _figures(strip_markers(claim))

    def key(i: int) -> tuple[int, float]:
        u = units[i]
        found = [f for p in u.passages for f in quantities(p)]
        matched = sum(any(same_quantity(q, f) for f in found) for q in figures)
        return matched, _overlap(own_names_removed(strip_markers(claim), u.reports), u)

    return max(range(len(units)), key=key)


def judge(
    claim: str,
    units: Sequence[Unit],
    *,
    cited: bool = False,
    about_report: bool = False,
    thresholds: Thresholds = THRESHOLDS,
) -> Judgement:
    """The verdict of `claim` against the best of `units`. `cited`: the claim is an answer's,
    its markers name its one unit (it may be `partly` supported). `about_report`: the answer
    is about the report itself (its date, issuer), so a 落款 or date line is its evidence."""
    if not units:
        return Judgement("not_found", "检索范围内的报告没有这一内容")
    at = _choose(claim, units)
    unit = units[at]
    reports = unit.reports
    if (
        not about_report
        and unit.sentences
        and all(is_furniture(r, s) for s in unit.sentences for r in (reports or (None,)))
    ):
        return Judgement("not_found", "只引用了报告的标题、落款或日期行，它们不陈述任何事", unit=at)
    bare = strip_markers(claim)
    worded = own_names_removed(bare, reports)
    overlap = _overlap(worded, unit)
    joined = "\n".join(unit.passages)
    shown = "；".join(s.strip() for s in unit.sentences)[:120]

    def out(
        verdict: Verdict, reason: str, value: str | None = None, unmatched: Sequence[str] = ()
    ) -> Judgement:
        return Judgement(verdict, reason, value, overlap, tuple(unmatched), at)

    sentence = max(unit.sentences, key=lambda s: containment(worded, s), default=joined)
    aligned = overlap >= thresholds.partly
    verdict = _figures_verdict(bare, worded, sentence, unit, aligned, shown)
    if verdict is None:
        clash = next((why for s in unit.sentences if (why := negation_mismatch(bare, s))), "")
        if clash:
            verdict = ("contradicted", f"否定不符：{clash}", sentence, ())
    verdict = verdict or _year_verdict(bare, reports, sentence)
    if verdict is not None:
        return out(*verdict)
    if about_report and _figures(bare):
        # the line stating a report's own field (公开日期 | 2025-03-07) has every figure of the
        # claim: its wording is a label's, not the claim's, so the figures decide
        return out("supported", f"报告信息行写明了文中的日期和数字（{shown}）")
    quoted = _quotes_verbatim(bare, joined)
    # each part a marker closes is one statement (a list's items: 甲[1]；乙[2])
    # (a draft's items: 甲；乙); each is checked for stitching on its own
    parts = (
        cited_parts(own_names_removed(claim, reports))
        if cited
        else [p for p in _ITEMS.split(worded) if p.strip()]
    )
    pieced = "" if quoted else next(
        (why for part in parts if (why := stitched(part, unit.passages, thresholds.supported))), ""
    )  # fmt: skip
    if pieced:
        return out("partly" if cited else "not_found", pieced)
    if overlap >= thresholds.supported or quoted:
        return out("supported", f"{overlap:.0%}的文字见于报告原文")
    if cited and overlap >= thresholds.partly:
        return out("partly", f"只有{overlap:.0%}的文字见于所引原文")
    return out("not_found", f"只有{overlap:.0%}的文字见于最接近的报告原文（{shown}）")


_Verdict = tuple[Verdict, str, str | None, Sequence[str]]  # verdict, reason, value, unmatched


def _figures_verdict(
    bare: str, worded: str, sentence: str, unit: Unit, aligned: bool, shown: str
) -> _Verdict | None:
    """The verdict the claim's figures decide: contradicted by a figure the closest sentence
    states for the same thing (when the wording is `aligned`), not found when a figure is in
    none of the passages; None when every figure is found."""
    found = [f for p in unit.passages for f in quantities(p)]
    unmatched: list[str] = []
    for q in _figures(bare):
        misfit = _misaligned(q, worded, sentence) if aligned else None
        if misfit is not None:
            return ("contradicted", misfit[0], misfit[1], [q.text])
        if any(same_quantity(q, f) for f in found):
            continue
        misfit = _misaligned(q, worded, sentence, 0.0) if aligned else None
        if misfit is not None:
            return ("contradicted", misfit[0], misfit[1], [q.text])
        unmatched.append(q.text)
    if unmatched:
        why = f"报告原文中没有{'、'.join(unmatched)}（最接近的原文：{shown}）"
        return ("not_found", why, None, unmatched)
    return None


def _year_verdict(bare: str, reports: Sequence[Report], sentence: str) -> _Verdict | None:
    """Contradicted when the claim names a year that is not its report's (nor written in the
    sentence stating it, nor the year before: plans for next year); None otherwise."""
    years = {r.meta.year for r in reports if r.meta.year}
    for y in years_in(bare):
        if years and y not in years and str(y) not in sentence and y - 1 not in years:
            label = "、".join(r.label for r in reports)
            return (
                "contradicted",
                f"这是{label}的内容，不是{y}年的",
                f"{min(years)}年",
                [f"{y}年"],
            )
    return None
