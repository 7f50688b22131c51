import pytest

from rag.types import Chunk, Hit
from rag.verify.cite import (
    normalize_markers,
    parse,
    resolve_citations,
    split_claims,
    supporting_sentence,
)


@pytest.mark.parametrize(
    ("raw", "clean", "invalid"),
    [
        ("培训15次[1]。", "培训15次[1]。", ()),
        ("培训15次【2】。", "培训15次[2]。", ()),
        ("培训15次[1,2]。", "培训15次[1][2]。", ()),
        ("培训15次[1，3、2]。", "培训15次[1][3][2]。", ()),
        ("培训15次[1][2]。", "培训15次[1][2]。", ()),
        ("培训15次[ 2 ]。", "培训15次[2]。", ()),
        ("培训15次[1-3]。", "培训15次[1][2][3]。", ()),
        ("培训15次[7]。", "培训15次。", (7,)),
        ("培训15次[0][1]。", "培训15次[1]。", (0,)),
        ("培训15次[1,9]。", "培训15次[1]。", (9,)),
        ("培训15次[1,1]。", "培训15次[1]。", ()),
    ],
)
def test_marker_forms(raw: str, clean: str, invalid: tuple[int, ...]) -> None:
    assert normalize_markers(raw, 3) == (clean, invalid)


def test_claims_take_the_markers_they_end_with() -> None:
    text = "水口镇开展执法培训15次[1]。另有测试6次。[2]\n总结：\n- 瓦屋镇：设立调解室[1][3]\n好。"
    assert split_claims(text) == [
        ("水口镇开展执法培训15次[1]。", (1,)),
        ("另有测试6次。[2]", (2,)),
        ("- 瓦屋镇：设立调解室[1][3]", (1, 3)),
    ]  # "总结：" is a lead-in and "好。" too short to be a claim


def test_parse_flags_and_removes_markers_naming_no_source() -> None:
    parsed = parse("执法培训15次[1]【5】。全镇考取执法证19人[2,4]。", 2)
    assert parsed.text == "执法培训15次[1]。全镇考取执法证19人[2]。"
    assert parsed.invalid == (5, 4)
    assert [m for _, m in parsed.claims] == [(1,), (2,)]


def test_supporting_sentence_prefers_wording_and_numbers() -> None:
    passage = "一是加强学习。对执法人员共进行执法培训15次,法律法规知识测试6次。二是严格执法。"
    a, b = supporting_sentence("水口镇开展执法培训十五次[1]", passage)
    assert passage[a:b] == "对执法人员共进行执法培训15次,法律法规知识测试6次。"


def test_citations_resolve_to_exact_report_offsets() -> None:
    report_text = "前言。\n一是加强学习。全镇考取执法证19人。二是严格执法。"
    start = report_text.index("一是")
    chunk = Chunk("r.txt", start, len(report_text), report_text[start:], ("一、执法",))
    hit = Hit(1, 1.0, chunk, "某镇报告")
    (c,) = resolve_citations([("全镇有19人考取执法证[1]。", (1,))], [hit])
    assert (c.n, c.claim, c.source, c.title, c.section) == (1, 0, "r.txt", "某镇报告", "一、执法")
    assert report_text[c.start : c.end] == c.text
    assert report_text[c.support_start : c.support_end] == c.support_text == "全镇考取执法证19人。"


def test_a_report_label_does_not_pull_the_citation_to_another_sentence() -> None:
    """三墩镇（2019年）：同其中驳回2件 — the label's place and year are in the first sentence
    (2019年,三墩镇收到…), the claim in the third."""
    from rag.verify.cite import supporting_sentence

    passage = (
        "2019年,三墩镇收到行政诉讼案件6件,其中胜诉12件;裁定移交法院1件。"
        "收到行政复议5件,同其中驳回2件,其余3件在审理中。"
    )
    a, b = supporting_sentence("三墩镇（2019年）：同其中驳回2件[1]。", passage)
    assert passage[a:b] == "收到行政复议5件,同其中驳回2件,其余3件在审理中。"
