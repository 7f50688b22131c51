"""`rag eval`: answer every question of a dataset with the real pipeline and score it."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.dataset import Question
from eval.metrics import (
    Retrieved,
    citation_precision,
    citation_recall,
    key_fact_accuracy,
    mean,
    recall_at_k,
    reciprocal_rank,
)
from rag.pipeline import AskOptions, Pipeline
from rag.retrieve.places import place_aliases
from rag.types import Answer, Report

logger = logging.getLogger(__name__)


def prediction(q: Question, a: Answer) -> dict[str, Any]:
    """One line of predictions.jsonl: the answer's JSON form with the question's id. A
    citation's start/end/text is its supporting sentence; passage_start/passage_end the
    passage it came from (offsets into the report text)."""
    return {"id": q.id, **a.to_dict(citations="support")}


def predict(
    pipeline: Pipeline, questions: Sequence[Question], options: AskOptions | None = None
) -> list[dict[str, Any]]:
    opts = options or AskOptions()
    return [prediction(q, pipeline.ask(q.question, (), opts)) for q in questions]


_YEAR = re.compile(r"(?:19|20)\d{2}|[去今前明]年|上一?年|本年度")


def names_scope(q: Question, reports: Mapping[str, Report]) -> bool:
    """Whether the question names a year, or the town, county or city of its evidence."""
    if _YEAR.search(q.question):
        return True
    return any(
        a in q.question
        for e in q.evidence
        if e.doc in reports
        for a in place_aliases(reports[e.doc])
    )


def _right_source(
    c: dict[str, Any],
    q: Question,
    docs: set[str],
    answer: str,
    reports: Mapping[str, Report] | None,
) -> bool:
    """A citation from a report the question's evidence is in; or, for a question that names
    no place or year (哪个镇…?), from any report the answer names: no town was asked, so
    another town's fact is wrong only when the answer does not say whose it is."""
    if c["source"] in docs:
        return True
    if reports is None or c["source"] not in reports or names_scope(q, reports):
        return False
    return any(a in answer for a in place_aliases(reports[c["source"]]))


def score_one(
    q: Question, p: dict[str, Any], k: int, reports: Mapping[str, Report] | None = None
) -> dict[str, Any]:
    """Per-question metrics; None where a metric does not apply to the question. `reports`
    (the indexed reports by source) lets a word-for-word copy count as a right source of a
    question that names no place or year."""
    contexts = [Retrieved(c["source"], c["start"], c["end"]) for c in p["contexts"]]
    cited = [Retrieved(c["source"], c["start"], c["end"]) for c in p["citations"]]
    row: dict[str, Any] = {
        "id": q.id,
        "type": q.type,
        "phrasing": q.phrasing,
        "kind": q.kind,
        "answerable": q.answerable,
    }
    row["abstained"] = p["abstained"]
    # the worst failure: an answer drawn from a report of another town or year than asked
    # (a cited report outside the question's evidence, unless the question names no place
    # or year and the answer says whose fact it is; or any answer to a town or year that no
    # report covers)
    # (not for questions across reports, whose answer may cite any report)
    docs = {e.doc for e in q.evidence}
    across = q.type == "cross-report"
    if not p["abstained"] and not across and (q.evidence or q.kind in ("town", "year")):
        right = [_right_source(c, q, docs, p["answer"], reports) for c in p["citations"]]
        row["wrong_report"] = float(not all(right) or not docs)
    if q.answerable and q.evidence:
        row["recall"] = recall_at_k(contexts, q.evidence, k)
        row["rr"] = reciprocal_rank(contexts, q.evidence)
        row["citation_precision"] = citation_precision(cited, q.evidence)
        row["citation_recall"] = citation_recall(cited, q.evidence)
    if q.answerable and q.key_facts:
        row["key_facts"] = 0.0 if p["abstained"] else key_fact_accuracy(p["answer"], q.key_facts)
    return row


def _mean_of(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(mean(values), 4) if values else None


def aggregate(rows: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    return {
        "questions": len(rows),
        f"recall@{k}": _mean_of(rows, "recall"),
        "mrr": _mean_of(rows, "rr"),
        "key_fact_accuracy": _mean_of(rows, "key_facts"),
        "citation_precision": _mean_of(rows, "citation_precision"),
        "citation_recall": _mean_of(rows, "citation_recall"),
        "abstention_accuracy": (
            round(mean([float(r["abstained"]) for r in unanswerable]), 4) if unanswerable else None
        ),
        "false_abstention_rate": (
            round(mean([float(r["abstained"]) for r in answerable]), 4) if answerable else None
        ),
        "wrong_report_answers": int(sum(r.get("wrong_report") or 0 for r in rows)),
    }


def latency_summary(predictions: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for part in ("retrieve", "answer", "total"):
        values = np.array([p["latency_ms"][part] for p in predictions], dtype=float)
        out[part] = {
            "p50": round(float(np.percentile(values, 50)), 2),
            "p95": round(float(np.percentile(values, 95)), 2),
            "max": round(float(values.max()), 2),
        }
    return out


def evaluate(
    questions: Sequence[Question],
    predictions: Sequence[dict[str, Any]],
    k: int,
    reports: Mapping[str, Report] | None = None,
) -> dict[str, Any]:
    rows = [score_one(q, p, k, reports) for q, p in zip(questions, predictions, strict=True)]
    types = sorted({r["type"] for r in rows})
    return {
        "k": k,
        "overall": aggregate(rows, k),
        "by_type": {t: aggregate([r for r in rows if r["type"] == t], k) for t in types},
        "by_phrasing": {
            ph: aggregate([r for r in rows if r["phrasing"] == ph], k)
            for ph in sorted({r["phrasing"] for r in rows if r["phrasing"]})
        },
        "by_unanswerable_kind": {
            kd: aggregate([r for r in rows if r["kind"] == kd], k)
            for kd in sorted({r["kind"] for r in rows if r["kind"]})
        },
        "latency_ms": latency_summary(predictions),
        "per_question": rows,
    }


def write_predictions(path: Path, predictions: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for p in predictions:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
