"""report.md with matplotlib plots: metrics by question type, latency distribution."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

_PLOTTED = ("key_fact_accuracy", "citation_precision", "abstention_accuracy")


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |\n" for r in rows)


def plot_by_type(metrics: dict[str, Any], path: Path) -> None:
    types = list(metrics["by_type"])
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(_PLOTTED)
    for i, key in enumerate(_PLOTTED):
        values = [metrics["by_type"][t].get(key) or 0.0 for t in types]
        ax.bar([x + i * width for x in range(len(types))], values, width, label=key)
    ax.set_xticks([x + width for x in range(len(types))], types, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title("metrics by question type")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_latency(predictions: Sequence[dict[str, Any]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for part in ("retrieve", "answer", "total"):
        ax.hist([p["latency_ms"][part] for p in predictions], bins=30, alpha=0.5, label=part)
    ax.set_xlabel("ms")
    ax.set_ylabel("questions")
    ax.set_title("latency per question")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(
    out: Path,
    title: str,
    setup: dict[str, Any],
    metrics: dict[str, Any],
    predictions: Sequence[dict[str, Any]],
    ablations: Sequence[dict[str, Any]] = (),
) -> Path:
    plot_by_type(metrics, out / "by_type.png")
    plot_latency(predictions, out / "latency.png")
    k = metrics["k"]
    cols = [
        "type",
        "questions",
        f"recall@{k}",
        "mrr",
        "key_fact_accuracy",
        "citation_precision",
        "citation_recall",
        "abstention_accuracy",
        "false_abstention_rate",
    ]
    rows = [{"type": "**overall**", **metrics["overall"]}]
    rows += [{"type": t, **m} for t, m in metrics["by_type"].items()]
    lat = metrics["latency_ms"]
    lines = [f"# {title}", ""]
    lines += [f"- {key}: {value}" for key, value in setup.items()]
    lines += ["", "## Metrics", "", table(rows, cols), "![metrics by type](by_type.png)", ""]
    lines += ["## Latency (ms)", ""]
    lines.append(table([{"part": p, **v} for p, v in lat.items()], ["part", "p50", "p95", "max"]))
    lines += ["![latency](latency.png)", ""]
    if ablations:
        lines += ["## Ablations", "", "Each row is one configuration over the same questions.", ""]
        acols = [
            "configuration",
            f"recall@{k}",
            "mrr",
            "key_fact_accuracy",
            "citation_precision",
            "abstention_accuracy",
            "false_abstention_rate",
        ]
        lines += [table(ablations, acols), ""]
    if "judge" in metrics:
        lines += ["## LLM judge", "", table([metrics["judge"]], list(metrics["judge"])), ""]
    misses = [
        r
        for r in metrics["per_question"]
        if r.get("key_facts", 1) < 1 or r["abstained"] == r["answerable"]
    ]
    if misses:
        lines += [
            "## Misses",
            "",
            "Answerable questions with a key fact missing or abstained, "
            "and unanswerable ones answered.",
            "",
        ]
        lines += [
            f"- {r['id']} ({r['type']}): key facts {_fmt(r.get('key_facts'))}, abstained {r['abstained']}"
            for r in misses
        ]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
