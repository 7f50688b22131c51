from pathlib import Path

import pytest

from eval.dataset import load_questions
from eval.metrics import Evidence, Retrieved, recall_at_k, reciprocal_rank
from rag.config import Settings
from rag.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_recall_and_mrr_oracle() -> None:
    ev = [Evidence("a.txt", 10, 20), Evidence("b.txt", 5, 8)]
    ctx = [
        Retrieved("b.txt", 10, 30),  # right place, wrong report: not a hit
        Retrieved("a.txt", 12, 40),  # overlaps but does not cover: not a hit
        Retrieved("a.txt", 0, 25),  # covers ev[0]
        Retrieved("b.txt", 0, 8),  # covers ev[1]
    ]
    assert recall_at_k(ctx, ev, 1) == 0.0
    assert recall_at_k(ctx, ev, 3) == 0.5
    assert recall_at_k(ctx, ev, 4) == 1.0
    assert reciprocal_rank(ctx, ev) == pytest.approx(1 / 3)
    assert reciprocal_rank(ctx[:2], ev) == 0.0
    with pytest.raises(ValueError):
        recall_at_k(ctx, [], 1)


def test_dev_set_quotes_are_exact_substrings_of_their_reports() -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "data" / "reports").iterdir()}
    questions = load_questions(ROOT / "eval" / "dev.jsonl", texts)
    assert len(questions) >= 30
    assert len({q.id for q in questions}) == len(questions)
    for q in questions:
        quotes = [texts[e.doc][e.start : e.end] for e in q.evidence]
        assert all(any(fact in quote for quote in quotes) for fact in q.key_facts), q.id


def test_a_missing_quote_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "x", "question": "q", "answerable": true, "evidence": [{"doc": "a.txt", "quote": "不存在"}]}\n'
    )
    with pytest.raises(ValueError, match=r"q.jsonl:1: evidence\[0\].quote: not found in a.txt"):
        load_questions(path, {"a.txt": "报告正文"})


def test_key_fact_accuracy_oracle() -> None:
    from eval.metrics import key_fact_accuracy

    answer = "水口镇开展执法培训十五次，法律法规知识测试６次[1]。"
    assert key_fact_accuracy(answer, ["15次"]) == 1.0  # numeral normalised
    assert key_fact_accuracy(answer, ["15次", "6次", "19人"]) == 2 / 3  # width folded
    assert key_fact_accuracy("执法 培训", ["执法培训"]) == 1.0  # whitespace ignored


def test_citation_precision_and_recall_oracle() -> None:
    from eval.metrics import Evidence, Retrieved, citation_precision, citation_recall

    ev = [Evidence("a", 10, 20), Evidence("b", 0, 5)]
    cited = [Retrieved("a", 15, 30), Retrieved("a", 20, 25), Retrieved("b", 4, 6)]
    assert citation_precision(cited, ev) == 2 / 3  # [20,25) only touches the quote's end
    assert citation_recall(cited, ev) == 1.0
    assert citation_recall(cited[:1], ev) == 0.5
    assert citation_precision([], ev) is None


def test_wrong_report_depends_on_what_the_question_names(extractive) -> None:  # type: ignore[no-untyped-def]
    """Citing another report is the worst failure when the question names a town or year;
    for 哪里…? it is wrong only if the answer does not say whose fact it is."""
    from eval.dataset import Question
    from eval.runner import score_one

    jinhu, sanduo = "002_437bbe3c0d589296.txt", "003_bf156fa8c0c17ca2.txt"
    ev = (Evidence(jinhu, 0, 10),)

    def q(text: str) -> Question:
        return Question("x", text, "", (), ev, True, "numeric")

    def p(answer: str) -> dict:  # type: ignore[type-arg]
        cite = {"source": sanduo, "start": 0, "end": 5, "text": "…"}
        return {"abstained": False, "answer": answer, "citations": [cite], "contexts": []}

    reports = extractive.reports
    labelled, bare = p("三墩镇（2019年）：成立法官驿站[1]。"), p("成立法官驿站[1]。")
    assert score_one(q("哪里成立了法官驿站？"), labelled, 5, reports)["wrong_report"] == 0.0
    assert score_one(q("哪里成立了法官驿站？"), bare, 5, reports)["wrong_report"] == 1.0
    assert score_one(q("金湖县成立了法官驿站吗？"), labelled, 5, reports)["wrong_report"] == 1.0
    assert score_one(q("2024年哪里成立了法官驿站？"), labelled, 5, reports)["wrong_report"] == 1.0
    assert score_one(q("哪里成立了法官驿站？"), labelled, 5)["wrong_report"] == 1.0  # no reports


def test_judge_scores_are_parsed_and_averaged(extractive) -> None:  # type: ignore[no-untyped-def]
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from eval.dataset import Question
    from eval.judge import judge_all, parse_scores

    assert parse_scores("忠实度：2\n正确性：1") == {"faithfulness": 1.0, "correctness": 0.5}
    assert parse_scores("1\n正确性：0", completion=True) == {
        "faithfulness": 0.5,
        "correctness": 0.0,
    }
    assert parse_scores("很好") == {"faithfulness": None, "correctness": None}

    model = FakeListChatModel(responses=["忠实度：2\n正确性：2", "忠实度: 1\n正确性: 0", "不知道"])
    qs = [Question(f"q{i}", "问", "答", (), (), True, "t") for i in range(4)]
    preds = [{"abstained": False, "answer": "a", "citations": [{"n": 1, "text": "x"}]}] * 3
    preds = [*preds, {"abstained": True, "answer": "", "citations": []}]
    with pytest.raises(ConfigError, match="--judge 需要大模型"):  # none configured, none given
        judge_all(extractive, qs, preds, Settings(llm_backend="none"))  # type: ignore[call-arg]
    result = judge_all(extractive, qs, preds, Settings(), model=model)
    assert result == {
        "judged": 3,
        "faithfulness": 0.75,
        "faithfulness_unparsed": 1,
        "correctness": 0.5,
        "correctness_unparsed": 1,
    }
