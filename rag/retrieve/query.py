"""What a question asks, derived once and passed down: places, years, scope, weighted terms."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rag.config import QueryOptions
from rag.contracts import TermStatistics
from rag.retrieve.neighbours import WordNeighbours
from rag.retrieve.places import PlaceIndex, report_chains
from rag.retrieve.scope import (
    Scope,
    absolute_years,
    relative_year,
    report_years,
    resolve_scope,
    unstated_note,
)
from rag.retrieve.terms import QuestionTerms, question_terms, report_words
from rag.text.textmatch import years_in
from rag.types import Report


@dataclass(frozen=True)
class Query:
    question: str  # as asked
    text: str  # the standalone question that is searched (== question on a first turn)
    options: QueryOptions
    places: frozenset[str]  # place aliases of indexed reports named in `text`
    unknown_places: tuple[str, ...]  # places named in `text` that no indexed report covers
    years: tuple[int, ...]  # years named in `text` (2024年)
    scope: Scope
    terms: QuestionTerms  # content words with their IDF (the evidence score)
    searched: tuple[str, ...]  # the reports in scope
    notes: tuple[str, ...] = ()  # what the user should know (history trimmed to the limit)
    said: str = ""  # what the answer says first about how it read the question (去年 -> 2023年)
    # the report's words for question words no report uses (打官司 -> 诉讼): searched by BM25
    expansion: tuple[str, ...] = ()
    # names above a place asked that the reports searched do not state (玉州区 of 玉州区大塘镇
    # when the 大塘镇 report names no county): the answer says so
    unstated: tuple[str, ...] = ()

    @property
    def lexical(self) -> str:
        """What the keyword search is given: the question and `expansion`."""
        return " ".join((self.text, *self.expansion)) if self.expansion else self.text

    @property
    def filters(self) -> tuple[str, ...]:
        return self.scope.reasons


def _confirmed(name: str, searched: tuple[str, ...], reports: dict[str, Report]) -> bool:
    """Whether some report searched states `name`, or names places that the division dataset
    puts only under it (鲁山县瓦屋镇 is under 平顶山市)."""
    for s in searched:
        places = reports[s].meta.places
        chains = report_chains(places)
        if name in places.names() or (chains and all(name in c for c in chains)):
            return True
    return False


def analyze(
    question: str,
    text: str,
    options: QueryOptions,
    reports: dict[str, Report],
    places: PlaceIndex,
    lexical: TermStatistics,
) -> Query:
    """The `Query` of `text`, the standalone form of `question`."""
    grounding = places.ground(text)
    found = set(grounding.found)
    scope = resolve_scope(
        text, reports, options, places, found, grounding.excluded, grounding.textual
    )
    tokenizer = lexical.tokenizer
    named = found | set(grounding.tolerated)  # place names are not content words
    terms = question_terms(
        text, tokenizer.words, tokenizer, lexical.idf, frozenset(places.by_alias), named, lexical.df
    )
    searched = scope.reports if scope.reports is not None else tuple(reports)
    # explicit filters win: a place the question seems to name does not refuse a question the
    # user has scoped to a report or place by hand
    unknown = () if options.reports or options.places else grounding.unknown
    return Query(
        question,
        text,
        options,
        grounding.found,
        unknown,
        years_in(text),
        scope,
        terms,
        searched,
        expansion=_expansion(terms, lexical),
        unstated=tuple(u for u in grounding.tolerated if not _confirmed(u, searched, reports)),
    )


def read(
    question: str,
    text: str,
    options: QueryOptions,
    reports: dict[str, Report],
    places: PlaceIndex,
    lexical: TermStatistics,
) -> Query:
    """`analyze`, with a relative year made absolute (去年: the year before the newest report
    in scope, unless the options name years) and what was assumed said (`Query.said`): the
    relative year read, the places the question names that no report states."""
    query = analyze(question, text, options, reports, places, lexical)
    said = ""
    if not options.years and relative_year(text):
        absolute, said = absolute_years(text, report_years(reports, query.searched))
        if said:
            query = analyze(question, absolute, options, reports, places, lexical)
    said = "；".join(x for x in (said, unstated_note(query.unstated)) if x)
    return replace(query, said=said) if said else query


def _expansion(terms: QuestionTerms, lexical: TermStatistics) -> tuple[str, ...]:
    """The reports' words for the question words they never use (synonyms, neighbours)."""
    return tuple(
        dict.fromkeys(
            w
            for t in terms.weights
            for w in (*report_words(t, lexical.df), *terms.neighbours.get(t, ()))
        )
    )


def widened(query: Query, neighbours: WordNeighbours, lexical: TermStatistics) -> Query:
    """`query` with its words no report uses standing for the reports' words the encoder puts
    beside them (rag.retrieve.neighbours), credited and searched; `query` itself when there are none."""
    unused = [t for t in query.terms.weights if lexical.df(t) == 0]
    near = neighbours.of(unused) if unused else {}
    if not near:
        return query
    terms = replace(query.terms, neighbours=near)
    return replace(query, terms=terms, expansion=_expansion(terms, lexical))
