"""The index folder on disk: the manifest, the build folders and the atomic switch between them.

Layout::

    index/CURRENT                 name of the live build (replaced atomically)
    index/builds/<id>/manifest.json
                      reports.jsonl  chunks.jsonl  embeddings.npy  dense.faiss  bm25/

A build is written to a fresh folder; only when it is complete does CURRENT switch to it,
so an interrupted build leaves the previous index in use.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import IndexStoreError
from rag.types import Chunk, Report

FORMAT_VERSION = 2  # bump when chunking or metadata code changes: reused reports would be stale
TOKENIZER = "jieba-search-v1"


@dataclass(frozen=True)
class ReportEntry:
    hash: str  # sha256 of the file's bytes
    title: str
    chunks: int


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: Path) -> Manifest:
        if d.get("format") != FORMAT_VERSION:
            raise IndexStoreError(
                f"index {where} has format {d.get('format')}, this version reads "
                f"{FORMAT_VERSION}; rebuild it with `rag index`"
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
                f"{where / 'manifest.json'} is not a valid manifest ({e}); rebuild the index "
                "with `rag index`"
            ) from e


def current_build(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.exists():
        return None
    folder = index_dir / "builds" / pointer.read_text(encoding="utf-8").strip()
    return folder if (folder / "manifest.json").exists() else None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_manifest_file(folder: Path) -> Manifest:
    d = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return Manifest.from_dict(d, folder)


def read_manifest(index_dir: Path) -> Manifest | None:
    """The live build's manifest, or None when there is no index."""
    folder = current_build(index_dir)
    return None if folder is None else read_manifest_file(folder)


def read_build(folder: Path) -> tuple[Manifest, dict[str, Report], list[Chunk]]:
    manifest = read_manifest_file(folder)
    reports = {r["source"]: Report.from_dict(r) for r in read_jsonl(folder / "reports.jsonl")}
    chunks = [Chunk.from_dict(c) for c in read_jsonl(folder / "chunks.jsonl")]
    return manifest, reports, chunks


def commit(index_dir: Path, write: Callable[[Path], None]) -> Path:
    """Let `write` fill a new build folder, then switch CURRENT to it atomically and drop
    the old builds. If `write` fails, the live build is untouched."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
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
