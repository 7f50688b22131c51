"""Optional LLM-judge scores (`rag eval --judge`): faithfulness and correctness, 0..1."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from eval.dataset import Question
from eval.metrics import mean
from rag.config import Settings
from rag.factory import judge_chain, provider_errors
from rag.pipeline import Pipeline

logger = logging.getLogger(__name__)

_SCORE = {
    "faithfulness": re.compile(r"忠实度[：:]\s*([012])"),
    "correctness": re.compile(r"正确性[：:]\s*([012])"),
}


def parse_scores(text: str, completion: bool = False) -> dict[str, float | None]:
    """{"faithfulness": 0..1, "correctness": 0..1}; None where the judge gave no valid score.
    A completion-style judge continues after "忠实度：", so its first digit is that score."""
    if completion:
        text = "忠实度：" + text
    out: dict[str, float | None] = {}
    for key, pattern in _SCORE.items():
        m = pattern.search(text)
        out[key] = int(m.group(1)) / 2 if m else None
    return out


def judge_all(
    pipeline: Pipeline,
    questions: Sequence[Question],
    predictions: Sequence[dict[str, Any]],
    settings: Settings,
    model: Any = None,
) -> dict[str, Any]:
    """Mean judge scores over the answered questions (abstentions are not judged), by the
    configured LLM (or `model`, any LangChain chat model)."""
    chain, style = judge_chain(settings, model)
    scores: list[dict[str, float | None]] = []
    for q, p in zip(questions, predictions, strict=True):
        if p["abstained"] or not q.answerable:
            continue
        sources = "\n".join(f"[{c['n']}] {c['text']}" for c in p["citations"]) or "（无引用）"
        try:
            out = chain.invoke(
                {
                    "question": q.question,
                    "reference": q.answer,
                    "answer": p["answer"],
                    "sources": sources,
                }
            )
        except provider_errors() as e:
            logger.warning("judge failed on %s: %s", q.id, type(e).__name__)
            continue
        scores.append(parse_scores(str(out), style == "completion"))
    result: dict[str, Any] = {"judged": len(scores)}
    for key in _SCORE:
        valid = [s[key] for s in scores if s[key] is not None]
        result[key] = round(mean(valid), 4) if valid else None  # type: ignore[arg-type]
        result[f"{key}_unparsed"] = len(scores) - len(valid)
    return result
