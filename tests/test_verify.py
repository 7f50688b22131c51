from rag.types import Citation
from rag.verify import check_answer, check_claim

PASSAGE = "2024年以来,对执法人员共进行执法培训15次,法律法规知识测试6次。受理案件100余件。"


def _cite(text: str = PASSAGE, source: str = "a.txt", claim: int = 0) -> Citation:
    return Citation(1, claim, source, "t", "", 0, len(text), text, 0, len(text), text)


def test_supported_with_chinese_numerals() -> None:
    c = check_claim("对执法人员共进行执法培训十五次[1]。", (1,), [_cite()])
    assert c.verdict == "supported" and not c.unmatched_numbers


def test_wrong_number_is_flagged_even_when_the_wording_matches() -> None:
    c = check_claim("对执法人员共进行执法培训16次[1]。", (1,), [_cite()])
    assert c.verdict == "partly"
    assert c.unmatched_numbers == ("16次",)
    assert any("16次" in r for r in c.reasons)


def test_approximate_numbers_agree() -> None:
    c = check_claim("受理案件105件[1]。", (1,), [_cite()])
    assert c.verdict == "supported", c.reasons


def test_unsupported_and_uncited() -> None:
    assert check_claim("瓦屋镇新建了三座污水处理厂[1]。", (1,), [_cite()]).verdict == "unsupported"
    uncited = check_claim("对执法人员共进行执法培训15次。", (), [])
    assert uncited.verdict == "uncited" and uncited.reasons == ("the claim cites no source",)


def test_year_may_come_from_the_cited_reports_metadata() -> None:
    passage = "今年以来，先后开展了各类法治宣传活动8余场次。"
    claim = "2023年先后开展了各类法治宣传活动8余场次[1]。"
    assert check_claim(claim, (1,), [_cite(passage)], {"a.txt": 2023}).verdict == "supported"
    other = check_claim(claim, (1,), [_cite(passage)], {"a.txt": 2024})
    assert other.unmatched_numbers == ("2023年",)


def test_check_answer_pairs_claims_with_their_own_citations() -> None:
    claims = [("执法培训15次[1]。", (1,)), ("受理案件100余件[1]。", (1,))]
    cites = [_cite(PASSAGE[:30], claim=0), _cite(PASSAGE[30:], claim=1)]
    checks = check_answer(claims, cites)
    assert [c.verdict for c in checks] == ["supported", "supported"]
    swapped = check_answer(claims, [_cite(PASSAGE[30:], claim=0), _cite(PASSAGE[:30], claim=1)])
    assert [c.verdict for c in swapped] != ["supported", "supported"]


def test_a_verbatim_quotation_supports_a_short_framed_claim() -> None:
    line = "2025年3月24日"
    claim = "水口镇（2024年）报告的日期为2025-03-24（原文：“2025年3月24日”）[1]。"
    c = check_claim(claim, (1,), [_cite(line)], {"a.txt": 2024})
    assert c.verdict == "supported" and c.overlap < 0.6
    wrong = check_claim(claim.replace("03-24", "03-25"), (1,), [_cite(line)], {"a.txt": 2024})
    assert wrong.verdict != "supported" and wrong.unmatched_numbers == ("25",)
    misquoted = "水口镇报告的日期为2025年3月24日（原文：“2025年3月25日”）[1]。"
    assert check_claim(misquoted, (1,), [_cite(line)]).verdict != "supported"
