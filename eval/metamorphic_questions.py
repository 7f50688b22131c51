"""The metamorphic corpus's questions: the held-out and corpus-other questions rewritten for each
copy (place names and years as the copy has them, the evidence quote as it stands in the copy),
and generated unanswerable ones about real places and years no copy covers.

Every question records what it asks about (`asked`: the places as [county, town] and the
year), so an answer drawn from a report of another place or year can be counted.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from eval.metamorphic_pages import TRADITIONAL, Copy, convert, fill
from eval.metamorphic_places import Chain
from eval.metamorphic_vocab import ROOT, Group, Rewrite, Vocab, gazetteer, make_rewrite

DATASETS = (ROOT / "eval" / "heldout.jsonl", ROOT / "eval" / "corpus-other" / "questions.jsonl")
Chosen = dict[tuple[str, int], tuple[Chain, str]]


def read_rows(paths: tuple[Path, ...] = DATASETS) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def named_groups(question: str, groups: dict[str, Group]) -> list[str]:
    """The groups whose town or county a question names; a town name two groups share counts
    for the one whose county the question also names."""
    by_town: dict[str, set[str]] = {}
    by_county: set[str] = set()
    for g in groups.values():
        for name, level, _ in g.aliases:
            if len(name) >= 2 and name in question:
                if level == "town":
                    by_town.setdefault(g.id, set()).add(name)
                elif level == "county":
                    by_county.add(g.id)
    found = set(by_county)
    for gid, towns in by_town.items():
        rivals = [o for o, t in by_town.items() if o != gid and t & towns]
        if not rivals or gid in by_county or not any(r in by_county for r in rivals):
            found.add(gid)
    return sorted(found)


def asked_year(text: str, vocab: Vocab) -> int | None:
    m = vocab.year.search(text)
    if m:
        return int(m[0])
    short = vocab.short_year.search(text)
    return 2000 + int(short[0]) if short else None


def vary_place(rng: random.Random, text: str, chain: Chain, vocab: Vocab) -> tuple[str, str]:
    """The copy's town named as a chain (柳江区三都镇) or by its short name, sometimes."""
    if not chain.town or chain.town not in text:
        return text, "as-is"
    draw = rng.random()
    if draw < 0.2 and chain.county not in text:
        return text.replace(chain.town, chain.county + chain.town, 1), "chain"
    short = vocab.names.short(chain.town, "town")
    if draw < 0.35 and short != chain.town:
        return text.replace(chain.town, short, 1), "short"
    return text, "as-is"


def rewrite_row(
    rng: random.Random, row: dict[str, Any], k: int, copies: dict[tuple[str, int], Copy],
    groups: dict[str, Group], chosen: Chosen, delta: int, vocab: Vocab,
) -> tuple[dict[str, Any] | None, str]:  # fmt: skip
    """One question for copy k, or None and why it was left out."""
    evidence = row.get("evidence", [])
    if any((e["doc"], k) not in copies for e in evidence):
        return None, "evidence outside the corpus"
    named = named_groups(row["question"], groups)
    if not evidence and (row.get("kind") == "town" or len(named) != 1):
        return None, "unanswerable about a place of no report (replaced by generated ones)"
    if not named and k > 0:
        return None, ""  # a question naming no place is asked once, of copy 0
    ev_groups = [copies[(e["doc"], k)].source.group for e in evidence]
    mapping: dict[str, str] = {}
    for gid in dict.fromkeys(named + ev_groups):
        mapping.update(make_rewrite(vocab, groups[gid], chosen[(gid, k)][0], delta).mapping)
    rw = Rewrite(mapping, delta, vocab.year)
    text = rw.text(row["question"])
    text = vocab.short_year.sub(lambda m: f"{(2000 + int(m[0]) + delta) % 100:02}", text)
    form = "as-is"
    if len(named) == 1:
        text, form = vary_place(rng, text, chosen[(named[0], k)][0], vocab)
    quotes, facts = [], []
    for e in evidence:
        quote = copies[(e["doc"], k)].quote(e["quote"])
        if quote is None:
            return None, "quote not in the copy (cut, title moved or markup)"
        quotes.append({"doc": copies[(e["doc"], k)].file, "quote": quote})
    for fact in row.get("key_facts", []):
        doc = next((e["doc"] for e in evidence if fact in e["quote"]), evidence[0]["doc"])
        c = copies[(doc, k)]
        new = c.convert(c.rewrite.text(fact))
        if new not in "".join(q["quote"] for q in quotes):
            return None, "key fact not in the copy's quotes"
        facts.append(new)
    traditional = ""
    if rng.random() < 0.1:
        traditional = rng.choice(TRADITIONAL)
        text = convert(text, traditional)
    # a question naming a year asks for the year of its evidence (2025年打算 is in the 2024 report)
    named_year = asked_year(text, vocab)
    years = {copies[(e["doc"], k)].truth["year"] for e in evidence} or {named_year}
    asked = {
        "places": [list(chosen[(g, k)][0].key) for g in named],
        "years": sorted(y for y in years if y) if named_year is not None else [],
        "named_year": named_year,
    }
    out = {**row, "id": f"{row['id']}~{k}", "question": text, "answer": rw.text(row["answer"]),
           "key_facts": facts, "evidence": quotes, "origin": row["id"], "copy": k,
           "asked": asked, "place_form": form, "traditional": traditional}  # fmt: skip
    return out, ""


def unanswerable(
    rng: random.Random, k: int, groups: dict[str, Group], chosen: Chosen, copies: list[Copy],
    vocab: Vocab,
) -> list[dict[str, Any]]:  # fmt: skip
    """Questions about a real place near a copy's place that no copy covers (the same name at
    another level or in another county, a neighbour), and about a year no copy of a place has."""
    gaz = gazetteer()
    keys = {c.chain.key for c in copies}
    names = {c.chain.town for c in copies if c.chain.town} | {c.chain.county for c in copies}
    counties = {c.chain.county for c in copies}
    templates, answer = vocab["questions"]["templates"], vocab["questions"]["answer"]
    out = []
    for gid in sorted(groups):
        chain = chosen[(gid, k)][0]
        years = sorted({c.truth["year"] for c in copies if c.copy == k and c.truth["group"] == gid})
        options = gaz.confusers(chain)
        rng.shuffle(options)
        for why, other, with_county in options:
            if other.key in keys or (other.town == "" and other.county in counties):
                continue
            if not with_county and other.place in names:
                continue
            place = other.county + other.town if with_county else other.place
            year = rng.choice(years)
            out.append(make_unanswerable(rng, f"u{k}-{gid}", place, other, year, "town", why,
                                         templates, answer))  # fmt: skip
            break
        if rng.random() < 0.5:
            low = [y for y in range(years[0] - 3, years[0]) if y >= 2012]
            high = [y for y in range(years[-1] + 1, years[-1] + 3) if y <= 2025]
            year = rng.choice(low + high)
            place = chain.county + chain.town if chain.town and rng.random() < 0.4 else chain.place
            # asked by its bare name, a twin of another county with the same name answers for
            # the years it covers (五星乡2019年 is answered by 濮阳县五星乡's 2019 report)
            bare = place == chain.place
            if any(
                c.truth["year"] == year
                and (c.chain.place == chain.place if bare else c.chain.key == chain.key)
                for c in copies
            ):
                continue
            out.append(make_unanswerable(rng, f"y{k}-{gid}", place, chain, year, "year",
                                         "year", templates, answer))  # fmt: skip
    return out


def make_unanswerable(
    rng: random.Random, qid: str, place: str, chain: Chain, year: int, kind: str, why: str,
    templates: list[str], answer: str,
) -> dict[str, Any]:  # fmt: skip
    text = fill(rng.choice(templates), {"place": place, "year": str(year)})
    traditional = rng.choice(TRADITIONAL) if rng.random() < 0.1 else ""
    return {
        "id": qid, "question": convert(text, traditional) if traditional else text,
        "answer": answer, "key_facts": [], "evidence": [], "answerable": False,
        "type": "unanswerable", "phrasing": "own-words", "kind": kind, "why": why,
        "asked": {"places": [list(chain.key)], "years": [year], "named_year": year},
        "traditional": traditional,
    }  # fmt: skip


def make_questions(
    rng: random.Random, copies: list[Copy], groups: dict[str, Group], chosen: Chosen,
    deltas: list[int], vocab: Vocab,
) -> tuple[list[dict[str, Any]], dict[str, int]]:  # fmt: skip
    """Every question of the corpus, and how many original ones were left out, by reason."""
    by_key = {(c.source.file, c.copy): c for c in copies}
    rows = read_rows()
    out: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    for k, delta in enumerate(deltas):
        for row in rows:
            q, why = rewrite_row(rng, row, k, by_key, groups, chosen, delta, vocab)
            if q is not None:
                out.append(q)
            elif why:
                dropped[why] += 1
        out += unanswerable(rng, k, groups, chosen, copies, vocab)
    return out, dict(sorted(dropped.items()))
