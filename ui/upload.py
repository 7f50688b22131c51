"""Adding a report from the UI: validate the upload, copy it in, update the index."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import IngestError, RagError, first_line
from rag.factory import SUPPORTED_SUFFIXES, BuildSummary, build, read_report

# what `rag index` reads (scans by OCR among them): one list, the library's
ALLOWED = SUPPORTED_SUFFIXES


class UploadError(RagError):
    """An upload that is refused; the message says why."""


def validate(
    upload: Path, name: str, reports_dir: Path, max_mb: float, settings: Settings | None = None
) -> str:
    """The file name the report will have; raises UploadError naming what is wrong.

    The file must have an allowed type, fit the size limit, not replace an existing report,
    and be readable the way `rag index` reads it (encoding, text layer...)."""
    safe = Path(name).name
    if not safe or safe.startswith(".") or "/" in name or "\\" in name:
        raise UploadError(f"{name!r}：不是单纯的文件名（不能含路径）")
    if Path(safe).suffix.lower() not in ALLOWED:
        raise UploadError(
            f"{safe}：文件类型 {Path(safe).suffix or '（无）'} 不在 {'、'.join(ALLOWED)} 之列"
        )
    size = upload.stat().st_size
    if size > max_mb * 2**20:
        raise UploadError(f"{safe}：{size / 2**20:.1f} MB，超过 {max_mb:g} MB 的上限")
    if size == 0:
        raise UploadError(f"{safe}：文件是空的")
    if (reports_dir / safe).exists():
        raise UploadError(f"{safe}：已有同名报告在索引中")
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / safe
        shutil.copyfile(upload, probe)
        try:
            report = read_report(probe, settings)
        except IngestError as e:
            raise UploadError(f"{safe}：无法读取这份文件（{e}）") from e
    if not report.text.strip():
        raise UploadError(f"{safe}：读不出任何文字")
    return safe


BUILD_WAIT = 300.0
NICENESS = 10  # the build yields the cores to the server's answers


def _build_child(settings: Settings, reports_dir: Path, index_dir: Path, conn: Any) -> None:
    """In a child process at lower priority: the build, its progress and its end."""
    os.nice(NICENESS)
    try:
        summary, _ = build(
            settings, reports_dir, index_dir,
            lambda stage, i, n: conn.send(("progress", (stage, i, n))), wait=BUILD_WAIT,
        )  # fmt: skip
        conn.send(("ok", summary))
    except RagError as e:
        conn.send(("error", str(e)))
    except Exception as e:  # any library's error: the upload is refused with it
        conn.send(("error", f"建索引出错（{first_line(e)}）"))
    finally:
        conn.close()


def build_behind(
    settings: Settings,
    reports_dir: Path,
    index_dir: Path,
    progress: Callable[[str, int, int], None] | None = None,
) -> BuildSummary:
    """The index update an upload needs, in a fresh child process at lower priority, outside
    the server's workers: its encoder and jieba never hold the server's interpreter, and the
    server goes on answering (the live index is replaced only when the build is complete)."""
    ctx = multiprocessing.get_context("spawn")  # the server runs threads: never fork it
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_build_child, args=(settings, reports_dir, index_dir, child))
    proc.start()
    child.close()
    try:
        while True:
            try:
                kind, value = parent.recv()
            except EOFError as e:
                raise UploadError(f"建索引的进程意外退出（退出码 {proc.exitcode}）") from e
            if kind == "progress" and progress is not None:
                progress(*value)
            elif kind == "ok":
                return value  # type: ignore[no-any-return]
            elif kind == "error":
                raise UploadError(value)
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
        parent.close()


def add_report(
    upload: Path,
    name: str,
    settings: Settings,
    reports_dir: Path,
    index_dir: Path,
    max_mb: float,
    progress: Callable[[str, int, int], None] | None = None,
) -> BuildSummary:
    """Validate, copy into `reports_dir` (atomically) and update the index incrementally
    (queued up to BUILD_WAIT seconds behind another build). If the index update fails, the
    copied file is removed again."""
    safe = validate(upload, name, reports_dir, max_mb, settings)
    target = reports_dir / safe
    partial = reports_dir / f".{safe}.uploading"
    shutil.copyfile(upload, partial)
    os.replace(partial, target)
    try:
        summary = build_behind(settings, reports_dir, index_dir, progress)
    except RagError:
        target.unlink(missing_ok=True)
        raise
    why = next((reason for f, reason in summary.skipped if f == safe), None)
    if why is not None:  # the build skipped it: it leaves the folder, or every build reads it
        target.unlink(missing_ok=True)
        raise UploadError(f"{safe}：建索引时跳过（{why}），已从报告文件夹移除")
    return summary
