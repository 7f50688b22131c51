"""The JSONL question format: load it, and validate it against the report texts.

One question per line; unknown extra fields are ignored::

    {"id": str, "question": str, "answer": str, "key_facts": [str],
     "evidence": [{"doc": "<report file name>", "quote": "<exact substring of the report>"}],
     "answerable": bool, "type": str,
     "phrasing": "own-words" | "report-words", "kind": "figure" | "town" | "year"}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.metrics import Evidence
from rag.lang.script import simplified
from rag.text.numbers import normalize

_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "question": str,
    "answer": str,
    "key_facts": list,
    "evidence": list,
    "answerable": bool,
    "type": str,
}
_REQUIRED = ("id", "question", "answerable")


class DatasetError(ValueError):
    """A dataset with problems; `problems` lists every one as "file:line: field: what"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__("; ".join(problems[:5]) + more)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str
    key_facts: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    answerable: bool
    type: str
    phrasing: str = ""  # "own-words" (not the report's wording) or "report-words"
    kind: str = ""  # unanswerable: "figure" never reported, "town" or "year" not covered


def _check_row(row: Any, where: str, texts: dict[str, str]) -> tuple[list[str], list[Evidence]]:
    problems: list[str] = []
    if not isinstance(row, dict):
        return [f"{where}: a question must be a JSON object"], []
    for name in _REQUIRED:
        if name not in row:
            problems.append(f"{where}: {name}: missing")
    for name, kind in _FIELDS.items():
        if name in row and not isinstance(row[name], kind):
            problems.append(
                f"{where}: {name}: must be {getattr(kind, '__name__', kind)}, got {row[name]!r}"
            )
    if problems:
        return problems, []
    evidence: list[Evidence] = []
    quotes: list[str] = []
    for i, ev in enumerate(row.get("evidence", [])):
        field = f"evidence[{i}]"
        if (
            not isinstance(ev, dict)
            or not isinstance(ev.get("doc"), str)
            or not isinstance(ev.get("quote"), str)
        ):
            problems.append(f'{where}: {field}: must be {{"doc": str, "quote": str}}')
            continue
        text = texts.get(ev["doc"])
        if text is None:
            problems.append(f"{where}: {field}.doc: unknown report {ev['doc']!r}")
            continue
        # a report in 繁體 is read as simplified (same length): so is its quote
        start = text.find(simplified(ev["quote"])) if ev["quote"] else -1
        if start < 0:
            problems.append(f"{where}: {field}.quote: not found in {ev['doc']}: {ev['quote']!r}")
            continue
        evidence.append(Evidence(ev["doc"], start, start + len(ev["quote"])))
        quotes.append(ev["quote"])
    facts = row.get("key_facts", [])
    if problems:  # key facts are checked against quotes that were all found
        return problems, evidence
    if row["answerable"]:
        if not row.get("evidence"):
            problems.append(f"{where}: evidence: an answerable question needs at least one quote")
        joined = normalize(simplified("".join(quotes)))
        for fact in facts:
            if not isinstance(fact, str) or normalize(simplified(fact)) not in joined:
                problems.append(f"{where}: key_facts: {fact!r} is not in the evidence quotes")
    elif row.get("evidence") or facts:
        problems.append(f"{where}: evidence: an unanswerable question has no evidence or key facts")
    return problems, evidence


def read_questions(path: Path, texts: dict[str, str]) -> tuple[list[Question], list[str]]:
    """Every valid question of a JSONL file, and every problem found (none lost to the first)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        return [], [f"{path}: cannot read: {e}"]
    out: list[Question] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: not JSON: {e.msg}")
            continue
        found, evidence = _check_row(row, where, texts)
        if not found and row["id"] in seen:
            found = [f"{where}: id: duplicate {row['id']!r}"]
        problems += found
        if found:
            continue
        seen.add(row["id"])
        out.append(
            Question(
                row["id"],
                row["question"],
                row.get("answer", ""),
                tuple(simplified(f) for f in row.get("key_facts", [])),  # answers are simplified
                tuple(evidence),
                row["answerable"],
                row.get("type", ""),
                str(row.get("phrasing", "")),
                str(row.get("kind", "")),
            )
        )
    return out, problems


def load_questions(path: Path, texts: dict[str, str]) -> list[Question]:
    """The questions of a JSONL file; DatasetError listing every problem if any."""
    questions, problems = read_questions(path, texts)
    if problems:
        raise DatasetError(problems)
    return questions
