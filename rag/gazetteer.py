"""Chinese administrative place names by their level suffix (省/市/州/盟/县/区/旗/乡/镇/街道).

No list of every place is shipped: a name is recognised by its suffix and kept whole
(平顶山市, not 顶山市; 大石桥镇 is not 石桥镇), using the word boundaries of a segmentation
(jieba) to tell where a name starts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# longest first, so 自治县 wins over 县
SUFFIXES = (
    "自治区",
    "自治州",
    "自治县",
    "街道",
    "省",
    "市",
    "州",
    "盟",
    "县",
    "区",
    "旗",
    "镇",
    "乡",
)
LEVEL = {
    "省": "province",
    "自治区": "province",
    "市": "city",
    "州": "city",
    "自治州": "city",
    "盟": "city",
    "县": "county",
    "自治县": "county",
    "区": "county",
    "旗": "county",
    "镇": "town",
    "乡": "town",
    "街道": "town",
}
# Words that end like a place but name none (社区 is a neighbourhood, 示范区 a programme).
COMMON = frozenset(
    "社区 辖区 城区 园区 景区 小区 片区 山区 库区 湖区 林区 牧区 矿区 学区 街区 校区 营区 "
    "市区 郊区 老区 新区 灾区 乡镇 城镇 村镇 集镇 小镇 重镇 名镇 省市 县市 市县 地市 城市 "
    "都市 超市 县区 省区 市州 州县 上市 示范区 开发区 保护区 服务区 居民区 生活区 功能区 "
    "试验区 风景区 新城区 老城区 主城区 城乡 街道办 各乡镇 全乡镇".split()
)
# A mention does not start with these (全镇, 各县, 我区, 该乡, 哪些镇...).
PREFIX_STOP = frozenset("全各我本该此这那每某哪其所多几两诸贵")
# Single characters that end a name on its left: 在水口镇, 和峡口镇, 2024年瓦屋镇.
LEFT_STOP = frozenset(
    "在于和与及的对向从把被由是为将给跟同到或且让去今明前后各全本该我这那每某哪其并就都也还"
    "又年月日个了吗呢啊有无看问查说请比较对"
)
PRONOUNS = frozenset(
    "哪些 哪个 这个 那个 各个 所有 其他 多个 几个 每个 全部 我们 他们 有的".split()
)
_CJK = re.compile(r"[\u4e00-\u9fff]+")


def suffix_of(name: str) -> str:
    return next((s for s in SUFFIXES if name.endswith(s)), "")


def level_of(name: str) -> str | None:
    s = suffix_of(name)
    return LEVEL[s] if s else None


def split_chain(text: str) -> list[str]:
    """The administrative names at the start of `text`, in order:
    平顶山市鲁山县瓦屋镇人民政府 -> [平顶山市, 鲁山县, 瓦屋镇]. A suffix counts only after a
    stem of two or more characters (市中区 is one name, not 市 + 中区)."""
    out: list[str] = []
    pos = 0
    while pos < len(text):
        best = None
        for end in range(pos + 3, min(len(text), pos + 12) + 1):
            piece = text[pos:end]
            if not _CJK.fullmatch(piece):
                break
            s = suffix_of(piece)
            if s and len(piece) - len(s) >= 2:
                best = piece
                break
        if best is None:
            break
        out.append(best)
        pos += len(best)
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
        if not s:
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
