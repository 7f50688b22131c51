"""OCR benchmark: the sample reports' scanned copies (eval/scan.py, image-only PDFs at 200 dpi)
read as `rag index` reads them, beside their text files read the same way, in one run.

    python -m eval.bench_ocr [--reports data/reports] [--out eval/results/bench-ocr.json]

Reports pages per second of OCR (rendering included), the time ratio of a scan to its text,
and how close the recognised text is to the report's (difflib's ratio over the paragraphs)."""

from __future__ import annotations

import argparse
import difflib
import json
import tempfile
import time
from pathlib import Path

from eval.scan import scanned_copy
from rag.factory import read_report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=Path, default=Path("data/reports"))
    ap.add_argument("--out", type=Path, default=Path("eval/results/bench-ocr.json"))
    args = ap.parse_args()
    rows, pages_all, ocr_s, text_s = [], 0, 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(sorted(args.reports.glob("*.txt"))):
            scan = Path(tmp) / (path.stem + ".pdf")
            pages = scanned_copy(path, scan, seed=i)
            t0 = time.perf_counter()
            text = read_report(path)
            t1 = time.perf_counter()
            read = read_report(scan)
            t2 = time.perf_counter()
            paragraphs = "\n".join(p.strip() for p in text.text.splitlines() if p.strip())
            ratio = difflib.SequenceMatcher(None, read.text, paragraphs, autojunk=False).ratio()
            rows.append({
                "report": path.name,
                "pages": pages,
                "text_seconds": round(t1 - t0, 3),
                "scan_seconds": round(t2 - t1, 2),
                "same_text": round(ratio, 4),
                "same_metadata": (read.meta.title, read.meta.year, read.meta.places)
                == (text.meta.title, text.meta.year, text.meta.places),
            })  # fmt: skip
            pages_all += pages
            text_s += t1 - t0
            ocr_s += t2 - t1
            print(rows[-1], flush=True)
    result = {
        "pages": pages_all,
        "ocr_pages_per_second": round(pages_all / ocr_s, 3),
        "scan_to_text_time_ratio": round(ocr_s / text_s, 1),
        "mean_same_text": round(sum(r["same_text"] for r in rows) / len(rows), 4),
        "reports": rows,
        "note": "2 shared cores; each read in a child process under the read limits, as rag index",
    }
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "reports"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
