"""Traditional characters (繁體) read as simplified, with every offset kept: OpenCC's t2s
conversion, character for character, so that position i of the converted text is position i
of the original (a citation's span points into both).

Only text written in traditional characters is converted. t2s also rewrites characters that
simplified text uses as they are (乾 -> 干: 奇乾乡 would become 奇干乡, 乾县 干县), so a line
is converted when it holds a character that only traditional text writes (鎮, 發, 們: one
that t2s changes and s2t gives back), or when the whole text does in at least 1% of its
Chinese characters (then its lines with only shared forms such as 裡 or 複 are converted
too). A simplified report that names 奇乾乡 keeps it.

OpenCC converts some phrases to words of another length (伊斯坦堡 -> 伊斯坦布尔); a line whose
length the phrase conversion changes is converted one character at a time instead, and a
character that would become several is kept as it is.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Protocol


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@cache
def _opencc(config: str) -> _Converter:
    import opencc  # loaded on first use: its dictionaries take ~50 ms

    return opencc.OpenCC(config)  # type: ignore[no-any-return]


def _t2s() -> _Converter:
    return _opencc("t2s")


@cache
def traditional_only(char: str) -> bool:
    """Whether only traditional text writes `char`: t2s changes it and s2t gives it back
    (鎮 -> 镇 -> 鎮), unlike a form simplified text also uses (乾 -> 干 -> 幹)."""
    simple = _t2s().convert(char)
    return simple != char and len(simple) == 1 and _opencc("s2t").convert(simple) == char


_SHARE = 0.01  # of a text's Chinese characters traditional-only: the whole text is 繁體
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _marks(text: str) -> int:
    return sum(1 for c in _CJK.findall(text) if traditional_only(c))


def _converted(line: str) -> str:
    conv = _t2s().convert(line)
    if len(conv) != len(line):
        conv = "".join(c if len(s := _t2s().convert(c)) != 1 else s for c in line)
    return conv


def simplified(text: str) -> str:
    """`text` in simplified characters, of the same length (offsets are kept); text already
    simplified is returned as it is."""
    if text.isascii():
        return text
    marks = _marks(text)
    if not marks:
        return text
    whole = marks >= _SHARE * len(_CJK.findall(text))
    out = []
    for line in text.splitlines(keepends=True):
        out.append(_converted(line) if whole or _marks(line) else line)
    return "".join(out)


def is_traditional(text: str) -> bool:
    """Whether `text` has characters that read differently once simplified."""
    return simplified(text) != text


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def word_pair_share(text: str) -> tuple[int, float]:
    """(n, share): the n pairs of adjacent CJK characters in `text`, and the share of them
    jieba's dictionary holds as a word or the start of one. Chinese prose scores ~0.55-0.6
    (the sample reports: 0.56-0.58); characters strung at random, even common ones, < 0.01
    (bytes decoded in the wrong encoding, random text)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.check_initialized()
    words = jieba.dt.FREQ
    n = hits = 0
    for run in _CJK_RUN.findall(text):
        n += len(run) - 1
        hits += sum(run[i : i + 2] in words for i in range(len(run) - 1))
    return n, hits / n if n else 1.0
