"""Copied text (rag similar) on near-duplicate corpora whose copies the generator knows.

    python -m eval.copied --seeds 11,12,13            # write eval/results/copied.json

From the 30 reports (the five samples and eval/corpus-other, less o25: the same report as o01
on another site), each seed picks 10 target reports and gives each 2 or 3 consecutive body
paragraphs of another report, as a town copies a neighbour's text: the donor's place names
become the target's, every figure changes (a copy with new dates and counts), inserted after
a random paragraph of the target's body. The truth is the inserted paragraphs in the target
and the copied ones in the donor; anything else the tool marks is a false alarm (the 30
reports share boilerplate, which must not be called copied). Precision and recall are over
characters of the marked spans."""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from pathlib import Path
from typing import Any

from eval.other import assemble
from rag.config import Settings
from rag.factory import build, open_pipeline, read_report
from rag.similar import find_copies

ROOT = Path(__file__).resolve().parent.parent
TARGETS = 10
MIN_PARAGRAPH = 40  # characters of a body paragraph worth copying


def _paragraphs(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.split("\n"):
        if len(line.strip()) >= MIN_PARAGRAPH and line.rstrip().endswith(("。", "；")):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _bumped(text: str, rng: random.Random) -> str:
    return re.sub(r"\d+", lambda m: str(int(m[0]) + rng.randint(1, 9)), text)


def generate(reports_dir: Path, out_dir: Path, seed: int) -> list[dict[str, Any]]:
    """Write the corpus with its copies to `out_dir`; the truth spans, one per copy."""
    rng = random.Random(seed)
    files = sorted(p for p in reports_dir.iterdir() if p.is_file() and not p.name.startswith("o25"))
    texts = {p.name: read_report(p) for p in files}
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = rng.sample(sorted(texts), TARGETS)
    truth: list[dict[str, Any]] = []
    written = {name: r.text for name, r in texts.items()}
    for target in targets:
        donor = rng.choice([n for n in sorted(texts) if n != target])
        paras = _paragraphs(texts[donor].text)
        if len(paras) < 5:
            continue
        k = rng.randint(2, 3)
        first = rng.randrange(1, len(paras) - k)
        a, b = paras[first][0], paras[first + k - 1][1]
        block = texts[donor].text[a:b]
        names = [n for n in texts[donor].meta.places.names() if len(n) >= 2]
        own = texts[target].meta.places.town or texts[target].meta.places.county or "本镇"
        for n in sorted(names, key=len, reverse=True):
            block = block.replace(n, own)
        block = _bumped(block, rng)
        body = _paragraphs(written[target])
        at = rng.choice(body[1:-1] or body)[1]
        written[target] = written[target][:at] + "\n" + block + written[target][at:]
        truth.append({"source": target, "start": at + 1, "end": at + 1 + len(block),
                      "other": donor, "other_start": a, "other_end": b})  # fmt: skip
        # later insertions into the same target shift nothing: one per target
    for name, text in written.items():
        (out_dir / (Path(name).stem + ".txt")).write_text(text, encoding="utf-8")
    for t in truth:
        t["source"], t["other"] = Path(t["source"]).stem + ".txt", Path(t["other"]).stem + ".txt"
    return truth


def _chars(spans: list[tuple[str, int, int]]) -> set[tuple[str, int]]:
    return {(s, i) for s, a, b in spans for i in range(a, b)}


def score(found: list[dict[str, Any]], truth: list[dict[str, Any]]) -> dict[str, Any]:
    true = _chars([(t["source"], t["start"], t["end"]) for t in truth]
                  + [(t["other"], t["other_start"], t["other_end"]) for t in truth])  # fmt: skip
    marked = _chars([(f["source"], f["start"], f["end"]) for f in found])
    hit = len(true & marked)
    return {"precision": round(hit / len(marked), 4) if marked else None,
            "recall": round(hit / len(true), 4) if true else None,
            "copies": len(truth), "spans_marked": len(found),
            "false_alarm_reports": sorted({s for s, _ in marked - true})}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="11,12,13")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "copied.json")
    args = parser.parse_args()
    runs = []
    for seed in (int(s) for s in args.seeds.split(",")):
        with tempfile.TemporaryDirectory(prefix="rag-copied-") as tmp:
            assemble(Path(tmp) / "src", neardup=False)
            truth = generate(Path(tmp) / "src", Path(tmp) / "reports", seed)
            settings = Settings(embed_model="none", llm_backend="none",
                                reports_dir=Path(tmp) / "reports", index_dir=Path(tmp) / "index")  # fmt: skip
            build(settings)
            pipeline = open_pipeline(settings, settings.index_dir)
            found = find_copies(pipeline.reports, pipeline.index.chunks)
            result = {"seed": seed, **score([s.to_dict() for s in found.spans], truth),
                      "boilerplate_grams": found.boilerplate}  # fmt: skip
            print(result)
            runs.append(result)
    summary = {
        "command": f"python -m eval.copied --seeds {args.seeds}",
        "precision": round(sum(r["precision"] or 0 for r in runs) / len(runs), 4),
        "recall": round(sum(r["recall"] or 0 for r in runs) / len(runs), 4),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"precision {summary['precision']}, recall {summary['recall']}")


if __name__ == "__main__":
    main()
