"""Append-only audit log of supervisors' decisions (JSONL; one line per decision)."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from rag.types import Answer

_LOCK = threading.Lock()


MAX_COMMENT = 2000  # characters: one audit line stays small (a 20 KB comment is refused)
MAX_REVIEWER = 100


def _validated(decision: str, reviewer: str, comment: str) -> None:
    if decision not in DECISION_ZH:
        raise ValueError(f"决定只能是通过（approve）或驳回（reject），收到 {decision!r}")
    if not reviewer.strip():
        raise ValueError("请填写核查人")
    if len(reviewer) > MAX_REVIEWER or len(comment) > MAX_COMMENT:
        raise ValueError(f"核查人或意见过长（上限分别为 {MAX_REVIEWER} 和 {MAX_COMMENT} 字）")


def _append(path: Path, entry: dict[str, Any]) -> dict[str, Any]:
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, path.open("a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
    return entry


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record(
    path: Path, answer: Answer, claim: int, decision: str, reviewer: str, comment: str = ""
) -> dict[str, Any]:
    """Append one decision (approve/reject of claim `claim` of an answer) and return it."""
    _validated(decision, reviewer, comment)
    if not 0 <= claim < len(answer.claims):
        raise ValueError(f"第{claim + 1}句不存在（该回答共 {len(answer.claims)} 句）")
    d = answer.to_dict()
    entry = {
        "time": _now(),
        "kind": "answer",
        "reviewer": reviewer.strip(),
        "decision": decision,
        "comment": comment,
        **{k: d[k] for k in ("question", "rewritten", "answer", "mode")},
        "claim": d["claims"][claim],
        "citations": [c for c in d["citations"] if c["claim"] == claim],
    }
    return _append(path, entry)


CHECK_QUESTION = "（核稿）"  # what the history shows as the question of a 核稿 decision


def record_check(
    path: Path,
    checked: dict[str, Any],
    claim: int,
    decision: str,
    reviewer: str,
    comment: str = "",
) -> dict[str, Any]:
    """Append one decision on the verdict of claim `claim` of a 核稿 result (the JSON of
    `rag check --json`, with the checked `text`): the reviewer agrees with the verdict
    (approve) or not (reject)."""
    _validated(decision, reviewer, comment)
    claims = checked.get("claims") or []
    if not 0 <= claim < len(claims):
        raise ValueError(f"第{claim + 1}句不存在（本次核稿共 {len(claims)} 句）")
    c = claims[claim]
    entry = {
        "time": _now(),
        "kind": "check",
        "reviewer": reviewer.strip(),
        "decision": decision,
        "comment": comment,
        "question": CHECK_QUESTION,
        "text": checked.get("text", ""),
        "mode": "check",
        "claim": {k: v for k, v in c.items() if k != "citations"},
        "citations": c.get("citations", []),
    }
    return _append(path, entry)  # fmt: skip


DECISION_ZH = {"approve": "通过", "reject": "驳回"}
BEIJING = timezone(timedelta(hours=8), "北京时间")  # China keeps no daylight saving time


def beijing(iso: str) -> str:
    """An entry's UTC time as Beijing time: 2026-11-24 08:10:00."""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def matches(
    entry: dict[str, Any], reviewer: str = "", decision: str = "", report: str = ""
) -> bool:
    """Whether an entry passes the past-decisions filters ('' = any)."""
    sources = {c.get("source") for c in entry.get("citations", [])}
    return (
        (not reviewer or reviewer.strip() in entry.get("reviewer", ""))
        and (not decision or entry.get("decision") == decision)
        and (not report or report in sources)
    )


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
