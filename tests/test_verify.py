from rag.types import Citation, Places, Report, ReportMeta
from rag.verify.answers import check_answer, check_claim

PASSAGE = "2024年以来,对执法人员共进行执法培训15次,法律法规知识测试6次。受理案件100余件。"


def _cite(text: str = PASSAGE, source: str = "a.txt", claim: int = 0) -> Citation:
    return Citation(1, claim, source, "t", "", 0, len(text), text, 0, len(text), text)


def _of_year(year: int, source: str = "a.txt", town: str | None = None) -> dict[str, Report]:
    """A cited report that states its year (and town) in its metadata only."""
    meta = ReportMeta("t", True, None, Places(town=town), year, None, None, None)
    return {source: Report(source, PASSAGE, meta, "utf-8")}


def test_supported_with_chinese_numerals() -> None:
    c = check_claim("对执法人员共进行执法培训十五次[1]。", (1,), [_cite()])
    assert c.verdict == "supported" and not c.unmatched_numbers


def test_wrong_number_is_flagged_even_when_the_wording_matches() -> None:
    c = check_claim("对执法人员共进行执法培训16次[1]。", (1,), [_cite()])
    assert c.verdict == "contradicted"
    assert c.unmatched_numbers == ("16次",)
    assert c.reasons == ("报告写的是15次，文中是16次",)


def test_approximate_numbers_agree() -> None:
    c = check_claim("受理案件105件[1]。", (1,), [_cite()])
    assert c.verdict == "supported", c.reasons


def test_unsupported_and_uncited() -> None:
    assert check_claim("瓦屋镇新建了三座污水处理厂[1]。", (1,), [_cite()]).verdict == "not_found"
    uncited = check_claim("对执法人员共进行执法培训15次。", (), [])
    assert uncited.verdict == "uncited" and uncited.reasons == ("该句没有标注引用",)


def test_year_may_come_from_the_cited_reports_metadata() -> None:
    passage = "今年以来，先后开展了各类法治宣传活动8余场次。"
    claim = "2023年先后开展了各类法治宣传活动8余场次[1]。"
    assert check_claim(claim, (1,), [_cite(passage)], _of_year(2023)).verdict == "supported"
    other = check_claim(claim, (1,), [_cite(passage)], _of_year(2024))
    assert other.verdict == "contradicted" and other.unmatched_numbers == ("2023年",)


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
    c = check_claim(claim, (1,), [_cite(line)], _of_year(2024), about_report=True)
    assert c.verdict == "supported" and c.overlap < 0.6
    # the same line as evidence of a claim about the work, not the report: it states nothing
    assert check_claim(claim, (1,), [_cite(line)], _of_year(2024)).verdict == "not_found"
    wrong = check_claim(
        claim.replace("03-24", "03-25"), (1,), [_cite(line)], _of_year(2024), about_report=True
    )
    assert wrong.verdict != "supported" and wrong.unmatched_numbers == ("25",)
    misquoted = "水口镇报告的日期为2025年3月24日（原文：“2025年3月25日”）[1]。"
    assert check_claim(misquoted, (1,), [_cite(line)], about_report=True).verdict != "supported"


CASES = "今年以来，执法办案12起，处理违法人员19人，开展普法活动15场。"


def test_a_number_matches_only_with_a_compatible_unit() -> None:
    wrong_unit = check_claim("执法办案19起[1]。", (1,), [_cite(CASES)])
    assert wrong_unit.verdict != "supported" and wrong_unit.unmatched_numbers == ("19起",)
    assert check_claim("执法办案12起[1]。", (1,), [_cite(CASES)]).verdict == "supported"
    # the same count in other words: 15场 = 15次, 19人 = 19名
    assert check_claim("开展普法活动15次[1]。", (1,), [_cite(CASES)]).verdict == "supported"
    assert check_claim("处理违法人员19名[1]。", (1,), [_cite(CASES)]).verdict == "supported"
    assert check_claim("开展普法活动12场[1]。", (1,), [_cite(CASES)]).unmatched_numbers == ("12场",)


def test_a_negation_the_cited_sentence_lacks_is_not_supported() -> None:
    passage = "严格按照规定程序开展行政执法，没有发生重大执法过错。"
    negated = check_claim("未严格按照规定程序开展行政执法[1]。", (1,), [_cite(passage)])
    assert negated.verdict == "contradicted"
    assert any("否定了“严格”" in r for r in negated.reasons)
    dropped = check_claim("发生重大执法过错[1]。", (1,), [_cite(passage)])
    assert dropped.verdict != "supported"
    same = check_claim("没有发生重大执法过错[1]。", (1,), [_cite(passage)])
    assert same.verdict == "supported"
    # words that begin with 不/无 but negate nothing
    steady = "不断加强执法队伍建设，无论大小案件均依法办理。"
    assert check_claim("不断加强执法队伍建设[1]。", (1,), [_cite(steady)]).verdict == "supported"


def test_a_claim_citing_only_a_signature_or_title_is_not_supported(extractive) -> None:  # type: ignore[no-untyped-def]
    """白沙镇明年打算干什么 was 有依据 (100%) on the signature 云岭县白沙镇人民政府: a title,
    signature or date line names the report and states nothing."""
    from rag.verify.answers import check_claim, is_furniture

    report = extractive.reports["000_4e493ef760f0cb20.txt"]
    sign = report.meta.issuer
    assert sign and is_furniture(report, sign) and is_furniture(report, report.meta.title)
    assert is_furniture(None, "2025年3月24日") and not is_furniture(report, "全镇考取执法证19人。")
    cite = Citation(1, 0, report.source, "t", "", 0, len(sign), sign, 0, len(sign), sign)
    check = check_claim(f"{sign}[1]", (1,), [cite], reports=extractive.reports)
    assert check.verdict == "not_found" and "落款" in check.reasons[0]
    plain = check_claim(f"{sign}[1]", (1,), [cite])  # without the reports: the line still
    assert plain.verdict == "not_found"  # reads as a signature (人民政府 at its end)


TOWN = (
    "我镇开展执法培训4次，覆盖执法人员120人次。全年开展法治宣传活动15场次，发放资料3000份。"
    "聘请法律顾问2名。设立人民调解室3个。"
)


def _on_passage(claim: str):  # type: ignore[no-untyped-def]
    return check_claim(claim, [1], [_cite(TOWN)])


def test_a_figure_taken_from_another_sentence_is_not_supported() -> None:
    """Each piece is in the passage, the fact is not: 15场次 counts 宣传, not 培训 (the
    sentence stating the claim gives its own figure after the same words)."""
    for claim, value in (
        ("我镇开展执法培训15场次[1]。", "4次"),
        ("全年开展法治宣传活动4次[1]。", "15场次"),
    ):
        c = _on_passage(claim)
        assert c.verdict == "contradicted" and c.reasons[-1].startswith(f"报告写的是{value}"), c
    # a figure of another sentence where the stating one has none after the same words
    c = _on_passage("我镇聘请法律顾问3名[1]。")
    assert c.verdict in ("partly", "contradicted") and "3" in c.reasons[-1], c
    assert _on_passage("我镇开展执法培训4次[1]。").verdict == "supported"
    # a claim going on into the next sentence may state that sentence's figure
    c = _on_passage("开展执法培训4次，覆盖执法人员120人次，开展法治宣传活动15场次[1]。")
    assert c.verdict == "supported", c


def test_a_claim_pieced_from_two_unrelated_sentences_is_flagged() -> None:
    c = _on_passage("我镇开展执法培训4次，设立人民调解室3个[1]。")
    assert c.verdict == "partly" and "两句互不相干" in c.reasons[-1], c
    # a list whose items each cite their own sentence is no piecing together
    two = [_cite(TOWN), _cite(TOWN)]
    c = check_claim("开展执法培训4次[1]；设立人民调解室3个[2]。", [1, 2], two)
    assert c.verdict == "supported", c
