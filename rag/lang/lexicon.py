"""The language knowledge as validated data: vocabularies read from the TOML files of
`rag/lang/data/`, each entry with the examples that show it.

A file holds one table per vocabulary::

    [units]
    about = "what the words are for"
    kind = "words"              # or "patterns": each entry is a regular expression
    attrs = ["group"]           # attributes an entry must carry (optional)
    [units.entries]
    "件次" = { examples = ["受理1305件次"], group = "count" }
    "个百分点" = ["提高3个百分点"]   # a bare list: the examples

The loader checks every entry (at least one example; a word occurs in each example, a pattern
matches it; the vocabulary's alternation, built longest-first for words, finds that very
entry there, so no shorter or earlier entry shadows it) and says which file, vocabulary and entry is wrong.

A `templates` vocabulary holds the phrases the answers write and the checks read back: each
entry is a format string (`{place}（{year}年）`) with a `name`, and its examples are phrases it
writes. The writer renders it (`Template.render`) and the reader matches the regular expression
built from the same text (`Template.regex`, each field by the vocabulary's `fields` table), so
the two cannot drift apart; the loader checks that every example is matched whole.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
KINDS = ("words", "patterns", "templates")
# A template's field matches this unless the vocabulary's `fields` table says otherwise.
ANY_FIELD = ".+?"


class LexiconError(ValueError):
    """A vocabulary file that does not validate: `problems` lists each as file:vocab:entry.
    (Not a RagError: the language layer is the ground floor and imports nothing of rag.)"""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__("; ".join(problems[:5]) + more)


@dataclass(frozen=True)
class Entry:
    text: str  # the word, or the pattern
    examples: tuple[str, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Vocabulary:
    name: str
    kind: str
    about: str
    entries: tuple[Entry, ...]
    source: str  # the file it came from
    fields: Mapping[str, str] = field(default_factory=dict)  # templates: field -> its regex

    def template(self, name: str) -> Template:
        """The template entry called `name` (a `templates` vocabulary)."""
        for e in self.entries:
            if e.attrs.get("name") == name:
                return Template(e.text, self.fields)
        raise KeyError(f"{self.name}: no template named {name!r}")

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(e.text for e in self.entries)

    @property
    def set(self) -> frozenset[str]:
        return frozenset(self.words)

    @property
    def alternation(self) -> str:
        """The entries as one regular-expression alternation: words escaped and longest first;
        patterns in the file's order (the loader checks that none shadows another's example)."""
        if self.kind == "patterns":
            return "|".join(f"(?:{w})" for w in self.words)
        return alternation(self.words)

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.alternation)

    def where(self, name: str, value: Any) -> tuple[str, ...]:
        """The words whose attribute `name` is `value`, in file order."""
        return tuple(e.text for e in self.entries if e.attrs.get(name) == value)

    def groups(self, name: str) -> dict[Any, frozenset[str]]:
        """Attribute value -> its words, for the entries whose attribute `name` is set."""
        out: dict[Any, set[str]] = {}
        for e in self.entries:
            if e.attrs.get(name):
                out.setdefault(e.attrs[name], set()).add(e.text)
        return {k: frozenset(v) for k, v in out.items()}

    def attr(self, word: str, name: str, default: Any = None) -> Any:
        for e in self.entries:
            if e.text == word:
                return e.attrs.get(name, default)
        raise KeyError(f"{self.name}: no entry {word!r}")

    def by_attr(self, name: str) -> dict[str, Any]:
        """word -> the value of attribute `name`, for the entries that carry it."""
        return {e.text: e.attrs[name] for e in self.entries if name in e.attrs}

    def examples(self) -> Iterator[tuple[Entry, str]]:
        for e in self.entries:
            for x in e.examples:
                yield e, x


_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Template:
    """A phrase with fields: written by `render`, read back by `regex` (named groups)."""

    text: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def render(self, **values: object) -> str:
        return self.text.format(**values)

    @property
    def prefix(self) -> str:
        """The literal text before the first field (what a line written by it starts with)."""
        return _FIELD.split(self.text, maxsplit=1)[0]

    @property
    def source(self) -> str:
        """The regular expression of the phrase: literal parts escaped, each field a named
        group of its pattern."""
        out, at, seen = [], 0, set()
        for m in _FIELD.finditer(self.text):
            out.append(re.escape(self.text[at : m.start()]))
            if m[1] in seen:  # a field written twice reads the same text twice
                out.append(f"(?P={m[1]})")
            else:
                out.append(f"(?P<{m[1]}>{self.fields.get(m[1], ANY_FIELD)})")
                seen.add(m[1])
            at = m.end()
        out.append(re.escape(self.text[at:]))
        return "".join(out)

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.source)


def alternation(words: Iterable[str]) -> str:
    """Words as one escaped regular-expression alternation, longest first."""
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


@cache
def _compiled(alternation: str) -> re.Pattern[str]:
    return re.compile(alternation)


@dataclass(frozen=True)
class Lexicon:
    """Every vocabulary, by name (`lexicon()["units"]`)."""

    vocabularies: Mapping[str, Vocabulary]

    def __getitem__(self, name: str) -> Vocabulary:
        try:
            return self.vocabularies[name]
        except KeyError:
            raise KeyError(f"no vocabulary {name!r} in {sorted(self.vocabularies)}") from None

    def __iter__(self) -> Iterator[Vocabulary]:
        return iter(self.vocabularies.values())


def _entry(where: str, word: str, raw: Any, attrs: list[str]) -> tuple[Entry | None, list[str]]:
    if isinstance(raw, list):
        raw = {"examples": raw}
    if not isinstance(raw, dict):
        return None, [f"{where}: must be a list of examples or a table with examples"]
    examples = raw.get("examples")
    if (
        not isinstance(examples, list)
        or not examples
        or not all(isinstance(x, str) and x for x in examples)
    ):
        return None, [f"{where}: examples: at least one example sentence is needed"]
    extra = {k: v for k, v in raw.items() if k != "examples"}
    missing = [a for a in attrs if a not in extra]
    unknown = [k for k in extra if k not in attrs]
    problems = [f"{where}: {a}: missing" for a in missing]
    problems += [f"{where}: {k}: not an attribute of this vocabulary ({attrs})" for k in unknown]
    return Entry(word, tuple(examples), MappingProxyType(extra)), problems


def _check_templates(vocab: Vocabulary, where: str) -> list[str]:
    problems = []
    names = [e.attrs.get("name") for e in vocab.entries]
    problems += [
        f"{where}: template name {n!r} used twice" for n in set(names) if names.count(n) > 1
    ]
    for entry in vocab.entries:
        t = Template(entry.text, vocab.fields)
        try:
            regex = t.regex
            t.render(**{f: "x" for f in _FIELD.findall(entry.text)})
        except (re.error, KeyError, IndexError, ValueError) as e:
            problems.append(f"{where}.{entry.text}: not a template: {e}")
            continue
        for example in entry.examples:
            if not regex.fullmatch(example):
                problems.append(f"{where}.{entry.text}: example {example!r} is not what it writes")
    return problems


def _check_examples(vocab: Vocabulary, where: str) -> list[str]:
    if vocab.kind == "templates":
        return _check_templates(vocab, where)
    problems = []
    try:
        whole = vocab.pattern
    except re.error as e:
        return [f"{where}: the alternation does not compile: {e}"]
    for entry, example in vocab.examples():
        at = f"{where}.{entry.text}"
        own = re.compile(entry.text if vocab.kind == "patterns" else re.escape(entry.text))
        m = own.search(example)
        if m is None:
            problems.append(f"{at}: example {example!r} does not contain it")
            continue
        found = {x.span() for x in whole.finditer(example)}
        if not any(own.fullmatch(example, a, b) for a, b in found):
            problems.append(
                f"{at}: in {example!r} the vocabulary finds "
                f"{[example[a:b] for a, b in sorted(found)]}, not this entry"
            )
    return problems


def load_file(path: Path) -> tuple[list[Vocabulary], list[str]]:
    """The vocabularies of one file and every problem found (none lost to the first)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        return [], [f"{path.name}: cannot read: {e}"]
    out, problems = [], []
    for name, table in data.items():
        where = f"{path.name}:{name}"
        if not isinstance(table, dict) or not isinstance(table.get("entries"), dict):
            problems.append(f"{where}: a vocabulary is a table with an entries table")
            continue
        kind = table.get("kind", "words")
        if kind not in KINDS:
            problems.append(f"{where}: kind: {kind!r} is not one of {KINDS}")
            continue
        attrs = list(table.get("attrs", []))
        entries = []
        for word, raw in table["entries"].items():
            entry, bad = _entry(f"{where}.{word}", word, raw, attrs)
            problems += bad
            if entry is not None:
                entries.append(entry)
        compiles = True
        for ent in entries if kind == "patterns" else []:
            try:
                re.compile(ent.text)
            except re.error as err:
                problems.append(f"{where}.{ent.text}: not a regular expression: {err}")
                compiles = False
        fields = table.get("fields", {})
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            problems.append(f"{where}: fields: a table of field name = regular expression")
            fields = {}
        if kind == "templates" and "name" not in attrs:
            problems.append(f'{where}: a templates vocabulary needs attrs = ["name"]')
        vocab = Vocabulary(
            name, kind, str(table.get("about", "")), tuple(entries), path.name,
            MappingProxyType(dict(fields)),
        )  # fmt: skip
        if entries and compiles:
            problems += _check_examples(vocab, where)
        out.append(vocab)
    return out, problems


def load_lexicon(folder: Path = DATA_DIR) -> Lexicon:
    """Every `*.toml` of `folder` as one Lexicon; LexiconError lists every problem."""
    vocabularies: dict[str, Vocabulary] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        found, bad = load_file(path)
        problems += bad
        for v in found:
            if v.name in vocabularies:
                problems.append(
                    f"{path.name}:{v.name}: also defined in {vocabularies[v.name].source}"
                )
            vocabularies[v.name] = v
    if problems:
        raise LexiconError(problems)
    return Lexicon(MappingProxyType(vocabularies))


@cache
def lexicon() -> Lexicon:
    """The shipped lexicon (rag/lang/data/), loaded and validated once."""
    return load_lexicon()
