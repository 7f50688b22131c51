"""What every answer looks like to the reader: its citation numbers run 1, 2, 3… in the
order they appear, and its lead line and excerpt do not say the same clause twice."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT
from rag.answer.extractive import without_clause
from rag.answer.parts import ask_parts
from rag.pipeline import Pipeline
from rag.types import Chunk, Hit
from rag.verify.cite import renumbered

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


def test_the_lead_clause_leaves_its_sentence_without_stray_punctuation() -> None:
    body = "严格规范行政执法：执法队现有持证执法人员23人，全年办理案件187件[1]。"
    assert (
        without_clause(body, "执法队现有持证执法人员23人")
        == "严格规范行政执法：全年办理案件187件[1]。"
    )
    mid = "2024年以来,对执法人员共进行执法培训15次,法律知识测试6次[1]。"
    assert without_clause(mid, "对执法人员共进行执法培训15次") == "2024年以来，法律知识测试6次[1]。"
    end = "全镇建成共享法庭12个，共调处矛盾纠纷412件，调解成功率98.5%[1]。"
    assert (
        without_clause(end, "调解成功率98.5%") == "全镇建成共享法庭12个，共调处矛盾纠纷412件[1]。"
    )
    alone = "甲：调解成功率98.5%[1]。乙说了别的事情[2]。"  # nothing else to say: left out
    assert without_clause(alone, "调解成功率98.5%") == "乙说了别的事情[2]。"


@pytest.mark.parametrize("question", QUESTIONS[::4])
def test_every_answer_cites_1_2_3_and_never_repeats_its_lead(
    extractive: Pipeline, question: str
) -> None:
    a = extractive.ask(question)
    first_seen = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", a.text)))
    assert first_seen == list(range(1, len(first_seen) + 1)), a.text
    passages = {(h.chunk.source, h.chunk.start, h.chunk.end) for h in a.contexts}
    for c in a.citations:  # each number still names a passage the answer was drawn from
        assert (c.source, c.start, c.end) in passages, (c, a.text)
    # the contexts keep the retrieval's ranks (evidence recall and MRR are measured on them),
    # whatever order the answer cites them in
    # (a question of several asks: each part's, tests/test_parts.py)
    if len(ask_parts(question)) == 1:
        retrieved, _ = extractive.retrieve(question)
        at = {(h.chunk.source, h.chunk.start): i for i, h in enumerate(retrieved)}
        ranks = [
            at[(h.chunk.source, h.chunk.start)]
            for h in a.contexts
            if (h.chunk.source, h.chunk.start) in at
        ]
        assert ranks == sorted(ranks), (question, ranks)
    lines = [re.sub(r"\[\d+\]", "", line) for line in a.text.splitlines() if line]
    assert not re.search(r"[：:][，,、；;]|[，,、；;]{2}", a.text), a.text
    if len(lines) > 1 and "：" in lines[0]:
        clause = lines[0].split("：", 1)[1].rstrip("。")
        assert all(clause not in rest for rest in lines[1:]), a.text
