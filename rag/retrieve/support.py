"""How well a sentence answers a question: IDF-weighted share of the question's terms
(rag.retrieve.terms) it holds.

The same score picks extractive sentences and decides abstention, so a question whose
distinctive words (预算, 律师...) occur in no retrieved passage is answered "not in the reports".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from rag.index.sentvec import SentenceVectors
from rag.lang import lexicon
from rag.recent import Recent
from rag.retrieve.terms import QuestionTerms, synonyms
from rag.text.numbers import compatible_units, is_year, normalize, quantities

SYNONYM_CREDIT = 0.8  # a match through a synonym (rag.retrieve.terms.synonyms)
PART_CREDIT = 0.5  # a long word absent, credit per share of its sub-words present

COUNTED_BEFORE = 10  # characters: 配置执法人员5名, 公职律师9名
COUNTED_AFTER = 8  # characters: 12个智慧消防站, 8件人大代表建议


def states_count(terms: QuestionTerms, text: str) -> bool:
    """Whether `text` can answer a numeric question: a figure in the unit asked and, when the
    question names what it counts, that thing next to the figure (92份文件 does not answer
    多少份合同, nor 落实法律顾问制度…92份文件 法律顾问有几个)."""
    if not terms.counted:
        return has_figure(text, terms.unit)
    if not terms.counted_before:  # 审了多少份合同: the noun anywhere in the sentence
        return has_figure(text, terms.unit) and _credit(terms.counted, terms, normalize(text)) > 0
    text = unicodedata.normalize("NFKC", _ENUMERATOR.sub(" ", text))
    at = 0
    for q in quantities(text):
        start = text.find(q.text, at)
        if start < 0:
            continue
        at = end = start + len(q.text)
        if is_year(q) or not _fits(q.unit, terms.unit):
            continue
        window = text[max(0, start - COUNTED_BEFORE) : end + COUNTED_AFTER]
        if _credit(terms.counted, terms, normalize(window)) > 0:
            return True
    return False


def support(terms: QuestionTerms, text: str, topic: str = "") -> float:
    """IDF-weighted share of the question's terms that occur in `text` (0..1); `topic` is
    the part of the report `text` is in (rag.retrieve.sections)."""
    total = terms.total
    if total <= 0:
        return 0.0
    norm = normalize(text)
    found = sum(w * _credit(t, terms, norm) for t, w in terms.weights.items())
    if terms.numeric and has_figure(text, terms.unit):
        found += terms.figure_weight
    if terms.topic and topic == terms.topic:
        found += terms.topic_weight
    if terms.listing and is_enumeration(text):
        found += terms.list_weight * (1.0 if lists_head(text, terms.list_head) else HEADLESS_LIST)
    return found / total


HEADLESS_LIST = 0.5  # an enumeration of something else than the list asked for (形式 for 内容)


def lists_head(text: str, head: str) -> bool:
    """Whether `text` closes a list with `head` (A、B等方面, A和B等决策程序, A、B和C领域);
    True when the question names no head."""
    return not head or any(p.search(text) for p in _closing(head))


@lru_cache(maxsize=64)
def _closing(head: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The two ways a list closes with `head` or a synonym (…等方面; …、A和B领域), compiled
    once per head: they are tried on every sentence of a list question's sources."""
    names = "|".join(re.escape(h) for h in sorted({head} | synonyms(head)))
    return (
        re.compile(rf"等[^。；;，,、]{{0,8}}?(?:{names})"),
        re.compile(rf"、[^。；;，,、]{{1,12}}(?:和|及)[^。；;，,、]{{0,12}}?(?:{names})"),
    )


def shares_content(terms: QuestionTerms, text: str) -> bool:
    """Whether `text` has at least one of the question's content words (or a synonym, or
    part of a long one): semantic similarity alone does not make a sentence an answer. A
    word the encoder put beside a question word (rag.retrieve.neighbours) does not count: the
    encoder would vouch for its own similarity twice."""
    norm = normalize(text)
    own = replace(terms, neighbours={}) if terms.neighbours else terms
    return any(_credit(t, own, norm) > 0 for t in terms.weights) or not terms.weights


def is_enumeration(text: str) -> bool:
    """A sentence listing items: A、B、C, or A、B等 / A和B等."""
    return text.count("、") >= 2 or ("等" in text and ("、" in text or "和" in text))


# List numbering is not a figure: (1)重点开展干部普法培训 states no count.
_ENUMERATOR = re.compile(r"[（(]\s*\d{1,2}\s*[）)]|^\s*\d{1,2}\s*[.、．](?!\d)")


def has_figure(text: str, unit: str) -> bool:
    """Whether `text` states a figure in `unit` ("" any), years and list numbers aside."""
    text = _ENUMERATOR.sub(" ", text)
    return any(not is_year(q) and _fits(q.unit, unit) for q in quantities(text))


# Staff count events and kinds in looser words than reports (几场行政复议 -> 1宗, 几类场景 ->
# 8个场景): to find the sentence that answers, an asked unit fits any unit of its group.
# Claim checks stay strict (rag.text.numbers.compatible_units: 19起 is not 19人).
_LOOSE = lexicon()["units"].groups("loose")  # rag/lang/data/units.toml
_EVENTS, _KINDS, _OBJECTS, _AREAS = (_LOOSE[g] for g in ("events", "kinds", "objects", "areas"))


def _fits(found: str, asked: str) -> bool:
    """几个 asks for a count of anything (几个执法人员 -> 5名), not a share or a sum."""
    if not asked:
        return True
    if not found:  # a bare number (12345热线, “12.4”宪法日, 5+21制度) names, it does not count
        return False
    if asked in _AREAS:
        return found in _AREAS
    if asked in _KINDS:
        return found not in ("%", "元", "万元", "亿元", "年", "年度")
    if asked in _EVENTS and found in _EVENTS or asked in _OBJECTS and found in _OBJECTS:
        return True
    return compatible_units(found, asked)


def _credit(term: str, terms: QuestionTerms, norm: str) -> float:
    if (terms.normalized.get(term) or normalize(term)) in norm:
        return 1.0
    if any(s in norm for s in synonyms(term)):
        return SYNONYM_CREDIT
    if any(normalize(n) in norm for n in terms.neighbours.get(term, ())):
        return SYNONYM_CREDIT
    subs = terms.parts.get(term)
    if subs:  # by IDF: 行政 of 行政复议 says little, 复议 much
        total = sum(w for _, w in subs)
        return PART_CREDIT * sum(w for s, w in subs if s in norm) / total if total else 0.0
    return 0.0


# The semantic signal (question-to-sentence cosine) is mapped onto the lexical scale by two
# anchors per embedding model (rag.index.embed.EMBEDDERS), fitted on the training questions only.


def semantic_support(cosine: float, anchors: tuple[float, float]) -> float:
    floor, full = anchors
    return min(1.0, max(0.0, (cosine - floor) / (full - floor)))


class SentenceSimilarity:
    """Sentence vectors for the question-to-sentence cosine: read from the index's
    `stored` vectors (built at index time), else encoded; each kept for the last `cache`
    sentences (the same passages come back question after question)."""

    def __init__(
        self,
        embed_documents: Callable[[list[str]], Any],
        anchors: tuple[float, float],
        cache: int = 65_536,
        stored: SentenceVectors | None = None,
    ) -> None:
        self.embed_documents = embed_documents
        self.anchors = anchors
        self.stored = stored
        self._vectors: Recent[str, Any] = Recent(cache)

    def vectors(self, keys: list[str], texts: list[str]) -> list[Any]:
        """The vectors of `texts` (one row each), by their `keys` (chunk id and offset)."""
        return self._vectors.get_many(
            keys, lambda missing: self._vectors_of([texts[i] for i in missing])
        )

    def _vectors_of(self, texts: list[str]) -> list[Any]:
        found = self.stored.find(texts) if self.stored is not None else [None] * len(texts)
        todo = [i for i, v in enumerate(found) if v is None]
        if todo:
            for i, v in zip(todo, self.embed_documents([texts[i] for i in todo]), strict=True):
                found[i] = v
        return found
