"""Which reports a question searches: explicit filters, place names in the question, years."""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, field

from rag.config import QueryOptions
from rag.errors import ConfigError
from rag.lang import phrase
from rag.lang.lexicon import lexicon
from rag.retrieve.places import RANK, PlaceIndex, place_aliases_of
from rag.retrieve.sections import asks_next_year
from rag.text.gazetteer import level_of
from rag.text.textmatch import years_in
from rag.types import Places, Report

RELATIVE_YEARS = lexicon()["relative_years"]  # rag/lang/data/question.toml
_ACROSS = lexicon()["ask_across"].pattern  # 哪些镇, 分别, 对比: a question across reports
_BACK: dict[str, int] = RELATIVE_YEARS.by_attr("back")


def relative_year(text: str) -> str | None:
    """The first year word of `text` that names a year relative to now (去年, 前年), when the
    text names no year itself (2023年与上年相比: 上年 is relative to 2023)."""
    if years_in(text):
        return None
    m = RELATIVE_YEARS.pattern.search(text)
    return m.group(0) if m else None


def relative_to(word: str, years: set[int]) -> tuple[int, int]:
    """(the year `word` means, the newest of `years` it was read against): the newest
    report's year is 去年 and 今年 (a report covers a finished year), 前年 the one before."""
    if word not in _BACK:
        raise ConfigError(f"“{word}”不是可识别的相对年份（可用：{'、'.join(_BACK)}）")
    newest = max(years)
    return newest - _BACK[word], newest


def report_years(reports: dict[str, Report], sources: Iterable[str]) -> set[int]:
    """The years the reports `sources` cover (those that state one)."""
    return {y for s in sources if (y := reports[s].meta.year)}


def read_relative(word: str, years: set[int]) -> tuple[int, str]:
    """The year `word` (去年) means against `years`, and how that was read, to say to the
    user: 按最近一份报告（2023年）回答, or 按最近一份报告（2023年）推算为2022年 (前年)."""
    year, newest = relative_to(word, years)
    if year == newest:
        return year, phrase("relative_same").render(newest=newest)
    return year, phrase("relative_back").render(newest=newest, year=year)


def absolute_years(text: str, years: set[int]) -> tuple[str, str]:
    """`text` with its relative year word replaced by the year it means against `years` (the
    reports it may search), and the sentence that says so ('' when nothing was replaced)."""
    word = relative_year(text)
    if word is None or not years:
        return text, ""
    year, how = read_relative(word, years)
    return text.replace(word, f"{year}年", 1), f"“{word}”{how}"


def unstated_note(names: Iterable[str]) -> str:
    """What the answer says first when the question names a place above the one answered that
    the report does not state (玉州区大塘镇, a 大塘镇 report naming no county)."""
    names = list(names)
    if not names:
        return ""
    return phrase("unstated").render(names="、".join(names))


@dataclass(frozen=True)
class Scope:
    """Which reports a query searches, and why."""

    reports: tuple[str, ...] | None  # None: all
    boosted: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default_factory=tuple)
    named: tuple[str, ...] = ()  # reports whose place the question names


def _consistent(named: dict[str, set[str]], reports: dict[str, Report]) -> dict[str, set[str]]:
    """Of the reports a question names, those not contradicted by its other names: 阳朔县白沙镇
    names 阳朔县's 白沙镇, not 江津区's (a report whose names the question names only part of is
    dropped when it states another name at the level of a name it misses)."""
    out = {}
    for source, hit in named.items():
        own = reports[source].meta.places
        if not any(
            _states_other(own, alias, reports[other].meta.places)
            for other, more in named.items()
            if other != source and hit < more
            for alias in more - hit
        ):
            out[source] = hit
    return out


def _own_place(
    named: dict[str, set[str]], reports: dict[str, Report], places: PlaceIndex
) -> dict[str, set[str]]:
    """Of the reports a question names, those whose own place (the lowest they name) is the
    lowest place asked, when there are any: 下花园区 is answered from 下花园区's report, not
    from the report of 段家堡乡 in 下花园区; 下花园区段家堡乡 from 段家堡乡's."""
    asked = {a for hit in named.values() for a in hit}
    ranks = {a: min((RANK[lv] for lv in places.levels.get(a, ())), default=9) for a in asked}
    low = min(ranks.values(), default=9)
    lowest = {a for a, r in ranks.items() if r == low}
    own = {
        s: hit
        for s, hit in named.items()
        if (names := reports[s].meta.places.names()) and hit & lowest & place_aliases_of(names[-1])
    }
    return own or named


def _states_other(places: Places, alias: str, theirs: Places) -> bool:
    """Whether `places` states another name at the level of the place `alias` names in
    `theirs` (江津区 where the question's 阳朔 is 阳朔县, a county)."""
    for full in theirs.names():
        if alias in place_aliases_of(full) and (level := level_of(full)):
            own = getattr(places, level)
            return own is not None and alias not in place_aliases_of(own)
    return False


def _below_named(
    textual: tuple[str, ...], named: dict[str, set[str]], places: PlaceIndex
) -> list[str]:
    """The names read only in reports' texts that are below every place the question names
    (龙山街道 of 林州龙山街道, 林州 a county of a report): the place asked is the lowest."""
    asked = {a for hit in named.values() for a in hit}
    low = min((RANK[lv] for a in asked for lv in places.levels.get(a, ())), default=None)
    if low is None:
        return []
    return [t for t in textual if RANK.get(level_of(t) or "", 9) < low]


def check_reports(names: Iterable[str], known: Container[str]) -> None:
    """A ConfigError naming the report files `known` (the index's) does not hold."""
    unknown = [r for r in names if r not in known]
    if unknown:
        raise ConfigError(f"没有这些报告：{'、'.join(unknown)}；用 `rag reports` 查看已索引的报告")


def resolve_scope(
    question: str,
    reports: dict[str, Report],
    opts: QueryOptions,
    places: PlaceIndex | None = None,
    found: set[str] | None = None,
    excluded: frozenset[str] = frozenset(),
    textual: tuple[str, ...] = (),
) -> Scope:
    """Reports to search and to boost; `places` may be precomputed for `reports`, and `found`
    (the place aliases in the question) for the question. The user's filters narrow first,
    then the places the question names, then the years it names; a copy is never searched
    beside its original."""
    places = places or PlaceIndex(reports)
    allowed, reasons = _filtered(opts, reports, places)
    named: dict[str, set[str]] = {}
    if opts.scope_from_question and not opts.places and not opts.reports:
        named, allowed = _named_scope(
            question, reports, places, allowed, found, excluded, textual, reasons
        )
    boosted: tuple[str, ...] = ()
    if not opts.years:
        allowed, boosted = _year_scope(question, reports, allowed, bool(named))
    if places.copies:  # a word-for-word copy is not searched beside its original
        allowed = set(reports) if allowed is None else allowed
        allowed -= {c for c, original in places.copies.items() if original in allowed}
        named = {s: h for s, h in named.items() if s in allowed}
    return Scope(
        None if allowed is None else tuple(sorted(allowed)),
        boosted,
        tuple(reasons),
        tuple(sorted(named)),
    )


def _filtered(
    opts: QueryOptions, reports: dict[str, Report], places: PlaceIndex
) -> tuple[set[str] | None, list[str]]:
    """The reports the user's own filters (reports, places, years) allow, None for every
    report (no set of all sources is built), and the reasons to show."""
    allowed: set[str] | None = None
    reasons: list[str] = []

    def narrow(to: set[str]) -> set[str]:
        return to if allowed is None else allowed & to

    if opts.reports:
        check_reports(opts.reports, reports)
        allowed = narrow(set(opts.reports))
        reasons.append("报告：" + "、".join(opts.reports))
    if opts.places:
        hit = {s for p in opts.places for s in places.by_alias.get(p, ())}
        if len(hit) < len(opts.places):  # a longer or partial name: 江华瑶族自治县水口镇, 南岸
            hit |= {
                s
                for s, r in reports.items()
                if any(p in "".join(r.meta.places.names()) for p in opts.places)
            }
        allowed = narrow(hit)
        reasons.append("地方：" + "、".join(opts.places))
    if opts.years:
        allowed = narrow({s for s, r in reports.items() if r.meta.year in opts.years})
        reasons.append("年份：" + "、".join(map(str, opts.years)))
    return allowed, reasons


def _named_scope(
    question: str,
    reports: dict[str, Report],
    places: PlaceIndex,
    allowed: set[str] | None,
    found: set[str] | None,
    excluded: frozenset[str],
    textual: tuple[str, ...],
    reasons: list[str],
) -> tuple[dict[str, set[str]], set[str] | None]:
    """The reports of the places the question names (source -> the names that matched them)
    and the reports allowed after them; reasons are added to `reasons`."""
    before = allowed
    named = {
        s: hit
        for s, hit in places.named(question, found).items()
        if allowed is None or s in allowed
    }
    named = _consistent({s: h for s, h in named.items() if s not in excluded}, reports)
    if named and not _ACROSS.search(question):
        named = _own_place(named, reports, places)
    if named:
        # a report whose place could not be read and whose text has the name is kept too
        said = {a for hit in named.values() for a in hit}
        unread = {
            s
            for s, r in reports.items()
            if not r.meta.places.names()
            and (allowed is None or s in allowed)
            and any(a in r.text for a in said)
        }
        allowed = set(named) | unread
        below = _below_named(textual, named, places)
        if below:  # 林州龙山街道 where 龙山街道 is read only in a report's text
            by_text = {s for name in below for s in places.in_text(name)} & (
                set(reports) if before is None else before
            )
            allowed = (allowed & by_text) or by_text or allowed
            reasons.append("问题中的地名（见于报告正文）：" + "、".join(below))
    elif textual:
        # names no report's metadata covers but some report's text has: searched there
        hit = {s for name in textual for s in places.in_text(name)}
        allowed = (hit if allowed is None else allowed & hit) or allowed
        if hit:
            reasons.append("问题中的地名（见于报告正文）：" + "、".join(textual))
        reasons.append("问题中的地名：" + "、".join(sorted({a for v in named.values() for a in v})))
    return named, allowed


def _year_scope(
    question: str, reports: dict[str, Report], allowed: set[str] | None, named: bool
) -> tuple[set[str] | None, tuple[str, ...]]:
    """The years the question names: for a named place, its reports of those years (a
    report whose year could not be read is kept: its text decides); the reports of those
    years boosted."""
    years = set(years_in(question))
    if years and named and allowed is not None:
        # a place with reports of several years: the year asked picks them (新安镇2023年 is
        # not answered from its 2024 report); next year's plans are in the year before's
        covers = years | ({y - 1 for y in years} if asks_next_year(question) else set())
        of_year = {s for s in allowed if reports[s].meta.year in covers | {None}}
        allowed = of_year or allowed
    boosted: tuple[str, ...] = ()
    if years:
        pool = reports if allowed is None else allowed
        boosted = tuple(sorted(s for s in pool if reports[s].meta.year in years))
    return allowed, boosted
