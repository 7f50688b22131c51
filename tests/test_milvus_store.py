"""RAG_STORE=milvus end to end on Milvus Lite: `rag index` writes the collections report by
report, the app answers from them, `rag doctor` shows them, a failed write loses nothing.
(The file name puts these tests last: see conftest.pytest_collection_modifyitems.)"""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path

import pytest

from rag import factory
from rag.config import QueryOptions, Settings
from rag.errors import IndexStoreError
from rag.index.backends import FaissBackend, MilvusBackend, StoreOptions, make_store
from rag.index.build import build_index
from rag.index.layout import current_build
from rag.index.milvus_store import MilvusTarget, MilvusTokenIndex
from rag.index.store import load_index
from rag.ingest.chunk import ChunkerSettings

# find_spec, not importorskip: importing pymilvus at collection would start grpc in the
# process before the tests that fork readers
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(find_spec("pymilvus") is None, reason='needs pip install -e ".[milvus]"'),
]

WAWU = "001_e78c042d1c9dcf59.txt"
QUESTIONS = [
    "瓦屋镇去年搞了几场普法活动？",
    "水口镇给执法人员培训了多少回？",
    "金湖县公职律师有几个？",
    "三墩镇信息公开了多少条？",
    "峡口镇综合查一次查了多少回？",
]


def _target(tmp_path: Path, token: str | None = None, lexical: str = "jieba") -> StoreOptions:
    return StoreOptions(tmp_path, str(tmp_path / "milvus.db"), "rag_test", token, lexical)


def _build(reports: Path, index: Path, embedder, target: StoreOptions | None):  # type: ignore[no-untyped-def]
    store = MilvusBackend(target) if target is not None else None
    return build_index(reports, index, embedder, ChunkerSettings(), store=store)


@pytest.mark.parametrize(
    ("lexical", "kind"), [("jieba", "MilvusTokenIndex"), ("milvus", "MilvusSparseIndex")]
)
def test_a_milvus_index_answers_from_its_collections(
    reports_copy: Path, tmp_path: Path, fake_embedder, lexical: str, kind: str
) -> None:  # type: ignore[no-untyped-def]
    target = _target(tmp_path, "s3cret", lexical)
    summary = _build(reports_copy, tmp_path / "mv", fake_embedder, target)
    assert summary.store_update == "full" and summary.chunks > 0
    _build(reports_copy, tmp_path / "local", fake_embedder, None)
    mv, local = load_index(tmp_path / "mv"), load_index(tmp_path / "local")
    assert mv.manifest.store == "milvus" and local.manifest.store == "faiss"
    assert type(mv.sparse).__name__ == kind
    assert len(mv.sparse) == len(mv.dense) == len(mv.rows) == summary.chunks  # type: ignore[arg-type]
    settings = Settings()
    on_milvus = factory.pipeline_over(settings, mv, fake_embedder)
    on_files = factory.pipeline_over(settings, local, fake_embedder)
    dense = QueryOptions(k=5, mode="dense")
    for q in QUESTIONS:  # exact inner-product search on both: the same passages
        ids = [h.chunk.id for h in on_milvus.retriever.search(q, dense)]
        assert ids == [h.chunk.id for h in on_files.retriever.search(q, dense)], q
    if lexical == "jieba":  # our tokens and BM25 weights: the local BM25's ranking
        for q in QUESTIONS:
            ranked = mv.sparse.search(q, 10)
            expected = local.sparse.search(q, 10)
            assert [c for c, _ in ranked] == [c for c, _ in expected], q
            assert [s for _, s in ranked] == pytest.approx([s for _, s in expected], rel=1e-4)
    a = on_milvus.ask("瓦屋镇去年搞了几场普法活动？")
    assert not a.abstained and "8余场次" in a.text
    assert a.citations and all(c.source == WAWU for c in a.citations)
    # the token is a secret: not in the build folder, not in the summary
    folder = current_build(tmp_path / "mv")
    assert folder is not None
    for f in folder.rglob("*"):
        if f.is_file() and f.suffix in (".json", ".jsonl"):
            assert "s3cret" not in f.read_text(encoding="utf-8"), f
    assert "s3cret" not in repr(_target(tmp_path, "s3cret"))
    assert "s3cret" not in str(summary.to_dict())


def test_an_update_rewrites_only_the_changed_report(
    reports_copy: Path, tmp_path: Path, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    index, target = tmp_path / "mv", _target(tmp_path)
    _build(reports_copy, index, fake_embedder, target)
    wawu = reports_copy / WAWU
    wawu.write_text(wawu.read_text(encoding="utf-8").replace("8余场次", "9余场次"), "utf-8")
    summary = _build(reports_copy, index, fake_embedder, target)
    loaded = load_index(index)
    own = sum(c.source == WAWU for c in loaded.chunks)
    assert summary.store_update == f"1 report(s) removed or replaced, {own} chunk(s) inserted"
    assert len(loaded.sparse) == len(loaded.rows)
    a = factory.pipeline_over(Settings(), loaded, fake_embedder).ask("瓦屋镇去年搞了几场普法活动？")
    assert "9余场次" in a.text and "8余场次" not in a.text
    (reports_copy / "004_ec6daf499c9a8590.txt").unlink()
    summary = _build(reports_copy, index, fake_embedder, target)
    assert summary.store_update == "1 report(s) removed or replaced, 0 chunk(s) inserted"
    loaded = load_index(index)
    assert len(loaded.sparse) == len(loaded.dense) == len(loaded.rows)  # type: ignore[arg-type]
    assert "004_ec6daf499c9a8590.txt" not in loaded.reports


def test_a_failed_write_keeps_the_previous_build_and_the_next_one_repairs(
    reports_copy: Path, tmp_path: Path, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    index, target = tmp_path / "mv", _target(tmp_path)
    _build(reports_copy, index, fake_embedder, target)
    live = current_build(index)
    wawu = reports_copy / WAWU
    wawu.write_text(wawu.read_text(encoding="utf-8").replace("8余场次", "9余场次"), "utf-8")

    def broken(self, *args) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("connection reset")

    monkeypatch.setattr(MilvusTokenIndex, "add_tokens", broken)
    with pytest.raises(IndexStoreError, match=r"写入 Milvus（.*）失败（connection reset）"):
        _build(reports_copy, index, fake_embedder, target)
    assert current_build(index) == live  # the folder still serves the previous build
    monkeypatch.undo()
    # the collections lost the report's rows: the live build no longer matches them
    with pytest.raises(IndexStoreError, match="行，段落却有"):
        load_index(index)
    summary = _build(reports_copy, index, fake_embedder, target)
    assert summary.store_update == "full"
    loaded = load_index(index)
    assert len(loaded.sparse) == len(loaded.rows)


def test_rag_doctor_shows_the_store_and_its_rows(
    reports_copy: Path, tmp_path: Path, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    index = tmp_path / "mv"
    summary = _build(reports_copy, index, fake_embedder, _target(tmp_path))
    settings = Settings(index_dir=index, store="milvus", embed_model="none")
    d = factory.describe(settings)
    assert d.store is not None
    assert re.fullmatch(
        rf"Milvus at .*milvus\.db: rag_test_sparse \({summary.chunks} rows\), "
        rf"rag_test_dense \({summary.chunks} rows\)",
        d.store,
    ), d.store
    local = factory.describe(Settings(index_dir=index, store="faiss", embed_model="none"))
    assert local.mismatch is not None
    assert "the index was built with RAG_STORE=milvus; `rag index` rebuilds it" in local.mismatch


def test_the_store_settings_name_a_lite_file_and_a_collection_per_index(tmp_path: Path) -> None:
    s = Settings(index_dir=tmp_path / "县级 index", store="milvus", milvus_token="u:p")
    target = MilvusBackend(factory.store_options(s)).target
    assert target.uri == str((tmp_path / "县级 index").resolve() / "milvus.db")
    assert target.collection == "rag____index" and target.token == "u:p"
    server = Settings(store="milvus", milvus_uri="http://10.0.0.5:19530", milvus_collection="prov")
    assert MilvusBackend(factory.store_options(server)).target == MilvusTarget(
        "http://10.0.0.5:19530", "prov", None
    )
    assert "u:p" not in repr(factory.store_options(s))
    assert isinstance(make_store(Settings().store), FaissBackend)


def test_rag_index_and_ask_on_milvus_lite_from_the_settings(
    reports_copy: Path, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from rag.cli import app

    runner = CliRunner()
    # a .pdf is read in a child process: with grpc running here, from a forkserver
    (reports_copy / "broken.pdf").write_bytes(b"%PDF-1.4 junk")
    env = {
        "RAG_STORE": "milvus",
        "RAG_EMBED_MODEL": "none",
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "RAG_MILVUS_TOKEN": "never-shown",
    }
    result = runner.invoke(app, ["index", "--reports", str(reports_copy)], env=env)
    assert result.exit_code == 0, result.output
    assert "已跳过 broken.pdf：不是可读的 .pdf 文件" in result.output.replace("\n", " ")
    assert re.search(r"milvus: .*milvus\.db rag_index: full", result.output), result.output
    result = runner.invoke(app, ["ask", "--json", "瓦屋镇去年搞了几场普法活动？"], env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert "8余场次" in answer["answer"] and not answer["abstained"]
    result = runner.invoke(app, ["doctor"], env=env)
    assert re.search(r"向量库：Milvus at .*: rag_index_sparse \(\d+ rows\)", result.output)
    assert "never-shown" not in result.output
