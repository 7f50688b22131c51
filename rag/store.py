"""The index folder: build (incremental, atomic) and load.

Layout::

    index/CURRENT                 name of the live build (replaced atomically)
    index/builds/<id>/manifest.json
                      reports.jsonl  chunks.jsonl  embeddings.npy  dense.faiss  bm25/

A build is written to a fresh folder; only when it is complete does CURRENT switch to it,
so an interrupted build leaves the previous index in use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunk import ChunkerSettings, chunk_report
from rag.dense import DenseIndex
from rag.embed import LEXICAL, Embedder
from rag.errors import IndexStoreError, IngestError
from rag.ingest import discover, load_report
from rag.sparse import BM25Index, JiebaTokenizer
from rag.types import Chunk, Report

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # bump when chunking or metadata code changes: reused reports would be stale
TOKENIZER = "jieba-search-v1"


@dataclass
class BuildSummary:
    index_dir: Path
    reports: int = 0
    chunks: int = 0
    reused_reports: list[str] = field(default_factory=list)
    new_reports: list[str] = field(default_factory=list)
    removed_reports: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    embedded: int = 0
    reused_embeddings: int = 0
    seconds: float = 0.0


@dataclass
class LoadedIndex:
    folder: Path
    manifest: dict[str, Any]
    reports: dict[str, Report]
    chunks: list[Chunk]
    bm25: BM25Index
    dense: DenseIndex | None
    chunk_report_ids: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        order = {s: i for i, s in enumerate(self.reports)}
        self.chunk_report_ids = np.array([order[c.source] for c in self.chunks], dtype=np.int32)

    @property
    def embed_model(self) -> str:
        return str(self.manifest["embed_model"])


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def place_words(reports: list[Report]) -> list[str]:
    """Place names of the reports, added to jieba so 水口镇 stays one token."""
    words: set[str] = set()
    for r in reports:
        for name in r.meta.places.names():
            words.add(name)
    return sorted(words)


def _current_build(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.exists():
        return None
    folder = index_dir / "builds" / pointer.read_text(encoding="utf-8").strip()
    return folder if (folder / "manifest.json").exists() else None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    folder = _current_build(index_dir)
    if folder is None:
        return None
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def load_index(index_dir: Path) -> LoadedIndex:
    folder = _current_build(index_dir)
    if folder is None:
        raise IndexStoreError(
            f"no index in {index_dir}; build it with `rag index --index {index_dir}`"
        )
    manifest, reports, chunks = _read_build(folder)
    tokenizer = JiebaTokenizer(manifest.get("tokenizer_words", []))
    bm25 = BM25Index.load(folder / "bm25", tokenizer)
    dense = DenseIndex.load(folder / "dense.faiss") if (folder / "dense.faiss").exists() else None
    return LoadedIndex(folder, manifest, reports, chunks, bm25, dense)


def _read_build(folder: Path) -> tuple[dict[str, Any], dict[str, Report], list[Chunk]]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexStoreError(
            f"index {folder} has format {manifest.get('format')}, this version "
            f"reads {FORMAT_VERSION}; rebuild it with `rag index`"
        )
    reports = {r["source"]: Report.from_dict(r) for r in _read_jsonl(folder / "reports.jsonl")}
    chunks = [Chunk.from_dict(c) for c in _read_jsonl(folder / "chunks.jsonl")]
    return manifest, reports, chunks


def _previous(
    index_dir: Path, embed_model: str, chunker: ChunkerSettings
) -> tuple[dict[str, tuple[Report, list[Chunk]]], dict[str, np.ndarray]]:
    """Reusable parts of the live index: reports+chunks by file hash, vectors by chunk id."""
    folder = _current_build(index_dir)
    if folder is None:
        return {}, {}
    try:
        manifest, reports, chunks = _read_build(folder)
        by_source: dict[str, list[Chunk]] = {}
        for c in chunks:
            by_source.setdefault(c.source, []).append(c)
        by_report: dict[str, tuple[Report, list[Chunk]]] = {}
        if manifest.get("chunker") == asdict(chunker):
            for source, info in manifest["reports"].items():
                if source in reports:
                    by_report[info["hash"]] = (reports[source], by_source.get(source, []))
        vectors: dict[str, np.ndarray] = {}
        if manifest.get("embed_model") == embed_model and (folder / "embeddings.npy").exists():
            matrix = np.load(folder / "embeddings.npy", allow_pickle=False)
            vectors = {c.id: matrix[i] for i, c in enumerate(chunks)}
        return by_report, vectors
    except (OSError, ValueError, KeyError, IndexStoreError) as e:
        logger.warning("previous index in %s unreadable (%s); rebuilding from scratch", folder, e)
        return {}, {}


def build_index(
    reports_dir: Path,
    index_dir: Path,
    embedder: Embedder | None,
    chunker: ChunkerSettings,
    progress: Callable[[str, int, int], None] | None = None,
) -> BuildSummary:
    """Index every report in `reports_dir` into `index_dir`, reusing unchanged work."""
    t0 = time.perf_counter()
    summary = BuildSummary(index_dir=index_dir)
    embed_model = embedder.name if embedder else LEXICAL
    prev_reports, prev_vectors = _previous(index_dir, embed_model, chunker)
    old_manifest = read_manifest(index_dir) or {}
    files = discover(reports_dir)
    reports: list[Report] = []
    chunks: list[Chunk] = []
    hashes: dict[str, str] = {}
    for i, path in enumerate(files):
        if progress:
            progress("read", i, len(files))
        try:
            digest = file_hash(path)
            if digest in prev_reports and prev_reports[digest][0].source == path.name:
                report, report_chunks = prev_reports[digest]
                summary.reused_reports.append(path.name)
            else:
                report = load_report(path)
                report_chunks = chunk_report(report, chunker)
                summary.new_reports.append(path.name)
        except IngestError as e:
            summary.skipped.append((path.name, e.reason))
            logger.warning("skipped %s", e)
            continue
        except OSError as e:
            summary.skipped.append((path.name, str(e)))
            continue
        if not report_chunks:
            summary.skipped.append((path.name, "no report text left after cleaning"))
            continue
        hashes[path.name] = digest
        reports.append(report)
        chunks.extend(report_chunks)
    if not reports:
        raise IndexStoreError(
            f"nothing could be indexed in {reports_dir} "
            f"({len(summary.skipped)} file(s) skipped); the previous index is unchanged"
        )
    summary.removed_reports = sorted(set(old_manifest.get("reports", {})) - set(hashes))

    matrix = None
    if embedder is not None:
        missing = [i for i, c in enumerate(chunks) if c.id not in prev_vectors]
        summary.embedded, summary.reused_embeddings = len(missing), len(chunks) - len(missing)
        new_vecs: dict[int, np.ndarray] = {}
        batch = 64
        for b in range(0, len(missing), batch):
            if progress:
                progress("embed", b, len(missing))
            ids = missing[b : b + batch]
            for j, v in zip(
                ids, embedder.embed_documents([chunks[j].index_text for j in ids]), strict=True
            ):
                new_vecs[j] = v
        matrix = np.stack(
            [new_vecs[i] if i in new_vecs else prev_vectors[c.id] for i, c in enumerate(chunks)]
        ).astype(np.float32)

    words = place_words(reports)
    bm25 = BM25Index.build([c.index_text for c in chunks], JiebaTokenizer(words))
    manifest = {
        "format": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "embed_model": embed_model,
        "dim": int(matrix.shape[1]) if matrix is not None else 0,
        "chunker": asdict(chunker),
        "tokenizer": TOKENIZER,
        "tokenizer_words": words,
        "reports_dir": str(reports_dir),
        "n_chunks": len(chunks),
        "reports": {
            r.source: {
                "hash": hashes[r.source],
                "title": r.meta.title,
                "chunks": sum(c.source == r.source for c in chunks),
            }
            for r in reports
        },
        "skipped": [{"file": f, "reason": why} for f, why in summary.skipped],
    }
    _commit(index_dir, manifest, reports, chunks, matrix, bm25)
    summary.reports, summary.chunks = len(reports), len(chunks)
    summary.seconds = time.perf_counter() - t0
    return summary


def _commit(
    index_dir: Path,
    manifest: dict[str, Any],
    reports: list[Report],
    chunks: list[Chunk],
    matrix: np.ndarray | None,
    bm25: BM25Index,
) -> None:
    """Write a new build folder, then switch CURRENT to it atomically and drop old builds."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    tmp = builds / f".{build_id}.tmp"
    tmp.mkdir()
    try:
        _write_jsonl(tmp / "reports.jsonl", [r.to_dict() for r in reports])
        _write_jsonl(tmp / "chunks.jsonl", [c.to_dict() for c in chunks])
        if matrix is not None:
            np.save(tmp / "embeddings.npy", matrix, allow_pickle=False)
            DenseIndex.build(matrix).save(tmp / "dense.faiss")
        (tmp / "bm25").mkdir()
        bm25.save(tmp / "bm25")
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
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
