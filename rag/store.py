"""Open the live build of an index folder: reports, chunks and their search backends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.dense import FaissStore
from rag.embed import LEXICAL
from rag.errors import IndexStoreError
from rag.layout import Manifest, current_build, read_build
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


def load_index(index_dir: Path) -> LoadedIndex:
    folder = current_build(index_dir)
    if folder is None:
        raise IndexStoreError(
            f"no index in {index_dir}; build it with `rag index --index {index_dir}`"
        )
    manifest, reports, chunks = read_build(folder)
    rows = Rows(chunks)
    sparse = BM25Store.open(folder, rows, JiebaTokenizer(manifest.tokenizer_words))
    dense = (
        FaissStore.open(folder, rows)
        if manifest.embed_model != LEXICAL and (folder / FaissStore.FILE).exists()
        else None
    )
    return LoadedIndex(folder, manifest, reports, rows, sparse, dense)
