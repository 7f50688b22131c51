"""The metamorphic generator's vocabulary and reports (eval/metamorphic_data.toml), and the
rewriting of a report's names and years with the offsets of what changed.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eval.metamorphic_places import Chain, Gazetteer, Names

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).with_name("metamorphic_data.toml")
SAMPLES = ROOT / "data" / "reports"
OTHER = ROOT / "eval" / "corpus-other"


@dataclass(frozen=True)
class Vocab:
    data: dict[str, Any]
    names: Names
    year: re.Pattern[str]
    short_year: re.Pattern[str]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


@cache
def load_vocab(path: Path = DATA) -> Vocab:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    years = data["years"]
    return Vocab(
        data,
        Names.from_data(data),
        re.compile(years["pattern"]),
        re.compile(years["short_pattern"]),
    )


@cache
def gazetteer() -> Gazetteer:
    return Gazetteer.load(load_vocab().names)


@dataclass(frozen=True)
class Group:
    id: str
    level: str  # town | county | zone
    chain: Chain
    aliases: tuple[tuple[str, str, str], ...]  # (name, level, form)
    twin: str = ""
    text: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Source:
    file: str
    path: Path
    group: str
    text: str
    title: str | None
    year: int
    published: str | None
    published_from: str  # page | signature | none
    has_page: bool
    issuer: str  # gov | zone | none
    issuer_bare: bool = False
    issuer_extra: tuple[str, ...] = ()


def load_sources(vocab: Vocab) -> tuple[dict[str, Group], list[Source]]:
    """The reports and their groups (places) of the vocabulary, with corpus-other's truth."""
    groups = {
        g["id"]: Group(
            g["id"], g["level"], Chain(*g["chain"]),
            tuple(tuple(a) for a in g["aliases"]),  # type: ignore[misc]
            g.get("twin", ""), tuple(g.get("text", {}).items()),
        )
        for g in vocab["group"]
    }  # fmt: skip
    truth = {
        row["source"]: row
        for line in (OTHER / "metadata.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
        for row in [json.loads(line)]
    }
    sources = []
    for r in vocab["report"]:
        folder = SAMPLES if r["file"][0].isdigit() else OTHER / "reports"
        t = truth.get(r["file"], {})
        published = t.get("published", r.get("published"))
        sources.append(
            Source(
                r["file"], folder / r["file"], r["group"],
                (folder / r["file"]).read_text(encoding="utf-8"),
                t.get("title", r.get("title")), int(t.get("year", r.get("year", 0))),
                published, r.get("published_from", "page" if published else "none"),
                bool(r["has_page"]), r["issuer"], bool(r.get("issuer_bare")),
                tuple(r.get("issuer_extra", ())),
            )
        )  # fmt: skip
    return groups, sources


# --- rewriting: names and years, with the offsets of what changed -----------------------------


@dataclass(frozen=True)
class Rewrite:
    """Every name of a mapping and every year shifted by `delta`, in one pass."""

    mapping: dict[str, str]
    delta: int
    year: re.Pattern[str]

    @property
    def pattern(self) -> re.Pattern[str]:
        keys = sorted(self.mapping, key=len, reverse=True)
        names = "|".join(re.escape(k) for k in keys) or "(?!)"
        return re.compile(f"(?P<name>{names})|(?P<year>{self.year.pattern})")

    def apply(self, text: str) -> tuple[str, list[tuple[int, int, int, int]]]:
        """The rewritten text and the spans replaced: (old start, old end, new start, new end)."""
        out: list[str] = []
        spans: list[tuple[int, int, int, int]] = []
        last = size = 0
        for m in self.pattern.finditer(text):
            new = self.mapping[m["name"]] if m["name"] else str(int(m["year"]) + self.delta)
            out.append(text[last : m.start()])
            size += m.start() - last
            spans.append((m.start(), m.end(), size, size + len(new)))
            out.append(new)
            size += len(new)
            last = m.end()
        out.append(text[last:])
        return "".join(out), spans

    def text(self, s: str) -> str:
        return self.apply(s)[0]


def map_offset(spans: list[tuple[int, int, int, int]], pos: int, end: bool) -> int:
    """Where an offset of the old text lands in the new one (a replaced span is kept whole)."""
    shift = 0
    for os, oe, ns, ne in spans:
        if oe <= pos:
            shift = ne - oe
        elif os < pos:
            return ne if end else ns
        else:
            break
    return pos + shift


def new_form(names: Names, chain: Chain, level: str, form: str) -> str:
    if level in ("city", "province") and not chain.city:
        return names.form(chain.province, "province", form)
    return names.form(chain.at(level), level, form)


def role_key(vocab: Vocab, name: str, level: str) -> str:
    suffix = vocab.names.split(name, level)[1]
    return str(vocab["roles"]["suffix_role"].get(suffix, suffix))


def make_rewrite(vocab: Vocab, group: Group, new: Chain, delta: int) -> Rewrite:
    """Names of the group's place -> the copy's; role words (全镇, 县委) to the new level."""
    names, roles = vocab.names, vocab["roles"]
    mapping = {p: p for p in roles["protect"]}
    for name, level, form in group.aliases:
        mapping[name] = new_form(names, new, level, form)
    for level in ("town", "county"):
        old_name = group.chain.at(level)
        if not old_name or not new.at(level) or group.level == "zone":
            continue
        old_r = roles[level].get(role_key(vocab, old_name, level), {})
        new_r = roles[level].get(role_key(vocab, new.at(level), level), {})
        for role, word in old_r.items():
            if role == "body":
                mapping[old_name + word] = new.at(level) + new_r.get(role, word)
            elif word != new_r.get(role, word):
                mapping[word] = new_r[role]
    first = {
        "town1": names.short(new.town, "town")[:1],
        "county1": names.short(new.county, "county")[:1],
    }
    mapping.update({k: v.format(**first) for k, v in group.text})
    return Rewrite(mapping, delta, vocab.year)
