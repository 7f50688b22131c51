"""Scanned copies of reports: each report's text set on A4 pages (200 dpi, a CJK font, a slight
grey background and skew as a scanner gives them) and saved as an image-only PDF, with no text
layer. The tests and `python -m eval.scan` read them back through OCR.

    python -m eval.scan --reports data/reports --out /tmp/scans            # the copies
    python -m eval.scan --reports data/reports --out /tmp/scans --eval      # and the comparison

With `--eval`, the copies and the text reports are indexed and the training questions
(eval/dev.jsonl) asked of both, in the default configuration. A question whose quote OCR
misread (beyond the width of its punctuation) cannot be asked of the scan; it is left out of
both runs and counted. Key facts, false refusals and abstention of both go to
eval/results/scan.json. OCR speed: `python -m eval.bench_ocr`."""

from __future__ import annotations

import argparse
import json
import random
import time
import unicodedata
from pathlib import Path
from typing import Any

# Debian's fonts-wqy-microhei (scripts/install.sh installs it for the browser tests too)
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
DPI = 200
PAGE = (1654, 2339)  # A4 at 200 dpi
MARGIN = 160
FONT_PX = 36  # about 13 pt at 200 dpi
LINE = 1.7  # line height, in font sizes


def _wrapped(paragraph: str, font: Any, width: int) -> list[str]:
    """A paragraph cut into the lines that fit `width` pixels."""
    lines, line = [], ""
    for ch in paragraph:
        if line and font.getlength(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines or [""]


def page_images(text: str, seed: int = 0) -> list[Any]:
    """The report's text on A4 page images, one paragraph after another, as a scan."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), FONT_PX)
    rng = random.Random(seed)
    width, height = PAGE
    step = int(FONT_PX * LINE)
    rows = [
        r
        for p in text.splitlines()
        if p.strip()
        for r in _wrapped(p.strip(), font, width - 2 * MARGIN)
    ]
    per_page = (height - 2 * MARGIN) // step
    pages = []
    for first in range(0, len(rows), per_page):
        shade = rng.randint(236, 250)  # paper is never white in a scan
        image = Image.new("L", PAGE, shade)
        draw = ImageDraw.Draw(image)
        for i, row in enumerate(rows[first : first + per_page]):
            draw.text((MARGIN, MARGIN + i * step), row, font=font, fill=rng.randint(0, 40))
        angle = rng.uniform(-0.6, 0.6)  # a page fed a little askew
        pages.append(image.rotate(angle, fillcolor=shade, resample=Image.Resampling.BICUBIC))
    return pages


def write_pdf(images: list[Any], path: Path) -> None:
    """An image-only PDF (no text layer), as a scanner writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = [im.convert("RGB") for im in images]
    rgb[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=rgb[1:])


def scanned_copy(report: Path, out: Path, seed: int = 0) -> int:
    """`report`'s scanned copy at `out` (a .pdf); the number of pages."""
    images = page_images(report.read_text(encoding="utf-8"), seed)
    write_pdf(images, out)
    return len(images)


def _rag(args: list[str], reports: Path, index: Path) -> float:
    """`rag ARGS` over a reports folder and an index folder; the seconds it took."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "RAG_REPORTS_DIR": str(reports), "RAG_INDEX_DIR": str(index)}
    env.setdefault("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from rag.cli import run; run()", *args],
                          env=env, capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        raise SystemExit(f"rag {' '.join(args)} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - t0


def _fold(text: str) -> str:
    """Full-width punctuation as half-width, character for character (OCR writes ，％（ where
    a report may write ,%( ): a quote is found in the recognised text whatever the width."""
    out = []
    for c in text:
        n = unicodedata.normalize("NFKC", c)
        out.append(n if len(n) == 1 else c)
    return "".join(out)


def scan_dataset(rows: list[dict[str, Any]], texts: dict[str, str]) -> tuple[list[Any], list[Any]]:
    """The questions for the scans (each quote as the recognised text writes it, in the .pdf)
    and for the text reports, both without the questions one of whose quotes OCR misread."""
    scan_rows, text_rows = [], []
    for row in rows:
        evidence, ok = [], True
        for ev in row.get("evidence", []):
            doc = Path(ev["doc"]).stem + ".pdf"
            text = texts.get(doc, "")
            at = _fold(text).find(_fold(ev["quote"]))
            ok = ok and at >= 0
            evidence.append({**ev, "doc": doc, "quote": text[at : at + len(ev["quote"])]})
        if ok:
            scan_rows.append({**row, "evidence": evidence})
            text_rows.append(row)
    return scan_rows, text_rows


def _scores(reports: Path, index: Path, rows: list[Any], out: Path) -> dict[str, Any]:
    dataset = out.with_suffix(".jsonl")
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    _rag(["eval", "--dataset", str(dataset), "--out", str(out), "--no-ablations"], reports, index)
    overall = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["overall"]
    return {
        "questions": overall["questions"],
        "key_facts": overall["key_fact_accuracy"],
        "false_refusals": overall["false_abstention_rate"],
        "abstention": overall["abstention_accuracy"],
        "wrong_report_answers": overall["wrong_report_answers"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reports", type=Path, default=Path("data/reports"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--eval", action="store_true", help="index both and ask eval/dev.jsonl")
    ap.add_argument("--dataset", type=Path, default=Path("eval/dev.jsonl"))
    ap.add_argument("--results", type=Path, default=Path("eval/results/scan.json"))
    args = ap.parse_args()
    scans = args.out / "reports"
    pages = 0
    for i, report in enumerate(sorted(args.reports.glob("*.txt"))):
        pages += scanned_copy(report, scans / (report.stem + ".pdf"), seed=i)
    print(f"{pages} pages written to {scans}")
    if not args.eval:
        return
    from rag.config import Settings
    from rag.factory import open_index

    text_seconds = _rag(["index"], args.reports, args.out / "index-text")
    scan_seconds = _rag(["index"], scans, args.out / "index-scan")
    reports = open_index(Settings(), args.out / "index-scan").reports
    rows = [json.loads(line) for line in args.dataset.read_text(encoding="utf-8").splitlines()]
    scan_rows, text_rows = scan_dataset(rows, {s: r.text for s, r in reports.items()})
    result = {
        "pages": pages,
        "index_seconds": {"text": round(text_seconds, 1), "scan": round(scan_seconds, 1)},
        "questions": len(rows),
        "left_out": len(rows) - len(scan_rows),  # a quote OCR misread: not askable of the scan
        "text": _scores(args.reports, args.out / "index-text", text_rows, args.out / "eval-text"),
        "scan": _scores(scans, args.out / "index-scan", scan_rows, args.out / "eval-scan"),
        "dataset": str(args.dataset),
    }
    args.results.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
