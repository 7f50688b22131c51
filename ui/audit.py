"""Append-only audit log of supervisors' decisions (JSONL; one line per decision)."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.types import Answer

_LOCK = threading.Lock()


MAX_COMMENT = 2000  # characters: one audit line stays small (a 20 KB comment is refused)
MAX_REVIEWER = 100


def record(
    path: Path, answer: Answer, claim: int, decision: str, reviewer: str, comment: str = ""
) -> dict[str, Any]:
    """Append one decision (approve/reject of claim `claim`) and return it."""
    if decision not in ("approve", "reject"):
        raise ValueError(f"decision must be approve or reject, got {decision!r}")
    if not 0 <= claim < len(answer.claims):
        raise ValueError(f"claim {claim} does not exist (the answer has {len(answer.claims)})")
    if not reviewer.strip():
        raise ValueError("reviewer is required")
    if len(reviewer) > MAX_REVIEWER or len(comment) > MAX_COMMENT:
        raise ValueError(
            f"reviewer name or comment too long (limits {MAX_REVIEWER} and {MAX_COMMENT} characters)"
        )
    d = answer.to_dict()
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "reviewer": reviewer.strip(),
        "decision": decision,
        "comment": comment,
        **{k: d[k] for k in ("question", "rewritten", "answer", "mode")},
        "claim": d["claims"][claim],
        "citations": [c for c in d["citations"] if c["claim"] == claim],
    }
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, path.open("a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
    return entry


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
