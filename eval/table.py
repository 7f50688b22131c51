"""The indicator table (rag table) against the hand-built table of eval/corpus-table.

    python -m eval.table                      # score, write eval/results/table.json
    python -m eval.table --index DIR          # over an index of the 30 reports already built

The 30 reports (the five samples and the 25 of eval/corpus-other) are indexed together (BM25
only: a table reads the chunks and the word statistics, not the vectors), the table is built
for the ten columns of eval/corpus-table/indicators.json, and each cell is compared with the
annotator's: right (the same figure and unit as `value` or one of `also`, or 未载明 both),
a wrong figure (another figure, or a figure where the report states none), or a false 未载明.
Two splits: the five samples (the rules were fitted there) and the 25 other places (never
tuned on). A report that is a word-for-word copy of another (o25 of o01) is one row, not two:
its cells are counted apart."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from eval.other import assemble
from rag.config import Settings
from rag.factory import build, open_pipeline
from rag.table import Cell, TableBuilder
from rag.text.numbers import quantities, same_quantity

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "eval" / "corpus-table"


def _same(cell: Cell, value: str, unit: str | None) -> bool:
    if value == "是" or cell.value == "是":
        return cell.value == value
    asked = quantities(f"{value}{unit or ''}")
    got = quantities(cell.value or "")
    return (
        bool(asked and got)
        and same_quantity(asked[0], got[0], tolerance=0.0)
        and (asked[0].value == got[0].value)
    )


SPLITS = {"samples": lambda r: not r.startswith("o"), "other": lambda r: r.startswith("o")}


def score(
    cells: dict[tuple[str, str], Cell], gold: list[dict[str, Any]], splits: Any = None
) -> dict[str, Any]:
    """Per split: cells right, wrong figures, false 未载明 (and the cases, for reading)."""
    out: dict[str, Any] = {}
    for split, keep in (splits or SPLITS).items():
        rows = [g for g in gold if keep(Path(g["report"]).name)]
        right = wrong = false_unstated = copies = 0
        cases = []
        for g in rows:
            source = Path(g["report"]).name
            cell = cells.get((source, g["indicator"]))
            if cell is None:
                copies += 1
                continue
            accepted = [(g["value"], g["unit"])] + [(a["value"], a["unit"]) for a in g["also"]]
            if g["value"] is None:
                ok = not cell.stated
            else:
                ok = cell.stated and any(_same(cell, v, u) for v, u in accepted)
            if ok:
                right += 1
                continue
            if g["value"] is not None and not cell.stated:
                false_unstated += 1
                kind = "false_unstated"
            else:
                wrong += 1
                kind = "wrong_figure"
            cases.append({"report": source, "indicator": g["indicator"], "kind": kind,
                          "gold": g["value"], "gold_unit": g["unit"], "ours": cell.value})  # fmt: skip
        n = right + wrong + false_unstated
        stated = sum(
            1
            for g in rows
            if g["value"] is not None and (Path(g["report"]).name, g["indicator"]) in cells
        )
        out[split] = {
            "cells": n, "right": right, "right_share": round(right / n, 4) if n else None,
            "wrong_figures": wrong, "false_unstated": false_unstated,
            "false_unstated_share": round(false_unstated / stated, 4) if stated else None,
            "copies_not_rows": copies,
            # the other places' cases are not written: their corpus is not for tuning
            **({"cases": cases} if split != "other" else {}),
        }  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=None, help="index folder of the 30 reports")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "table.json")
    parser.add_argument("--gold", type=Path, default=GOLD / "gold.jsonl",
                        help="another hand-built table (its own reports: --reports)")  # fmt: skip
    parser.add_argument("--reports", type=Path, default=None, help="the reports of --gold")
    parser.add_argument("--frozen", action="store_true",
                        help="write the aggregates only (a table not for tuning)")  # fmt: skip
    args = parser.parse_args()
    gold = [
        json.loads(line)
        for line in args.gold.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    columns = [
        c["name"] for c in json.loads((GOLD / "indicators.json").read_text(encoding="utf-8"))
    ]
    with tempfile.TemporaryDirectory(prefix="rag-table-") as tmp:
        settings = Settings(embed_model="none", llm_backend="none",
                            reports_dir=Path(tmp) / "reports", index_dir=args.index or Path(tmp) / "index")  # fmt: skip
        if args.index is None and args.reports is not None:
            shutil.copytree(args.reports, settings.reports_dir)
            build(settings)
        elif args.index is None:
            assemble(settings.reports_dir, neardup=False)
            build(settings)
        pipeline = open_pipeline(settings, settings.index_dir)
        table = TableBuilder(pipeline).build(columns)
    cells = {(c.source, c.indicator): c for _, row in table.rows for c in row}
    result = {
        "command": "python -m eval.table",
        "reports": len(table.rows), "indicators": len(columns),
        "seconds": round(table.seconds, 3),
        **score(cells, gold, {"given": lambda r: True} if args.reports else None),
        **({"gold": str(args.gold)} if args.reports else {}),
    }  # fmt: skip
    if args.frozen:
        for split in ("samples", "other", "given"):
            result.get(split, {}).pop("cases", None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for split in ("given",) if args.reports else ("samples", "other"):
        r = result[split]
        print(f"{split}: {r['right']}/{r['cells']} right ({r['right_share']}), wrong figures "
              f"{r['wrong_figures']}, false 未载明 {r['false_unstated']} ({r['false_unstated_share']}), "
              f"copies {r['copies_not_rows']}")  # fmt: skip
    print(f"{result['reports']} reports x {len(columns)} indicators in {result['seconds']} s")


if __name__ == "__main__":
    main()
