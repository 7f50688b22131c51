"""The 核稿 perturbation benchmark (eval/claims.py): its claims are what they say they are, and
the checker catches each kind of false claim and supports the true one."""

from __future__ import annotations

from eval.claims import CAUGHT, make_claims
from rag.check import ClaimChecker
from rag.pipeline import Pipeline


def test_the_benchmark_makes_every_kind_of_claim_from_each_report(extractive: Pipeline) -> None:
    claims = make_claims(extractive.reports, per_report=30)
    kinds = {c.kind for c in claims}
    assert kinds == {
        "true",
        "figure",
        "unit",
        "town",
        "year",
        "negation",
        "stitched",
        "other report",
        "invented",
    }
    assert len(claims) >= 400
    true = [c for c in claims if c.kind == "true"]
    assert all(c.text.split("，", 1)[1] in extractive.reports[c.source].text for c in true)


def test_the_checker_supports_true_claims_and_catches_each_kind_of_false_one(
    extractive: Pipeline,
) -> None:
    checker = ClaimChecker(extractive)
    first: dict[str, str] = {}
    for c in make_claims(extractive.reports, per_report=3):
        first.setdefault(c.kind, c.text)
    for kind, text in first.items():
        verdicts = [x.verdict for x in checker.check(text).claims if x.verdict != "not_a_claim"]
        if kind == "true":
            assert verdicts == ["supported"], text
        else:
            assert verdicts and verdicts[0] in CAUGHT, (kind, text, verdicts)


def test_a_scripted_llms_false_claim_is_flagged_by_the_answers_own_check(
    extractive: Pipeline,
) -> None:
    """The LLM path: a chat model that states a wrong figure gets that claim flagged."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from rag.config import Settings
    from rag.factory import with_chat_model

    q = "水口镇全镇考取执法证多少人？"
    for reply, ok in (
        ("水口镇全镇考取执法证19人[1]。", True),
        ("水口镇全镇考取执法证25人[1]。", False),
    ):
        model = FakeListChatModel(responses=[reply])
        a = with_chat_model(Settings(), extractive, model).ask(q)
        assert a.mode == "llm:scripted" and a.claims
        assert (a.claims[0].verdict == "supported") == ok, (reply, a.claims[0])


def test_the_citing_scripted_model_cites_the_passage_its_claim_came_from() -> None:
    from eval.claims import cited_number

    prompt = "问题\n[1] 《甲》\n开展培训4次。\n\n[2] 《乙》 章节：一\n设立调解室3个。\n"
    assert cited_number(prompt, "设立调解室3个。") == 2
    assert cited_number(prompt, "开展培训4次。") == 1
    assert cited_number(prompt, "别处的句子") == 1 and cited_number(prompt, "") == 1
