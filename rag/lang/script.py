"""Traditional characters (繁體) read as simplified, with every offset kept: OpenCC's t2s
conversion, character for character, so that position i of the converted text is position i
of the original (a citation's span points into both).

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
def _t2s() -> _Converter:
    import opencc  # loaded on first use: its dictionaries take ~50 ms

    return opencc.OpenCC("t2s")  # type: ignore[no-any-return]


def simplified(text: str) -> str:
    """`text` in simplified characters, of the same length (offsets are kept)."""
    if text.isascii():
        return text
    whole = _t2s().convert(text)
    if len(whole) == len(text):
        return whole
    out = []
    for line in text.splitlines(keepends=True):
        conv = _t2s().convert(line)
        if len(conv) != len(line):
            conv = "".join(c if len(s := _t2s().convert(c)) != 1 else s for c in line)
        out.append(conv)
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
