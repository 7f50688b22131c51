"""What every answer looks like to the reader: its citation numbers run 1, 2, 3… in the
order they appear, and its lead line and excerpt do not say the same clause twice."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT
from rag.cite import renumbered
from rag.pipeline import Pipeline
from rag.types import Chunk, Hit

QUESTIONS = [
    json.loads(line)["question"]
    for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def _hit(i: int) -> Hit:
    return Hit(i, 1.0, Chunk(f"r{i}.txt", i * 10, i * 10 + 5, f"text{i}"), "t")


def test_markers_are_numbered_in_the_order_the_text_cites_them() -> None:
    hits = [_hit(i) for i in (1, 2, 3)]
    text, used, invalid = renumbered("甲[3]。乙[1][3]。丙【9】。", hits)
    assert text == "甲[1]。乙[2][1]。丙。"
    assert [h.chunk.source for h in used] == ["r3.txt", "r1.txt", "r2.txt"] and invalid == (9,)
    same = renumbered("甲[1]。乙[2]。", hits)
    assert same[0] == "甲[1]。乙[2]。" and same[1] == hits


@pytest.mark.parametrize("question", QUESTIONS[::4])
def test_every_answer_cites_1_2_3_and_never_repeats_its_lead(
    extractive: Pipeline, question: str
) -> None:
    a = extractive.ask(question)
    first_seen = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", a.text)))
    assert first_seen == list(range(1, len(first_seen) + 1)), a.text
    for c in a.citations:  # each number still names the passage it cited
        passage = a.contexts[c.n - 1].chunk
        assert (c.source, c.start, c.end) == (passage.source, passage.start, passage.end)
    lines = [re.sub(r"\[\d+\]", "", line) for line in a.text.splitlines() if line]
    if len(lines) > 1 and "：" in lines[0]:
        clause = lines[0].split("：", 1)[1].rstrip("。")
        assert all(clause not in rest for rest in lines[1:]), a.text
