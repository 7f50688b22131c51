"""Milvus behind the `VectorIndex` and `SparseIndex` contracts, through pymilvus.

The same client reaches Milvus Lite (a local file, `uri="…/milvus.db"`, for tests and single
machines) and a Milvus standalone or cluster (`uri="http://host:19530"`, with a token).
Dense vectors are searched by inner product with a FLAT index; lexical search is Milvus's own
BM25 function over the chunk text with its jieba analyzer. Every row carries its report, so
a scope is a filter expression and an update deletes and inserts one report's rows.

Not wired into the factory yet: the default store is FAISS + bm25s (rag.dense, rag.sparse).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from rag.contracts import Ranked
from rag.errors import IndexStoreError, first_line
from rag.types import Chunk

logger = logging.getLogger(__name__)

POINTER = "milvus.json"  # in a build folder: which server and collection hold the index
MAX_TEXT = 65_535  # Milvus VARCHAR limit, in bytes
MAX_ID = 128
MAX_REPORT = 1024


def connect(uri: str, token: str | None = None) -> Any:
    """A pymilvus client for `uri` (a local file means Milvus Lite); `token` is a secret."""
    try:
        from pymilvus import MilvusClient
    except ImportError as e:  # pragma: no cover - depends on the optional extra
        raise IndexStoreError('the Milvus store needs pymilvus: pip install -e ".[milvus]"') from e
    try:
        return MilvusClient(uri=uri, token=token or "")
    except Exception as e:  # pymilvus raises its own hierarchy and grpc errors
        raise IndexStoreError(f"cannot reach Milvus at {uri}: {first_line(e, 200)}") from e


def _in(reports: Collection[str]) -> str:
    return "report in [" + ", ".join(json.dumps(r, ensure_ascii=False) for r in reports) + "]"


class _MilvusBase:
    """What the dense and the lexical collections share: rows keyed by chunk id, a report
    field for scopes and deletes, a pointer file for reopening."""

    kind = ""

    def __init__(self, client: Any, collection: str, uri: str) -> None:
        self.client, self.collection, self.uri = client, collection, uri

    def __len__(self) -> int:
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def delete(self, report: str) -> int:
        expr = _in([report])
        ids = [
            r["id"] for r in self.client.query(self.collection, filter=expr, output_fields=["id"])
        ]
        if ids:
            self.client.delete(self.collection, ids=ids)
        return len(ids)

    def save(self, folder: Path) -> None:
        """Milvus keeps the rows; the build folder records where (never the token)."""
        folder.mkdir(parents=True, exist_ok=True)
        pointer = {"uri": self.uri, "collection": self.collection, "kind": self.kind}
        (folder / f"{self.kind}-{POINTER}").write_text(json.dumps(pointer), encoding="utf-8")

    @classmethod
    def open(cls, folder: Path, token: str | None = None) -> Self:
        """The index a build folder points to (`token`: a secret, never saved)."""
        p = cls.pointer(folder)
        return cls(connect(p["uri"], token), p["collection"], p["uri"])

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        for b in range(0, len(rows), 1000):
            self.client.insert(self.collection, rows[b : b + 1000])

    @classmethod
    def pointer(cls, folder: Path) -> dict[str, str]:
        path = folder / f"{cls.kind}-{POINTER}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {"uri": str(data["uri"]), "collection": str(data["collection"])}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexStoreError(
                f"index file {path} is missing or damaged ({first_line(e, 120)}); "
                "rebuild it with `rag index`"
            ) from e

    def _ranked(self, results: list[list[dict[str, Any]]], magnitude: bool) -> Ranked:
        """(id, score) best first, as Milvus ordered them; `magnitude`: the score is the
        distance's absolute value (Milvus Lite reports BM25 matches as negative distances,
        a server as positive ones)."""
        out = []
        for hit in results[0] if results else []:
            d = float(hit["distance"])
            out.append((str(hit["id"]), abs(d) if magnitude else d))
        return out


class MilvusVectorIndex(_MilvusBase):
    """`VectorIndex`: inner-product search over a FLAT index of L2-normalised vectors."""

    kind = "dense"

    @classmethod
    def create(
        cls, client: Any, collection: str, dim: int, uri: str, replace: bool = True
    ) -> MilvusVectorIndex:
        from pymilvus import DataType

        if replace and client.has_collection(collection):
            client.drop_collection(collection)
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
        schema.add_field("report", DataType.VARCHAR, max_length=MAX_REPORT)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dim)
        index = client.prepare_index_params()
        index.add_index("vec", index_type="FLAT", metric_type="IP")
        client.create_collection(
            collection, schema=schema, index_params=index, consistency_level="Strong"
        )
        return cls(client, collection, uri)

    @classmethod
    def build(
        cls, client: Any, collection: str, uri: str, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> MilvusVectorIndex:
        store = cls.create(client, collection, int(vectors.shape[1]), uri)
        store.add(chunks, vectors)
        return store

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise IndexStoreError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        rows = [
            {"id": c.id, "report": c.source, "vec": np.asarray(v, dtype=np.float32).tolist()}
            for c, v in zip(chunks, vectors, strict=True)
        ]
        self._insert(rows)

    def search(self, vector: np.ndarray, k: int, reports: Collection[str] | None = None) -> Ranked:
        if reports is not None and not reports:
            return []
        results = self.client.search(
            self.collection,
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="vec",
            limit=k,
            filter=_in(reports) if reports is not None else "",
            search_params={"metric_type": "IP"},
        )
        return self._ranked(results, magnitude=False)


class MilvusSparseIndex(_MilvusBase):
    """`SparseIndex`: Milvus's BM25 function over the chunk text, jieba analyzer."""

    kind = "sparse"

    @classmethod
    def create(
        cls, client: Any, collection: str, uri: str, replace: bool = True
    ) -> MilvusSparseIndex:
        from pymilvus import DataType, Function, FunctionType

        if replace and client.has_collection(collection):
            client.drop_collection(collection)
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
        schema.add_field("report", DataType.VARCHAR, max_length=MAX_REPORT)
        schema.add_field(
            "text",
            DataType.VARCHAR,
            max_length=MAX_TEXT,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "jieba"},
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["text"],
                output_field_names=["sparse"],
            )
        )
        index = client.prepare_index_params()
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        client.create_collection(
            collection, schema=schema, index_params=index, consistency_level="Strong"
        )
        return cls(client, collection, uri)

    @classmethod
    def build(
        cls, client: Any, collection: str, uri: str, chunks: Sequence[Chunk]
    ) -> MilvusSparseIndex:
        store = cls.create(client, collection, uri)
        store.add(chunks)
        return store

    def add(self, chunks: Sequence[Chunk]) -> None:
        self._insert([{"id": c.id, "report": c.source, "text": c.index_text} for c in chunks])

    def search(self, query: str, k: int, reports: Collection[str] | None = None) -> Ranked:
        if reports is not None and not reports:
            return []
        results = self.client.search(
            self.collection,
            data=[query],
            anns_field="sparse",
            limit=k,
            filter=_in(reports) if reports is not None else "",
            search_params={"metric_type": "BM25"},
        )
        return [(cid, s) for cid, s in self._ranked(results, magnitude=True) if s > 0]
