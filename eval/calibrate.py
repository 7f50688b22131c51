"""Calibrate the abstention threshold: both error rates for every threshold on a dataset.

    python -m eval.calibrate [--dataset eval/dev.jsonl] [--out eval/results/calibration.json]

Answers every question once with threshold 0 (nothing abstains for low evidence), then counts,
for each threshold t, the answerable questions that would abstain (evidence score < t) and the
unanswerable ones that would be answered. Abstentions for other reasons (no report covers the
year asked) stay abstentions at every t.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

from eval.dataset import Question, load_questions
from eval.metrics import mean
from rag.config import PROJECT_ROOT, Settings
from rag.factory import open_pipeline
from rag.types import Answer


def sweep(
    questions: Sequence[Question], answers: Sequence[Answer], steps: int = 20
) -> list[dict[str, float]]:
    """Error rates per threshold, from answers computed with threshold 0."""
    rows = []
    for i in range(steps + 1):
        t = i / steps
        abstain = [a.abstained or a.support < t for a in answers]
        fa = [float(ab) for q, ab in zip(questions, abstain, strict=True) if q.answerable]
        fn = [float(not ab) for q, ab in zip(questions, abstain, strict=True) if not q.answerable]
        rows.append(
            {
                "threshold": t,
                "false_abstention": round(mean(fa), 4),
                "false_answer": round(mean(fn), 4),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=PROJECT_ROOT / "eval" / "dev.jsonl")
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "calibration.json"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings(llm_backend="none", abstain_threshold=0.0)
    pipeline = open_pipeline(settings)
    questions = load_questions(args.dataset, {s: r.text for s, r in pipeline.reports.items()})
    answers = [pipeline.ask(q.question) for q in questions]
    rows = sweep(questions, answers)
    answerable = sum(q.answerable for q in questions)
    print(
        f"{len(questions)} questions ({answerable} answerable, {len(questions) - answerable} unanswerable)"
    )
    print("threshold  answerable-abstained  unanswerable-answered")
    for r in rows:
        print(
            f"  {r['threshold']:.2f}     {r['false_abstention']:.3f}                 {r['false_answer']:.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"dataset": str(args.dataset.name), "questions": len(questions), "sweep": rows}
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
