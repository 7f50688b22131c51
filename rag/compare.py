"""One place, year over year: the same indicators for each year the corpus holds (rag.table)
with the change between consecutive years, each side cited; and whether last year's plans
were kept: each item of a report's next-year plans (下一步工作安排) set against the next
year's report, marked 已见落实 (a sentence of the work done that holds most of the item's
words, cited), 表述相同 (the later report writes the item again, nearly word for word: a plan
copied, not a result) or 未见提及.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from rag.check import not_a_claim
from rag.errors import ConfigError
from rag.pipeline import AskOptions, Pipeline
from rag.retrieve.sections import next_year_topic, report_sentences, sentence_topic
from rag.retrieve.support import support
from rag.retrieve.terms import question_terms
from rag.table import Cell, Table, TableBuilder, counts_alike
from rag.text.textmatch import containment, is_heading
from rag.types import Report
from rag.verify.judge import is_furniture

# A plan item is 表述相同 when this share of its character bigrams is in one sentence of the
# later report; 已见落实 when a sentence of the later report's work holds this IDF-weighted
# share of its words. Fitted on corpora built from the sample reports (tests/test_compare.py).
SAME_WORDS = 0.8
KEPT = 0.45
Verdict = Literal["kept", "same_words", "not_mentioned"]
VERDICT_ZH = {"kept": "已见落实", "same_words": "表述相同", "not_mentioned": "未见提及"}


@dataclass(frozen=True)
class Change:
    """One indicator from one year's report to the next: the difference when both state it
    in units that count the same thing, else why there is none."""

    indicator: str
    before: Cell
    after: Cell
    delta: float | None
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        share = (
            round(self.delta / self.before.number, 4)
            if self.delta is not None and self.before.number
            else None
        )
        return {"indicator": self.indicator, "before": self.before.value,
                "after": self.after.value, "delta": self.delta, "share": share,
                "unit": self.after.unit or self.before.unit, "why": self.why}  # fmt: skip


def change(before: Cell, after: Cell) -> Change:
    if not before.stated or not after.stated:
        return Change(before.indicator, before, after, None, "有一年未载明")
    if before.number is None or after.number is None:
        return Change(before.indicator, before, after, None, "不是数字")
    if not counts_alike(before.unit, after.unit) or (before.unit == "%") != (after.unit == "%"):
        why = f"单位不同（{before.unit or '无'}、{after.unit or '无'}）"
        return Change(before.indicator, before, after, None, why)
    return Change(before.indicator, before, after, after.number - before.number)


@dataclass(frozen=True)
class Promise:
    """An item of one report's next-year plans, and what the next year's report says of it."""

    source: str  # the earlier report
    start: int
    end: int
    text: str
    verdict: Verdict
    later: str  # the later report
    evidence: tuple[int, int] | None  # the later report's sentence
    score: float

    def to_dict(self, reports: dict[str, Report] | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "source": self.source, "start": self.start, "end": self.end, "text": self.text,
            "verdict": self.verdict, "verdict_zh": VERDICT_ZH[self.verdict],
            "later": self.later, "score": round(self.score, 3),
        }  # fmt: skip
        if self.evidence is not None:
            a, b = self.evidence
            d["evidence"] = {"start": a, "end": b}
            if reports is not None:
                d["evidence"]["text"] = reports[self.later].text[a:b]
        return d


@dataclass(frozen=True)
class Trend:
    place: str
    table: Table  # one row per report of the place, by year
    years: dict[str, int]
    changes: tuple[tuple[str, str, tuple[Change, ...]], ...]  # (earlier, later, per indicator)
    promises: tuple[Promise, ...]

    def to_dict(self, reports: dict[str, Report] | None = None) -> dict[str, Any]:
        return {
            "place": self.place,
            "years": self.years,
            "table": self.table.to_dict(reports),
            "changes": [
                {"from": a, "to": b, "changes": [c.to_dict() for c in cs]}
                for a, b, cs in self.changes
            ],  # fmt: skip
            "promises": [p.to_dict(reports) for p in self.promises],
        }


def _lowest(report: Report) -> str:
    """The lowest place a report is about (its town, else county, city, province), or ''."""
    p = report.meta.places
    return p.town or p.county or p.city or p.province or ""


class Comparer:
    """Year-over-year views of one place over a pipeline's reports."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.tables = TableBuilder(pipeline)  # and its reports' chunks

    def trend(
        self, place: str, indicators: Sequence[str], options: AskOptions | None = None
    ) -> Trend:
        """The place's reports by year, the indicators of each, the changes between
        consecutive years and the fate of each year's plans in the next year's report."""
        place = place.strip()
        if not place:
            raise ConfigError("请给出一个地方（如 水口镇）")
        opts = options or AskOptions()
        table = self.tables.build(indicators, replace(opts, places=(place,)))
        reports = self.pipeline.reports
        own = {s: _lowest(reports[s]) for s, _ in table.rows}
        # a county's name also finds its towns' reports: one place is compared with itself
        mine = {s for s, p in own.items() if p and (p in place or place in p)} or set(own)
        places = sorted({own[s] for s in mine if own[s]})
        if len(places) > 1:
            raise ConfigError(f"“{place}”对应多个地方（{'、'.join(places)}），请写明其中一个")
        dated = sorted((y, s) for s in mine if (y := reports[s].meta.year) is not None)
        if not dated:
            raise ConfigError(f"没有{place}的标明年份的报告")
        if len({y for y, _ in dated}) < len(dated):
            twice = sorted({y for y, _ in dated if sum(x == y for x, _ in dated) > 1})
            raise ConfigError(
                f"{place}的{'、'.join(map(str, twice))}年有不止一份报告，请用 --report 选定"
            )
        rows = dict(table.rows)
        ordered = Table(table.indicators, tuple((s, rows[s]) for _, s in dated), table.labels,
                        table.seconds)  # fmt: skip
        changes = []
        promises: list[Promise] = []
        for (y0, a), (y1, b) in zip(dated, dated[1:], strict=False):
            if y1 != y0 + 1:
                continue  # plans are for the next year; a gap is not compared
            changes.append(
                (a, b, tuple(change(x, y) for x, y in zip(rows[a], rows[b], strict=True)))
            )
            promises += self.promises(a, b)
        return Trend(place, ordered, {s: y for y, s in dated}, tuple(changes), tuple(promises))

    def _sentences(self, source: str) -> list[tuple[int, int, str, bool]]:
        """(start, end, text, in next year's plans) of each sentence of a report, once."""
        report = self.pipeline.reports[source]
        out = []
        for chunk, a, b in report_sentences(self.tables.chunks.get(source, [])):
            text = chunk.text[a:b]
            if is_heading(text, chunk.section) or is_furniture(report, text):
                continue
            plans = next_year_topic(sentence_topic(chunk, a))
            out.append((chunk.start + a, chunk.start + b, text, plans))
        return out

    def promises(self, earlier: str, later: str) -> list[Promise]:
        """Each plan item of `earlier` against `later`'s report."""
        # a closing (专此报告) or a lead-in in the plans' part is no plan (rag.check.not_a_claim)
        items = [s for s in self._sentences(earlier) if s[3] and not not_a_claim(s[2])]
        after = self._sentences(later)
        lexical = self.pipeline.index.lexical
        tokenizer = lexical.tokenizer
        out = []
        for start, end, text, _ in items:
            same = max(after, key=lambda s: containment(text, s[2]), default=None)
            if same is not None and containment(text, same[2]) >= SAME_WORDS:
                out.append(Promise(earlier, start, end, text, "same_words", later,
                                   (same[0], same[1]), containment(text, same[2])))  # fmt: skip
                continue
            terms = question_terms(text, tokenizer.words, tokenizer, lexical.idf,
                                   df=lexical.df)  # fmt: skip
            done = [s for s in after if not s[3]]
            best = max(done, key=lambda s: support(terms, s[2]), default=None)
            score = support(terms, best[2]) if best is not None else 0.0
            if best is not None and score >= KEPT:
                out.append(Promise(earlier, start, end, text, "kept", later, (best[0], best[1]),
                                   score))  # fmt: skip
            else:
                out.append(Promise(earlier, start, end, text, "not_mentioned", later, None, score))
        return out
