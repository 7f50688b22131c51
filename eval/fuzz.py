"""Ingestion fuzzing: mutated, truncated, random and mis-encoded report files of every
supported type, mixed with the good reports, built in batches.

    python -m eval.fuzz [--files 10000] [--batch 200] [--seed 1] [--reports data/reports]

Each batch is one folder (the good reports plus `--batch` fuzzed files) indexed BM25-only
through the factory; the script counts exceptions that escaped the build, batches over the
time limit, good reports not indexed and chunks whose text is not their report's slice. The
fast tier of the same generator runs in the tests (tests/test_fuzz_ingest.py).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import PROJECT_ROOT, Settings
from rag.errors import RagError
from rag.factory import build, open_index

KINDS = (".txt", ".md", ".html", ".docx", ".pdf")


def _docx(text: str) -> bytes:
    from docx import Document

    doc = Document()
    for line in text.splitlines()[:80]:
        doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _pdf(text: str) -> bytes:
    """A one-page PDF whose text layer is `text`'s ASCII part (enough to reach the parser)."""
    words = "".join(c for c in text if c.isascii() and c not in "()\\\n")[:200] or "report"
    stream = f"BT /F1 12 Tf 20 700 Td ({words}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    )
    return out.getvalue()


def _html(text: str) -> bytes:
    body = "".join(f"<p>{line}</p>" for line in text.splitlines())
    return f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>".encode()


def _bad_xml_docx(text: str) -> bytes:
    """A .docx whose document.xml is malformed (python-docx raises lxml's XMLSyntaxError)."""
    good = zipfile.ZipFile(io.BytesIO(_docx(text)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in good.infolist():
            data = good.read(item.filename)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]
            z.writestr(item, data)
    return out.getvalue()


def _mutate(data: bytes, rng: random.Random) -> bytes:
    how = rng.randrange(6)
    if how == 0 and data:  # truncate
        return data[: rng.randrange(len(data))]
    if how == 1 and data:  # flip bytes
        b = bytearray(data)
        for _ in range(rng.randint(1, 40)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if how == 2:  # insert random bytes
        pos = rng.randrange(len(data) + 1)
        return data[:pos] + rng.randbytes(rng.randint(1, 400)) + data[pos:]
    if how == 3:  # random bytes
        return rng.randbytes(rng.randint(0, 4000))
    if how == 4 and data:  # duplicate a slice
        a = rng.randrange(len(data))
        return data[:a] + data[a : a + rng.randint(1, 2000)] * rng.randint(2, 5) + data[a:]
    return data


def _text_variant(text: str, rng: random.Random) -> bytes:
    how = rng.randrange(7)
    if how == 0:
        return text.encode("gbk", "replace")
    if how == 1:
        return b"\xef\xbb\xbf" + text.encode("gbk", "replace")  # a UTF-8 BOM before GBK
    if how == 2:
        return text.encode("utf-16")
    if how == 3:
        return text.encode("big5", "replace")
    if how == 4:  # a long line without punctuation
        return (text[:200] + "法治建设" * rng.randint(1000, 20000)).encode()
    if how == 5:
        return text.replace("。", "!").replace("，", ";").encode()
    return text.encode()


_NAMES = ("报告", "[bold]x[red]", "rép ort", "x" * 120, "😀", "a;b", "年度 (1)")


@dataclass
class Fuzzed:
    name: str
    data: bytes


def generate(seeds: list[tuple[str, str]], n: int, seed: int) -> Iterator[Fuzzed]:
    """`n` fuzzed files made from the (name, text) `seeds`, reproducibly from `seed`."""
    rng = random.Random(seed)
    for i in range(n):
        _, text = rng.choice(seeds)
        suffix = rng.choice(KINDS)
        if suffix in (".txt", ".md"):
            data = _text_variant(text, rng)
        elif suffix == ".html":
            data = _html(text)
        elif suffix == ".docx":
            data = _bad_xml_docx(text) if rng.random() < 0.2 else _docx(text)
        else:
            data = _pdf(text)
        if rng.random() < 0.8:
            data = _mutate(data, rng)
        name = f"fuzz{i:05d}_{rng.choice(_NAMES)}{suffix}"
        yield Fuzzed(name, data)


@dataclass
class Tally:
    files: int = 0
    batches: int = 0
    escaped: list[str] = field(default_factory=list)  # exceptions that left the build
    slow: int = 0  # batches over the time limit
    good_lost: int = 0  # good reports not indexed
    offset_mismatches: int = 0
    skipped: int = 0
    accepted_fuzzed: int = 0
    seconds: float = 0.0


def run_batch(folder: Path, good: list[str], tally: Tally, limit_s: float) -> None:
    """Index `folder` (BM25 only) and check it; counts into `tally`."""
    settings = Settings(embed_model="none", llm_backend="none", read_timeout=20)
    index_dir = folder.parent / (folder.name + "-index")
    t0 = time.perf_counter()
    try:
        summary, _ = build(settings, folder, index_dir)
    except RagError as e:  # a clear error (nothing indexable) is not an escape
        tally.escaped.append(f"{folder.name}: RagError {e}")
        return
    except Exception as e:
        tally.escaped.append(f"{folder.name}: {type(e).__name__}: {e}")
        return
    elapsed = time.perf_counter() - t0
    tally.slow += elapsed > limit_s
    index = open_index(settings, index_dir)
    tally.good_lost += sum(g not in index.reports for g in good)
    tally.skipped += len(summary.skipped)
    tally.accepted_fuzzed += sum(r not in good for r in index.reports)
    for chunk in index.chunks:
        report = index.reports[chunk.source]
        tally.offset_mismatches += report.text[chunk.start : chunk.end] != chunk.text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reports", type=Path, default=PROJECT_ROOT / "data" / "reports")
    ap.add_argument("--work", type=Path, default=Path("/tmp/rag-fuzz"))
    ap.add_argument("--limit", type=float, default=300.0, help="seconds per batch")
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "fuzz.json")
    args = ap.parse_args(argv)
    seeds = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(args.reports.glob("*.txt"))]
    tally = Tally()
    t0 = time.perf_counter()
    files = generate(seeds, args.files, args.seed)
    done = 0
    while done < args.files:
        folder = args.work / f"batch{tally.batches:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in seeds:
            (folder / name).write_text(text, encoding="utf-8")
        for f in (next(files) for _ in range(min(args.batch, args.files - done))):
            (folder / f.name).write_bytes(f.data)
            done += 1
        run_batch(folder, [n for n, _ in seeds], tally, args.limit)
        tally.batches += 1
        tally.files = done
        print(
            f"batch {tally.batches}: {done}/{args.files} files, escaped {len(tally.escaped)}, "
            f"good lost {tally.good_lost}, offsets {tally.offset_mismatches}",
            flush=True,
        )
    tally.seconds = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(tally.__dict__, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(tally.__dict__, ensure_ascii=False, indent=2))
    return 0 if not tally.escaped and not tally.good_lost and not tally.offset_mismatches else 1


if __name__ == "__main__":
    raise SystemExit(main())
