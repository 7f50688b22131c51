"""Retrieval quality on a question set: recall@1, recall@5 and MRR per configuration.

python -m eval.retrieval [--dataset eval/dev.jsonl] [--index index] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from eval.dataset import load_questions
from eval.metrics import Retrieved, mean, recall_at_k, reciprocal_rank
from rag.config import Settings
from rag.pipeline import SearchEngine, build

CONFIGS: dict[str, dict[str, Any]] = {
    "bm25": {"mode": "bm25"},
    "dense": {"mode": "dense"},
    "hybrid": {"mode": "hybrid"},
    "hybrid, no question scoping": {"mode": "hybrid", "scope_from_question": False},
    "hybrid, no diversity": {"mode": "hybrid", "diversify": False},
}


def evaluate(engine: SearchEngine, dataset: Path, k: int = 5) -> dict[str, dict[str, float]]:
    texts = {s: r.text for s, r in engine.index.reports.items()}
    questions = [q for q in load_questions(dataset, texts) if q.answerable and q.evidence]
    results = {}
    for name, overrides in CONFIGS.items():
        if overrides["mode"] == "dense" and engine.retriever.embedder is None:
            continue  # the index has no dense vectors
        r1, rk, rr = [], [], []
        for q in questions:
            hits = engine.search(q.question, engine.options(k=k, **overrides))
            ctx = [Retrieved(h.chunk.source, h.chunk.start, h.chunk.end) for h in hits]
            r1.append(recall_at_k(ctx, q.evidence, 1))
            rk.append(recall_at_k(ctx, q.evidence, k))
            rr.append(reciprocal_rank(ctx, q.evidence))
        results[name] = {
            "recall@1": mean(r1),
            f"recall@{k}": mean(rk),
            "mrr": mean(rr),
            "questions": len(questions),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path(__file__).parent / "dev.jsonl")
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--embed-model", default=None, help="index the samples with this model")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    overrides: dict[str, Any] = {"index_dir": args.index} if args.index else {}
    if args.embed_model:
        tmp = tempfile.TemporaryDirectory(prefix="rag-eval-")
        overrides = {"embed_model": args.embed_model, "index_dir": Path(tmp.name)}
        settings = Settings(**overrides)
        build(settings, settings.reports_dir, settings.index_dir)
    settings = Settings(**overrides)
    engine = SearchEngine.open(settings, settings.index_dir)
    print(f"{engine.resolution.message}; index built with {engine.index.embed_model}")
    results = evaluate(engine, args.dataset, args.k)
    print(f"{'configuration':32} {'recall@1':>9} {'recall@' + str(args.k):>9} {'MRR':>7}  n")
    for name, m in results.items():
        print(
            f"{name:32} {m['recall@1']:9.3f} {m[f'recall@{args.k}']:9.3f} {m['mrr']:7.3f}  "
            f"{m['questions']}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"embed_model": engine.index.embed_model, "k": args.k, "results": results},
                ensure_ascii=False,
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
