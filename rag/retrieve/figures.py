"""Where a sentence states a figure for an indicator column (rag.table): the figure in a unit
the column accepts, in a clause that names some of the column's words, nearest them, and not
another year's; a head count beside a column's words; the gap between a figure and them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from rag.lang import lexicon
from rag.retrieve.support import has_figure, support
from rag.retrieve.terms import SYNONYMS, QuestionTerms
from rag.text.numbers import Quantity, is_year, quantities
from rag.text.textmatch import years_in

_NOT_COUNTS = ("%", "元", "万元", "亿元", "年", "年度")  # a count column's figure is none of these
_PEOPLE = lexicon()["head_count_units"].set  # rag/lang/data/units.toml


def names_some(terms: QuestionTerms, text: str) -> bool:
    """Whether `text` holds one of the column's words (or a synonym, the reports' words for
    it, or part of a long one)."""
    return support(replace(terms, numeric=False, topic="", listing=False), text) > 0


def names_all(terms: QuestionTerms, text: str) -> bool:
    """Whether `text` holds each of the column's words (or a synonym, or part of a long one):
    a column asking whether a report states something (法律顾问) is not answered by a
    sentence holding half of it (巡查 for 无人机巡查)."""
    return all(
        support(replace(terms, weights={t: w}, numeric=False, topic="", listing=False), text) > 0
        for t, w in terms.weights.items()
    )


def _is_count(q: Quantity) -> bool:
    return bool(q.unit) and q.unit not in _NOT_COUNTS and not is_year(q)


def _fits(q: Quantity, unit: str, accepts: tuple[str, ...]) -> bool:
    if is_year(q):
        return False
    if accepts:
        return q.unit in accepts
    if not unit:
        return _is_count(q)
    return has_figure(q.text, unit)


def _term_spans(text: str, terms: QuestionTerms) -> list[tuple[int, int, float]]:
    """Where the column's words (or the words question.toml's synonyms count as them: not the
    thesaurus's looser ones, 决定 for 决策) stand in `text`, with their weights."""
    out = []
    for term, weight in terms.weights.items():
        similar = (w for g in SYNONYMS if term in g for w in g)
        for word in {term, *similar, *terms.neighbours.get(term, ())}:
            at = text.find(word)
            while at >= 0 and word:
                out.append((at, at + len(word), weight))
                at = text.find(word, at + 1)
    return out


_CLAUSE = re.compile(r"[，,；;：:。！？!?]")


def _clause(text: str, at: int) -> str:
    """The clause of `text` around offset `at` (between commas, semicolons, colons)."""
    starts = [m.end() for m in _CLAUSE.finditer(text, 0, at)]
    end = _CLAUSE.search(text, at)
    return text[starts[-1] if starts else 0 : end.start() if end else len(text)]


def find_figure(
    text: str, terms: QuestionTerms, unit: str, accepts: tuple[str, ...], year: int | None
) -> tuple[Quantity, int] | None:
    """The figure of `text` in a unit the column accepts, in a clause that holds some of the
    column's words (全年多元化解纠纷42宗; not 党委印发的92份文件 after 重大决策的审查), nearest them
    (after them first: 开展执法培训15次; before them: 15次执法培训), with its offset. A figure
    after the mention of another year than the report's `year` is that year's (比2023年的29件)."""
    best: tuple[float, Quantity, int] | None = None
    for q, at in _placed(text):
        if not _fits(q, unit, accepts) or not names_some(terms, _clause(text, at)):
            continue
        said = years_in(text[:at])  # 比2023年的29件, 2022年，…培训9次: another year's figure
        if year is not None and said and said[-1] != year:
            continue
        apart = gap(text, terms, at, q)
        if best is None or apart < best[0]:
            best = (apart, q, at)
    return None if best is None else (best[1], best[2])


def _placed(text: str) -> Iterator[tuple[Quantity, int]]:
    """Each quantity of `text` with its offset there."""
    pos = 0
    for q in quantities(text):
        at = text.find(q.text, pos)
        if at >= 0:
            pos = at + len(q.text)
            yield q, at


def gap(text: str, terms: QuestionTerms, at: int, q: Quantity | None) -> float:
    """Characters between a figure at `at` and the nearest of the column's words (before it
    counts double: 15次执法培训 is rarer than 开展执法培训15次); 0 for no figure."""
    if q is None or at < 0:
        return 0.0
    end = at + len(q.text)
    spans = _term_spans(text, terms)
    if not spans:
        return float(len(text))
    return float(min(at - b if at >= b else (a - end) * 2 if a >= end else 0 for a, b, _ in spans))


def people_near(text: str, terms: QuestionTerms) -> tuple[Quantity | None, int]:
    """For a column that asks whether a report states something (法律顾问): the count of
    people right around its words when the sentence gives one (聘请法律顾问3名), else none."""
    spans = _term_spans(text, terms)
    for q, at in _placed(text):
        if q.unit in _PEOPLE and any(-8 <= at - b <= 4 or 0 <= a - at - len(q.text) <= 8
                                     for a, b, _ in spans):  # fmt: skip
            return q, at
    return None, -1
