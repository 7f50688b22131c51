"""One claim judge (issue 31): our answers' check and 核稿 give the same verdict on the same
claim, and 核稿 supports every sentence of a report."""

from __future__ import annotations

import json
from pathlib import Path

from eval.agreement import answer_claims, report_sentences
from rag.check import ClaimChecker
from rag.pipeline import Pipeline
from rag.verify.judge import Unit, judge


def test_the_figure_stated_word_for_word_is_chosen() -> None:
    """三墩镇收到行政复议5件 was 与报告不符 (报告写的是6件): the judge compared it with the
    sentence of most wording, not the one stating its figure."""
    units = [
        Unit(
            ("全年收到行政诉讼6件，行政复议案件办理及时。",),
            ("全年收到行政诉讼6件，行政复议案件办理及时。",),
        ),
        Unit(("收到行政复议5件。",), ("收到行政复议5件。",)),
    ]
    j = judge("三墩镇收到行政复议5件。", units)
    assert (j.verdict, j.unit) == ("supported", 1), j


def test_every_sentence_of_a_sample_report_is_supported(extractive: Pipeline) -> None:
    r = report_sentences(ClaimChecker(extractive), {"001_e78c042d1c9dcf59.txt"})
    assert r["sentences"] and r["supported"] == 1.0, r["not_supported"]


def test_answers_and_check_agree(extractive: Pipeline, tmp_path: Path) -> None:
    rows = Path("eval/dev.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    subset = tmp_path / "dev40.jsonl"
    subset.write_text("\n".join(rows) + "\n", encoding="utf-8")
    a = answer_claims(ClaimChecker(extractive), subset)
    assert a["claims"], a
    assert a["agree"] == 1.0, json.dumps(a["disagree"], ensure_ascii=False, indent=1)
