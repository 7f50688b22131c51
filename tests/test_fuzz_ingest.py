"""One bad file never stops a build: fuzzed files of every type (the fast tier of
`python -m eval.fuzz`), special entries of the reports folder, size and line limits."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from conftest import SAMPLES
from eval.fuzz import generate
from rag.index.build import build_index
from rag.index.store import load_index
from rag.ingest.chunk import ChunkerSettings, chunk_report
from rag.ingest.reader import DEFAULT_LIMITS, ReadLimits, load_report, survey

GOOD = sorted(p.name for p in SAMPLES.glob("*.txt"))


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in GOOD:
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def _check(
    folder: Path, index_dir: Path, limits: ReadLimits = DEFAULT_LIMITS
) -> list[tuple[str, str]]:
    summary = build_index(folder, index_dir, None, ChunkerSettings(), limits=limits)
    index = load_index(index_dir)
    assert set(GOOD) <= set(index.reports), "a good report was lost"
    for chunk in index.chunks:
        assert index.reports[chunk.source].text[chunk.start : chunk.end] == chunk.text
    return summary.skipped


@pytest.mark.parametrize("seed", [1, 2])
def test_fuzzed_files_are_skipped_with_a_reason_and_good_reports_indexed(
    tmp_path: Path, seed: int
) -> None:
    folder = _folder(tmp_path)
    seeds = [(n, (SAMPLES / n).read_text(encoding="utf-8")) for n in GOOD]
    fuzzed = list(generate(seeds, 40, seed))
    for f in fuzzed:
        (folder / f.name).write_bytes(f.data)
    skipped = _check(folder, tmp_path / "index", ReadLimits(seconds=20))
    assert all(reason.strip() for _, reason in skipped)
    assert {name for name, _ in skipped} <= {f.name for f in fuzzed}


def test_special_entries_are_skipped_and_named(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "folder.txt").mkdir()
    os.mkfifo(folder / "pipe.txt")
    (folder / ".hidden.txt").write_text("x", encoding="utf-8")
    (folder / "big.txt").write_bytes(("法治" * 600_000).encode())
    os.close(os.open(bytes(folder) + b"/\xff\xfe-name.txt", os.O_CREAT | os.O_WRONLY))
    files, skipped = survey(folder, ReadLimits(max_bytes=2 * 1024 * 1024))
    reasons = dict(skipped)
    assert sorted(p.name for p in files) == GOOD
    assert all(re.search(r"[\u4e00-\u9fff]", why) for why in reasons.values()), reasons
    assert "符号链接" in reasons["passwd.txt"]
    assert "文件夹" in reasons["folder.txt"]
    assert "不是普通文件" in reasons["pipe.txt"]
    assert "隐藏文件" in reasons[".hidden.txt"]
    assert "MB 的上限" in reasons["big.txt"]
    assert "不是有效的 UTF-8" in reasons["\\xff\\xfe-name.txt"]
    # and the build goes on past all of them
    _check(folder, tmp_path / "index", ReadLimits(max_bytes=2 * 1024 * 1024))


def test_a_long_line_without_punctuation_is_chunked_in_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.ingest.chunk

    path = tmp_path / "long.txt"
    path.write_text("瓦屋镇2023年法治政府建设情况的报告\n" + "法治建设" * 100_000, encoding="utf-8")
    report = load_report(path)
    counted = [0]
    real = rag.ingest.chunk.count_tokens

    def counting(text: str, encoding: str) -> int:
        counted[0] += len(text)
        return real(text, encoding)

    monkeypatch.setattr(rag.ingest.chunk, "count_tokens", counting)
    chunks = chunk_report(report, ChunkerSettings())
    # characters tokenised per character of the report: 8 now; the quadratic split counted
    # the whole rest of the line at every cut (hundreds per character at this length)
    assert counted[0] <= 20 * len(report.text)
    assert all(report.text[c.start : c.end] == c.text for c in chunks)


def test_a_reader_that_hangs_is_stopped_at_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.index.reading

    folder = _folder(tmp_path)
    (folder / "slow.docx").write_bytes(b"PK not really a docx")
    real = rag.index.reading.read_and_chunk

    def hang(path: Path, chunker: ChunkerSettings, progress=None):  # type: ignore[no-untyped-def]
        if path.suffix == ".docx":
            time.sleep(60)
        return real(path, chunker, progress)

    monkeypatch.setattr(rag.index.reading, "read_and_chunk", hang)
    skipped = dict(_check(folder, tmp_path / "index", ReadLimits(seconds=1)))
    # killed at the limit: left to finish, the child would report an unreadable .docx instead
    assert "读取超过 1 秒" in skipped["slow.docx"]


def test_a_reader_error_of_any_kind_is_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.index.reading

    folder = _folder(tmp_path)
    (folder / "odd.txt").write_text("瓦屋镇" * 100, encoding="utf-8")
    real = rag.index.reading.read_and_chunk

    def boom(path: Path, chunker: ChunkerSettings, progress=None):  # type: ignore[no-untyped-def]
        if path.name == "odd.txt":
            raise KeyError("summary")
        return real(path, chunker, progress)

    monkeypatch.setattr(rag.index.reading, "read_and_chunk", boom)
    skipped = dict(_check(folder, tmp_path / "index"))
    assert skipped["odd.txt"] == "无法读取（KeyError：'summary'）"


def test_the_reader_memory_limit_is_on_top_of_what_the_parent_already_maps(
    tmp_path: Path,
) -> None:
    """A process that has loaded its models maps more than a reader's limit: the forked
    reader still gets its own allowance (a broken PDF once came back as SystemError)."""
    import docx
    import numpy as np

    from rag.index.reading import read_isolated

    ballast = np.ones(300 * 1024**2 // 8)  # the parent maps 300 MB more than the limit below
    document = docx.Document()
    document.add_paragraph("瓦屋镇2023年法治政府建设工作报告")
    document.add_paragraph("全年开展法治宣传活动15场次。")
    document.save(str(tmp_path / "r.docx"))
    report, chunks = read_isolated(
        tmp_path / "r.docx", ChunkerSettings(), ReadLimits(memory_bytes=200 * 1024**2)
    )
    assert "15场次" in report.text and chunks
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 junk")
    with pytest.raises(Exception, match="不是可读的 .pdf 文件"):
        read_isolated(
            tmp_path / "broken.pdf", ChunkerSettings(), ReadLimits(memory_bytes=200 * 1024**2)
        )
    assert ballast[-1] == 1.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_text_that_decodes_to_junk_is_skipped_with_the_reason(tmp_path: Path, seed: int) -> None:
    """Characters strung at random (common ones, valid UTF-8 and GBK) read as a report would
    outrank real reports in search: skipped, with the reason; the real reports are not."""
    import random

    from rag.errors import IngestError
    from rag.ingest.reader import load_report

    r = random.Random(seed)
    common = [c for c in map(chr, range(0x4E00, 0x9FA6)) if len(c.encode("gb2312", "ignore")) == 2]
    junk = "".join(r.choice(common) + ("。" if r.random() < 0.05 else "") for _ in range(3000))
    for name, data in (("junk-utf8.txt", junk.encode()), ("junk-gbk.txt", junk.encode("gbk"))):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(IngestError, match="连不成词"):
            load_report(tmp_path / name)
    for p in sorted(SAMPLES.iterdir()):
        assert load_report(p).text


def test_a_report_in_traditional_characters_is_not_junk(tmp_path: Path) -> None:
    import opencc

    from rag.ingest.reader import load_report

    text = (SAMPLES / "000_4e493ef760f0cb20.txt").read_text(encoding="utf-8")
    traditional = opencc.OpenCC("s2t").convert(text)
    (tmp_path / "tw.txt").write_text(traditional, encoding="utf-8")
    report = load_report(tmp_path / "tw.txt")  # judged after conversion: not junk
    assert "水口" in report.text and len(report.text) >= len(traditional) - 5


def test_a_docx_that_inflates_past_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import zipfile

    import docx

    import rag.ingest.tables
    from rag.errors import IngestError
    from rag.ingest.reader import load_report

    doc = docx.Document()
    doc.add_paragraph("瓦屋镇2025年法治政府建设情况报告。开展普法活动15次，覆盖群众2000余人。")
    plain = io.BytesIO()
    doc.save(plain)
    (tmp_path / "ok.docx").write_bytes(plain.getvalue())
    monkeypatch.setattr(rag.ingest.tables, "MAX_UNZIPPED", 2 * 1024 * 1024)
    assert "普法活动15次" in load_report(tmp_path / "ok.docx").text
    bomb = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + b"<w:p/>" * 500_000)
            out.writestr(item, data)
    (tmp_path / "bomb.docx").write_bytes(bomb.getvalue())
    assert (tmp_path / "bomb.docx").stat().st_size < 100_000
    with pytest.raises(IngestError, match=r"bomb\.docx.*解压后有 \d+ MB，超过 2 MB 的上限"):
        load_report(tmp_path / "bomb.docx")
