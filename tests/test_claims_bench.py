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
