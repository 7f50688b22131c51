"""The answer decision, in one place: for extractive and LLM answers alike, one object takes
the analysed question, its evidence and its filters and says answer, refuse (with the reason)
or route to the report's metadata. One threshold, given once. Explicit filters (report, place,
year) win over what the question seems to name (rag.retrieve.query drops the places it names then).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from rag.answer.crossreport import asks_across
from rag.answer.meta_answer import intent
from rag.lang import phrase
from rag.retrieve.query import Query
from rag.retrieve.sections import asks_done, asks_next_year, states_next_year
from rag.retrieve.terms import QuestionTerms
from rag.types import Candidate, Hit, Report, best_evidence


@dataclass(frozen=True)
class Draft:
    """A question with its sources, before it is answered."""

    query: Query
    reports: dict[str, Report]
    hits: list[Hit]
    groups: list[tuple[str, list[int]]]  # cross-report: source -> its source numbers
    # the sources' sentences ranked for the question: one list per group, or one for all hits
    ranked: list[list[Candidate]] = field(default_factory=list)
    # per report of a question across reports: those whose evidence is below the threshold
    # (the decision's; the answer says nothing was found there)
    missing: tuple[str, ...] = ()

    @property
    def question(self) -> str:
        return self.query.text

    @property
    def searched(self) -> Sequence[str]:
        return self.query.searched

    @property
    def terms(self) -> QuestionTerms:
        return self.query.terms

    @property
    def topic(self) -> str:
        return self.query.terms.topic

    @property
    def filters(self) -> Sequence[str]:
        return self.query.filters

    @property
    def support(self) -> float:
        """The evidence score: the best-supported sentence's share of the question's terms
        (for a numeric question, among the sentences stating a figure in the unit asked)."""
        best = [best_evidence(group) for group in self.ranked]
        return max((c.support for c in best if c is not None), default=0.0)


def _best(d: Draft) -> tuple[Candidate, Sequence[Hit]] | None:
    """The best-supported sentence of the draft, with the hits its number counts in."""
    subsets = [[d.hits[n - 1] for n in ns] for _, ns in d.groups] if d.groups else [d.hits]
    pairs = [(best_evidence(g), hits) for g, hits in zip(d.ranked, subsets, strict=False)]
    return max(
        ((c, hits) for c, hits in pairs if c is not None),
        key=lambda pair: pair[0].support,
        default=None,
    )


def evidence_text(d: Draft) -> str:
    """The best-supported sentence with its section path: where a year asked may be stated.
    A sentence of next year's plans ('三、2020年工作打算') states no result of that year: ''
    for a question about what was done (调解了多少件), unless it asks for the plans."""
    best = _best(d)
    if best is None:
        return ""
    c, hits = best
    chunk = hits[c.n - 1].chunk
    if states_next_year(chunk) and asks_done(d.question) and not asks_next_year(d.question):
        return ""
    return chunk.section_path + " " + c.text(hits)


def year_gap(d: Draft, report_years: dict[str, int | None]) -> str:
    """Why the searched reports cannot answer for the year(s) asked, or ''. A report covers
    its own year, the next year's plans (a 2024 report's 下一步 is 2025's plan), and a year
    its best evidence sentence names; a year only mentioned elsewhere in a passage does not
    count (the 2024 figures are not 2023's)."""
    asked = set(d.query.years)
    covered = {report_years[r] for r in d.searched}
    if None in covered:  # a report whose year could not be read: its text decides
        return ""
    if asks_next_year(d.question):
        covered |= {y + 1 for y in covered if y}
    if not asked or asked & covered or any(str(y) in evidence_text(d) for y in asked):
        return ""
    years = "、".join(str(y) for y in sorted(y for y in covered if y))
    return f"检索范围内的报告不涉及{'、'.join(map(str, sorted(asked)))}年，报告年份为{years}"


def plans_note(d: Draft, report_years: dict[str, int | None]) -> str:
    """What the answer says first when a year asked is answered from the plans a report of
    the year before wrote for it, and the question does not ask for plans (建设街道2020年共组织
    执法人员培训多少次 from a 2019 report's 二、2020年工作打算): a plan, not that year's result."""
    asked = set(d.query.years)
    best = _best(d)
    if not asked or best is None or asks_next_year(d.question):
        return ""
    c, hits = best
    chunk = hits[c.n - 1].chunk
    year = report_years.get(chunk.source)
    if not states_next_year(chunk) or year is None or year in asked or year + 1 not in asked:
        return ""
    label = d.reports[chunk.source].label
    return phrase("plans_note").render(label=label, year=year + 1)


def grounding_reason(d: Draft, report_years: dict[str, int | None]) -> str:
    """Why no report can answer for the place or year asked ('' when some can)."""
    if d.query.unknown_places:
        return f"语料中没有关于{'、'.join(d.query.unknown_places)}的报告"
    return year_gap(d, report_years) if d.hits else ""


Route = Literal["answer", "refuse", "metadata"]


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: str = ""  # why refused ('' : the evidence is below the threshold)
    missing: tuple[str, ...] = ()  # across reports: the reports with no support
    note: str = ""  # what the answer says first (a year answered from the plans for it)


class Decider:
    """The one place that decides whether a question is answered.

    `route(query, explicit)` before retrieval: a question about a report itself (发布日期,
    文号) that names its report, or is scoped to one by hand, is answered from its metadata.
    `decide(draft)` after retrieval: a place or year no report covers, no passage, or evidence
    below `threshold` refuses; across reports, the reports below it are `missing`.
    `refuses(text, marker)` after an LLM answered: its structured "not in the reports" signal,
    the prompt's own abstention line (prompts/answer.toml `abstain`), not a guess at its prose.
    """

    def __init__(self, threshold: float, report_years: dict[str, int | None]) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"the abstention threshold must be within 0..1, got {threshold!r}")
        self.threshold = threshold
        self.report_years = report_years

    def route(self, query: Query, explicit_reports: bool) -> tuple[Route, tuple[str, str] | None]:
        meta = intent(query.text)
        if meta and (query.scope.named or explicit_reports):
            return "metadata", meta
        return "answer", None

    @staticmethod
    def across(query: Query) -> bool:
        """Whether the question is answered report by report (it names several places, or
        asks 哪些镇…, 分别, 对比): its sources are retrieved per report."""
        return asks_across(query)

    def decide(self, d: Draft) -> Decision:
        reason = grounding_reason(d, self.report_years)
        if reason:
            return Decision("refuse", reason)
        if not d.hits:
            return Decision("refuse", "没有检索到任何段落")
        if d.support < self.threshold:
            return Decision("refuse")
        missing = tuple(
            source
            for (source, _), ranked in zip(d.groups, d.ranked, strict=False)
            if (best := best_evidence(ranked)) is None or best.support < self.threshold
        )
        return Decision("answer", missing=missing, note=plans_note(d, self.report_years))

    @staticmethod
    def refuses(text: str, marker: str | None) -> bool:
        """Whether an answer is the answerer's signal that the sources do not hold it: its
        text begins with the abstention line its prompt asks for."""
        return bool(marker) and text.strip().startswith(marker or "")
