"""The one outline grammar (rag/lang/data/outline.toml): chunking, sections, extraction and
metadata read a report's numbering (一、 （一） 1. (1) 一是) from here."""

from __future__ import annotations

import re

from rag.lang.lexicon import lexicon

_LEVELS: dict[int, str] = {v: k for k, v in lexicon()["outline"].by_attr("level").items()}
ITEM_LEVEL = 5  # 一是…二是…: an item inside a paragraph, not a heading


def starts(*levels: int) -> re.Pattern[str]:
    """A line (or sentence) that opens with an outline number of one of `levels`."""
    return re.compile("^(?:" + "|".join(f"(?:{_LEVELS[lv]})" for lv in levels) + ")")


HEADING_LEVELS: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (lv, starts(lv)) for lv in sorted(_LEVELS) if lv < ITEM_LEVEL
)
ITEM = starts(ITEM_LEVEL)
# a numbered item inside a part: 一是…, （一）…, 1. …, (1)… (not a top-level 一、 heading)
ITEM_START = starts(ITEM_LEVEL, 2, 4, 3)
TOP_HEADING = _LEVELS[1]  # 一、 (a pattern, to build on: 一、2024年度主要工作)
