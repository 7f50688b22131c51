"""Where a sentence states a figure for an indicator column (rag.table): the figure in a unit
the column accepts, in a clause that names some of the column's words, nearest them, and not
another year's; a head count beside a column's words; the gap between a figure and them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace

from rag.lang import lexicon
from rag.retrieve.support import has_figure, support
from rag.retrieve.terms import SYNONYMS, QuestionTerms
from rag.text.numbers import QUANTITY, Quantity, is_year, quantities
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
_CJK = re.compile(r"[\u4e00-\u9fff]")
BARE_CLAUSE = 4  # Chinese characters beside the figure: 全年共, 累计审查 name no thing of their own


def _clause(text: str, at: int, figure: str = "") -> str:
    """The clause of `text` around offset `at` (between commas, semicolons, colons); with the
    clause before it when this one names nothing but the figure (…同比减少3件，全年共12件;
    累计审查130余件 after 对合同开展合法性审查)."""
    starts = [m.end() for m in _CLAUSE.finditer(text, 0, at)]
    end = _CLAUSE.search(text, at)
    start = starts[-1] if starts else 0
    clause = text[start : end.start() if end else len(text)]
    bare = len(_CJK.findall(clause.replace(figure, "", 1))) <= BARE_CLAUSE
    if bare and starts:
        return text[starts[-2] if len(starts) > 1 else 0 : end.start() if end else len(text)]
    return clause


def find_figure(
    text: str, terms: QuestionTerms, unit: str, accepts: tuple[str, ...], year: int | None
) -> tuple[Quantity, int] | None:
    """The figure of `text` in a unit the column accepts, in a clause that holds some of the
    column's words (全年多元化解纠纷42宗; not 党委印发的92份文件 after 重大决策的审查), nearest them
    (after them first: 开展执法培训15次; before them: 15次执法培训), with its offset. A figure
    after the mention of another year than the report's `year` is that year's (比2023年的29件)."""
    best: tuple[float, Quantity, int] | None = None
    for q, at in _placed(text):
        if not _fits(q, unit, accepts) or not names_some(terms, _clause(text, at, q.text)):
            continue
        if _another_years(text, at, year) or _CHANGE.search(text, max(0, at - 6), at):
            continue
        apart = gap(text, terms, at, q)
        if best is None or apart < best[0]:
            best = (apart, q, at)
    return None if best is None else (best[1], best[2])


_LEX = lexicon()
_LEADS = sorted(_LEX["number_prefix"].where("approx", False), key=len, reverse=True)  # units.toml
_OTHER_YEAR = _LEX["figure_other_year"].pattern  # rag/lang/data/question.toml: 上年, 去年
# 同比减少3件: a change, not a total (question.toml figure_change)
_CHANGE = re.compile(rf"(?:{_LEX['figure_change'].alternation})了?(?:近|约)?$")


def _another_years(text: str, at: int, year: int | None) -> bool:
    """Whether the figure at `at` is another year's: the nearest year before it in its
    sentence is another (比2023年的29件, 2022年，…培训9次), or a word for last year (上年, 同期)
    stands between the figure and the one before it (由上年的10次增加到15次: 10次, not 15次)."""
    said = years_in(text[:at])
    if year is not None and said and said[-1] != year:
        return True
    before = [m.end() for m in quantities_at(text[:at])]
    since = before[-1] if before else 0
    return bool(_OTHER_YEAR.search(text, since, at))


def quantities_at(text: str) -> list[re.Match[str]]:
    """The spans of the figures of `text` (the quantity pattern, on text of the same length)."""
    return list(QUANTITY.finditer(_width(text)))


def _width(text: str) -> str:
    """Full-width digits and signs as ASCII, character for character (１５次 -> 15次)."""
    norm = unicodedata.normalize("NFKC", text)
    return norm if len(norm) == len(text) else text


def _placed(text: str) -> Iterator[tuple[Quantity, int]]:
    """Each quantity of `text` with its offset there."""
    pos = 0
    wide = _width(text)  # quantities() reads full-width digits as ASCII: found there
    for q in quantities(text):
        at = wide.find(q.text, pos)
        if at >= 0:
            pos = at + len(q.text)
            # a word that only leads to the figure (共, 达, 累计) is not part of it: 共12件 -> 12件
            lead = next((w for w in _LEADS if q.text.startswith(w)), "")
            shown = text[at + len(lead) : at + len(q.text)]
            yield replace(q, text=shown), at + len(lead)


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
