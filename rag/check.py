"""核稿: check any text (a draft, an LLM's answer) against the reports, claim by claim.

Each sentence of the text is a claim. It gets its own retrieval (the pipeline's analysis and
scope: the places and years it names, and the user's filters) and the report sentence that
states it most closely, then a verdict:

- `supported`: the report sentence states it (its wording, every figure with its unit, the
  same negation), in a report of the place and year the claim names;
- `contradicted`: the report states another figure or unit, the negation, or the claim's
  content belongs to another place or year (the report's own value is given beside it);
- `not_found`: no report searched states it (the reports searched are listed);
- `not_a_claim`: headings, signatures, date lines, greetings.

A report's title, signature (落款) or date line never supports a claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from rag.lang import lexicon
from rag.lang.outline import HEADING_LEVELS
from rag.lang.script import simplified
from rag.metadata import ISSUER_LINE, parse_date
from rag.numbers import Quantity, compatible_units, is_year, quantities, same_quantity
from rag.pipeline import AskOptions, Pipeline
from rag.textmatch import containment, content, sentences, years_in
from rag.types import Hit
from rag.verify import is_furniture, negation_mismatch

Verdict = Literal["supported", "contradicted", "not_found", "not_a_claim"]
VERDICTS: tuple[Verdict, ...] = ("supported", "contradicted", "not_found", "not_a_claim")
_NOT_CLAIM = lexicon()["not_claim"].pattern
MIN_CONTENT = 6  # characters: a shorter sentence states nothing to check
ANY = AskOptions()  # no filters


@dataclass(frozen=True)
class Thresholds:
    supported: float = 0.5  # share of the claim's bigrams in the report sentence
    found: float = 0.35  # below it the claim's content is not in the reports at all


@dataclass(frozen=True)
class Evidence:
    source: str
    start: int  # offsets into the report text
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class CheckedClaim:
    text: str
    start: int  # offsets into the checked text
    end: int
    verdict: Verdict
    reason: str
    report_value: str | None = None  # what the report states instead (contradicted)
    citations: tuple[Evidence, ...] = ()
    searched: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "verdict": self.verdict,
            "reason": self.reason,
            "report_value": self.report_value,
            "citations": [e.to_dict() for e in self.citations],
            "searched": list(self.searched),
        }


@dataclass(frozen=True)
class CheckResult:
    claims: tuple[CheckedClaim, ...]
    filters: tuple[str, ...] = field(default_factory=tuple)

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {v: 0 for v in VERDICTS}
        for c in self.claims:
            counts[c.verdict] += 1
        return {**counts, "claims": len(self.claims)}

    def to_dict(self) -> dict[str, Any]:
        return {"claims": [c.to_dict() for c in self.claims], "summary": self.summary}


def split_claims(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of each line of `text`: a heading or a signature on a
    line of its own is one piece."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        out += sentences(text, pos, pos + len(line.rstrip("\r\n")))
        pos += len(line)
    return out


def not_a_claim(sentence: str) -> str:
    """Why the sentence is no claim ('' when it is one)."""
    s = sentence.strip()
    if len(content(s)) < MIN_CONTENT:
        return "太短，没有可核对的内容"
    if _NOT_CLAIM.search(s) and len(s) <= 40:
        return "问候、结束语或引语"
    if len(s) <= 24 and parse_date(s) and len(content(s)) <= 12:
        return "日期行"
    if ISSUER_LINE.match(s.rstrip("。")):
        return "落款（署名）"
    headed = any(p.match(s) for _, p in HEADING_LEVELS) or re.search(r"报告|总结$", s)
    if headed and not s.endswith(("。", "；", "！", "？")) and len(s) <= 40:
        return "标题或小标题"
    return ""


def _figures(text: str) -> list[Quantity]:
    return [q for q in quantities(text) if not is_year(q)]


def _before(text: str, q: Quantity, width: int = 8) -> str:
    at = text.find(q.text)
    return text[max(0, at - width) : max(0, at)]


def _aligned(q: Quantity, claim: str, found: list[Quantity], sentence: str) -> Quantity | None:
    """Of the report sentence's figures, the one the claim's figure stands for: the one after
    the same words (配置执法人员5名，全镇考取执法证19人: 考取执法证25人 is about 19人)."""
    if not found:
        return None
    context = _before(claim, q)
    return max(found, key=lambda f: containment(context, _before(sentence, f)))


class ClaimChecker:
    """Checks each claim of a text against the pipeline's reports."""

    def __init__(self, pipeline: Pipeline, thresholds: Thresholds = Thresholds()) -> None:
        self.pipeline = pipeline
        self.thresholds = thresholds

    def check(self, text: str, options: AskOptions = ANY) -> CheckResult:
        claims = []
        text = simplified(text)  # a draft in 繁體 is checked as simplified, offsets kept
        for a, b in split_claims(text):
            claims.append(self.check_claim(text[a:b], a, b, options))
        return CheckResult(tuple(claims))

    def _evidence(
        self, claim: str, options: AskOptions
    ) -> tuple[tuple[float, Hit, int, int] | None, tuple[str, ...], str]:
        """The report sentence closest to the claim (overlap, hit, start, end in the chunk),
        the reports searched, and why none may be used ('' when it may)."""
        p = self.pipeline
        query = p.analyze(claim, (), options)
        draft = p.draft(query)
        best: tuple[float, Hit, int, int] | None = None
        for hit in draft.hits:
            report = p.reports[hit.chunk.source]
            for s, e in sentences(hit.chunk.text):
                sentence = hit.chunk.text[s:e]
                if is_furniture(report, sentence):
                    continue
                overlap = containment(claim, sentence)
                if best is None or overlap > best[0]:
                    best = (overlap, hit, s, e)
        reason = ""
        if query.unknown_places:
            reason = f"语料中没有关于{'、'.join(query.unknown_places)}的报告"
        return best, tuple(draft.searched), reason

    def check_claim(
        self, claim: str, start: int = 0, end: int | None = None, options: AskOptions = ANY
    ) -> CheckedClaim:
        end = len(claim) if end is None else end
        why = not_a_claim(claim)
        if why:
            return CheckedClaim(claim, start, end, "not_a_claim", why)
        best, searched, grounding = self._evidence(claim, options)
        base = CheckedClaim(claim, start, end, "not_found", "", searched=searched)
        if best is not None and best[0] >= self.thresholds.found and not grounding:
            return self._compare(base, claim, best)
        # not in the reports of the place and year it names: is it another place's or year's?
        anywhere, _, _ = self._evidence(claim, replace(options, scope_from_question=False))
        if anywhere is not None and anywhere[0] >= self.thresholds.supported:
            verdict = self._compare(base, claim, anywhere)
            if verdict.verdict == "supported":
                report = self.pipeline.reports[anywhere[1].chunk.source]
                return replace(
                    verdict,
                    verdict="contradicted",
                    reason=f"报告中这一内容属于{report.label}，不是文中所说的地方或年份",
                    report_value=report.label,
                )
        reason = grounding or "检索范围内的报告没有这一内容"
        return replace(base, reason=reason)

    def _compare(
        self, base: CheckedClaim, claim: str, best: tuple[float, Hit, int, int]
    ) -> CheckedClaim:
        overlap, hit, s, e = best
        sentence = hit.chunk.text[s:e]
        report = self.pipeline.reports[hit.chunk.source]
        ev = Evidence(hit.chunk.source, hit.chunk.start + s, hit.chunk.start + e, sentence)
        out = replace(base, citations=(ev,))
        found = _figures(sentence)
        for q in _figures(claim):
            if any(same_quantity(q, f) for f in found):
                continue
            other = _aligned(
                q, claim, [f for f in found if compatible_units(q.unit, f.unit)], sentence
            )
            if other is not None:
                return replace(
                    out, verdict="contradicted", report_value=other.text,
                    reason=f"报告写的是{other.text}，文中是{q.text}",
                )  # fmt: skip
            unit = _aligned(q, claim, [f for f in found if f.value == q.value], sentence)
            if unit is not None:
                return replace(
                    out, verdict="contradicted", report_value=unit.text,
                    reason=f"单位不符：报告写的是{unit.text}，文中是{q.text}",
                )  # fmt: skip
            return replace(out, reason=f"报告没有写{q.text}（最接近的句子：{sentence}）")
        clash = negation_mismatch(claim, sentence)
        if clash:
            return replace(
                out, verdict="contradicted", report_value=sentence, reason=f"否定不符：{clash}"
            )
        year = report.meta.year
        for y in years_in(claim):
            if year and y != year and str(y) not in sentence and y != year + 1:
                return replace(
                    out, verdict="contradicted", report_value=f"{year}年",
                    reason=f"这是{report.label}的内容，不是{y}年的",
                )  # fmt: skip
        if overlap >= self.thresholds.supported:
            return replace(out, verdict="supported", reason=f"{overlap:.0%}的文字见于报告原文")
        return replace(out, reason=f"只有{overlap:.0%}的文字见于最接近的报告句子")
