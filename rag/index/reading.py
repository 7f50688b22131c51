"""Reading the report files of a build: each file hashed, read and chunked (a .docx, .pdf or
.html in a child process under a time and memory limit), one that cannot be read skipped with
its reason while the others are read."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import IngestError, first_line
from rag.ingest.chunk import ChunkerSettings, chunk_report
from rag.ingest.ocr import PageProgress
from rag.ingest.reader import (
    DEFAULT_LIMITS,
    TEXT_SUFFIXES,
    ReadLimits,
    load_report,
    may_need_ocr,
)
from rag.types import Chunk, Report

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_and_chunk(
    path: Path, chunker: ChunkerSettings, progress: PageProgress | None = None
) -> tuple[Report, list[Chunk]]:
    return (report := load_report(path, progress)), chunk_report(report, chunker)


def _child(conn, path: Path, chunker: ChunkerSettings, memory: int) -> None:  # type: ignore[no-untyped-def]
    try:
        # on top of what the forked child already maps: a parent that has loaded its models
        # (or a test run's) may map more than the limit itself
        limit = _mapped() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        def page_read(done: int, total: int) -> None:  # each page OCR reads: the parent waits on
            conn.send(("page", (done, total)))

        conn.send(("ok", read_and_chunk(path, chunker, page_read)))
    except IngestError as e:
        conn.send(("skip", e.reason))
    except BaseException as e:  # any reader library's error: the build goes on without it
        conn.send(("skip", _one_line(e)))
    finally:
        conn.close()


def _mapped() -> int:
    """Bytes of address space this process maps now (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _one_line(e: BaseException) -> str:
    text = first_line(e) if str(e) else ""
    return f"无法读取（{type(e).__name__}{'：' + text if text else ''}）"


def read_isolated(
    path: Path, chunker: ChunkerSettings, limits: ReadLimits, progress: PageProgress | None = None
) -> tuple[Report, list[Chunk]]:
    """Read and chunk one file. A .docx/.pdf/.html or a scan is parsed in a child process
    with a time and memory limit (killed at the limit; each page OCR reads gets the time
    limit anew, and is told to `progress`); any error of any reader becomes an IngestError
    naming the file."""
    if path.suffix.lower() in TEXT_SUFFIXES:
        try:
            return _capped(path, read_and_chunk(path, chunker), limits)
        except (IngestError, OSError):
            raise
        except (Exception, RecursionError, MemoryError) as e:
            raise IngestError(path.name, _one_line(e)) from e
    # Once a Milvus client has started grpc's threads in this process (the app serving a
    # Milvus index rebuilds after an upload), a forked child can break inside grpc: start
    # the reader from a clean server process instead.
    if "grpc" in sys.modules:
        ctx: Any = multiprocessing.get_context("forkserver")
    else:
        ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    memory = max(limits.memory_bytes, limits.ocr_memory_bytes if may_need_ocr(path) else 0)
    proc = ctx.Process(target=_child, args=(child, path, chunker, memory))
    proc.start()
    child.close()
    try:
        while True:
            if not parent.poll(limits.seconds):
                raise IngestError(path.name, f"读取超过 {limits.seconds:.0f} 秒，已跳过")
            try:
                kind, value = parent.recv()
            except (EOFError, OSError) as e:
                raise IngestError(path.name, "读取程序崩溃（内存不足？）") from e
            if kind != "page":
                break
            if progress is not None:
                progress(*value)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        parent.close()
    if kind == "skip":
        raise IngestError(path.name, value)
    return _capped(path, value, limits)


def _capped(
    path: Path, read: tuple[Report, list[Chunk]], limits: ReadLimits
) -> tuple[Report, list[Chunk]]:
    if len(read[1]) > limits.max_chunks:
        raise IngestError(
            path.name, f"切出 {len(read[1])} 个段落，超过每份报告 {limits.max_chunks} 个的上限"
        )
    return read


def _pages(progress: Progress | None) -> PageProgress | None:
    """A file's OCR pages as the build's progress ("ocr", pages done, pages)."""
    if progress is None:
        return None
    return lambda done, total: progress("ocr", done, total)


@dataclass
class Read:
    """The reports of one build's files, their chunks and file hashes, and what happened to
    each file: reused from the previous build, read anew, or skipped (with why)."""

    reports: list[Report] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def read_all(
    files: list[Path],
    prev_reports: dict[str, tuple[Report, list[Chunk]]],
    chunker: ChunkerSettings,
    progress: Progress | None,
    limits: ReadLimits = DEFAULT_LIMITS,
    fresh: dict[str, tuple[Report, list[Chunk]]] | None = None,
) -> Read:
    """Every file read and chunked (a file the previous build read, by its hash, is reused;
    one this build has read already, in `fresh`, is not read again); one that cannot be read
    is skipped with its reason, and the others are read."""
    out = Read()
    reports, chunks, hashes = out.reports, out.chunks, out.hashes
    for i, path in enumerate(files):
        if progress:
            progress("read", i, len(files))
        try:
            digest = file_hash(path)
            if digest in prev_reports and prev_reports[digest][0].source == path.name:
                report, report_chunks = prev_reports[digest]
                out.reused.append(path.name)
            elif fresh and digest in fresh and fresh[digest][0].source == path.name:
                report, report_chunks = fresh[digest]  # read by the update this build gave up
                out.new.append(path.name)
            else:
                report, report_chunks = read_isolated(path, chunker, limits, _pages(progress))
                out.new.append(path.name)
        except IngestError as e:
            out.skipped.append((path.name, e.reason))
            logger.warning("skipped %s", e)
            continue
        except OSError as e:
            out.skipped.append((path.name, f"cannot read the file ({e.strerror or e})"))
            continue
        if not report_chunks:
            out.skipped.append((path.name, "no report text left after cleaning"))
            continue
        hashes[path.name] = digest
        reports.append(report)
        chunks.extend(report_chunks)
    return out
