"""Indicator tables (汇总): rows are the reports in scope, columns are indicators in staff's
words (执法培训次数, 行政复议案件数, 法律顾问), each cell the figure the report states for it,
with its unit and the exact sentence it stands in, or 未载明 with the report searched.

A column's name is read by rag/lang/data/question.toml `indicator_suffix`: its ending says the
unit asked and the units a figure for it may be in (次数 -> 次/场/期, 件数 -> 件/起/宗/份, 率 ->
%, 数 -> a count in any unit); the rest is what is searched, read as a question is
(rag.retrieve.terms), with the reports' other words for it (`indicator_synonyms`: 调解 ~ 化解).
Every sentence of the report is scored by the evidence score (rag.retrieve.support), as an
answer's sentences are; next year's plans, the shortcomings part, headings and title lines are
never a cell. The figure is read by rag.retrieve.figures: in an accepted unit, in a clause
naming the column, nearest its words, never another year's or a change. A cell holds one
figure, so it never mixes units or years; a column total adds only figures that count the same
thing (`counts_alike`), and says which cells it added and which it left out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rag.errors import ConfigError
from rag.lang import lexicon
from rag.pipeline import AskOptions, Pipeline
from rag.retrieve.figures import find_figure, gap, names_all, people_near
from rag.retrieve.scope import resolve_scope
from rag.retrieve.sections import (
    SHORTCOMINGS,
    next_year_topic,
    report_sentences,
    sentence_topic,
)
from rag.retrieve.support import support
from rag.retrieve.terms import QuestionTerms, question_terms
from rag.text.numbers import Quantity, compatible_units
from rag.text.textmatch import is_heading, years_in
from rag.types import Chunk, Report
from rag.verify.judge import is_furniture

_SUFFIX = lexicon()["indicator_suffix"]  # rag/lang/data/question.toml
_COLUMN_WORDS = tuple(lexicon()["indicator_synonyms"].groups("group").values())
MAX_INDICATORS = 20
MAX_NAME = 30  # characters of a column name
# The evidence score a sentence needs to be a cell (0..1, the share of the column's words it
# holds, IDF-weighted): fitted on the five sample reports' cells only (eval/corpus-table).
MIN_SUPPORT = 0.6
UNSTATED = "未载明"


def indicator_names(values: str | Sequence[str]) -> list[str]:
    """Indicators one by one or separated by commas or 、 (执法培训次数，行政复议案件数), as
    every front end takes them."""
    if isinstance(values, str):
        values = [values]
    elif not all(isinstance(v, str) for v in values):
        raise ConfigError("指标须是文字（一个或多个指标名称）")
    parts = (v.replace("，", ",").replace("、", ",").split(",") for v in values)
    return [n.strip() for p in parts for n in p if n.strip()]


def reports_in_scope(pipeline: Pipeline, options: AskOptions) -> tuple[str, ...]:
    """The reports the filters of `options` leave (places, years, report names), in order; a
    word-for-word copy of a report is left out beside its original."""
    scope = resolve_scope(
        "", pipeline.reports, pipeline.query_options(options), pipeline.retriever.places
    )
    return scope.reports if scope.reports is not None else tuple(sorted(pipeline.reports))


@dataclass(frozen=True)
class Indicator:
    """A column: its name as written, the words searched, the unit asked ("" a count in any
    unit, None: whether the report states it at all, and its count of people if it gives one)."""

    name: str
    stem: str
    unit: str | None
    accepts: tuple[str, ...] = ()  # the units a figure for it may be in; () any of the unit's group

    @classmethod
    def read(cls, name: str) -> Indicator:
        name = name.strip()
        if not name:
            raise ConfigError("指标名称是空的")
        if len(name) > MAX_NAME:
            raise ConfigError(f"指标名称“{name[:MAX_NAME]}…”超过 {MAX_NAME} 个字符")
        if len(name) < 2:
            raise ConfigError(f"指标名称“{name}”太短：至少两个字（如 执法培训次数）")
        if not name.isprintable() or name[0] in "=+-@":
            raise ConfigError(
                f"指标名称“{name!r}”里有控制字符，或以 = + - @ 开头（表格会当作公式）"
            )
        for suffix in sorted(_SUFFIX.words, key=len, reverse=True):
            drop = int(_SUFFIX.attr(suffix, "drop", 0))
            if name.endswith(suffix) and len(name) - drop >= 2:
                unit = str(_SUFFIX.attr(suffix, "unit", ""))
                accepts = tuple(_SUFFIX.attr(suffix, "accepts", ()))
                return cls(name, name[: len(name) - drop], unit, accepts)
        return cls(name, name, None)

    @property
    def question(self) -> str:
        """The column as the question it asks (执法培训有多少次, 调解成功率是多少)."""
        if self.unit is None:
            return self.stem
        if self.unit == "%":
            return f"{self.stem}是多少"
        if self.unit == "元":
            return f"{self.stem}是多少钱"
        return f"{self.stem}有多少{self.unit}"


@dataclass(frozen=True)
class Cell:
    """One report's figure for one indicator, with the sentence stating it; `value` None is
    未载明 (the report was searched and states none)."""

    source: str
    indicator: str
    value: str | None = None  # as written: 15次, 98.5%, 30余场, 是
    number: float | None = None
    unit: str = ""
    approx: bool = False
    start: int = -1  # the sentence, as offsets into the report's text
    end: int = -1
    figure_start: int = -1  # the figure itself, as offsets into the report's text
    figure_end: int = -1
    score: float = 0.0
    sentence: str = ""  # the report's sentence as it was read (an export checks it still is)

    @property
    def stated(self) -> bool:
        return self.value is not None

    def to_dict(self, report: Report | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {"source": self.source, "indicator": self.indicator}
        if not self.stated:
            return {**d, "value": None, "shown": UNSTATED}
        d.update(value=self.value, number=self.number, unit=self.unit, approx=self.approx,
                 start=self.start, end=self.end, figure_start=self.figure_start,
                 figure_end=self.figure_end, score=round(self.score, 3))  # fmt: skip
        if report is not None or self.sentence:
            d["sentence"] = self.sentence or (report.text[self.start : self.end] if report else "")
        return d


@dataclass(frozen=True)
class Total:
    """A column's sum over the cells whose units count the same thing as the first figure's."""

    indicator: str
    value: float | None
    unit: str
    summed: tuple[str, ...]  # sources whose cells were added
    left_out: tuple[tuple[str, str], ...]  # (source, why) of the cells with a figure not added

    def to_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "value": self.value, "unit": self.unit,
                "summed": list(self.summed),
                "left_out": [{"source": s, "why": w} for s, w in self.left_out]}  # fmt: skip


@dataclass(frozen=True)
class Table:
    indicators: tuple[Indicator, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]  # (source, one cell per indicator)
    labels: dict[str, str] = field(default_factory=dict)  # source -> 水口镇（2023年）
    seconds: float = 0.0

    def totals(self) -> tuple[Total, ...]:
        return tuple(_total(ind.name, [cells[i] for _, cells in self.rows])
                     for i, ind in enumerate(self.indicators))  # fmt: skip

    def sorted_by(self, indicator: str, descending: bool = True) -> Table:
        """The rows ordered by one column's figure (未载明 last)."""
        names = [i.name for i in self.indicators]
        if indicator not in names:
            raise ConfigError(f"排序的指标“{indicator}”不在表中：{'、'.join(names)}")
        at = names.index(indicator)

        def key(row: tuple[str, tuple[Cell, ...]]) -> tuple[bool, float]:
            n = row[1][at].number
            return (n is None, -(n or 0.0) if descending else (n or 0.0))

        return Table(self.indicators, tuple(sorted(self.rows, key=key)), self.labels, self.seconds)

    def to_dict(self, reports: dict[str, Report] | None = None) -> dict[str, Any]:
        return {
            "indicators": [
                {"name": i.name, "searched": i.stem, "unit": i.unit} for i in self.indicators
            ],  # fmt: skip
            "rows": [
                {
                    "source": s,
                    "label": self.labels.get(s, s),
                    "cells": [c.to_dict(reports.get(s) if reports else None) for c in cells],
                }
                for s, cells in self.rows
            ],  # fmt: skip
            "totals": [t.to_dict() for t in self.totals()],
            "seconds": round(self.seconds, 3),
        }


_HEADS = lexicon()["head_count_units"].set  # rag/lang/data/units.toml: 人, 名, 位


def counts_alike(a: str, b: str) -> bool:
    """Whether figures in units `a` and `b` may be added or subtracted: they count the same
    thing (rag.text.numbers.compatible_units), and a head count (人, 名) is never added to
    attendances (人次)."""
    return compatible_units(a, b) and ((a in _HEADS) == (b in _HEADS))


def _total(indicator: str, cells: Sequence[Cell]) -> Total:
    stated = [c for c in cells if c.stated and c.number is not None]
    if not stated:
        return Total(indicator, None, "", (), ())
    unit = stated[0].unit
    summed, left = [], []
    for c in stated:
        if c.unit == "%":
            left.append((c.source, "比例不相加"))
        elif counts_alike(c.unit, unit) and c.unit and unit:
            summed.append(c)
        else:
            left.append((c.source, f"单位 {c.unit or '无'} 与 {unit or '无'} 不同"))
    value = sum(c.number or 0.0 for c in summed) if summed else None
    return Total(indicator, value, unit, tuple(c.source for c in summed), tuple(left))


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    text: str
    plans: bool  # in next year's plans: never a cell
    other_year: bool  # names only years other than the report's
    year: int | None  # the report's year


class TableBuilder:
    """Indicator tables over a pipeline's reports."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._sentences: dict[str, list[_Sentence]] = {}
        self.chunks: dict[str, list[Chunk]] = {}  # each report's chunks
        for c in pipeline.index.chunks:
            self.chunks.setdefault(c.source, []).append(c)

    def build(self, indicators: Sequence[str], options: AskOptions | None = None) -> Table:
        t0 = time.perf_counter()
        options = options or AskOptions()
        if not indicators:
            raise ConfigError("至少要给出一个指标（如 执法培训次数）")
        if len(indicators) > MAX_INDICATORS:
            raise ConfigError(f"指标最多 {MAX_INDICATORS} 个，收到 {len(indicators)} 个")
        columns = tuple(dict.fromkeys(Indicator.read(n) for n in indicators))
        terms = [self._terms(c) for c in columns]
        p = self.pipeline
        sources = reports_in_scope(p, options)
        rows = tuple(
            (s, tuple(self.cell(s, c, t) for c, t in zip(columns, terms, strict=True)))
            for s in sources
        )
        labels = {s: p.reports[s].label for s in sources}
        return Table(columns, rows, labels, time.perf_counter() - t0)

    def _terms(self, indicator: Indicator) -> QuestionTerms:
        lexical = self.pipeline.index.lexical
        tokenizer = lexical.tokenizer
        places = frozenset(self.pipeline.retriever.places.by_alias)
        terms = question_terms(indicator.question, tokenizer.words, tokenizer, lexical.idf,
                               places, None, lexical.df)  # fmt: skip
        # the column's words in the reports' other words (question.toml indicator_synonyms)
        other = {t: tuple(w for g in _COLUMN_WORDS if t in g for w in g if w != t)
                 for t in terms.weights}  # fmt: skip
        return replace(terms, neighbours={t: ws for t, ws in other.items() if ws})

    def cell(self, source: str, indicator: Indicator, terms: QuestionTerms) -> Cell:
        """The report's figure for `indicator` (read as `terms`), or 未载明."""
        best: tuple[tuple[float, bool, float], int, _Sentence, Quantity | None, int] | None = None
        for i, s in enumerate(self._report_sentences(source)):
            if s.plans:
                continue
            score = support(terms, s.text)
            if score < MIN_SUPPORT or (best is not None and score < best[0][0]):
                continue
            if indicator.unit is None:
                if s.other_year or not names_all(terms, s.text):
                    continue
                q, at = people_near(s.text, terms)
            else:
                found = find_figure(s.text, terms, indicator.unit, indicator.accepts, s.year)
                if found is None:
                    continue
                q, at = found
            # equal scores: a sentence that gives a count (聘请2名律师作为常年法律顾问), then the
            # figure nearest the column's words (3项事项纳入重大行政决策目录, not 五项法定程序 of
            # 《重大行政决策程序暂行条例》)
            key = (score, q is not None, -gap(s.text, terms, at, q))
            if best is None or key > best[0]:
                best = (key, i, s, q, at)
        if best is None:
            return Cell(source, indicator.name)
        (score, _, _), _, s, q, at = best
        if q is None:  # stated, with no count: 设有法律顾问
            return Cell(source, indicator.name, "是", None, "", False, s.start, s.end, s.start,
                        s.end, score, s.text)  # fmt: skip
        a = s.start + at
        return Cell(source, indicator.name, q.text, q.value, q.unit, q.approx, s.start, s.end,
                    a, a + len(q.text), score, s.text)  # fmt: skip

    def _report_sentences(self, source: str) -> list[_Sentence]:
        """The report's sentences of its own year, each once (chunks overlap), in order."""
        if source in self._sentences:
            return self._sentences[source]
        report = self.pipeline.reports[source]
        year = report.meta.year
        out: list[_Sentence] = []
        for chunk, a, b in report_sentences(self.chunks.get(source, [])):
            text = chunk.text[a:b]
            if is_heading(text, chunk.section) or is_furniture(report, text):
                continue
            other_year = (
                year is not None
                and any(y != year for y in years_in(text))
                and (year not in years_in(text))
            )
            topic = sentence_topic(chunk, a)  # the chunk's section's topic, else its paragraph's
            # next year's plans, and the shortcomings (仍有4人未取得执法资格): no results
            plans = next_year_topic(topic) or topic == SHORTCOMINGS
            out.append(_Sentence(chunk.start + a, chunk.start + b, text, plans, other_year, year))
        self._sentences[source] = out
        return out
