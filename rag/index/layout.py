"""The index folder on disk: the manifest, the build folders and the atomic switch between them.

Layout::

    index/CURRENT                 name of the live build (replaced atomically)
    index/builds/<id>/manifest.json                  which segment holds each report
                      segments/<seg>/reports.jsonl chunks.jsonl tokens.jsonl embeddings.npy
                      bm25/segments.json  bm25/<seg>/   the BM25 postings of each segment
                      dense.faiss

A build is written to a fresh folder; only when it is complete does CURRENT switch to it,
so an interrupted build leaves the previous index in use. A full build writes one segment;
an update writes the changed reports as a new segment and hard-links the files of the old
ones into the new build folder, where the reports it replaced or removed are no longer live
(the manifest names the segment of each live report).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rag.errors import IndexStoreError, first_line
from rag.types import Chunk, Report

FORMAT_VERSION = 7  # bump when chunking or metadata code changes: reused reports would be stale
TOKENIZER = "jieba-search-v1"


@dataclass(frozen=True)
class ReportEntry:
    hash: str  # sha256 of the file's bytes
    title: str
    chunks: int
    segment: str = ""  # the segment holding its chunks
    first: int = 0  # position of its first chunk in that segment
    places: list[str] = field(default_factory=list)  # its place names (tokenizer words)


@dataclass(frozen=True)
class Manifest:
    """manifest.json: how a build was made and what it holds."""

    embed_model: str  # LEXICAL: BM25 only
    dim: int
    chunker: dict[str, Any]
    tokenizer_words: list[str]
    reports_dir: str
    n_chunks: int
    reports: dict[str, ReportEntry]
    skipped: list[dict[str, str]] = field(default_factory=list)
    created: str = ""
    format: int = FORMAT_VERSION
    tokenizer: str = TOKENIZER
    query_instruction: str = ""  # the prefix queries get (the model's own, or the setting)
    store: str = "faiss"  # "milvus": the build folder's *-milvus.json point to the collections
    segments: list[str] = field(default_factory=list)  # in row order

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: Path) -> Manifest:
        if d.get("format") != FORMAT_VERSION:
            raise IndexStoreError(
                f"索引 {where} 的格式是 {d.get('format')}，本版本读取格式 "
                f"{FORMAT_VERSION}；{REBUILD}"
            )
        try:
            return cls(
                **{
                    **{k: v for k, v in d.items() if k in cls.__dataclass_fields__},
                    "reports": {s: ReportEntry(**e) for s, e in d["reports"].items()},
                }
            )
        except (KeyError, TypeError) as e:
            raise IndexStoreError(
                f"{where / 'manifest.json'} 不是有效的索引清单（{e}）；{REBUILD}"
            ) from e


def current_build(index_dir: Path, damaged_ok: bool = False) -> Path | None:
    """The live build folder, or None when there is none. A damaged CURRENT pointer (not
    text, not a build's name) is an IndexStoreError naming it, or None with `damaged_ok`
    (a build, which replaces it)."""
    pointer = index_dir / "CURRENT"
    if not pointer.exists():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ValueError(f"{name[:40]!r} 不是一次构建的名字")
    except (UnicodeDecodeError, ValueError, OSError) as e:
        if damaged_ok:
            return None
        raise IndexStoreError(
            f"索引指针文件 {pointer} 已损坏（{first_line(e)[:80]}）；{REBUILD}"
        ) from e
    folder = index_dir / "builds" / name
    return folder if (folder / "manifest.json").exists() else None


REBUILD = "请用 `rag index` 重建索引"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file; IndexStoreError names the file and line when damaged."""
    rows, n = [], 0
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                n += 1
                if not line.strip():
                    continue
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
                rows.append(row)
    except FileNotFoundError as e:
        raise IndexStoreError(f"索引文件 {path} 不存在；{REBUILD}") from e
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise IndexStoreError(
            f"索引文件 {path} 第 {max(n, 1)} 行已损坏：{first_line(e)}；{REBUILD}"
        ) from e
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_manifest_file(folder: Path) -> Manifest:
    path = folder / "manifest.json"
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        return Manifest.from_dict(d, folder)
    except FileNotFoundError as e:
        raise IndexStoreError(f"索引文件 {path} 不存在；{REBUILD}") from e
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise IndexStoreError(f"索引文件 {path} 已损坏：{first_line(e)}；{REBUILD}") from e


def read_manifest(index_dir: Path) -> Manifest | None:
    """The live build's manifest, or None when there is no index."""
    folder = current_build(index_dir)
    return None if folder is None else read_manifest_file(folder)


SEGMENTS = "segments"


def segment_folder(folder: Path, name: str) -> Path:
    return folder / SEGMENTS / name


def read_build(folder: Path) -> tuple[Manifest, dict[str, Report], list[Chunk]]:
    """The manifest, live reports and chunks of a build (segment by segment, in row order),
    checked against each other: a damaged or foreign file is an IndexStoreError naming it
    (and the fix), never a traceback."""
    manifest = read_manifest_file(folder)
    reports: list[Report] = []
    chunks: list[Chunk] = []
    for name in manifest.segments:
        seg = segment_folder(folder, name)
        live = {s for s, e in manifest.reports.items() if e.segment == name}
        reports += [r for r in _rows(seg / "reports.jsonl", Report.from_dict) if r.source in live]
        chunks += [c for c in _rows(seg / "chunks.jsonl", Chunk.from_dict) if c.source in live]
    by_source = {r.source: r for r in reports}
    problems = []
    if len(chunks) != manifest.n_chunks:
        problems.append(
            f"the segments' chunks.jsonl hold {len(chunks)} live chunks, the manifest says "
            f"{manifest.n_chunks}"
        )
    missing = sorted(set(manifest.reports) - set(by_source))
    if missing:
        problems.append(f"the manifest names report(s) missing from reports.jsonl: {missing[:3]}")
    orphans = sorted({c.source for c in chunks} - set(by_source))
    if orphans:
        problems.append(f"chunks.jsonl has chunks of unknown report(s): {orphans[:3]}")
    bad = next(
        (
            c
            for c in chunks
            if c.source in by_source and by_source[c.source].text[c.start : c.end] != c.text
        ),
        None,
    )
    if bad is not None:
        problems.append(f"{bad.source} 的一个段落（{bad.start}-{bad.end}）与报告原文不符")
    if problems:
        raise IndexStoreError(f"索引 {folder} 前后不一致：{'；'.join(problems)}；{REBUILD}")
    return manifest, by_source, chunks


T = TypeVar("T")


def _rows(path: Path, parse: Callable[[dict[str, Any]], T]) -> list[T]:
    out = []
    for n, row in enumerate(read_jsonl(path), start=1):
        try:
            out.append(parse(row))
        except (KeyError, TypeError, ValueError) as e:
            raise IndexStoreError(
                f"索引文件 {path} 第 {n} 行不是有效的条目（{first_line(e)}）；{REBUILD}"
            ) from e
    return out


@contextmanager
def build_lock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """One build of `index_dir` at a time, across processes (a lock file in the folder):
    another build waits up to `wait` seconds, then is refused with who holds the lock."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    owner = index_dir / "build.owner"
    lock = FileLock(index_dir / "build.lock")
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        try:
            who = owner.read_text(encoding="utf-8").strip()
        except OSError:
            who = "另一个进程"
        raise IndexStoreError(
            f"{index_dir} 正由 {who or '另一个进程'} 建索引，本次未做任何改动。"
            "请等它结束后再运行，或用 `rag index --wait 秒数` 排队等候"
        ) from None
    try:
        owner.write_text(
            f"进程 {os.getpid()}（{time.strftime('%Y-%m-%d %H:%M:%S')} 起）", encoding="utf-8"
        )
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def commit(index_dir: Path, write: Callable[[Path], None]) -> Path:
    """Let `write` fill a new build folder, then switch CURRENT to it atomically and drop
    the old builds. If `write` fails, the live build is untouched."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = new_id()
    tmp = builds / f".{build_id}.tmp"
    tmp.mkdir()
    try:
        write(tmp)
        os.replace(tmp, builds / build_id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer_tmp = index_dir / f".CURRENT.{build_id}"
    pointer_tmp.write_text(build_id + "\n", encoding="utf-8")
    os.replace(pointer_tmp, index_dir / "CURRENT")
    for old in builds.iterdir():
        if old.name != build_id:
            shutil.rmtree(old, ignore_errors=True)
    return builds / build_id


def link_file(src: Path, dst: Path) -> None:
    """`src` hard-linked as `dst` (copied where links are not possible). Build files are
    never written in place, so a link shared by two builds is never changed."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def link_tree(src: Path, dst: Path) -> None:
    """Every file of `src` linked into `dst`: an update keeps the unchanged segments of the
    live build without rewriting them."""
    for path in src.rglob("*"):
        if path.is_dir():
            (dst / path.relative_to(src)).mkdir(parents=True, exist_ok=True)
        else:
            link_file(path, dst / path.relative_to(src))


def new_id() -> str:
    """A name for a build or a segment: its time, then a random part."""
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
