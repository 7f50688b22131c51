"""A question with several asks is answered ask by ask (issue 31)."""

from __future__ import annotations

import re

import pytest

from rag.answer.parts import ask_parts
from rag.pipeline import Pipeline
from rag.verify.cite import parse


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        (
            "下陆区2024年全年学法几次？化解行政争议几件？",
            ["下陆区2024年全年学法几次？", "化解行政争议几件？"],
        ),
        ("水口镇培训了几次；发证多少人", ["水口镇培训了几次；", "发证多少人"]),
        ("瓦屋和水口各调解了多少纠纷？哪个多？", ["瓦屋和水口各调解了多少纠纷？哪个多？"]),
        ("水口镇有几个调解室？", ["水口镇有几个调解室？"]),
    ],
)
def test_asks(question: str, asks: list[str]) -> None:
    assert ask_parts(question) == asks


def test_each_ask_is_answered_and_cited(extractive: Pipeline) -> None:
    a = extractive.ask("水口镇对执法人员进行了多少次执法培训？全镇考取执法证多少人？")
    assert not a.abstained, a.text
    assert "15次" in a.text and "19人" in a.text, a.text
    assert a.text.startswith("1. 水口镇") and "\n2. 全镇考取执法证多少人？" in a.text
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", a.text)}
    assert markers and max(markers) <= len(a.contexts)
    assert parse(a.text, len(a.contexts)).text == a.text  # no marker names a missing source
    passages = {(h.chunk.source, h.chunk.start, h.chunk.end) for h in a.contexts}
    for c in a.citations:  # every marker names a passage the answer was drawn from
        assert (c.source, c.start, c.end) in passages
        assert extractive.reports[c.source].text[c.support_start : c.support_end] == c.support_text
    # each part's passages in its own retrieval's order, one part after the other
    first = extractive.ask_one("水口镇对执法人员进行了多少次执法培训？")
    n = len(first.contexts)
    assert [h.chunk.id for h in a.contexts[:n]] == [h.chunk.id for h in first.contexts]
    assert [h.rank for h in a.contexts] == list(range(1, len(a.contexts) + 1))
    # the second ask kept the place of the first: both parts cite 水口镇's report
    assert {c.source for c in a.citations} == {"000_4e493ef760f0cb20.txt"}


def test_a_part_without_support_does_not_refuse_the_other(extractive: Pipeline) -> None:
    a = extractive.ask("水口镇对执法人员进行了多少次执法培训？水口镇建了几座法治公园？")
    assert not a.abstained and "15次" in a.text, a.text
    second = a.text.split("\n2. ", 1)[1]
    assert "没有找到" in second and "已检索" in second, a.text
