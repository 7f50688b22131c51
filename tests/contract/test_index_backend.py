"""The `IndexBackend` contract (rag/index/backends.py), run against every store through `rag index`'s
own build: a full build and an update (one report changed, one removed) are written, opened and
described, and each search of the store agrees with the local FAISS files'."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from toy_store import NumpyBackend

from rag.index import backends
from rag.index.backends import FaissBackend, IndexBackend, MilvusBackend, StoreOptions
from rag.index.build import build_index
from rag.index.store import LoadedIndex, load_index
from rag.ingest.chunk import ChunkerSettings

Make = Callable[[StoreOptions], IndexBackend]
BACKENDS: dict[str, Make] = {
    "faiss": FaissBackend,
    "milvus-lite": MilvusBackend,
    "numpy": NumpyBackend,  # the toy of docs/architecture.md "Adding a store"
}
MARKS = {"milvus-lite": [pytest.mark.integration]}
CHANGED, REMOVED = "001_e78c042d1c9dcf59.txt", "004_ec6daf499c9a8590.txt"
QUESTIONS = ("瓦屋镇普法活动", "执法人员培训", "行政复议案件")


@pytest.fixture(params=[pytest.param(n, marks=MARKS.get(n, [])) for n in sorted(BACKENDS)])
def make(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Make:
    if request.param == "milvus-lite":
        pytest.importorskip("pymilvus")
    monkeypatch.setattr(backends, "STORES", dict(backends.STORES))  # the test leaves no trace
    made = BACKENDS[request.param]
    backends.register_store(made(StoreOptions()).name, made)  # `rag index` opens it by name
    return made


def _built(reports: Path, index: Path, store: IndexBackend | None, embedder) -> LoadedIndex:  # type: ignore[no-untyped-def]
    build_index(reports, index, embedder, ChunkerSettings(), store=store)
    return load_index(index, StoreOptions(index))


def _same_search(a: LoadedIndex, b: LoadedIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    assert a.dense is not None and b.dense is not None
    assert sorted(a.rows.ids) == sorted(b.rows.ids)  # the same chunks as a fresh local build
    for q in QUESTIONS:
        assert [cid for cid, _ in a.dense.search(embedder.embed_query(q), 8)] == [
            cid for cid, _ in b.dense.search(embedder.embed_query(q), 8)
        ]
        assert {cid for cid, _ in a.sparse.search(q, 8)} == {
            cid for cid, _ in b.sparse.search(q, 8)
        }
        one = a.dense.search(embedder.embed_query(q), 4, reports=[CHANGED])
        assert one and {a.rows.chunk(cid).source for cid, _ in one} == {CHANGED}


def test_a_store_writes_opens_updates_and_describes_its_rows(
    make: Make, reports_copy: Path, tmp_path: Path, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    index = tmp_path / "index"
    store = make(StoreOptions(index))
    assert isinstance(store, IndexBackend)
    loaded = _built(reports_copy, index, store, fake_embedder)
    assert loaded.manifest.store == store.name
    assert len(loaded.sparse) == len(loaded.dense) == len(loaded.rows) > 0  # type: ignore[arg-type]
    assert str(len(loaded.rows)) in store.describe(loaded.folder, loaded.manifest)
    _same_search(loaded, _built(reports_copy, tmp_path / "ref", None, fake_embedder), fake_embedder)

    # an update (FAISS: a new segment), then a removal past the dead-row share (a full build)
    wawu = reports_copy / CHANGED
    wawu.write_text(wawu.read_text(encoding="utf-8") + "\n我镇新增调解室三处。\n", "utf-8")
    again = _built(reports_copy, index, store, fake_embedder)
    assert len(again.sparse) == len(again.dense) == len(again.rows)  # type: ignore[arg-type]
    assert any("调解室三处" in c.text for c in again.chunks if c.source == CHANGED)
    _same_search(again, _built(reports_copy, tmp_path / "ref2", None, fake_embedder), fake_embedder)
    (reports_copy / REMOVED).unlink()
    last = _built(reports_copy, index, store, fake_embedder)
    assert REMOVED not in last.reports and not last.rows.of_reports([REMOVED]).size  # type: ignore[union-attr]
    assert len(last.sparse) == len(last.dense) == len(last.rows) < len(again.rows)  # type: ignore[arg-type]
    _same_search(last, _built(reports_copy, tmp_path / "ref3", None, fake_embedder), fake_embedder)
