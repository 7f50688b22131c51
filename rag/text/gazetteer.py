"""Chinese administrative place names: the division dataset's provinces, cities, counties and
towns (rag/lang/divisions.py), and names told by their level suffix (省/市/州/盟/县/区/旗/乡/
镇/街道) when the dataset does not know them.

A name the dataset knows is kept whole (四季青街道, not 季青街道; 柳江区三都镇 is 柳江区 +
三都镇, not 区三都镇); an unknown one is told by its suffix, using the word boundaries of a
segmentation (jieba) to tell where it starts (大石桥镇 is not 石桥镇).
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
COMMON_ENDS = tuple(COMMON)
# A mention does not start with these (全镇, 各县, 我区, 该乡, 哪些镇...).
PREFIX_STOP = _LEX["place_prefix_stop"].set
# Single characters that end a name on its left: 在水口镇, 和峡口镇, 2024年瓦屋镇.
LEFT_STOP = _LEX["place_left_stop"].set
PRONOUNS = _LEX["place_pronoun"].set
# Words between two names of one chain (吴江区人民政府松陵街道办事处).
CONNECTORS = tuple(sorted(_LEX["place_connector"].words, key=len, reverse=True))
NAME_ENDS = tuple(_LEX["place_name_end"].words)  # places.toml: 矿区的
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


def town_kind(name: str) -> str:
    """The kind of a town-level name (街道, 镇, 乡, 苏木; 民族乡 is a 乡): 新华镇, 新华街道 and
    新华乡 are three places."""
    known = {d.kind for d in divisions().get(name) if d.level == "town"}
    if len(known) == 1:
        return known.pop()
    s = suffix_of(name)
    return s if s and LEVEL[s] == "town" else ""


def known_names(text: str) -> list[tuple[str, int, int]]:
    """The division names the dataset knows in `text`, leftmost and longest first, each whole
    and with no overlap (杭州市西湖区四季青街道 -> 杭州市, 西湖区, 四季青街道). A two-character
    name counts only before another name, a connector, a character that is not Chinese (a
    figure, a mark), 的, or the end, as in a chain."""
    out: list[tuple[str, int, int]] = []
    pos = 0
    while pos < len(text):
        name = _name_at_known(text, pos)
        if name:
            out.append((name, pos, pos + len(name)))
            pos += len(name)
            town = divisions().town_after(name, text, pos)  # 定远县仓镇: a town of one character
            if town:
                out.append((town, pos, pos + len(town)))
                pos += len(town)
        else:
            pos += 1
    return out


def _name_at_known(text: str, pos: int) -> str | None:
    known = divisions().prefix(text, pos)
    if known and len(known) == 2:
        rest = text[pos + 2 :]
        if (
            rest
            and _CJK.match(rest)  # 道县2020年, 道县？: a figure or a mark ends a name
            and not rest.startswith(NAME_ENDS)  # 矿区的
            and not (rest.startswith(CONNECTORS) or divisions().prefix(text, pos + 2))
            and not divisions().town_after(known, text, pos + 2)  # 佳县乌镇
        ):
            return None
    return known


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
        if name is None and out:  # 定远县仓镇人民政府: a town of one character after its county
            name = divisions().town_after(out[-1], text, pos)
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
        if len(word) - len(s) < 2 or word.endswith(COMMON_ENDS) or word[0] in PREFIX_STOP:
            continue  # 工业园区 ends in 园区: a common noun, as 园区 is
        if j > 0:  # 大 + 石桥镇; not 区 + 三都镇 (柳江区三都镇): a level suffix ends a name
            left, la, _ = tokens[j - 1]
            if (
                len(left) == 1
                and _CJK.fullmatch(left)
                and left not in LEFT_STOP
                and not suffix_of(left)
            ):
                word, a = left + word, la
        out.append((word, a, b))
    return out
