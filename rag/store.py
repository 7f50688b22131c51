"""Open the live build of an index folder: reports, chunks and their search backends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.dense import FaissStore
from rag.embed import LEXICAL
from rag.errors import IndexStoreError, first_line
from rag.layout import REBUILD, Manifest, current_build, read_build
from rag.rows import Rows
from rag.sparse import BM25Store, JiebaTokenizer
from rag.types import Chunk, Report


@dataclass
class LoadedIndex:
    """An open index: the reports and chunks, the lexical store (whose tokenizer and IDF the
    evidence score reads) and the dense store (None when built without vectors)."""

    folder: Path
    manifest: Manifest
    reports: dict[str, Report]
    rows: Rows
    sparse: BM25Store
    dense: FaissStore | None

    @property
    def chunks(self) -> list[Chunk]:
        return self.rows.chunks

    @property
    def embed_model(self) -> str:
        return self.manifest.embed_model


def _damaged(path: Path, e: BaseException) -> IndexStoreError:
    return IndexStoreError(f"index file {path} is damaged ({first_line(e)}); {REBUILD}")


def load_index(index_dir: Path) -> LoadedIndex:
    folder = current_build(index_dir)
    if folder is None:
        raise IndexStoreError(
            f"no index in {index_dir}; build it with `rag index --index {index_dir}`"
        )
    manifest, reports, chunks = read_build(folder)
    rows = Rows(chunks)
    try:
        sparse = BM25Store.open(folder, rows, JiebaTokenizer(manifest.tokenizer_words))
    except Exception as e:  # bm25s reading a truncated or foreign file: any error
        raise _damaged(folder / BM25Store.FOLDER, e) from e
    dense = None
    if manifest.embed_model != LEXICAL and (folder / FaissStore.FILE).exists():
        try:
            dense = FaissStore.open(folder, rows)
        except Exception as e:  # faiss reading a truncated file raises RuntimeError
            raise _damaged(folder / FaissStore.FILE, e) from e
    for name, store in (("BM25", sparse), ("vector", dense)):
        if store is not None and len(store) != len(rows):
            raise IndexStoreError(
                f"the {name} index in {folder} has {len(store)} rows for {len(rows)} chunks; "
                f"{REBUILD}"
            )
    return LoadedIndex(folder, manifest, reports, rows, sparse, dense)
