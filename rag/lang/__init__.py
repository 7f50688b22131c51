"""The language layer: vocabularies as validated data (rag/lang/data/*.toml). It imports
nothing of the pipeline: every stage may read it, it reads none of them."""

from rag.lang.lexicon import (
    Entry,
    Lexicon,
    LexiconError,
    Template,
    Vocabulary,
    alternation,
    lexicon,
)


def phrase(name: str) -> Template:
    """An answer phrase of rag/lang/data/answer.toml (the writer renders it, the reader
    matches its regex)."""
    return lexicon()["answer_templates"].template(name)


__all__ = [
    "Entry",
    "Lexicon",
    "LexiconError",
    "Template",
    "Vocabulary",
    "alternation",
    "lexicon",
    "phrase",
]
