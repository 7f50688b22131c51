"""The language layer: vocabularies as validated data (rag/lang/data/*.toml). It imports
nothing of the pipeline: every stage may read it, it reads none of them."""

from rag.lang.lexicon import Entry, Lexicon, LexiconError, Vocabulary, alternation, lexicon

__all__ = ["Entry", "Lexicon", "LexiconError", "Vocabulary", "alternation", "lexicon"]
