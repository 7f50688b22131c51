"""Benchmark `rag search` latency after warm-up on an index (default: the project's index/).

    python -m eval.bench_search [--index DIR] [--queries 300] [--json out.json]

Prints p50/p95/max of the whole retrieval call (scoping, BM25, query embedding, FAISS, fusion,
diversity) per mode, and the raw query-embedding and FAISS costs with 1 and 2 OpenMP threads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rag.config import Settings
from rag.dense import set_threads
from rag.pipeline import SearchEngine


def _questions(dataset: Path) -> list[str]:
    rows = [json.loads(line) for line in dataset.read_text(encoding="utf-8").splitlines() if line]
    return [r["question"] for r in rows]


def _percentiles(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "max": max(ms), "n": len(ms)}


def _time(fn, items) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--dataset", type=Path, default=Path(__file__).parent / "dev.jsonl")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings(**({"index_dir": args.index} if args.index else {}))
    engine = SearchEngine.open(settings, settings.index_dir)
    base = _questions(args.dataset)
    queries = [base[i % len(base)] for i in range(args.queries)]
    print(
        f"index {settings.index_dir}: {len(engine.index.chunks)} chunks, "
        f"model {engine.index.embed_model}; {len(queries)} queries after warm-up"
    )
    modes = ["bm25"] + (["dense", "hybrid"] if engine.retriever.embedder else [])
    results: dict[str, dict[str, float]] = {}
    for mode in modes:
        opts = engine.options(k=5, mode=mode)
        for q in base[:10]:
            engine.search(q, opts)  # warm-up: jieba dictionary, model, caches
        results[f"search {mode}"] = _percentiles(
            _time(lambda q, o=opts: engine.search(q, o), queries)
        )
    embedder = engine.retriever.embedder
    dense = engine.index.dense
    if embedder is not None and dense is not None:
        results["query embedding"] = _percentiles(_time(embedder.embed_query, queries))
        vecs = [embedder.embed_query(q) for q in base]
        for threads in (1, 2):
            set_threads(threads)
            results[f"faiss search, {threads} thread(s)"] = _percentiles(
                _time(
                    lambda v: dense.search(v, 50),
                    [vecs[i % len(vecs)] for i in range(len(queries))],
                )
            )
        set_threads(settings.faiss_threads)
    results["bm25 scoring alone"] = _percentiles(
        _time(lambda q: engine.index.bm25.search(q, 50), queries)
    )
    print(f"{'what':30} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, r in results.items():
        print(f"{name:30} {r['p50']:8.2f} {r['p95']:8.2f} {r['max']:8.2f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "chunks": len(engine.index.chunks),
                    "embed_model": engine.index.embed_model,
                    "results": results,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
