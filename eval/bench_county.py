"""Time the county's view on a corpus of 120 reports (the metamorphic generator's copies of
the 30 reports: real places of other counties, other years, site furniture, some in 繁體).

    python -m eval.bench_county --seed 2222            # default configuration (the bundled
                                                       # encoder + BM25), eval/results/bench-county.json
    python -m eval.bench_county --seed 2222 --lexical  # BM25 only (a quicker index build)

Times, after the index is built and the pipeline open: an indicator table of every report ×
8 indicators (`rag table`), copied text over every report (`rag similar`), and one place
year over year (`rag trend`), each the best of three runs and the median, in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.metamorphic_gen import generate
from rag.compare import Comparer
from rag.config import Settings
from rag.factory import build, open_pipeline
from rag.similar import find_copies
from rag.table import TableBuilder

ROOT = Path(__file__).resolve().parent.parent
INDICATORS = ["重大行政决策数", "法律顾问", "合同审查件数", "执法人员数", "执法培训次数",
              "行政执法案件数", "矛盾纠纷调解件数", "普法活动场次"]  # fmt: skip


def _timed(fn: Callable[[], Any], runs: int = 3) -> dict[str, float]:
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
    return {"best": round(min(seconds), 3), "median": round(statistics.median(seconds), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=2222)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--lexical", action="store_true", help="BM25 only (no encoder)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "bench-county.json")
    args = parser.parse_args()
    corpus = generate(args.seed, args.copies)
    with tempfile.TemporaryDirectory(prefix="rag-bench-county-") as tmp:
        folder = Path(tmp) / "reports"
        corpus.write(folder)
        extra = {"embed_model": "none"} if args.lexical else {}
        settings = Settings(reports_dir=folder, index_dir=Path(tmp) / "index", llm_backend="none",
                            **extra)  # type: ignore[arg-type]  # fmt: skip
        t0 = time.perf_counter()
        summary, _ = build(settings)
        built = time.perf_counter() - t0
        pipeline = open_pipeline(settings, settings.index_dir)
        reports = len(pipeline.reports)
        builder = TableBuilder(pipeline)
        table = builder.build(INDICATORS)
        stated = sum(c.stated for _, row in table.rows for c in row)
        place = next(r.meta.places.town for r in pipeline.reports.values() if r.meta.places.town)
        result = {
            "command": f"python -m eval.bench_county --seed {args.seed}"
            + (" --lexical" if args.lexical else ""),
            "configuration": "BM25 only" if args.lexical else "default (bundled encoder + BM25)",
            "embedding": pipeline.embedding,
            "reports": reports,
            "chunks": summary.chunks,
            "index_build_seconds": round(built, 1),
            "indicators": len(INDICATORS),
            "table_rows": len(table.rows),
            "cells_stated": stated,
            "table_seconds": _timed(lambda: TableBuilder(pipeline).build(INDICATORS)),
            "similar_seconds": _timed(lambda: find_copies(pipeline.reports, pipeline.index.chunks)),
            "trend_place": place,
            "trend_seconds": _timed(lambda: Comparer(pipeline).trend(place, INDICATORS)),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
