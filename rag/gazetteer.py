"""Chinese administrative place names: the division dataset's provinces, cities and counties
(rag/lang/divisions.py), and names told by their level suffix (省/市/州/盟/县/区/旗/乡/镇/街道).

The dataset has no town level: a town is recognised by its suffix and kept whole
(平顶山市, not 顶山市; 大石桥镇 is not 石桥镇), using the word boundaries of a segmentation
(jieba) to tell where a name starts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.lang import lexicon
from rag.lang.divisions import divisions

_LEX = lexicon()  # rag/lang/data/places.toml
# longest first, so 自治县 wins over 县
SUFFIXES = tuple(sorted(_LEX["place_suffix"].words, key=len, reverse=True))
LEVEL: dict[str, str] = _LEX["place_suffix"].by_attr("level")
# Words that end like a place but name none (社区 is a neighbourhood, 示范区 a programme).
COMMON = _LEX["place_common"].set
# A mention does not start with these (全镇, 各县, 我区, 该乡, 哪些镇...).
PREFIX_STOP = _LEX["place_prefix_stop"].set
# Single characters that end a name on its left: 在水口镇, 和峡口镇, 2024年瓦屋镇.
LEFT_STOP = _LEX["place_left_stop"].set
PRONOUNS = _LEX["place_pronoun"].set
# Words between two names of one chain (吴江区人民政府松陵街道办事处).
CONNECTORS = tuple(sorted(_LEX["place_connector"].words, key=len, reverse=True))
_CJK = re.compile(r"[\u4e00-\u9fff]+")


def suffix_of(name: str) -> str:
    return next((s for s in SUFFIXES if name.endswith(s)), "")


def level_of(name: str) -> str | None:
    """The level of a place name: the administrative-division dataset's when it knows the
    name (浏阳市 is a county-level city), else the level of its suffix (瓦屋镇: town)."""
    known = divisions().level(name)
    if known is not None:
        return known
    s = suffix_of(name)
    return LEVEL[s] if s else None


def _suffixed(text: str, pos: int) -> str | None:
    """The shortest name at `pos` that ends in a level suffix after a stem of two or more
    characters (市中区 is one name, not 市 + 中区)."""
    for end in range(pos + 3, min(len(text), pos + 12) + 1):
        piece = text[pos:end]
        if not _CJK.fullmatch(piece):
            return None
        s = suffix_of(piece)
        if s and len(piece) - len(s) >= 2:
            return piece
    return None


def _name_at(text: str, pos: int) -> str | None:
    """A division the dataset knows (勉县, 江华瑶族自治县), else a suffixed name. A
    two-character division counts only before another name, a connector or the end (东区 is
    not the start of 东区街道)."""
    known = divisions().prefix(text, pos)
    if known and len(known) == 2:
        after = pos + 2
        rest = text[after:]
        if rest and not (rest.startswith(CONNECTORS) or _suffixed(text, after)):
            known = None
    return known or _suffixed(text, pos)


def split_chain(text: str) -> list[str]:
    """The administrative names at the start of `text`, in order:
    平顶山市鲁山县瓦屋镇人民政府 -> [平顶山市, 鲁山县, 瓦屋镇]; 苏州市吴江区人民政府松陵街道办事处
    -> [苏州市, 吴江区, 松陵街道] (人民政府 between two names joins them)."""
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if out:
            joint = next((c for c in CONNECTORS if text.startswith(c, pos)), "")
            if joint and _name_at(text, pos + len(joint)):
                pos += len(joint)
        name = _name_at(text, pos)
        if name is None:
            break
        out.append(name)
        pos += len(name)
    return out


Token = tuple[str, int, int]  # word, start, end (a segmentation of the text)


def mentions(tokens: Sequence[Token], covered: Sequence[tuple[int, int]] = ()) -> list[Token]:
    """Place-like names in a segmented text, outside the `covered` spans: a word ending in a
    level suffix (城关镇), or a word followed by a lone suffix (峡口 + 镇), extended left over
    one character that is not a function word (大 + 石桥镇)."""

    def free(a: int, b: int) -> bool:
        return not any(x < b and a < y for x, y in covered)

    out: list[Token] = []
    for i, (word, a, b) in enumerate(tokens):
        if not free(a, b) or not _CJK.fullmatch(word):
            continue
        s = suffix_of(word)
        if not s or word in COMMON:  # 社区 is no suffix to join onto (明年 + 社区)
            continue
        j = i
        while len(word) - len(s) < 2 and j > 0:  # a lone suffix: join the words before it
            prev, pa, _ = tokens[j - 1]
            if not _CJK.fullmatch(prev) or not free(pa, b) or prev in LEFT_STOP:
                break
            if len(prev) >= 2 and (prev in PRONOUNS or suffix_of(prev)):
                break
            word, a, j = prev + word, pa, j - 1
        if len(word) - len(s) < 2 or word in COMMON or word[0] in PREFIX_STOP:
            continue
        if j > 0:
            left, la, _ = tokens[j - 1]
            if len(left) == 1 and _CJK.fullmatch(left) and left not in LEFT_STOP:
                word, a = left + word, la
        out.append((word, a, b))
    return out
