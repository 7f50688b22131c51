"""The metamorphic generator (eval/metamorphic_gen.py): deterministic in the seed, quotes and key
facts that survive the re-skinning, real places, and unanswerable questions about places and
years no copy covers. No model and no index: the generator alone."""

from __future__ import annotations

import re

import pytest

from eval.metamorphic_gen import generate
from eval.metamorphic_pages import convert
from eval.metamorphic_vocab import gazetteer, load_sources, load_vocab, map_offset


@pytest.fixture(scope="module")
def corpus():
    return generate(20261207, copies=2)


def simplified(c) -> str:
    return convert(c.text, "t2s") if c.traditional else c.text


def test_the_generator_is_deterministic_for_a_seed():
    a, b = generate(5, copies=1), generate(5, copies=1)
    assert [(c.file, c.text) for c in a.copies] == [(c.file, c.text) for c in b.copies]
    assert a.questions == b.questions
    assert [c.text for c in generate(6, copies=1).copies] != [c.text for c in a.copies]


def test_every_quote_is_found_in_its_generated_report(corpus):
    texts = {c.file: c.text for c in corpus.copies}
    quotes = [e for q in corpus.questions for e in q["evidence"]]
    assert len(quotes) > 200
    for e in quotes:
        assert e["quote"] in texts[e["doc"]], e


def test_key_facts_survive_the_reskinning(corpus):
    """A key fact with no place or year in it is the original's (繁體 folded back), and every
    key fact stands in the question's quotes."""
    vocab = load_vocab()
    originals = {row["id"]: row for row in _rows()}
    names = {a[0] for g in vocab["group"] for a in g["aliases"]}
    compared = 0
    for q in corpus.questions:
        if not q["answerable"]:
            continue
        joined = "".join(e["quote"] for e in q["evidence"])
        assert all(f in joined for f in q["key_facts"]), q["id"]
        for old, new in zip(originals[q["origin"]]["key_facts"], q["key_facts"], strict=True):
            if vocab.year.search(old) or any(n in old for n in names):
                continue
            assert convert(new, "t2s") == convert(old, "t2s"), q["id"]
            compared += 1
    assert compared > 150


def test_truth_places_are_real_dataset_names_and_years_keep_their_relation(corpus):
    gaz = gazetteer()
    for c in corpus.copies:
        province, city, county = gaz.counties[c.chain.code]
        assert (c.chain.province, c.chain.city, c.chain.county) == (province, city, county)
        assert not c.chain.town or c.chain.town in gaz.towns[c.chain.code]
        assert c.truth["place"] == (c.chain.town or c.chain.county)
        if c.truth["published"]:  # the report of year Y is published in Y+1
            assert c.truth["published"].startswith(str(c.truth["year"] + 1)), c.truth
    places = {(c.truth["group"], c.copy): c.chain.key for c in corpus.copies}
    assert len(set(places.values())) == len(places)  # every place of a copy is another


def test_copies_lose_the_original_names_and_some_are_in_traditional_characters(corpus):
    groups, sources = load_sources(load_vocab())
    for c in corpus.copies:
        g = groups[c.source.group]
        text = simplified(c)
        for name, level, form in g.aliases:
            if form == "full" and level in ("town", "county"):
                assert name not in text, (c.file, name)
        assert c.chain.place in text
    traditional = [c for c in corpus.copies if c.traditional]
    assert traditional
    for c in traditional:
        assert simplified(c) != c.text
        assert convert(c.chain.place, c.traditional) in c.text


def test_unanswerable_questions_name_places_and_years_no_copy_covers(corpus):
    keys = {c.chain.key for c in corpus.copies}
    places = {c.chain.town for c in corpus.copies} | {c.chain.county for c in corpus.copies}
    years = {(c.chain.key, c.truth["year"]) for c in corpus.copies}
    by_name = {(c.chain.place, c.truth["year"]) for c in corpus.copies}
    generated = [q for q in corpus.questions if q.get("why")]
    assert {q["kind"] for q in generated} == {"town", "year"}
    for q in generated:
        (county, town), year = q["asked"]["places"][0], q["asked"]["named_year"]
        if q["kind"] == "town":
            assert (county, town) not in keys, q
            if county not in convert(q["question"], "t2s"):
                assert (town or county) not in places, q
        else:
            assert (county, town) in keys and ((county, town), year) not in years, q
            if county not in convert(q["question"], "t2s"):  # asked by its bare name: no
                # namesake of another county covers the year either
                assert ((town or county), year) not in by_name, q


def test_year_and_name_forms_of_the_vocabulary():
    vocab = load_vocab()
    for example in vocab["years"]["examples"]:
        assert vocab.year.search(example) or vocab.short_year.search(example), example
    names = vocab.names
    assert names.short("江华瑶族自治县", "county") == "江华"
    assert names.plain("江华瑶族自治县", "county") == "江华县"
    assert names.plain("大理白族自治州", "city") == "大理州"
    assert names.short("勉县", "county") == "勉县"
    assert names.short("新华街道", "town") == "新华"


def test_offsets_map_through_a_rewrite():
    spans = [(2, 5, 2, 4), (8, 12, 7, 14)]  # 3 -> 2 characters, then 4 -> 7
    assert map_offset(spans, 0, end=False) == 0
    assert map_offset(spans, 2, end=False) == 2
    assert map_offset(spans, 3, end=False) == 2  # inside a replaced name: its start
    assert map_offset(spans, 4, end=True) == 4  # inside: its end
    assert map_offset(spans, 6, end=False) == 5
    assert map_offset(spans, 12, end=True) == 14
    assert map_offset(spans, 13, end=False) == 15


def _rows():
    from eval.metamorphic_questions import read_rows

    return read_rows()


def test_questions_name_the_copys_place_and_year(corpus):
    by_id = {row["id"]: row for row in _rows()}
    year = re.compile(load_vocab()["years"]["pattern"])
    for q in corpus.questions:
        if "origin" not in q or not year.search(by_id[q["origin"]]["question"]):
            continue
        shifted = int(year.search(by_id[q["origin"]]["question"])[0]) + corpus.deltas[q["copy"]]
        assert q["asked"]["named_year"] == shifted, q["id"]
        assert q["asked"]["years"] and all(y <= shifted for y in q["asked"]["years"]), q["id"]


@pytest.mark.parametrize("seed", [6061, 9191])  # each had one before the generator checked
def test_a_year_question_by_a_bare_name_has_no_namesake_covering_the_year(seed):
    corpus = generate(seed, copies=3)
    by_name = {(c.chain.place, c.truth["year"]) for c in corpus.copies}
    for q in corpus.questions:
        if q.get("kind") != "year":
            continue
        (county, town), year = q["asked"]["places"][0], q["asked"]["named_year"]
        if county not in convert(q["question"], "t2s"):
            assert ((town or county), year) not in by_name, q
