"""Place names a user may call a report by, and finding them in a question."""

from __future__ import annotations

from rag.textmatch import names_in
from rag.types import Report

_SUFFIXES = ("自治县", "自治州", "自治区", "街道", "省", "市", "县", "区", "镇", "乡")


_MULTI_CHAR_ETHNIC = (
    "达斡尔",
    "鄂温克",
    "土家",
    "蒙古",
    "布依",
    "仡佬",
    "哈尼",
    "纳西",
    "朝鲜",
    "傈僳",
    "拉祜",
    "毛南",
    "仫佬",
    "撒拉",
    "布朗",
)


def _strip_ethnic(stem: str) -> str:
    """江华瑶族 -> 江华, 石柱土家族 -> 石柱 (自治县 names carry the ethnic groups)."""
    while stem.endswith("族"):
        body = stem[:-1]
        cut = next((len(e) for e in _MULTI_CHAR_ETHNIC if body.endswith(e)), 1)
        if len(body) - cut < 2:
            break
        stem = body[:-cut]
    return stem


def place_aliases(report: Report) -> set[str]:
    """Names a user may call a report's place by: 水口镇, 水口, 江华瑶族自治县, 江华..."""
    names: set[str] = set()
    for name in report.meta.places.names():
        names.add(name)
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                stem = name[: -len(suffix)]
                names.add(stem)
                if stem.endswith("族"):
                    names.add(_strip_ethnic(stem))
                break
    return {n for n in names if len(n) >= 2}


class PlaceIndex:
    """Every report's place aliases, looked up by the substrings of a question."""

    def __init__(self, reports: dict[str, Report]) -> None:
        self.by_source = {s: place_aliases(r) for s, r in reports.items()}
        self.by_alias: dict[str, set[str]] = {}
        for source, names in self.by_source.items():
            for name in names:
                self.by_alias.setdefault(name, set()).add(source)
        self.longest = max((len(a) for a in self.by_alias), default=2)

    def find(self, text: str) -> set[str]:
        """The aliases that occur in `text`."""
        return names_in(text, self.by_alias.keys(), self.longest)

    def named(self, text: str, found: set[str] | None = None) -> dict[str, set[str]]:
        """source -> the aliases of that report that occur in `text` (`found`: `find(text)`,
        when already computed)."""
        out: dict[str, set[str]] = {}
        for alias in self.find(text) if found is None else found:
            for source in self.by_alias[alias]:
                out.setdefault(source, set()).add(alias)
        return out
