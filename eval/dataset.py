"""Load a JSONL question set and locate every evidence quote in its report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eval.metrics import Evidence


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str
    key_facts: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    answerable: bool
    type: str


def load_questions(path: Path, report_texts: dict[str, str]) -> list[Question]:
    """Questions of a JSONL file; raises ValueError naming the line when a quote is not found."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        evidence = []
        for ev in row.get("evidence", []):
            text = report_texts.get(ev["doc"])
            if text is None:
                raise ValueError(f"{path}:{n}: unknown report {ev['doc']!r}")
            start = text.find(ev["quote"])
            if start < 0:
                raise ValueError(f"{path}:{n}: quote not found in {ev['doc']}: {ev['quote']!r}")
            evidence.append(Evidence(ev["doc"], start, start + len(ev["quote"])))
        out.append(
            Question(
                row["id"],
                row["question"],
                row.get("answer", ""),
                tuple(row.get("key_facts", [])),
                tuple(evidence),
                bool(row.get("answerable", True)),
                row.get("type", ""),
            )
        )
    return out
