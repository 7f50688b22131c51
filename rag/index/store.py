"""Open the live build of an index folder: reports, chunks and their search backends.

The local files always hold the reports, the chunks and the BM25 statistics the evidence score
reads (tokenizer, IDF); the search backends are the local FAISS and bm25s files, or the Milvus
collections the build folder points to (manifest `store`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.contracts import SparseIndex, VectorIndex
from rag.errors import IndexStoreError, first_line
from rag.index.backends import StoreOptions, make_store
from rag.index.embed import LEXICAL
from rag.index.layout import REBUILD, Manifest, current_build, read_build, segment_folder
from rag.index.rows import Rows
from rag.index.sentvec import SentenceVectors
from rag.index.sparse import BM25Store, JiebaTokenizer
from rag.types import Chunk, Report


@dataclass
class LoadedIndex:
    """An open index: the reports and chunks, the local BM25 statistics (whose tokenizer and
    IDF the evidence score reads), the lexical search (the same store, or Milvus) and the
    dense search (None when built without vectors)."""

    folder: Path
    manifest: Manifest
    reports: dict[str, Report]
    rows: Rows
    lexical: BM25Store
    sparse: SparseIndex
    dense: VectorIndex | None
    sentences: SentenceVectors | None = None  # built at index time for the second look

    @property
    def chunks(self) -> list[Chunk]:
        return self.rows.chunks

    @property
    def embed_model(self) -> str:
        return self.manifest.embed_model


def _damaged(path: Path, e: BaseException) -> IndexStoreError:
    return IndexStoreError(f"index file {path} is damaged ({first_line(e)}); {REBUILD}")


def load_index(index_dir: Path, options: StoreOptions | None = None) -> LoadedIndex:
    """The live build of `index_dir`, its search rows opened by the backend its manifest
    names (`options`: where that backend's rows are, e.g. a server's token)."""
    folder = current_build(index_dir)
    if folder is None:
        raise IndexStoreError(f"{index_dir} 中还没有索引，请先运行 rag index --index {index_dir}")
    manifest, reports, chunks = read_build(folder)
    rows = Rows(chunks)
    try:
        lexical = BM25Store.open(folder, rows, JiebaTokenizer(manifest.tokenizer_words))
    except Exception as e:  # bm25s reading a truncated or foreign file: any error
        raise _damaged(folder / BM25Store.FOLDER, e) from e
    backend = make_store(manifest.store, options)
    sparse, dense = backend.open(folder, manifest, rows, lexical)
    searches = [("BM25", lexical), (backend.name, sparse), (f"{backend.name} vector", dense)]
    for name, store in searches:
        if store is not None and len(store) != len(rows):
            raise IndexStoreError(
                f"{folder} 的 {name} 索引有 {len(store)} 行，段落却有 {len(rows)} 个；{REBUILD}"
            )
    sentences = None
    if manifest.embed_model != LEXICAL:
        seg_folders = [segment_folder(folder, name) for name in manifest.segments]
        try:
            sentences = SentenceVectors.open(seg_folders)
        except (OSError, ValueError) as e:
            raise _damaged(folder / "segments", e) from e
    return LoadedIndex(folder, manifest, reports, rows, lexical, sparse, dense, sentences)
