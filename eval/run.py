"""The `rag eval` job: load once, answer every question, score, write the results."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from eval.ablation import run_ablations
from eval.dataset import load_questions
from eval.report import write_report
from eval.runner import evaluate, predict, write_predictions
from rag.config import Settings
from rag.errors import ConfigError
from rag.factory import PACKAGED, open_pipeline
from rag.pipeline import AskOptions


def run_eval(
    settings: Settings,
    dataset: Path,
    out: Path,
    k: int,
    mode: str,
    ablations: bool,
    judge: bool,
    say: Callable[[str], object] = print,
    dense_model: str = PACKAGED,
) -> Path:
    t0 = time.perf_counter()
    pipeline = open_pipeline(settings)
    questions = load_questions(dataset, {s: r.text for s, r in pipeline.reports.items()})
    if judge and not pipeline.generative:
        raise ConfigError("--judge 需要大模型：请设置 RAG_LLM_BACKEND（见 docs/configuration.md）")
    say(f"共 {len(questions)} 个问题，回答方式：{pipeline.mode}")
    predictions = predict(pipeline, questions, AskOptions(mode=mode, k=k))
    metrics = evaluate(questions, predictions, k, pipeline.reports)
    if judge:
        from eval.judge import judge_all

        metrics["judge"] = judge_all(pipeline, questions, predictions, settings)
    rows = []
    if ablations:
        say(f"消融实验：建立 BM25 和 {dense_model} 索引（带与不带段落标题）")
        rows = run_ablations(settings, questions, k, dense_model)
        metrics["ablations"] = rows
    out.mkdir(parents=True, exist_ok=True)
    write_predictions(out / "predictions.jsonl", predictions)
    (out / "metrics.json").write_text(
        json.dumps(metrics, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    setup = {
        "dataset": f"{dataset} ({len(questions)} questions)",
        "answering": pipeline.mode,
        "retrieval": f"{mode}, k={k}, index built with {pipeline.index.embed_model}",
        "abstain threshold": settings.abstain_threshold,
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "run time": f"{time.perf_counter() - t0:.1f} s",
    }
    return write_report(out, "Evaluation report", setup, metrics, predictions, rows)
