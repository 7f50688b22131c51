"""Keeping a Milvus index's collections in step with a build (`sync`: only the reports whose
file changed are deleted and inserted again) and opening them again (`open_stores`); the
collections themselves are rag/index/milvus_store.py."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.contracts import TermStatistics
from rag.errors import IndexStoreError, first_line
from rag.index.milvus_store import (
    MilvusSparseIndex,
    MilvusTarget,
    MilvusTokenIndex,
    MilvusVectorIndex,
    _MilvusBase,
    connect,
    mean_length,
)
from rag.types import Chunk

SparseStore = MilvusSparseIndex | MilvusTokenIndex


@dataclass
class SyncSummary:
    full: bool  # every row written again (first build, a model/chunker change, a mismatch)
    deleted_reports: int
    inserted_chunks: int
    seconds: float


def _count(client: Any, name: str) -> int | None:
    if not client.has_collection(name):
        return None
    client.load_collection(name)
    rows = client.query(name, filter="", output_fields=["count(*)"])
    return int(rows[0]["count(*)"]) if rows else 0


@contextmanager
def _writing(uri: str) -> Iterator[None]:
    """pymilvus and grpc errors while writing, as an IndexStoreError saying what still holds."""
    try:
        yield
    except IndexStoreError:
        raise
    except Exception as e:  # pymilvus and grpc errors
        raise IndexStoreError(
            f"写入 Milvus（{uri}）失败（{first_line(e, 200)}）；索引文件夹仍按上一次建好的索引"
            "提供检索，下次运行 `rag index` 会修复这些集合"
        ) from e


def sync(
    target: MilvusTarget,
    chunks: Sequence[Chunk],
    vectors: np.ndarray | None,
    current: Mapping[str, str],
    previous: Mapping[str, str] | None,
    previous_chunks: int,
    tokens: Sequence[Sequence[str]],
) -> tuple[SparseStore, MilvusVectorIndex | None, SyncSummary]:
    """Bring the target's collections to `chunks` (`current`: report -> file hash). With the
    live build's `previous` hashes (None: nothing to reuse), only reports whose hash changed
    are deleted and inserted again; the rest stay. A collection missing, or holding another
    number of rows than the live build (an earlier sync cut short), is written in full.
    `tokens`: each chunk's BM25 tokens (written as sparse vectors when target.lexical is
    "jieba")."""
    with _writing(target.uri):
        t0 = time.perf_counter()
        client = connect(target.uri, target.token)
        uri = target.uri
        expected = previous_chunks if previous is not None else -1
        full = previous is None or _count(client, target.sparse) != expected
        if vectors is not None:
            dense_rows = _count(client, target.dense)
            full = full or dense_rows != expected
            if not full:
                desc = client.describe_collection(target.dense)
                dims = [f.get("params", {}).get("dim") for f in desc.get("fields", [])]
                full = int(vectors.shape[1]) not in {int(d) for d in dims if d is not None}
        jieba = target.lexical == "jieba"
        if full:
            sparse: SparseStore = (
                MilvusTokenIndex.build(client, target.sparse, uri, chunks, tokens)
                if jieba
                else MilvusSparseIndex.build(client, target.sparse, uri, chunks)
            )
            dense = (
                MilvusVectorIndex.build(client, target.dense, uri, chunks, vectors)
                if vectors is not None
                else None
            )
            if vectors is None and client.has_collection(target.dense):
                client.drop_collection(target.dense)
            _flush(sparse, dense)
            return sparse, dense, SyncSummary(True, 0, len(chunks), time.perf_counter() - t0)
        assert previous is not None
        sparse = (MilvusTokenIndex if jieba else MilvusSparseIndex).loaded(
            client, target.sparse, uri
        )
        dense = MilvusVectorIndex.loaded(client, target.dense, uri) if vectors is not None else None
        stale = [s for s, h in previous.items() if current.get(s) != h]  # changed or removed
        fresh = {s for s, h in current.items() if previous.get(s) != h}  # changed or new
        for source in stale:
            sparse.delete(source)
            if dense is not None:
                dense.delete(source)
        rows = [i for i, c in enumerate(chunks) if c.source in fresh]
        if isinstance(sparse, MilvusTokenIndex):
            sparse.add_tokens(
                [chunks[i] for i in rows], [tokens[i] for i in rows], mean_length(tokens)
            )
        else:
            sparse.add([chunks[i] for i in rows])
        if dense is not None and vectors is not None and rows:
            dense.add([chunks[i] for i in rows], vectors[rows])
        if stale or rows:
            _flush(sparse, dense)
        return sparse, dense, SyncSummary(False, len(stale), len(rows), time.perf_counter() - t0)


def _flush(*stores: _MilvusBase | None) -> None:
    for store in stores:
        if store is not None:
            store.flush()


def open_stores(
    folder: Path, token: str | None, with_vectors: bool, local: TermStatistics | None = None
) -> tuple[SparseStore, MilvusVectorIndex | None]:
    """The collections a build folder points to (one client for both); `local`: the local
    BM25 statistics a jieba-token sparse collection searches with."""
    sparse: SparseStore
    if MilvusSparseIndex.pointer(folder)["lexical"] == "jieba":
        sparse = MilvusTokenIndex.open(folder, token)
        if local is not None:
            sparse.use(local)
    else:
        sparse = MilvusSparseIndex.open(folder, token)
    dense = None
    if with_vectors:
        p = MilvusVectorIndex.pointer(folder)
        dense = MilvusVectorIndex.loaded(sparse.client, p["collection"], p["uri"])
    return sparse, dense
