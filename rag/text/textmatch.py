"""Sentence spans and character-bigram overlap: the deterministic matching behind citations."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from rag.text.numbers import POST_WORDS, UNITS, normalize

# A sentence ends at 。！？；!?; (with the closing quotes or brackets after them) or a newline.
_END = re.compile(r"[。！？；!?;]+[”’」』）)]*|\n+")
_MARKER = re.compile(r"\[[\d,，、\s\-–]+\]|【[\d,，、\s\-–]+】")
_KEEP = re.compile(r"[\u4e00-\u9fff0-9A-Za-z%.]")
# A year as questions write it (the one pattern for every stage): 2024年, or a bare 2024 as
# keyword questions write it (水口镇 2023 执法培训), unless it counts something: a unit or
# 余/多/万 after it (2000份, 2000余), or a comparison before it (超过2000).
YEAR = re.compile(
    r"(?<![\d.,])(?<!超过)(?<!不到)(?<!不少于)(?<!不低于)(?<!达)(?<!近)(?<!约)(?<!共)(?<!逾)"
    r"((?:19|20)\d{2})"
    rf"(?:(?=\s*年)|(?![\d.,%％])(?!(?:[万亿]|{POST_WORDS})?(?!人大|人民)(?:{UNITS})))"
)


def year_strings(text: str) -> list[str]:
    """The years a text names, in order, as written (2024年 and a bare 2024 -> "2024")."""
    return YEAR.findall(text)


def years_in(text: str) -> tuple[int, ...]:
    return tuple(dict.fromkeys(int(y) for y in year_strings(text)))


def strip_years(text: str) -> str:
    """`text` with each year (and its 年) replaced by a space."""
    return re.sub(YEAR.pattern + r"(?:\s*年)?", " ", text)


def sentences(
    text: str, start: int = 0, end: int | None = None, content_only: bool = True
) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text[start:end]` as offsets into `text`, whitespace
    trimmed, terminators and closing quotes inside. The one splitter of passages: chunking
    (which keeps every piece: `content_only=False`), extraction, citation and verification
    (which leave out pieces without a letter, digit or CJK character)."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    pos = start
    for m in _END.finditer(text, start, end):
        _add(text, pos, m.end(), out, content_only)
        pos = m.end()
    _add(text, pos, end, out, content_only)
    return out


def _add(text: str, start: int, end: int, out: list[tuple[int, int]], content_only: bool) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and (not content_only or _KEEP.search(text[start:end])):
        out.append((start, end))


def is_heading(sentence: str, section: tuple[str, ...] = ()) -> bool:
    """A heading of the chunk's section path, or a short line without closing punctuation
    (七、下一步计划 / 2024年度主要工作安排), or a lead-in ending with a colon."""
    if sentence.endswith(("：", ":")) or sentence.rstrip("。") in section:
        return True
    return len(sentence) <= 40 and not sentence.endswith(("。", "；", ";", "！", "？"))


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


def cited_parts(text: str) -> list[str]:
    """The pieces of a claim each marker closes (甲[1]；乙[2] -> 甲, 乙), and what follows the
    last marker when it is more than punctuation."""
    return [p for p in _MARKER.split(text) if _KEEP.search(p)]


def content(text: str) -> str:
    """Letters, digits and CJK only, numbers normalised, citation markers removed."""
    return "".join(_KEEP.findall(normalize(_MARKER.sub("", text))))


def bigrams(text: str) -> set[str]:
    s = content(text)
    if len(s) == 1:
        return {s}
    return {s[i : i + 2] for i in range(len(s) - 1)}


def containment(claim: str, span: str) -> float:
    """Share of the claim's character bigrams that occur in `span` (0 when the claim has none)."""
    a = bigrams(claim)
    if not a:
        return 0.0
    return len(a & bigrams(span)) / len(a)


def names_in(text: str, names: AbstractSet[str], longest: int = 12) -> set[str]:
    """Members of `names` (2..`longest` characters) that occur in `text`: one set lookup per
    substring, so the cost depends on the text, not on how many names there are."""
    found = set()
    for i in range(len(text)):
        for j in range(i + 2, min(len(text), i + longest) + 1):
            if text[i:j] in names:
                found.add(text[i:j])
    return found
