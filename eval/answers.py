"""Answer quality of the extractive mode on eval/dev.jsonl, and the abstention threshold sweep.

    python -m eval.answers [--dataset eval/dev.jsonl] [--out eval/results/answers_extractive.json]

Prints key-fact accuracy, citation precision/recall and abstention accuracy at the configured
threshold (RAG_ABSTAIN_THRESHOLD), and for a range of thresholds both error rates: answerable
questions wrongly abstained and unanswerable questions wrongly answered.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from eval.dataset import Question, load_questions
from eval.metrics import (
    Retrieved,
    citation_precision,
    citation_recall,
    key_fact_accuracy,
    mean,
)
from rag.config import PROJECT_ROOT, Settings
from rag.pipeline import Pipeline
from rag.types import Answer


def score(questions: list[Question], answers: list[Answer]) -> dict[str, float | int]:
    answerable = [(q, a) for q, a in zip(questions, answers, strict=True) if q.answerable]
    unanswerable = [(q, a) for q, a in zip(questions, answers, strict=True) if not q.answerable]
    kfa = [
        0.0 if a.abstained else key_fact_accuracy(a.text, q.key_facts)
        for q, a in answerable
        if q.key_facts
    ]
    precision, recall = [], []
    for q, a in answerable:
        cited = [Retrieved(c.source, c.support_start, c.support_end) for c in a.citations]
        p = citation_precision(cited, q.evidence)
        if p is not None:
            precision.append(p)
        recall.append(citation_recall(cited, q.evidence))
    return {
        "questions": len(questions),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "key_fact_accuracy": round(mean(kfa), 4),
        "citation_precision": round(mean(precision), 4),
        "citation_recall": round(mean(recall), 4),
        "abstention_accuracy": round(mean([float(a.abstained) for _, a in unanswerable]), 4),
        "false_abstention_rate": round(mean([float(a.abstained) for _, a in answerable]), 4),
    }


def sweep(questions: list[Question], answers: list[Answer]) -> list[dict[str, float]]:
    """Error rates if the threshold were t (answers computed with threshold 0)."""
    rows = []
    for i in range(0, 21):
        t = i / 20
        abstain = [a.abstained or a.support < t for a in answers]
        fa = [ab for q, ab in zip(questions, abstain, strict=True) if q.answerable]
        fn = [not ab for q, ab in zip(questions, abstain, strict=True) if not q.answerable]
        rows.append(
            {
                "threshold": t,
                "false_abstention": round(mean([float(x) for x in fa]), 4),
                "false_answer": round(mean([float(x) for x in fn]), 4),
            }
        )
    return rows


def by_type(questions: list[Question], answers: list[Answer]) -> dict[str, dict[str, float | int]]:
    types = sorted({q.type for q in questions})
    out = {}
    for t in types:
        pairs = [(q, a) for q, a in zip(questions, answers, strict=True) if q.type == t]
        out[t] = score([q for q, _ in pairs], [a for _, a in pairs])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=PROJECT_ROOT / "eval" / "dev.jsonl")
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "answers_extractive.json"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings(llm_backend="none")
    pipeline = Pipeline.open(settings)
    texts = {s: r.text for s, r in pipeline.reports.items()}
    questions = load_questions(args.dataset, texts)

    pipeline.settings = replace_threshold(settings, 0.0)
    raw = [pipeline.ask(q.question) for q in questions]
    table = sweep(questions, raw)
    pipeline.settings = settings
    answers = [pipeline.ask(q.question) for q in questions]
    summary = score(questions, answers)
    result = {
        "dataset": str(
            args.dataset.relative_to(PROJECT_ROOT) if args.dataset.is_absolute() else args.dataset
        ),
        "mode": pipeline.mode,
        "abstain_threshold": settings.abstain_threshold,
        "overall": summary,
        "by_type": by_type(questions, answers),
        "threshold_sweep": table,
        "errors": [
            {
                "id": q.id,
                "question": q.question,
                "abstained": a.abstained,
                "support": round(a.support, 3),
                "answer": a.text[:160],
            }
            for q, a in zip(questions, answers, strict=True)
            if a.abstained == q.answerable
            or (q.key_facts and not a.abstained and key_fact_accuracy(a.text, q.key_facts) < 1)
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        f"{len(questions)} questions, mode {pipeline.mode}, threshold {settings.abstain_threshold}"
    )
    for k, v in summary.items():
        print(f"  {k:24s} {v}")
    print("threshold  false-abstention  false-answer")
    for row in table:
        print(
            f"  {row['threshold']:.2f}     {row['false_abstention']:.3f}            {row['false_answer']:.3f}"
        )
    print(f"wrote {args.out}")


def replace_threshold(settings: Settings, t: float) -> Settings:
    return settings.model_copy(update={"abstain_threshold": t})


if __name__ == "__main__":
    main()
