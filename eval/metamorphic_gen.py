"""The metamorphic corpus: every sample and corpus-other report re-skinned into copies about
real places of other counties and levels, in other years, saved as government sites publish
them (page furniture read off real pages), some in 繁體, some cut short.

Deterministic in the seed: `generate(seed, copies)` gives the same files, truth and questions
for the same seed. The vocabulary (place forms, role words, furniture) is
eval/metamorphic_data.toml; the questions are rewritten in eval/metamorphic_questions.py.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.metamorphic_pages import TRADITIONAL, Copy, build_copy, code_fields, fill
from eval.metamorphic_places import Chain
from eval.metamorphic_questions import make_questions
from eval.metamorphic_vocab import (
    Group,
    Source,
    Vocab,
    gazetteer,
    load_sources,
    load_vocab,
    role_key,
)

# --- choosing the places and years of the copies -------------------------------------------------

STRATEGIES = {"other_level": 3, "other_county": 3, "county_city": 2, "zone": 1, "any": 2}
TOWN_SUFFIXES = {"镇": 0.45, "街道": 0.35, "乡": 0.2}


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def plan(
    rng: random.Random, groups: dict[str, Group], sources: list[Source], copies: int, vocab: Vocab
) -> tuple[dict[tuple[str, int], tuple[Chain, str]], list[int]]:
    """A real place for each group in each copy (all different), and each copy's year shift
    (reports stay in 2012..2025, published the year after)."""
    gaz = gazetteer()
    names = vocab.names
    old = {a[0] for g in groups.values() for a in g.aliases if a[1] in ("town", "county")}
    years = [s.year for s in sources]
    shifts = [d for d in range(-7, 0) if min(years) + d >= 2012 and max(years) + d <= 2025]
    deltas = [shifts[(i + rng.randrange(len(shifts))) % len(shifts)] for i in range(copies)]
    used: set[str] = set()
    chosen: dict[tuple[str, int], tuple[Chain, str]] = {}

    def avoid(c: Chain) -> bool:
        stem = names.short(c.place, "town" if c.town else "county")
        return (
            c.place in used or stem in used or c.county in old
            or any(a in c.town or a in c.county for a in old if len(a) >= 2)
        )  # fmt: skip

    def take(group: Group, k: int, chain: Chain, why: str) -> None:
        chosen[(group.id, k)] = (chain, why)
        used.update({chain.place, names.short(chain.place, "town" if chain.town else "county")})

    for k in range(copies):
        for group in groups.values():
            if (group.id, k) in chosen:
                continue
            if group.level == "zone":
                take(group, k, gaz.pick_county(rng, "", True, avoid), "zone")
            elif group.level == "county":
                old_suffix = role_key(vocab, group.chain.county, "county")
                suffix = old_suffix if rng.random() < 0.5 else rng.choice(["县", "市", "区"])
                take(group, k, gaz.pick_county(rng, suffix, False, avoid), f"county_{suffix}")
            elif group.twin:
                a, b = gaz.pick_twin(rng, weighted(rng, TOWN_SUFFIXES), avoid)
                take(group, k, a, "twin")
                chosen[(group.twin, k)] = (b, "twin")
            else:
                strategy = weighted(rng, {s: float(w) for s, w in STRATEGIES.items()})
                suffix = weighted(rng, TOWN_SUFFIXES)
                take(group, k, *gaz.pick_town(rng, strategy, suffix, avoid))
    return chosen, deltas


@dataclass
class Corpus:
    seed: int
    copies: list[Copy]
    questions: list[dict[str, Any]]
    deltas: list[int]
    dropped: dict[str, int]

    def truth(self) -> list[dict[str, Any]]:
        return [{"file": c.file, **c.truth} for c in self.copies]

    def write(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for c in self.copies:
            path = folder / c.file
            path.write_text(c.text, encoding="utf-8")
            paths.append(path)
        return paths


def file_name(rng: random.Random, c: Copy, taken: set[str], vocab: Vocab) -> str:
    ext = ".html" if c.truth["html"] else ".txt"
    pub = dt.datetime.fromisoformat(c.truth["published"] or f"{c.truth['year'] + 1}-02-01")
    while True:
        fields = code_fields(rng, c.chain, pub, vocab)
        name = fill(rng.choice(vocab["furniture"]["codes"]["file_names"]), fields, {}, vocab) + ext
        if name not in taken:
            taken.add(name)
            return name


def generate(seed: int, copies: int = 3, limit: int | None = None) -> Corpus:
    """The corpus of a seed: `copies` copies of every report, the questions rewritten for them
    and the generated unanswerable ones (at most `limit` questions when given)."""
    if copies < 1:
        raise ValueError(f"copies must be at least 1, got {copies}")
    vocab = load_vocab()
    rng = random.Random(seed)
    groups, sources = load_sources(vocab)
    chosen, deltas = plan(rng, groups, sources, copies, vocab)
    slots = [(k, s) for k in range(copies) for s in sources]
    n = len(slots)
    traditional = {i for i in range(n) if rng.random() < 0.12} or {rng.randrange(n)}
    cut = {i for i in range(n) if rng.random() < 0.1 and not slots[i][1].file.endswith(".html")}
    cut = cut or {next(i for i in range(n) if not slots[i][1].file.endswith(".html"))}
    out: list[Copy] = []
    taken: set[str] = set()
    for i, (k, source) in enumerate(slots):
        chain, why = chosen[(source.group, k)]
        config = rng.choice(TRADITIONAL) if i in traditional else ""
        c = build_copy(rng, source, groups[source.group], chain, deltas[k], k, vocab, config,
                       i in cut)  # fmt: skip
        c.truth["strategy"] = why
        c.file = file_name(rng, c, taken, vocab)
        out.append(c)
    questions, dropped = make_questions(rng, out, groups, chosen, deltas, vocab)
    if limit is not None and len(questions) > limit:
        keep = set(rng.sample(range(len(questions)), limit))
        questions = [q for i, q in enumerate(questions) if i in keep]
    return Corpus(seed, out, questions, deltas, dropped)
