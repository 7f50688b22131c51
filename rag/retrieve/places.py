"""Place names a user may call a report by, and finding them in a question."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.ingest.metadata import content_lines
from rag.lang import lexicon
from rag.lang.divisions import divisions
from rag.lang.lexicon import alternation
from rag.text.gazetteer import (
    COMMON_ENDS,
    LEFT_STOP,
    LEVEL,
    PREFIX_STOP,
    Token,
    known_names,
    level_of,
    mentions,
    suffix_of,
    town_kind,
)
from rag.text.textmatch import names_in
from rag.types import Places, Report

_LEX = lexicon()  # rag/lang/data/places.toml
_STOPS = "".join(_LEX["town_name_stop"].words)
# A town-level name: two to four characters none of which ends a higher level's name, then a
# town suffix; after the suffix of the county or city it may follow (鲁山县瓦屋镇).
_ABOVE = [
    s
    for s, level in LEVEL.items()
    if level in ("county", "city") and s[-1] in _LEX["town_name_stop"].set
]
_BELOW = re.compile(
    rf"(?:{alternation(_ABOVE)})?"
    rf"(?P<name>(?:(?![{_STOPS}])[\u4e00-\u9fff]){{2,4}}?"
    rf"(?:{alternation(_LEX['place_suffix'].where('level', 'town'))}))"
)
# suffixes whose stem alone names the place too (水口镇 -> 水口)
_SUFFIXES = tuple(sorted(_LEX["place_suffix"].where("strip", True), key=len, reverse=True))
Segmenter = Callable[[str], list[Token]]


_MULTI_CHAR_ETHNIC = _LEX["ethnic_multi"].words
_ZONES: dict[str, list[str]] = _LEX["zone_suffix"].by_attr("short")
_ZONE = re.compile(
    r"[\u4e00-\u9fff]{2,4}?(?:"
    + "|".join(
        sorted(
            {*_ZONES, *(s for v in _ZONES.values() for s in v)} - {"开发区"}, key=len, reverse=True
        )
    )
    + ")"
)


def _strip_ethnic(stem: str) -> str:
    """江华瑶族 -> 江华, 石柱土家族 -> 石柱 (自治县 names carry the ethnic groups)."""
    while stem.endswith("族"):
        body = stem[:-1]
        cut = next((len(e) for e in _MULTI_CHAR_ETHNIC if body.endswith(e)), 1)
        if len(body) - cut < 2:
            break
        stem = body[:-cut]
    return stem


def report_chains(places: Places) -> list[tuple[str, ...]]:
    """The division dataset's chains of a report's lowest place that hold every other name it
    states (南宁市 + 大塘镇: only 良庆区's 大塘镇); [] when the dataset does not know it."""
    names = places.names()
    if not names:
        return []
    lowest, above = names[-1], [n for n in names[:-1] if n in divisions()]
    return [c for c in divisions().chains(lowest) if all(n in c for n in above)]


def place_aliases(report: Report) -> set[str]:
    """Names a user may call a report's place by: 水口镇, 水口, 江华瑶族自治县, 江华..."""
    return {a for name in report.meta.places.names() for a in place_aliases_of(name)}


def place_aliases_of(name: str) -> set[str]:
    """水口镇 -> {水口镇, 水口}; 江华瑶族自治县 -> {江华瑶族自治县, 江华瑶族, 江华}."""
    names = {name}
    for zone, shorts in _ZONES.items():  # 济宁经济技术开发区 -> 济宁经开区, 济宁开发区
        if name.endswith(zone) and len(name) > len(zone):
            names |= {name[: -len(zone)] + short for short in shorts}
            return names
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            stem = name[: -len(suffix)]
            if stem.endswith(COMMON_ENDS):  # 工业园区街道: 工业园区 alone names no place
                break
            names.add(stem)
            if stem.endswith("族"):
                names.add(_strip_ethnic(stem))
            break
    return {n for n in names if len(n) >= 2}


def _content_key(report: Report) -> str:
    """The report's content without its page furniture and whitespace, hashed: the same for a
    report and its word-for-word copy on another site."""
    body = re.sub(r"\s+", "", "".join(content_lines(report.text, report.noise)))
    return hashlib.sha1(body.encode("utf-8")).hexdigest()


def copies(reports: dict[str, Report]) -> dict[str, str]:
    """source -> the report it copies word for word (the earliest published, then the first by
    name, is the original): a report republished on another site is one report, not two."""
    by_key: dict[str, list[str]] = {}
    for source, report in reports.items():
        by_key.setdefault(_content_key(report), []).append(source)
    out: dict[str, str] = {}
    for same in by_key.values():
        if len(same) > 1:
            first, *rest = sorted(same, key=lambda s: (reports[s].meta.published or "9", s))
            out |= {s: first for s in rest}
    return out


# (word, the reports that have it as a short name) -> the share of the other reports'
# passages that have the word (rag.retrieve.retriever reads it off the keyword index)
WordShare = Callable[[str, set[str]], float]
# A short name used as a word in this share of the other places' passages is a common word:
# 建设 (建设街道) is in all of them; the highest share of a real short name in two generated
# corpora of 90 reports was 0.036 (高新 of 高新街道).
COMMON_SHARE = 0.2


def common_stems(by_source: dict[str, set[str]], word_share: WordShare) -> set[str]:
    """The short names (stems without their suffix) that the reports of other places use as a
    word in at least COMMON_SHARE of their passages."""
    holders: dict[str, set[str]] = {}
    for source, names in by_source.items():
        for name in names:
            if not suffix_of(name):
                holders.setdefault(name, set()).add(source)
    return {w for w, own in holders.items() if word_share(w, own) >= COMMON_SHARE}


@dataclass(frozen=True)
class Grounding:
    """The places a question names: aliases of indexed reports, and names no report covers."""

    found: frozenset[str]
    unknown: tuple[str, ...]  # not tolerated: no indexed report covers them
    tolerated: tuple[str, ...] = ()  # unknown, but above a known place (平顶山市瓦屋镇)
    # reports of a known place that a tolerated name rules out (上杭县白沙镇: not the 白沙镇
    # whose report states 阳朔县, while one that states no county may still be it)
    excluded: frozenset[str] = frozenset()
    # names no report's metadata covers that some report's text has (a 乡 whose place was not
    # read): searched in those reports, never refused
    textual: tuple[str, ...] = ()


RANK = {"town": 0, "county": 1, "city": 2, "province": 3}  # levels, lowest first


class PlaceIndex:
    """Every report's place aliases, looked up by the substrings of a question. With a
    `segment` function (jieba's word spans), a name counts only on word boundaries (排水口 does
    not name 水口镇) and place-like names that no report covers are reported."""

    def __init__(
        self,
        reports: dict[str, Report],
        segment: Segmenter | None = None,
        word_share: WordShare | None = None,
    ) -> None:
        self.segment = segment
        self.reports = reports
        self.by_source = {s: place_aliases(r) for s, r in reports.items()}
        # a short name that the other places' reports use as a word is no name (建设 of
        # 建设街道: 法治政府建设 is in every report); learned from the corpus, not listed
        self.common = common_stems(self.by_source, word_share) if word_share else set()
        if self.common:
            self.by_source = {s: names - self.common for s, names in self.by_source.items()}
        self.by_alias: dict[str, set[str]] = {}
        self.levels: dict[str, set[str]] = {}  # alias -> levels of the names it stands for
        self.kinds: dict[str, set[str]] = {}  # alias -> kinds of the towns it stands for
        self.fulls: dict[str, set[str]] = {}  # alias -> the full names it stands for
        for source, names in self.by_source.items():
            for name in names:
                self.by_alias.setdefault(name, set()).add(source)
        for r in reports.values():
            for full in r.meta.places.names():
                level = level_of(full)
                for alias in place_aliases_of(full) - self.common:
                    self.fulls.setdefault(alias, set()).add(full)
                    if level:
                        self.levels.setdefault(alias, set()).add(level)
                    if level == "town":
                        self.kinds.setdefault(alias, set()).add(town_kind(full))
        self.longest = max((len(a) for a in self.by_alias), default=2)
        self.copies = copies(reports)

    def find(self, text: str) -> set[str]:
        """The aliases that occur in `text` (on word boundaries, with a segmenter)."""
        if self.segment is None:
            return names_in(text, self.by_alias.keys(), self.longest)
        return set(self.ground(text).found)

    def ground(self, text: str) -> Grounding:
        """Known and unknown places of `text`. An unknown name above the level of a known one
        is tolerated (平顶山市瓦屋镇: the report need not name its city)."""
        if self.segment is None:
            return Grounding(frozenset(self.find(text)), ())
        tokens = self.segment(text)
        found, covered, unknown = self._aliases_in(text, tokens)
        unknown += self._below(text, found, covered)
        for name, a, b in known_names(text):  # names the division dataset knows, whole
            if any(x < b and a < y for x, y in covered):
                continue
            known = name if name in self.by_alias else self._stem_alias(name)
            if known:
                found.add(known)
            else:
                unknown.append(name)
            covered.append((a, b))
        unknown += [  # a development zone no report is about (济南经济技术开发区)
            m[0]
            for m in _ZONE.finditer(text)
            if not any(x < m.end() and m.start() < y for x, y in covered)
        ]
        for word, _, _ in mentions(tokens, covered):
            stem = self._stem_alias(word)
            if stem:
                found.add(stem)
            else:
                unknown.append(word)
        unknown = [u for u in unknown if not self._follows_its_level(u, text, found)]
        chains, chain_ruled, chain_above = self._found_chains(text, found)
        unknown += chains  # 郧西县店子镇 when the only 店子镇 report states 平度市
        lowest = min((RANK[lv] for a in found for lv in self.levels.get(a, ())), default=None)
        strict = tuple(
            dict.fromkeys(
                u for u in unknown if lowest is None or RANK.get(level_of(u) or "town", 0) <= lowest
            )
        )
        above = tuple(dict.fromkeys(u for u in unknown if u not in strict))
        # a name above a known place that rules out every report of it is unknown; one that
        # rules out some of them narrows the question to the others
        sources = {s for a in found for s in self.by_alias.get(a, ())}
        ruled = {u: self._ruled_out(u, found) for u in above}
        # (a real county or city: one that some report's text mentions still rules them out)
        contradicted = tuple(u for u in above if sources and ruled[u] == sources)
        textual = tuple(u for u in strict if u in divisions() and self.in_text(u))
        strict = tuple(u for u in strict if not self.in_text(u))
        strict += contradicted
        above = tuple(u for u in above if u not in contradicted)
        excluded = frozenset(s for u in above for s in ruled[u]) | chain_ruled
        above += tuple(u for u in chain_above if u not in above)
        return Grounding(frozenset(found), strict, above, excluded, textual)

    def _aliases_in(
        self, text: str, tokens: list[tuple[str, int, int]]
    ) -> tuple[set[str], list[tuple[int, int]], list[str]]:
        """The report places named in `text` at word bounds (found), the spans they cover,
        and the longer names around them that no report has (unknown): 大石桥镇 around
        石桥镇, 水口县 for a 水口镇 report."""
        bounds = {a for _, a, _ in tokens} | {b for _, _, b in tokens}
        before = {b: w for w, _, b in tokens}
        after = {a: w for w, a, _ in tokens}
        found: set[str] = set()
        covered: list[tuple[int, int]] = []
        unknown: list[str] = []
        hits = names_in(text, self.by_alias.keys(), self.longest)
        # a report's name inside a longer name the dataset knows is not that report's place
        # (城区 of 城区街道, 新华 of 新华路街道)
        inside = [(x, y) for n, x, y in known_names(text) if n not in self.by_alias]
        for alias in sorted(hits, key=len, reverse=True):
            for m in re.finditer(re.escape(alias), text):
                a, b = m.span()
                if a not in bounds or b not in bounds:
                    continue
                if any(x <= a and b <= y for x, y in covered):
                    continue
                if any(x <= a and b <= y and y - x > b - a for x, y in inside):
                    continue
                left = before.get(a, "")
                longer = left + alias  # 大石桥镇 is not 石桥镇
                if (
                    suffix_of(alias)
                    and len(left) == 1
                    and "\u4e00" <= left <= "\u9fff"
                    and left not in LEFT_STOP
                    and not suffix_of(left)  # 柳江区三都镇: 区 ends the name before
                    and longer not in self.by_alias
                ):
                    unknown.append(longer)
                    covered.append((a - 1, b))
                    continue
                nxt = after.get(b, "")
                if not suffix_of(alias) and nxt and suffix_of(nxt) == nxt:  # 水口 + 县
                    name = alias + nxt
                    known = name if name in self.by_alias else self._stem_alias(name)
                    covered.append((a, b + len(nxt)))
                    if known:
                        found.add(known)
                    else:
                        unknown.append(name)
                    continue
                found.add(alias)
                covered.append((a, b))
        return found, covered, unknown

    def _found_chains(self, text: str, found: set[str]) -> tuple[list[str], set[str], list[str]]:
        """A county or city of some report written right before a town of other reports
        (郧西县店子镇): the town's reports that state another name at that level (or fit no
        chain under it) are not the place asked, and when that is all of them the chain is a
        place no report covers. Returns those chains, the reports ruled out, and the names above
        that a town report answering does not state (its answer says so)."""
        out: list[str] = []
        ruled_out: set[str] = set()
        unstated: list[str] = []
        for hi in found:
            if not self.levels.get(hi, set()) - {"town"}:
                continue
            for lo in found:
                if lo == hi or "town" not in self.levels.get(lo, ()):
                    continue
                m = re.search(re.escape(hi) + r"[县区市旗]?" + re.escape(lo), text)
                if m is None:
                    continue
                towns = self.by_alias[lo]
                if towns & self.by_alias[hi]:
                    continue  # a report states both: the chain is known
                fulls = [f for f in self.fulls.get(hi, ()) if level_of(f) != "town"]
                ruled = [self._ruled_out(f, {lo}) for f in fulls]
                if not fulls:
                    continue
                if all(r == towns for r in ruled):
                    out.append(m[0])
                else:
                    ruled_out |= set.intersection(*ruled)
                    unstated += [f for f in fulls if f not in unstated]
        return out, ruled_out, unstated

    def _follows_its_level(self, name: str, text: str, found: set[str]) -> bool:
        """A name the dataset does not know, written right after a known place of its own
        level, is no place of that chain (静海区现在区一级: 现在 + 区, not a second district)."""
        if name in divisions() or not (level := level_of(name)):
            return False
        at = text.find(name)
        return any(
            text.endswith(alias, 0, at) and level in self.levels.get(alias, ()) for alias in found
        )

    def in_text(self, name: str) -> set[str]:
        """The reports whose text has `name`: a place-like word no report is about (依法治镇 of a
        committee's name, 执行市 of 严格执行市、区) is read off the evidence, not refused."""
        return {s for s, r in self.reports.items() if name in r.text}

    def _ruled_out(self, name: str, found: set[str]) -> set[str]:
        """The reports of the known places that an unknown name above them (上杭县 of 上杭县白沙镇)
        rules out: the report states another name at that level, or states none and no chain of
        the division dataset that fits what it does state puts the name above its place
        (玉州区大塘镇 is not 南宁市's 大塘镇). A report whose names fit many chains (a bare
        大塘镇) is not ruled out."""
        level = level_of(name)
        if level is None or level == "town" or name not in divisions():
            return set()  # only a real county or city rules a report out (not 进社区)
        out = set()
        for source in {s for a in found for s in self.by_alias.get(a, ())}:
            places = self.reports[source].meta.places
            own = getattr(places, level)
            if own == name or (own is not None and name in place_aliases_of(own)):
                continue
            # a report naming only its town is not ruled out by the dataset (its chains are
            # every namesake's, and the dataset may lag a renaming): its text decides
            chains = report_chains(places) if len(places.names()) > 1 else []
            if own is not None or (chains and not any(name in c for c in chains)):
                out.add(source)
        return out

    def _below(self, text: str, found: set[str], covered: list[tuple[int, int]]) -> list[str]:
        """Unknown towns written right after a known county, district or city (鲁山县张良镇):
        found from the characters, whatever the segmenter made of them (张良 + 镇发)."""
        out = []
        for alias in found:
            if "town" in self.levels.get(alias, ()):
                continue
            for m in re.finditer(re.escape(alias), text):
                nxt = _BELOW.match(text, m.end())
                if not nxt or any(x <= nxt.start("name") < y for x, y in covered):
                    continue
                name = nxt["name"]
                if (
                    name[0] in PREFIX_STOP  # 各镇街道
                    or name[0] in LEFT_STOP  # 和三墩镇, 对几个镇
                    or name in self.by_alias
                    or self._stem_alias(name)
                    or any(name.endswith(k) for k in self.by_alias if len(k) >= 2)
                ):
                    continue
                out.append(name)
                covered.append(nxt.span("name"))
        return out

    def _stem_alias(self, name: str) -> str | None:
        """江华县 -> 江华 when 江华 is an alias of a place of the same kind (a town is not a
        county: 水口县 does not name 水口镇; nor is a 镇 a 街道 or a 乡: 新华镇 does not name
        新华街道), and `name` is no other division the dataset knows."""
        s = suffix_of(name)
        stem = _strip_ethnic(name[: -len(s)]) if s else name
        levels = self.levels.get(stem)
        if not s or not levels:
            return None
        if name in divisions() and name not in self.fulls.get(stem, ()):
            return None  # 大理市 is not 大理白族自治州, 长宁区 not 长宁县: another division
        if LEVEL[s] == "town":
            return stem if town_kind(name) in self.kinds.get(stem, ()) else None
        return stem if any(lv != "town" for lv in levels) else None

    def named(self, text: str, found: set[str] | None = None) -> dict[str, set[str]]:
        """source -> the aliases of that report that occur in `text` (`found`: `find(text)`,
        when already computed)."""
        out: dict[str, set[str]] = {}
        for alias in self.find(text) if found is None else found:
            for source in self.by_alias[alias]:
                out.setdefault(source, set()).add(alias)
        return out
