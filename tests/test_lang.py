"""The language layer (rag/lang/): every example of every vocabulary entry is a test of its
own, and a vocabulary file that does not validate says which entry is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.lang import LexiconError, lexicon
from rag.lang.lexicon import load_lexicon
from rag.text.gazetteer import split_chain
from rag.text.numbers import quantities

LEX = lexicon()
CASES = [
    pytest.param(v.name, e.text, x, id=f"{v.name}:{e.text}:{x}")
    for v in LEX
    if v.kind != "templates"
    for e, x in v.examples()
]
TEMPLATE_CASES = [
    pytest.param(v.name, e.attrs["name"], x, id=f"{v.name}:{e.attrs['name']}:{x}")
    for v in LEX
    if v.kind == "templates"
    for e, x in v.examples()
]


@pytest.mark.parametrize(("vocab", "entry", "example"), CASES)
def test_every_example_is_found_as_its_own_entry(vocab: str, entry: str, example: str) -> None:
    v = LEX[vocab]
    own = re.compile(entry if v.kind == "patterns" else re.escape(entry))
    spans = [m.span() for m in v.pattern.finditer(example)]
    assert any(own.fullmatch(example, a, b) for a, b in spans), (vocab, entry, example, spans)


@pytest.mark.parametrize(("vocab", "name", "example"), TEMPLATE_CASES)
def test_the_reader_of_a_phrase_reads_what_its_writer_writes(
    vocab: str, name: str, example: str
) -> None:
    """Each example is read back by the template's regex, and written again, the same, from
    the fields read (the writer and the reader are one text: rag/lang/data/answer.toml)."""
    t = LEX[vocab].template(name)
    m = t.regex.fullmatch(example)
    assert m is not None, (name, t.source, example)
    assert t.render(**m.groupdict()) == example
    assert example.startswith(t.prefix)


def test_a_template_whose_example_it_does_not_write_names_its_entry(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text(
        '[t]\nkind = "templates"\nattrs = ["name"]\nfields = { year = "\\\\d{4}" }\n'
        '[t.entries]\n"{place}（{year}年）" = { name = "label", examples = ["水口镇（二〇二四年）"] }\n',
        encoding="utf-8",
    )
    with pytest.raises(LexiconError, match="is not what it writes"):
        load_lexicon(tmp_path)


TAG_CASES = [
    pytest.param(e.text, x, id=f"{e.text}:{x}") for e, x in LEX["function_tags"].examples()
]


@pytest.mark.parametrize(("tag", "example"), TAG_CASES)
def test_a_function_tag_is_the_tag_jieba_gives_its_example(tag: str, example: str) -> None:
    from jieba import posseg

    from rag.retrieve.terms import function_words

    word, _, written = example.partition("/")
    assert written == tag
    assert [(p.word, p.flag) for p in posseg.lcut(word)] == [(word, tag)]
    assert function_words([word, "执法"]) == {word}  # 执法 is a verb: content


UNIT_CASES = [
    pytest.param(e.text, x, id=f"{e.text}:{x}")
    for e, x in LEX["units"].examples()
    if e.attrs["parse"] and any(ch.isdigit() for ch in x)
]


@pytest.mark.parametrize(("unit", "example"), UNIT_CASES)
def test_a_parsed_unit_is_read_after_its_number(unit: str, example: str) -> None:
    """The quantity as read takes the unit in (46.3万元 is 463000元: its text ends in 万元)."""
    assert any(q.text.endswith(unit) for q in quantities(example)), quantities(example)


SUFFIX_CASES = [
    pytest.param(e.text, x, id=f"{e.text}:{x}") for e, x in LEX["place_suffix"].examples()
]


@pytest.mark.parametrize(("suffix", "example"), SUFFIX_CASES)
def test_a_place_suffix_ends_a_name_of_the_chain(suffix: str, example: str) -> None:
    assert any(n.endswith(suffix) for n in split_chain(example)), split_chain(example)


def test_units_are_tried_longest_first() -> None:
    """个百分点 is one unit, not 个 (提高3个百分点 used to read as 3个)."""
    assert [(q.value, q.unit) for q in quantities("提高3个百分点")] == [(3.0, "个百分点")]


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "x.toml").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[v]\n[v.entries]\n"镇" = []\n', "x.toml:v.镇: examples: at least one"),
        (
            '[v]\n[v.entries]\n"镇" = ["水口县"]\n',
            "x.toml:v.镇: example '水口县' does not contain it",
        ),
        (
            '[v]\n[v.entries]\n"个" = ["3个百分点"]\n"个百分点" = ["提高3个百分点"]\n'
            '"百分点" = ["3个百分点"]\n',
            "x.toml:v.百分点: in '3个百分点' the vocabulary finds ['个百分点'], not this entry",
        ),
        ('[v]\nattrs = ["level"]\n[v.entries]\n"镇" = ["瓦屋镇"]\n', "x.toml:v.镇: level: missing"),
        (
            '[v]\nkind = "patterns"\n[v.entries]\n"(镇" = ["瓦屋镇"]\n',
            "x.toml:v.(镇: not a regular",
        ),
        ('[v]\nkind = "list"\n[v.entries]\n"镇" = ["瓦屋镇"]\n', "x.toml:v: kind: 'list' is not"),
        ("[v]\nentries = 3\n", "x.toml:v: a vocabulary is a table with an entries table"),
        ("[v\n", "x.toml: cannot read"),
    ],
)
def test_a_bad_vocabulary_names_its_file_and_entry(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(LexiconError) as e:
        load_lexicon(_write(tmp_path, text))
    assert any(says in p for p in e.value.problems), e.value.problems


def test_a_vocabulary_defined_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('[v]\n[v.entries]\n"镇" = ["瓦屋镇"]\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('[v]\n[v.entries]\n"乡" = ["竹核乡"]\n', encoding="utf-8")
    with pytest.raises(LexiconError, match="b.toml:v: also defined in a.toml"):
        load_lexicon(tmp_path)


def test_every_problem_is_listed_not_only_the_first(tmp_path: Path) -> None:
    text = '[v]\n[v.entries]\n"镇" = []\n"乡" = ["水口镇"]\n'
    with pytest.raises(LexiconError) as e:
        load_lexicon(_write(tmp_path, text))
    assert len(e.value.problems) == 2


OUTLINE_CASES = [
    pytest.param(e.attrs["level"], x, id=f"{e.attrs['level']}:{x}")
    for e, x in LEX["outline"].examples()
]


@pytest.mark.parametrize(("level", "example"), OUTLINE_CASES)
def test_one_outline_grammar_serves_chunking_and_sections(level: int, example: str) -> None:
    from rag.ingest.chunk import heading_level
    from rag.lang.outline import ITEM, ITEM_START

    if level < 5:
        assert heading_level(example) == level
    else:
        assert heading_level(example) is None and ITEM.match(example)
    assert bool(ITEM_START.match(example)) == (level != 1)  # 一、 heads a part, not an item


def test_a_decimal_figure_does_not_open_an_item() -> None:
    from rag.lang.outline import ITEM_START

    assert not ITEM_START.match("12.5%的村完成创建")
