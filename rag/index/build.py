"""Build or update the index folder: read, chunk, embed and index only what changed."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rag.contracts import Embedder
from rag.errors import IndexStoreError
from rag.index.backends import ChangeSet, FaissBackend, IndexBackend, Written
from rag.index.embed import LEXICAL
from rag.index.layout import (
    TOKENIZER,
    Manifest,
    ReportEntry,
    build_lock,
    commit,
    current_build,
    link_tree,
    new_id,
    read_manifest,
    segment_folder,
    write_jsonl,
)
from rag.index.reading import Progress, file_hash
from rag.index.reuse import (
    BuildSummary,
    embed_chunks,
    previous_parts,
    previous_tokens,
    read_reports,
    sentence_vectors,
)
from rag.index.sentvec import write as write_sentences
from rag.index.sparse import BM25Store, JiebaTokenizer, segment_counts, update_segments
from rag.ingest.chunk import ChunkerSettings
from rag.ingest.reader import DEFAULT_LIMITS, ReadLimits, survey
from rag.types import Chunk, Report

logger = logging.getLogger(__name__)

# An update adds a segment; past these, the next build writes one segment again.
MAX_SEGMENTS = 8
MAX_DEAD_SHARE = 0.25  # chunks of replaced reports still in the segments' files


@dataclass(frozen=True)
class _Job:
    """What one build is asked: the folders, the embedder, chunker, read limits and store."""

    reports_dir: Path
    index_dir: Path
    embedder: Embedder | None
    chunker: ChunkerSettings
    progress: Progress | None
    limits: ReadLimits
    store: IndexBackend

    @property
    def embed_model(self) -> str:
        return self.embedder.name if self.embedder else LEXICAL

    def manifest(
        self,
        summary: BuildSummary,
        *,
        query_instruction: str,
        dim: int,
        words: list[str],
        entries: dict[str, ReportEntry],
        n_chunks: int,
        segments: list[str],
    ) -> Manifest:
        """The manifest of the build this job writes."""
        return Manifest(
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            embed_model=self.embed_model,
            query_instruction=query_instruction,
            dim=dim,
            chunker=asdict(self.chunker),
            tokenizer_words=words,
            reports_dir=str(self.reports_dir),
            n_chunks=n_chunks,
            reports=entries,
            skipped=[{"file": f, "reason": why} for f, why in summary.skipped],
            segments=segments,
            store=self.store.name,
        )


def place_words(reports: list[Report]) -> list[str]:
    """Place names of the reports, added to jieba so 水口镇 stays one token."""
    return sorted({name for r in reports for name in r.meta.places.names()})


def build_index(
    reports_dir: Path,
    index_dir: Path,
    embedder: Embedder | None,
    chunker: ChunkerSettings,
    progress: Progress | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    lock_wait: float = 0.0,
    store: IndexBackend | None = None,
) -> BuildSummary:
    """Index every report in `reports_dir` into `index_dir`, reusing unchanged work. A file
    that cannot be read is skipped with its reason; the others are indexed. One build of a
    folder at a time: another waits up to `lock_wait` seconds, then is refused. The search
    rows go to `store` (rag.index.backends; default: the local FAISS and BM25 files)."""
    with build_lock(index_dir, lock_wait):
        backend = store or FaissBackend()
        job = _Job(reports_dir, index_dir, embedder, chunker, progress, limits, backend)
        return _build(job)


def _build(job: _Job) -> BuildSummary:
    t0 = time.perf_counter()
    summary = BuildSummary(index_dir=job.index_dir)
    try:
        old = read_manifest(job.index_dir)
    except (OSError, ValueError, IndexStoreError):
        old = None
    files, skipped = survey(job.reports_dir, job.limits)
    summary.skipped.extend(skipped)
    fresh: dict[str, tuple[Report, list[Chunk]]] = {}  # what an update read, then gave up
    if old is not None:
        if _update(job, old, files, summary, fresh):
            summary.seconds = time.perf_counter() - t0
            return summary
        summary = BuildSummary(index_dir=job.index_dir, skipped=list(skipped))
    _full(job, old, files, summary, fresh)
    summary.seconds = time.perf_counter() - t0
    return summary


def _full(
    job: _Job,
    old: Manifest | None,
    files: list[Path],
    summary: BuildSummary,
    fresh: dict[str, tuple[Report, list[Chunk]]],
) -> None:
    """Index every report again as one segment, reusing the vectors and tokens of chunks
    the previous build has."""
    embedder, progress, index_dir = job.embedder, job.progress, job.index_dir
    prev_reports, prev_vectors = previous_parts(index_dir, job.embed_model, job.chunker)
    reports, chunks, hashes = read_reports(
        files, prev_reports, job.chunker, summary, progress, job.limits, fresh
    )
    if not reports:
        raise IndexStoreError(
            f"{job.reports_dir} 中没有能建索引的报告（跳过 {len(summary.skipped)} 个文件），"
            "原有索引未改动"
        )
    summary.removed_reports = sorted(set(old.reports if old else {}) - set(hashes))
    matrix = embed_chunks(chunks, embedder, prev_vectors, summary, progress) if embedder else None
    sents = (
        sentence_vectors(index_dir, old, chunks, embedder, summary, progress) if embedder else None
    )
    words = place_words(reports)
    reuse = previous_tokens(index_dir, old, chunks, words)
    sparse = BM25Store.build(chunks, JiebaTokenizer(words), reuse)
    summary.reused_tokens = sum(c.id in reuse for c in chunks)
    summary.tokenized = len(chunks) - summary.reused_tokens
    change = ChangeSet(
        full=True,
        chunks=chunks,
        vectors=matrix,
        tokens=sparse.tokens or [],
        reports=hashes,
        embed_model=job.embed_model,
        chunker=asdict(job.chunker),
        previous=current_build(index_dir, damaged_ok=True) if old is not None else None,
        previous_manifest=old,
    )
    segment = sparse.parts[0].name
    manifest = job.manifest(
        summary,
        query_instruction=getattr(embedder, "query_instruction", "") if embedder else "",
        dim=int(matrix.shape[1]) if matrix is not None else 0,
        words=words,
        entries=_entries(reports, chunks, hashes, segment),
        n_chunks=len(chunks),
        segments=[segment],
    )
    written: list[Written] = []

    def write(folder: Path) -> None:
        _write_segment(
            segment_folder(folder, segment), reports, chunks, sparse.tokens, matrix, sents
        )
        written.append(job.store.write(folder, change))
        sparse.save(folder)
        _write_manifest(folder, manifest)

    commit(index_dir, write)
    summary.store, summary.store_update = written[0]
    summary.reports, summary.chunks = len(reports), len(chunks)


def _entries(
    reports: list[Report], chunks: list[Chunk], hashes: dict[str, str], segment: str
) -> dict[str, ReportEntry]:
    """The manifest entries of reports written, with their chunks, as one segment."""
    sizes = Counter(c.source for c in chunks)
    firsts: dict[str, int] = {}
    for i, c in enumerate(chunks):
        firsts.setdefault(c.source, i)
    return {
        r.source: ReportEntry(
            hashes[r.source],
            r.meta.title,
            sizes[r.source],
            segment,
            firsts.get(r.source, 0),
            sorted(r.meta.places.names()),
        )
        for r in reports
    }


def _write_segment(
    folder: Path,
    reports: list[Report],
    chunks: list[Chunk],
    tokens: list[list[str]] | None,
    matrix: np.ndarray | None,
    sents: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "reports.jsonl", [r.to_dict() for r in reports])
    write_jsonl(folder / "chunks.jsonl", [c.to_dict() for c in chunks])
    if tokens is not None:
        write_jsonl(
            folder / BM25Store.TOKENS,
            [{"id": c.id, "t": t} for c, t in zip(chunks, tokens, strict=True)],
        )
    if matrix is not None:
        np.save(folder / "embeddings.npy", matrix, allow_pickle=False)
    if sents is not None:
        write_sentences(folder, *sents)


def _rows_of(old: Manifest, sources: set[str]) -> np.ndarray:
    """The rows (in the live build's numbering) of the chunks of `sources`."""
    order = {name: i for i, name in enumerate(old.segments)}
    entries = sorted(old.reports.items(), key=lambda kv: (order[kv[1].segment], kv[1].first))
    out, row = [], 0
    for source, e in entries:
        if source in sources:
            out.append(np.arange(row, row + e.chunks, dtype=np.int64))
        row += e.chunks
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def _update(
    job: _Job,
    old: Manifest,
    files: list[Path],
    summary: BuildSummary,
    fresh: dict[str, tuple[Report, list[Chunk]]],
) -> bool:
    """Re-index only the new and changed reports, as one new segment; the live build's other
    segments are hard-linked, the replaced reports' chunks marked dead. False (nothing
    written) when a full build is due: another model, chunker or tokenizer, a place name
    added or removed (old chunks would tokenise differently), or too many segments or dead
    chunks (the full build then writes one segment again). What it read goes to `fresh`."""
    embedder, progress, index_dir = job.embedder, job.progress, job.index_dir
    src = current_build(index_dir, damaged_ok=True)
    if src is None or not _same_making(old, src, job.embed_model, job.chunker, job.store):
        return False
    docs, dead = segment_counts(src)
    kept, changed = _unchanged(old, files)
    reports, chunks, hashes = read_reports(changed, {}, job.chunker, summary, progress, job.limits)
    for r in reports:  # a full build after all reads them from here, not again (OCR: minutes)
        fresh[hashes[r.source]] = (r, [c for c in chunks if c.source == r.source])
    if not reports and not kept:
        raise IndexStoreError(
            f"{job.reports_dir} 中没有能建索引的报告（跳过 {len(summary.skipped)} 个文件），"
            "原有索引未改动"
        )
    gone_sources = set(old.reports) - set(kept)
    words = sorted({w for e in kept.values() for w in e.places} | set(place_words(reports)))
    dead_after = dead + sum(old.reports[s].chunks for s in gone_sources)
    if (
        words != old.tokenizer_words
        or len(old.segments) + bool(chunks) > MAX_SEGMENTS
        or dead_after > MAX_DEAD_SHARE * (docs + len(chunks))
    ):
        return False
    gone = _rows_of(old, gone_sources)
    tokenizer = JiebaTokenizer(words)
    tokens = [tokenizer(c.index_text) for c in chunks]
    matrix = embed_chunks(chunks, embedder, {}, summary, progress) if embedder and chunks else None
    sents = (
        sentence_vectors(index_dir, old, chunks, embedder, summary, progress)
        if embedder and matrix is not None
        else None
    )
    name = new_id()
    entries = {**kept, **_entries(reports, chunks, hashes, name)}
    live = {e.segment for e in entries.values()}
    manifest = job.manifest(
        summary,
        query_instruction=old.query_instruction,
        dim=old.dim,
        words=words,
        entries=entries,
        n_chunks=sum(e.chunks for e in entries.values()),
        segments=[s for s in [*old.segments, name] if s in live],
    )
    change = ChangeSet(
        full=False,
        chunks=chunks,
        vectors=matrix,
        tokens=tokens,
        reports={s: e.hash for s, e in entries.items()},
        embed_model=job.embed_model,
        chunker=asdict(job.chunker),
        previous=src,
        previous_manifest=old,
        removed_rows=gone,
    )
    written: list[Written] = []

    def write(folder: Path) -> None:
        for seg in manifest.segments[:-1] if chunks else manifest.segments:
            link_tree(segment_folder(src, seg), segment_folder(folder, seg))
        if chunks:
            _write_segment(segment_folder(folder, name), reports, chunks, tokens, matrix, sents)
        update_segments(src, folder, gone, tokens, name)
        written.append(job.store.write(folder, change))
        _write_manifest(folder, manifest)

    commit(index_dir, write)
    _updated(summary, reports, kept, gone_sources, hashes, manifest, len(chunks), embedder)
    summary.store, update = written[0]
    summary.store_update = update or (
        f"{len(gone_sources)} report(s) removed or replaced, {len(chunks)} chunk(s) added as a "
        "new segment"
    )
    return True


def _updated(
    summary: BuildSummary,
    reports: list[Report],
    kept: dict[str, ReportEntry],
    gone_sources: set[str],
    hashes: dict[str, str],
    manifest: Manifest,
    added: int,
    embedder: Embedder | None,
) -> None:
    """What an update did, in `summary`: reports new, reused and removed; chunks tokenized
    and reused."""
    summary.new_reports = sorted(r.source for r in reports)
    summary.reused_reports = sorted(kept)
    summary.removed_reports = sorted(gone_sources - set(hashes))
    summary.reports, summary.chunks = len(manifest.reports), manifest.n_chunks
    summary.tokenized, summary.reused_tokens = added, manifest.n_chunks - added
    summary.reused_embeddings = manifest.n_chunks - added if embedder else 0


def _same_making(
    old: Manifest, src: Path, embed_model: str, chunker: ChunkerSettings, store: IndexBackend
) -> bool:
    """Whether the live build was made as this one would be (model, chunker, tokenizer,
    store), so an update may add to it; False: a full build is due."""
    return (
        bool(old.segments)
        and old.store == store.name
        and old.embed_model == embed_model
        and old.chunker == asdict(chunker)
        and old.tokenizer == TOKENIZER
        and store.updatable(src, old)  # a backend that syncs itself, or rows to repair
    )


def _unchanged(old: Manifest, files: list[Path]) -> tuple[dict[str, ReportEntry], list[Path]]:
    """The live build's entries of the files whose bytes are the same, and the other files."""
    kept: dict[str, ReportEntry] = {}
    changed: list[Path] = []
    for path in files:
        entry = old.reports.get(path.name)
        try:
            same = entry is not None and file_hash(path) == entry.hash
        except OSError:
            same = False  # read_all reports it
        if same and entry is not None:
            kept[path.name] = entry
        else:
            changed.append(path)
    return kept, changed


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    (folder / "manifest.json").write_text(
        json.dumps(manifest.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
    )
