"""The corpus of other places (eval/corpus-other/): reports of towns, 街道, counties and a
development zone in 13 provinces, with web-page noise, mixed with the five samples, and
questions in staff's wording that the rules were never fitted to.

    python -m eval.other [--neardup] [--out eval/results/other] [--index DIR]

The reports folder is assembled (samples + corpus-other, and with --neardup the 15
near-duplicate copies of the samples), indexed into a folder of its own, and every question
of eval/corpus-other/questions.jsonl is answered and scored as `rag eval` does.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from eval.neardup import near_duplicates
from eval.run import run_eval
from rag.config import PROJECT_ROOT, Settings
from rag.factory import build

CORPUS = PROJECT_ROOT / "eval" / "corpus-other"


def assemble(target: Path, neardup: bool) -> list[Path]:
    """Copy the sample reports and the other places' reports (and near-duplicates) into
    `target`; file names are unique across them."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for folder in (Settings().reports_dir, CORPUS / "reports"):
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            if (target / path.name).exists():
                raise ValueError(f"{path}: a report of that file name is already in {target}")
            written.append(Path(shutil.copy2(path, target / path.name)))
    if neardup:
        written += near_duplicates(Settings().reports_dir, target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neardup", action="store_true", help="add the near-duplicate copies")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--index", type=Path, default=None, help="index folder (kept)")
    parser.add_argument("--dataset", type=Path, default=CORPUS / "questions.jsonl")
    args = parser.parse_args()
    name = "other-neardup" if args.neardup else "other"
    out = args.out or PROJECT_ROOT / "eval" / "results" / name
    with tempfile.TemporaryDirectory(prefix="rag-other-") as tmp:
        reports = assemble(Path(tmp) / "reports", args.neardup)
        index = args.index or Path(tmp) / "index"
        settings = Settings(reports_dir=Path(tmp) / "reports", index_dir=index)
        summary, _ = build(settings)
        print(f"indexed {summary.reports} reports ({summary.chunks} chunks) into {index}")
        print(f"wrote {run_eval(settings, args.dataset, out, 5, 'hybrid', False, False)}")


if __name__ == "__main__":
    main()
