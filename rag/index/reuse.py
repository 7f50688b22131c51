"""What a build reuses of the live one, and what it counts: the reports read (by file hash),
the chunk vectors (by chunk id, same encoder), the sentence vectors (same encoder) and the
BM25 tokens (same tokenizer, no place word added or removed), and `BuildSummary`."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.contracts import Embedder
from rag.errors import IndexStoreError
from rag.index.layout import (
    TOKENIZER,
    Manifest,
    current_build,
    read_build,
    read_jsonl,
    segment_folder,
)
from rag.index.reading import Progress, read_all
from rag.index.sentvec import SentenceVectors, encode_sentences
from rag.index.sparse import BM25Store
from rag.ingest.chunk import ChunkerSettings
from rag.ingest.reader import ReadLimits
from rag.types import Chunk, Report

logger = logging.getLogger(__name__)


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
    sentences_encoded: int = 0  # distinct sentence texts encoded for the second look
    tokenized: int = 0  # chunks that went through jieba for BM25
    reused_tokens: int = 0  # chunks whose tokens the previous build had
    seconds: float = 0.0
    store: str = "faiss"  # where the search rows are: "faiss", "milvus: <uri> <collection>"…
    store_update: str = ""  # what was written: an update's segment, Milvus's replaced rows

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["index_dir"] = str(self.index_dir)
        d["skipped"] = [{"file": f, "reason": why} for f, why in self.skipped]
        return d


def previous_parts(
    index_dir: Path, embed_model: str, chunker: ChunkerSettings
) -> tuple[dict[str, tuple[Report, list[Chunk]]], dict[str, np.ndarray]]:
    """Reusable parts of the live index: reports+chunks by file hash, vectors by chunk id."""
    folder = current_build(index_dir, damaged_ok=True)
    if folder is None:
        return {}, {}
    try:
        manifest, reports, chunks = read_build(folder)
        by_source: dict[str, list[Chunk]] = {}
        for c in chunks:
            by_source.setdefault(c.source, []).append(c)
        by_report: dict[str, tuple[Report, list[Chunk]]] = {}
        if manifest.chunker == asdict(chunker):
            for source, info in manifest.reports.items():
                if source in reports:
                    by_report[info.hash] = (reports[source], by_source.get(source, []))
        vectors: dict[str, np.ndarray] = {}
        if manifest.embed_model == embed_model:
            for name in manifest.segments:
                seg = segment_folder(folder, name)
                if (seg / "embeddings.npy").exists():
                    matrix = np.load(seg / "embeddings.npy", allow_pickle=False)
                    ids = [Chunk.from_dict(r).id for r in read_jsonl(seg / "chunks.jsonl")]
                    vectors.update({cid: matrix[i] for i, cid in enumerate(ids)})
        return by_report, vectors
    except (OSError, ValueError, KeyError, IndexStoreError) as e:
        logger.warning("previous index in %s unreadable (%s); rebuilding from scratch", folder, e)
        return {}, {}


def sentence_vectors(
    index_dir: Path,
    old: Manifest | None,
    chunks: list[Chunk],
    embedder: Embedder,
    summary: BuildSummary,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The sentence vectors of `chunks`, reading each text the live build (manifest `old`)
    holds when it used the same encoder instead of encoding it again."""
    previous = None
    folder = current_build(index_dir, damaged_ok=True)
    if folder is not None and old is not None and old.embed_model == embedder.name:
        try:
            previous = SentenceVectors.open(segment_folder(folder, n) for n in old.segments)
        except (OSError, ValueError) as e:
            logger.warning("previous sentence vectors in %s unreadable (%s)", folder, e)
    keys, vectors, summary.sentences_encoded = encode_sentences(
        chunks, embedder.embed_documents, previous, progress
    )
    return keys, vectors


def read_reports(
    files: list[Path],
    prev_reports: dict[str, tuple[Report, list[Chunk]]],
    chunker: ChunkerSettings,
    summary: BuildSummary,
    progress: Progress | None,
    limits: ReadLimits,
    fresh: dict[str, tuple[Report, list[Chunk]]] | None = None,
) -> tuple[list[Report], list[Chunk], dict[str, str]]:
    """The reports of `files`, read or reused (`prev_reports` by file hash), counted in
    `summary`."""
    read = read_all(files, prev_reports, chunker, progress, limits, fresh)
    summary.reused_reports += read.reused
    summary.new_reports += read.new
    summary.skipped += read.skipped
    return read.reports, read.chunks, read.hashes


def embed_chunks(
    chunks: list[Chunk],
    embedder: Embedder,
    prev_vectors: dict[str, np.ndarray],
    summary: BuildSummary,
    progress: Progress | None,
) -> np.ndarray:
    """The vectors of `chunks`: reused from `prev_vectors` by chunk id, the others encoded
    in batches of 64 (counted in `summary`)."""
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
    return np.stack(
        [new_vecs[i] if i in new_vecs else prev_vectors[c.id] for i, c in enumerate(chunks)]
    ).astype(np.float32)


def previous_tokens(
    index_dir: Path, old: Manifest | None, chunks: list[Chunk], words: list[str]
) -> dict[str, list[str]]:
    """Tokens of the live build that still hold: same tokenizer, and no place word added or
    removed in the chunk's text (a new town's name would be one token now)."""
    folder = current_build(index_dir, damaged_ok=True)
    if old is None or folder is None or old.tokenizer != TOKENIZER:
        return {}
    try:
        saved = BM25Store.saved_tokens(folder, old.segments)
    except (OSError, ValueError, KeyError, TypeError) as e:
        logger.warning("tokens of %s unreadable (%s); tokenising again", folder, e)
        return {}
    changed = set(words) ^ set(old.tokenizer_words)
    return {
        c.id: saved[c.id]
        for c in chunks
        if c.id in saved and not any(w in c.index_text for w in changed)
    }
