"""Index backends by name (RAG_STORE): where a build's search rows live.

`rag index` always writes the reports, the chunks, their BM25 tokens and statistics as local
files (the evidence score reads the tokenizer and IDF). The search rows go to a backend: the
build hands it one `ChangeSet` (every chunk of a full build, or the rows an update removes and
the chunks it appends); the backend writes them (into the new build folder, or a server the
folder then points to), opens them again as a `SparseIndex` and a `VectorIndex`, and describes
them for `rag doctor`. `faiss` (local FAISS + BM25 files, the default) and `milvus` are
registered here; another store is one module and one `register_store` call (docs/architecture.md,
"Adding a store").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from rag.contracts import SparseIndex, VectorIndex
from rag.errors import ConfigError, IndexStoreError, RagError, first_line
from rag.index.dense import DenseIndex, FaissStore, digest_path, intact
from rag.index.embed import LEXICAL
from rag.index.layout import REBUILD, Manifest, link_file
from rag.index.milvus_store import MilvusSparseIndex, MilvusTarget, collection_name
from rag.index.milvus_sync import open_stores, sync
from rag.index.rows import Rows
from rag.index.sparse import BM25Store
from rag.types import Chunk


@dataclass(frozen=True)
class StoreOptions:
    """What the settings say about where the rows go (rag/factory.py fills it in)."""

    index_dir: Path = Path("index")
    uri: str | None = None  # a server's address (Milvus: None is Milvus Lite in the index folder)
    collection: str | None = None  # a name prefix on the server
    # a secret: never logged, never shown, never written to the build folder
    token: str | None = field(default=None, repr=False)
    lexical: str = "jieba"  # how a server scores words (Milvus: "jieba" tokens or its own BM25


@dataclass(frozen=True)
class ChangeSet:
    """What one build changes. A full build: `chunks` is every row, in row order. An update:
    the previous build's rows less `removed_rows`, then `chunks` appended."""

    full: bool
    chunks: Sequence[Chunk]  # the chunks this build writes
    vectors: np.ndarray | None  # their vectors; None for an index built without an embedder
    tokens: Sequence[Sequence[str]]  # their BM25 tokens
    reports: Mapping[str, str]  # every report of the new build -> its file's SHA-256
    embed_model: str
    chunker: Mapping[str, object]
    previous: Path | None = None  # the live build folder (None: the first build)
    previous_manifest: Manifest | None = None
    removed_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


class Written(NamedTuple):
    store: str  # where the rows are, for the build summary (never a token)
    update: str = ""  # what was written, when the backend has more to say than the build


@runtime_checkable
class IndexBackend(Protocol):
    """Writes, opens and describes a build's search rows."""

    name: str  # the RAG_STORE value, recorded in the manifest (`store`)

    def updatable(self, folder: Path, manifest: Manifest) -> bool:
        """Whether the next build may be an update (ChangeSet.full False) of the live build
        `folder`; False: every build is full (a backend that syncs by itself, or rows that
        need repair)."""
        ...

    def write(self, folder: Path, change: ChangeSet) -> Written:
        """Write the rows for the new build `folder` (not yet live: an error leaves the
        previous build serving)."""
        ...

    def open(
        self, folder: Path, manifest: Manifest, rows: Rows, lexical: BM25Store
    ) -> tuple[SparseIndex, VectorIndex | None]:
        """The lexical and the vector search of a build (vector None: built without one)."""
        ...

    def describe(self, folder: Path, manifest: Manifest) -> str: ...


STORES: dict[str, Callable[[StoreOptions], IndexBackend]] = {}


def register_store(name: str, make: Callable[[StoreOptions], IndexBackend]) -> None:
    """Make `name` a value of RAG_STORE."""
    if not name or not name.isidentifier():
        raise ConfigError(f"存储后端的名字须是字母、数字或下划线组成的词：{name!r}")
    STORES[name] = make


def make_store(name: str, options: StoreOptions | None = None) -> IndexBackend:
    make = STORES.get(name)
    if make is None:
        known = "、".join(sorted(STORES))
        raise ConfigError(f"RAG_STORE={name!r} 不是已知的存储后端；可选：{known}")
    return make(options or StoreOptions())


def _mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


class FaissBackend:
    """The local files: FAISS for the vectors, our BM25 postings for the words."""

    name = "faiss"

    def __init__(self, options: StoreOptions | None = None) -> None:
        pass

    def updatable(self, folder: Path, manifest: Manifest) -> bool:
        return manifest.embed_model == LEXICAL or intact(folder / FaissStore.FILE)

    def write(self, folder: Path, change: ChangeSet) -> Written:
        target = folder / FaissStore.FILE
        if change.vectors is None and change.full:
            return Written(self.name)
        if change.full:
            assert change.vectors is not None
            FaissStore.build(change.chunks, change.vectors).save(folder)
            return Written(self.name)
        src = change.previous
        if src is None or not (src / FaissStore.FILE).exists():
            return Written(self.name)  # an index without vectors stays without
        if not change.chunks and not len(change.removed_rows):
            link_file(src / FaissStore.FILE, target)
            if digest_path(src / FaissStore.FILE).exists():
                link_file(digest_path(src / FaissStore.FILE), digest_path(target))
            return Written(self.name)
        dim = change.previous_manifest.dim if change.previous_manifest else 0
        vectors = change.vectors if change.vectors is not None else np.empty((0, dim), np.float32)
        dense = DenseIndex.load(src / FaissStore.FILE)
        dense.replace_rows(change.removed_rows, vectors).save(target)
        return Written(self.name)

    def open(
        self, folder: Path, manifest: Manifest, rows: Rows, lexical: BM25Store
    ) -> tuple[SparseIndex, VectorIndex | None]:
        if manifest.embed_model == LEXICAL:
            return lexical, None
        if not (folder / FaissStore.FILE).exists():  # never a silent BM25-only answer
            raise IndexStoreError(
                f"索引 {folder} 用向量模型 {manifest.embed_model} 建成，向量文件 "
                f"{folder / FaissStore.FILE} 却不见了；{REBUILD}"
            )
        try:
            return lexical, FaissStore.open(folder, rows)
        except IndexStoreError:
            raise
        except Exception as e:  # faiss reading a truncated file raises RuntimeError
            raise IndexStoreError(
                f"index file {folder / FaissStore.FILE} is damaged ({first_line(e)}); {REBUILD}"
            ) from e

    def describe(self, folder: Path, manifest: Manifest) -> str:
        dense_file = folder / FaissStore.FILE
        vectors = (
            f"FAISS {dense_file.name} {_mb(dense_file):.1f} MB, " if dense_file.exists() else ""
        )
        bm25 = _mb(folder / BM25Store.FOLDER)
        return f"local files: {vectors}BM25 {bm25:.1f} MB ({manifest.n_chunks} rows)"


class MilvusBackend:
    """Milvus collections (Milvus Lite, a local file, or a server by URI): only the reports
    whose file changed are deleted and inserted again; the build folder keeps pointers."""

    name = "milvus"

    def __init__(self, options: StoreOptions | None = None) -> None:
        o = options or StoreOptions()
        folder = o.index_dir.resolve()
        self.token = o.token
        self.target = MilvusTarget(
            uri=o.uri or str(folder / "milvus.db"),
            collection=o.collection or collection_name(folder),
            token=o.token,
            lexical=o.lexical,
        )

    def _previous(self, change: ChangeSet) -> dict[str, str] | None:
        """The live build's report hashes, if its rows in the target can be kept (same
        collections, model and chunker); None: write them all."""
        old, folder = change.previous_manifest, change.previous
        if old is None or folder is None or old.store != self.name:
            return None
        if old.embed_model != change.embed_model or old.chunker != dict(change.chunker):
            return None
        try:
            where = MilvusSparseIndex.pointer(folder)
        except IndexStoreError:
            return None
        t = self.target
        if (where["uri"], where["collection"], where["lexical"]) != (t.uri, t.sparse, t.lexical):
            return None
        return {s: e.hash for s, e in old.reports.items()}

    def write(self, folder: Path, change: ChangeSet) -> Written:
        n_old = change.previous_manifest.n_chunks if change.previous_manifest else 0
        sparse, dense, done = sync(
            self.target,
            change.chunks,
            change.vectors,
            change.reports,
            self._previous(change),
            n_old,
            change.tokens,
        )
        for store in (sparse, dense):
            if store is not None:
                store.save(folder)
        update = (
            "full"
            if done.full
            else f"{done.deleted_reports} report(s) removed or replaced, "
            f"{done.inserted_chunks} chunk(s) inserted"
        )
        return Written(f"milvus: {self.target.uri} {self.target.collection}", update)

    def updatable(self, folder: Path, manifest: Manifest) -> bool:
        return False  # sync() replaces only the changed reports' rows itself

    def open(
        self, folder: Path, manifest: Manifest, rows: Rows, lexical: BM25Store
    ) -> tuple[SparseIndex, VectorIndex | None]:
        return open_stores(folder, self.token, manifest.embed_model != LEXICAL, lexical)

    def describe(self, folder: Path, manifest: Manifest) -> str:
        try:
            sparse, dense = open_stores(folder, self.token, manifest.embed_model != LEXICAL)
            parts = [f"{sparse.collection} ({len(sparse)} rows)"]
            if dense is not None:
                parts.append(f"{dense.collection} ({len(dense)} rows)")
        except RagError as e:
            return f"Milvus: {e}"
        except Exception as e:  # grpc and pymilvus errors of a server that went away
            return f"Milvus: unreachable ({first_line(e, 160)})"
        return f"Milvus at {sparse.uri}: " + ", ".join(parts)


register_store("faiss", FaissBackend)
register_store("milvus", MilvusBackend)
