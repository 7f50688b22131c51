"""核稿 (rag/check.py, `rag check`): any text checked against the reports, claim by claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.check import CheckedClaim, ClaimChecker, not_a_claim
from rag.cli import app
from rag.pipeline import AskOptions, Pipeline

SHUIKOU, WAWU = "000_4e493ef760f0cb20.txt", "001_e78c042d1c9dcf59.txt"


@pytest.fixture(scope="module")
def checker(extractive: Pipeline) -> ClaimChecker:
    return ClaimChecker(extractive)


def _one(checker: ClaimChecker, text: str, options: AskOptions | None = None) -> CheckedClaim:
    (claim,) = checker.check(text, options or AskOptions()).claims
    return claim


def test_a_true_claim_is_supported_by_the_exact_sentence(checker: ClaimChecker) -> None:
    c = _one(checker, "2024年，水口镇对执法人员共进行执法培训15次。")
    assert c.verdict == "supported"
    (ev,) = c.citations
    assert ev.source == SHUIKOU
    assert checker.pipeline.reports[SHUIKOU].text[ev.start : ev.end] == ev.text
    assert "15次" in ev.text


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("水口镇2024年对执法人员共进行执法培训18次。", "15次"),  # another figure
        ("水口镇2024年对执法人员共进行执法培训15人。", "15次"),  # another unit
        ("瓦屋镇对执法人员共进行执法培训15次。", "水口镇（2024年）"),  # another town's fact
        ("水口镇2022年对执法人员共进行执法培训15次。", "2024年"),  # another year
    ],
)
def test_a_false_claim_is_contradicted_with_the_reports_own_value(
    checker: ClaimChecker, claim: str, value: str
) -> None:
    c = _one(checker, claim)
    assert c.verdict == "contradicted", c
    assert c.report_value == value and c.citations


def test_a_flipped_negation_is_contradicted(checker: ClaimChecker) -> None:
    c = _one(checker, "水口镇每起处罚案件未严格按照法定程序制作行政执法案卷。")
    assert c.verdict == "contradicted" and "否定" in c.reason


def test_an_invented_claim_is_not_found_with_the_reports_searched(checker: ClaimChecker) -> None:
    c = _one(checker, "水口镇建成了全省第一个智慧法治无人机基地。")
    assert c.verdict == "not_found" and SHUIKOU in c.searched


@pytest.mark.parametrize(
    "line",
    [
        "江华瑶族自治县水口镇人民政府",
        "2025年3月24日",
        "一、2024年度推进法治政府建设的主要举措和成效",
        "江华瑶族自治县水口镇人民政府关于2024年法治政府建设情况的报告",
        "现将有关情况报告如下：",
        "专此报告。",
    ],
)
def test_titles_signatures_dates_and_greetings_are_no_claims(
    checker: ClaimChecker, line: str
) -> None:
    assert not_a_claim(line)
    assert _one(checker, line).verdict == "not_a_claim"


def test_a_signature_title_or_date_line_is_never_evidence(checker: ClaimChecker) -> None:
    """白沙镇明年打算干什么 was once 有依据 on the signature line 云岭县白沙镇人民政府."""
    from rag.verify.answers import is_furniture as _furniture

    report = checker.pipeline.reports[SHUIKOU]
    assert report.meta.issuer and _furniture(report, report.meta.issuer)
    assert _furniture(report, report.meta.title) and _furniture(report, "2025年3月24日")
    assert not _furniture(report, "全镇考取执法证19人。")
    c = _one(checker, "江华瑶族自治县水口镇人民政府明年将继续依法行政。")
    assert c.verdict != "supported"
    assert all(not _furniture(report, ev.text) for ev in c.citations)


def test_offsets_map_each_claim_back_into_the_text(checker: ClaimChecker) -> None:
    text = "江华瑶族自治县水口镇人民政府\n水口镇全镇考取执法证19人。水口镇全镇考取执法证25人。"
    result = checker.check(text)
    assert [c.verdict for c in result.claims] == ["not_a_claim", "supported", "contradicted"]
    for c in result.claims:
        assert text[c.start : c.end] == c.text
    assert result.summary == {
        "supported": 1, "contradicted": 1, "not_found": 0, "not_a_claim": 1, "claims": 3,
    }  # fmt: skip


def test_a_report_filter_scopes_the_check(checker: ClaimChecker) -> None:
    c = _one(checker, "全镇考取执法证19人。", AskOptions(reports=(WAWU,)))
    assert c.verdict != "supported" and c.searched == (WAWU,)


def test_the_cli_checks_a_file_and_prints_json(lexical_index_dir: Path, tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text("水口镇全镇考取执法证19人。\n水口镇全镇考取执法证25人。\n", encoding="utf-8")
    runner = CliRunner()
    env = {"RAG_EMBED_MODEL": "none"}
    r = runner.invoke(
        app, ["check", "--file", str(draft), "--index", str(lexical_index_dir), "--json"], env=env
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [c["verdict"] for c in out["claims"]] == ["supported", "contradicted"]
    assert out["claims"][1]["report_value"] == "19人"
    assert set(out["claims"][0]) >= {"text", "start", "end", "verdict", "reason", "citations"}
    bad = runner.invoke(app, ["check", "--index", str(lexical_index_dir)], env=env)
    assert bad.exit_code == 1 and "二者选一" in bad.output


def test_a_sentence_copied_from_a_report_is_found_by_its_words_whatever_the_vectors_rank(
    sample_index,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """A claim's keyword search adds its best passages to the hybrid order: a report's own
    sentence is supported even when the vectors put other passages first (every sentence of
    the sample reports is, eval.agreement)."""
    import rag.check
    from conftest import FakeEmbedder
    from rag.check import ClaimChecker
    from rag.config import Settings
    from rag.factory import pipeline_over

    # the hybrid order keeps one passage: the one whose heading is the sentence (the next
    # passage), not the one that states it
    monkeypatch.setattr(rag.check, "CLAIM_K", 1)
    pipeline = pipeline_over(Settings(embed_model="none"), sample_index, FakeEmbedder())
    result = ClaimChecker(pipeline).check("三是完善立法民意工作机制。", AskOptions(k=1))
    (claim,) = result.claims
    assert claim.verdict == "supported", claim
    assert claim.citations[0].source == "002_437bbe3c0d589296.txt"


def test_a_claim_about_a_report_itself_is_judged_against_the_line_stating_that_field(
    extractive,  # type: ignore[no-untyped-def]
) -> None:
    """核稿 of a claim on a report's own date: the index-table row states it (page furniture,
    never searched), as a metadata answer cites it; the two checkers agree (eval.agreement)."""
    from rag.check import ClaimChecker

    checker = ClaimChecker(extractive)
    right = checker.check("金湖县（2024年）报告的发布日期为2025-03-07。").claims[0]
    assert right.verdict == "supported", right
    assert "2025-03-07" in right.citations[0].text and right.citations[0].start == 0
    wrong = checker.check("金湖县（2024年）报告的发布日期为2025-03-08。").claims[0]
    assert wrong.verdict == "contradicted", wrong
