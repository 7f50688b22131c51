"""What each part buys: the same questions under BM25 / dense / hybrid, with and without the
report-context headers in chunks and the place scoping of questions."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.dataset import Question
from eval.runner import evaluate, predict
from rag.config import Settings
from rag.factory import PACKAGED, build, open_pipeline
from rag.pipeline import AskOptions, Pipeline

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    name: str
    embed_model: str  # "none" (BM25 only) or a model for dense/hybrid
    mode: str
    headers: bool = True
    scoping: bool = True


def configs(dense_model: str = PACKAGED) -> list[Config]:
    return [
        Config("BM25", "none", "bm25"),
        Config("BM25, no scoping", "none", "bm25", scoping=False),
        Config("BM25, no headers", "none", "bm25", headers=False),
        Config("BM25, no headers, no scoping", "none", "bm25", headers=False, scoping=False),
        Config(f"dense ({dense_model})", dense_model, "dense"),
        Config(f"hybrid ({dense_model})", dense_model, "hybrid"),
        Config(f"hybrid ({dense_model}), no scoping", dense_model, "hybrid", scoping=False),
        Config(f"hybrid ({dense_model}), no headers", dense_model, "hybrid", headers=False),
    ]


def run_ablations(
    base: Settings, questions: Sequence[Question], k: int, dense_model: str = PACKAGED
) -> list[dict[str, Any]]:
    """One row of overall metrics per configuration; indexes are built in a temporary folder."""
    rows = []
    pipelines: dict[tuple[str, bool], Pipeline] = {}
    with tempfile.TemporaryDirectory(prefix="rag-ablation-") as tmp:
        for cfg in configs(dense_model):
            key = (cfg.embed_model, cfg.headers)
            if key not in pipelines:
                s = base.model_copy(
                    update={
                        "embed_model": cfg.embed_model,
                        "embed_fallback": "packaged" if cfg.embed_model == PACKAGED else "lexical",
                        "query_instruction": None,
                        "chunk_context_headers": cfg.headers,
                        "llm_backend": "none",
                    }
                )
                folder = Path(tmp) / f"{len(pipelines)}"
                build(s, s.reports_dir, folder)
                pipelines[key] = open_pipeline(s, folder)
            opts = AskOptions(mode=cfg.mode, k=k, scope_from_question=cfg.scoping)
            metrics = evaluate(questions, predict(pipelines[key], questions, opts), k)
            logger.info("ablation %s done", cfg.name)
            rows.append({"configuration": cfg.name, **metrics["overall"]})
    return rows
