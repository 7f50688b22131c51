"""Milvus behind the `VectorIndex` and `SparseIndex` contracts, through pymilvus.

The same client reaches Milvus Lite (a local file, `uri="…/milvus.db"`, for tests and single
machines) and a Milvus standalone or cluster (`uri="http://host:19530"`, with a token).
Dense vectors are searched by inner product with a FLAT index; lexical search is Milvus's own
BM25 function over the chunk text with its jieba analyzer. Every row carries its report, so
a scope is a filter expression and an update deletes and inserts one report's rows.

`rag index` with RAG_STORE=milvus keeps one pair of collections per index (<name>_dense,
<name>_sparse) and updates them report by report (`sync`); the build folder records where
they are (rag/index/milvus_sync.py). The default store stays FAISS + bm25s files
(rag.index.dense, rag.index.sparse).
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np

from rag.contracts import Ranked, TermStatistics
from rag.errors import IndexStoreError, first_line
from rag.types import Chunk

logger = logging.getLogger(__name__)

POINTER = "milvus.json"  # in a build folder: which server and collection hold the index
MAX_TEXT = 65_535  # Milvus VARCHAR limit, in bytes
MAX_ID = 128
MAX_REPORT = 1024


@dataclass(frozen=True)
class MilvusTarget:
    """Where an index's collections live: `uri` (a file: Milvus Lite; http://host:19530: a
    server), the collection prefix, and the token, a secret kept out of repr and files."""

    uri: str
    collection: str
    token: str | None = field(default=None, repr=False)
    lexical: str = "jieba"  # "jieba": our tokens as sparse vectors; "milvus": its BM25 function

    @property
    def dense(self) -> str:
        return f"{self.collection}_dense"

    @property
    def sparse(self) -> str:
        return f"{self.collection}_sparse"


def collection_name(index_dir: Path) -> str:
    """rag_<folder name>, in the characters Milvus allows (letters, digits, underscore)."""
    return "rag_" + re.sub(r"[^0-9A-Za-z_]", "_", index_dir.name)[:200]


def connect(uri: str, token: str | None = None) -> Any:
    """A pymilvus client for `uri` (a local file means Milvus Lite); `token` is a secret."""
    try:
        from pymilvus import MilvusClient
    except ImportError as e:  # pragma: no cover - depends on the optional extra
        raise IndexStoreError('Milvus 存储需要 pymilvus：pip install -e ".[milvus]"') from e
    if "://" not in uri:
        # Milvus Lite serves pymilvus in-process; pymilvus 3 asks it for AllocTimestamp, which
        # Lite does not implement (the client falls back), and grpc logs each refusal as an
        # ERROR with a traceback. Nothing is wrong: keep that logger for real failures only.
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    try:
        return MilvusClient(uri=uri, token=token or "")
    except Exception as e:  # pymilvus raises its own hierarchy and grpc errors
        raise IndexStoreError(f"连不上 Milvus（{uri}）：{first_line(e, 200)}") from e


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

    lexical = ""  # the sparse collections: which BM25 ("jieba" or "milvus")

    def save(self, folder: Path) -> None:
        """Milvus keeps the rows; the build folder records where (never the token)."""
        folder.mkdir(parents=True, exist_ok=True)
        pointer = {"uri": self.uri, "collection": self.collection, "kind": self.kind}
        pointer.update(self._pointer_extra())
        (folder / f"{self.kind}-{POINTER}").write_text(json.dumps(pointer), encoding="utf-8")

    def _pointer_extra(self) -> dict[str, Any]:
        """What else reopening needs, beside where the rows are."""
        return {"lexical": self.lexical} if self.lexical else {}

    @classmethod
    def open(cls, folder: Path, token: str | None = None) -> Self:
        """The index a build folder points to (`token`: a secret, never saved)."""
        p = cls.pointer(folder)
        return cls.loaded(connect(p["uri"], token), p["collection"], p["uri"])

    @classmethod
    def loaded(cls, client: Any, collection: str, uri: str) -> Self:
        """The collection, loaded for search (a server releases collections on restart)."""
        if not client.has_collection(collection):
            raise IndexStoreError(
                f"Milvus（{uri}）中没有集合 {collection}；请用 `rag index` 重建索引"
            )
        client.load_collection(collection)
        return cls(client, collection, uri)

    @classmethod
    def _create(
        cls,
        client: Any,
        collection: str,
        uri: str,
        replace: bool,
        fields: Callable[[Any], None],
        index: tuple[str, str, str],
    ) -> Self:
        """A collection keyed by chunk id with a report field, plus `fields`, and one index
        (field, index type, metric); an existing one is dropped first when `replace`."""
        from pymilvus import DataType

        if replace and client.has_collection(collection):
            client.drop_collection(collection)
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
        schema.add_field("report", DataType.VARCHAR, max_length=MAX_REPORT)
        fields(schema)
        params = client.prepare_index_params()
        field_name, index_type, metric = index
        params.add_index(field_name, index_type=index_type, metric_type=metric)
        client.create_collection(
            collection, schema=schema, index_params=params, consistency_level="Strong"
        )
        return cls(client, collection, uri)

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        for b in range(0, len(rows), 1000):
            self.client.insert(self.collection, rows[b : b + 1000])

    def flush(self) -> None:
        """Seal what was written so it is searched through the index: rows left in a
        growing segment are scanned one by one (measured on Milvus Lite at 10k chunks:
        about 400 ms a dense and 700 ms a BM25 query before, 8 and 11 ms after)."""
        self.client.flush(self.collection)

    @classmethod
    def pointer(cls, folder: Path) -> dict[str, str]:
        path = folder / f"{cls.kind}-{POINTER}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {
                "uri": str(data["uri"]),
                "collection": str(data["collection"]),
                "lexical": str(data.get("lexical", "milvus")),
                "avgdl": str(data.get("avgdl") or 0.0),
            }
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexStoreError(
                f"索引文件 {path} 不存在或已损坏（{first_line(e, 120)}）；请用 `rag index` 重建索引"
            ) from e

    def _search(
        self,
        data: Any,
        field_name: str,
        metric: str,
        k: int,
        reports: Collection[str] | None,
        magnitude: bool = False,
    ) -> Ranked:
        """The k best rows for one query (`data`) on `field_name`, within `reports` if given."""
        if reports is not None and not reports:
            return []
        results = self.client.search(
            self.collection,
            data=[data],
            anns_field=field_name,
            limit=k,
            filter=_in(reports) if reports is not None else "",
            search_params={"metric_type": metric},
        )
        return self._ranked(results, magnitude)

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

        def fields(schema: Any) -> None:
            schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dim)

        return cls._create(client, collection, uri, replace, fields, ("vec", "FLAT", "IP"))

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
        return self._search(np.asarray(vector, dtype=np.float32).tolist(), "vec", "IP", k, reports)


class MilvusSparseIndex(_MilvusBase):
    """`SparseIndex`: Milvus's BM25 function over the chunk text, jieba analyzer."""

    kind = "sparse"
    lexical = "milvus"

    @classmethod
    def create(
        cls, client: Any, collection: str, uri: str, replace: bool = True
    ) -> MilvusSparseIndex:
        from pymilvus import DataType, Function, FunctionType

        def fields(schema: Any) -> None:
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

        index = ("sparse", "SPARSE_INVERTED_INDEX", "BM25")
        return cls._create(client, collection, uri, replace, fields, index)

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
        ranked = self._search(query, "sparse", "BM25", k, reports, magnitude=True)
        return [(cid, s) for cid, s in ranked if s > 0]


K1, B = 1.5, 0.75  # bm25s's defaults, so the two BM25s rank alike


def token_key(token: str) -> int:
    """A token's dimension in the sparse vectors: stable across processes and builds, with no
    vocabulary to keep in step (a 32-bit hash; Milvus allows dimensions below 2**32 - 1)."""
    return zlib.crc32(token.encode("utf-8")) % (2**32 - 1)


def bm25_vector(tokens: Sequence[str], avgdl: float) -> dict[int, float]:
    """A chunk's BM25 term weights, tf / (tf + k1 (1 - b + b dl/avgdl)), by `token_key`; the
    query side carries the IDF, so a report added later needs no other row rewritten."""
    counts = Counter(tokens)
    norm = K1 * (1 - B + B * len(tokens) / max(avgdl, 1e-9))
    out: dict[int, float] = {}
    for t, f in counts.items():
        key = token_key(t)
        out[key] = out.get(key, 0.0) + f / (f + norm)
    return out or {0: 1e-9}  # Milvus refuses an empty sparse vector


class MilvusTokenIndex(_MilvusBase):
    """`SparseIndex`: BM25 over our own jieba tokens (the local BM25's tokenizer, with the
    corpus's place names in its dictionary), stored as sparse vectors and searched by inner
    product with an IDF-weighted query vector. The IDF comes from the local BM25 statistics
    (`use`), which every process loads anyway for the evidence score, so a report added later
    rewrites no other row; `avgdl`, the mean chunk length in tokens, normalises new rows."""

    kind = "sparse"
    lexical = "jieba"

    def __init__(self, client: Any, collection: str, uri: str) -> None:
        super().__init__(client, collection, uri)
        self.local: TermStatistics | None = None
        self.avgdl = 0.0

    def use(self, local: TermStatistics) -> MilvusTokenIndex:
        self.local = local
        return self

    @classmethod
    def create(
        cls, client: Any, collection: str, uri: str, replace: bool = True
    ) -> MilvusTokenIndex:
        from pymilvus import DataType

        def fields(schema: Any) -> None:
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)

        index = ("sparse", "SPARSE_INVERTED_INDEX", "IP")
        return cls._create(client, collection, uri, replace, fields, index)

    @classmethod
    def build(
        cls,
        client: Any,
        collection: str,
        uri: str,
        chunks: Sequence[Chunk],
        tokens: Sequence[Sequence[str]],
    ) -> MilvusTokenIndex:
        store = cls.create(client, collection, uri)
        store.add_tokens(chunks, tokens, mean_length(tokens))
        return store

    def _need_local(self) -> TermStatistics:
        if self.local is None:
            raise IndexStoreError("a jieba-token Milvus index needs the local BM25 statistics")
        return self.local

    def add(self, chunks: Sequence[Chunk]) -> None:
        tokenize = self._need_local().tokenizer
        tokens = [tokenize(c.index_text) for c in chunks]
        self.add_tokens(chunks, tokens, self.avgdl or mean_length(tokens))

    def add_tokens(
        self, chunks: Sequence[Chunk], tokens: Sequence[Sequence[str]], avgdl: float
    ) -> None:
        if len(chunks) != len(tokens):
            raise IndexStoreError(f"{len(chunks)} chunks but {len(tokens)} token lists")
        self.avgdl = avgdl
        self._insert(
            [
                {"id": c.id, "report": c.source, "sparse": bm25_vector(t, avgdl)}
                for c, t in zip(chunks, tokens, strict=True)
            ]
        )

    def _pointer_extra(self) -> dict[str, Any]:
        return {**super()._pointer_extra(), "avgdl": self.avgdl}

    @classmethod
    def open(cls, folder: Path, token: str | None = None) -> Self:
        p = cls.pointer(folder)
        store = cls.loaded(connect(p["uri"], token), p["collection"], p["uri"])
        store.avgdl = float(p["avgdl"])
        return store

    def search(self, query: str, k: int, reports: Collection[str] | None = None) -> Ranked:
        vector: dict[int, float] = {}
        for t, w in self._need_local().query_weights(query).items():
            vector[token_key(t)] = vector.get(token_key(t), 0.0) + w
        if not vector:
            return []
        return [(cid, s) for cid, s in self._search(vector, "sparse", "IP", k, reports) if s > 0]


def mean_length(tokens: Sequence[Sequence[str]]) -> float:
    return sum(len(t) for t in tokens) / max(len(tokens), 1)
