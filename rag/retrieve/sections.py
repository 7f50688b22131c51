"""What part of a report a question asks about, and which sentences belong to that part.

Reports state their shortcomings (存在的不足/困难和问题) and next year's plans (下一步工作安排,
工作思路) in sections of their own, or in a paragraph that opens with "…但仍存在一定困难和问题".
Staff ask in other words (短板, 毛病, 接下来准备怎么干): a question asking for one of these
topics is answered from that part, and gets all of its items (一是…二是…, (一)…(二)…).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from rag.lang import lexicon
from rag.text.textmatch import sentences
from rag.types import Chunk

PLANS, SHORTCOMINGS = "plans", "shortcomings"

_LEX = lexicon()  # rag/lang/data/topics.toml
TOPICS = _LEX["topics"].words  # tried in this order
# How staff ask for a topic; the matched words leave the question's content terms.
_ASK = {t: _LEX[f"ask_{t}"].pattern for t in TOPICS}
# How reports head those parts (the heading of any level of a chunk's section path).
_HEADING = {t: _LEX[f"heading_{t}"].pattern for t in TOPICS}
# A paragraph that states the shortcomings without a heading of its own.
_LEAD = {t: _LEX[f"lead_{t}"].pattern for t in TOPICS if f"lead_{t}" in _LEX.vocabularies}


def asked_topic(question: str) -> tuple[str, str]:
    """(topic, the question without its topic words); ("", question) when it asks none."""
    for topic, pattern in _ASK.items():
        if pattern.search(question):
            return topic, pattern.sub(" ", question)
    return "", question


def asks_next_year(question: str) -> bool:
    """Whether the question asks for a topic a report states for the year after its own
    (next year's plans: topics.toml's next_year), whatever else it asks (几次, 多少)."""
    return _next_year(asked_topic(question)[0])


def next_year_topic(topic: str) -> bool:
    """Whether reports state `topic` for the year after their own (topics.toml next_year)."""
    return bool(topic) and bool(_LEX["topics"].attr(topic, "next_year"))


_next_year = next_year_topic


_DONE = _LEX["ask_done"].pattern  # topics.toml: 调解了多少件, 已经办结几件


def asks_done(question: str) -> bool:
    """Whether the question asks what was done (调解了, 已办结) rather than planned."""
    return bool(_DONE.search(question))


def states_next_year(chunk: Chunk) -> bool:
    """Whether the chunk is in a part a report writes for the year after its own (下一步工作
    安排, 2025年工作打算: topics.toml's next_year)."""
    return _next_year(chunk_topic(chunk))


def chunk_topic(chunk: Chunk) -> str:
    for topic, pattern in _HEADING.items():
        if any(pattern.search(h) for h in chunk.section):
            return topic
    return ""


def sentence_topic(chunk: Chunk, start: int) -> str:
    """The topic of the sentence at `start` of the chunk's text: its section's, or that of a
    paragraph whose opening sentence says it lists shortcomings."""
    topic = chunk_topic(chunk)
    if topic:
        return topic
    text = chunk.text
    lead = _opening(text, text.rfind("\n", 0, start) + 1, start + 1)
    for name, pattern in _LEAD.items():
        if pattern.search(lead):
            return name
    return ""


def report_sentences(chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, int, int]]:
    """Each sentence of one report's `chunks` once (chunks overlap), in reading order: the
    chunk it is read in (its section, its topic) and its offsets in that chunk's text."""
    seen: set[int] = set()
    for chunk in sorted(chunks, key=lambda c: c.start):
        for a, b in sentences(chunk.text):
            if chunk.start + a not in seen:
                seen.add(chunk.start + a)
                yield chunk, a, b


def section_chunks(chunks: Sequence[Chunk], topic: str) -> list[Chunk]:
    """Of one report's `chunks`, those in the part that states `topic` (or holding a paragraph
    that opens by stating it), in reading order."""
    lead = _LEAD.get(topic)
    return sorted(
        (
            c
            for c in chunks
            if chunk_topic(c) == topic or (lead is not None and _leads(c.text, lead))
        ),
        key=lambda c: c.start,
    )


def _leads(text: str, pattern: re.Pattern[str]) -> bool:
    """Whether a paragraph of `text` opens with a sentence matching `pattern`."""
    pos = 0
    for line in text.split("\n"):
        if pattern.search(_opening(text, pos, pos + len(line))):
            return True
        pos += len(line) + 1
    return False


def _opening(text: str, start: int, end: int) -> str:
    """The first sentence of text[start:end] ('' when there is none)."""
    spans = sentences(text, start, end)
    return text[spans[0][0] : spans[0][1]] if spans else ""
