from pathlib import Path

import pytest

from conftest import FakeEmbedder
from rag.config import Settings
from rag.errors import IndexStoreError, ModelError
from rag.factory import open_pipeline
from rag.index import build
from rag.index.build import build_index
from rag.index.layout import read_manifest
from rag.index.store import load_index
from rag.ingest.chunk import ChunkerSettings


def test_rebuild_reuses_unchanged_reports_and_vectors(reports_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    emb = FakeEmbedder()
    first = build_index(reports_copy, index, emb, ChunkerSettings())
    assert first.reports == 5 and first.embedded == first.chunks > 0
    again = build_index(reports_copy, index, emb, ChunkerSettings())
    assert again.embedded == 0 and again.reused_embeddings == first.chunks
    assert len(again.reused_reports) == 5 and not again.new_reports

    changed = reports_copy / "001_e78c042d1c9dcf59.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\n补充说明：新增调解室3个。\n", encoding="utf-8"
    )
    (reports_copy / "003_bf156fa8c0c17ca2.txt").unlink()
    third = build_index(reports_copy, index, emb, ChunkerSettings())
    assert third.new_reports == ["001_e78c042d1c9dcf59.txt"]
    assert third.removed_reports == ["003_bf156fa8c0c17ca2.txt"]
    # a fifth of the chunks replaced or removed: a full build again (one segment), which
    # embeds only the chunks whose text is new
    assert 0 < third.embedded < 5
    loaded = load_index(index)
    assert len(loaded.manifest.segments) == 1
    assert "003_bf156fa8c0c17ca2.txt" not in loaded.reports
    assert all(c.source != "003_bf156fa8c0c17ca2.txt" for c in loaded.chunks)
    assert loaded.dense is not None
    assert len(loaded.chunks) == third.chunks == len(loaded.dense)


def test_settings_change_rebuilds_everything(reports_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(reports_copy, index, FakeEmbedder(), ChunkerSettings(max_tokens=320))
    smaller = build_index(reports_copy, index, FakeEmbedder(), ChunkerSettings(max_tokens=100))
    assert len(smaller.new_reports) == 5
    other_model = build_index(
        reports_copy, index, FakeEmbedder(name="other"), ChunkerSettings(max_tokens=100)
    )
    assert other_model.embedded == other_model.chunks
    assert read_manifest(index).embed_model == "other"  # type: ignore[union-attr]


def test_bad_file_is_skipped_and_listed(reports_copy: Path, tmp_path: Path) -> None:
    (reports_copy / "broken.docx").write_bytes(b"not a zip")
    (reports_copy / "empty.txt").write_bytes(b"")
    summary = build_index(reports_copy, tmp_path / "index", None, ChunkerSettings())
    assert summary.reports == 5
    assert dict(summary.skipped).keys() == {"broken.docx", "empty.txt"}
    assert "文件是空的" in dict(summary.skipped)["empty.txt"]
    manifest = read_manifest(tmp_path / "index")
    assert manifest is not None
    assert {s["file"] for s in manifest.skipped} == {"broken.docx", "empty.txt"}


def test_nothing_indexable_is_an_error_and_keeps_the_old_index(
    reports_copy: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    build_index(reports_copy, index, None, ChunkerSettings())
    before = (index / "CURRENT").read_text()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.txt").write_bytes(b"")
    with pytest.raises(IndexStoreError, match="没有能建索引的报告"):
        build_index(bad, index, None, ChunkerSettings())
    assert (index / "CURRENT").read_text() == before
    assert len(load_index(index).reports) == 5


def test_interrupted_build_leaves_previous_index_usable(
    reports_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    build_index(reports_copy, index, None, ChunkerSettings())
    before = (index / "CURRENT").read_text()

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(build.BM25Store, "save", crash)
    (reports_copy / "000_4e493ef760f0cb20.txt").unlink()
    with pytest.raises(KeyboardInterrupt):
        build_index(reports_copy, index, None, ChunkerSettings())
    assert (index / "CURRENT").read_text() == before
    assert len(load_index(index).reports) == 5
    assert [p.name for p in (index / "builds").iterdir()] == [before.strip()]  # temp folder removed


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexStoreError, match="rag index"):
        load_index(tmp_path / "nowhere")


def test_model_mismatch_at_query_time(reports_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(reports_copy, index, FakeEmbedder(name="fake-model"), ChunkerSettings())
    with pytest.raises(ModelError, match="是用向量模型 fake-model 建的"):
        open_pipeline(Settings(embed_model="none", index_dir=index), index)


def test_an_update_tokenises_only_the_changed_report_and_scores_like_a_fresh_build(
    reports_copy: Path, tmp_path: Path
) -> None:
    import numpy as np

    chunker = ChunkerSettings()
    index = tmp_path / "index"
    first = build_index(reports_copy, index, None, chunker)
    assert first.tokenized == first.chunks and first.reused_tokens == 0
    before = {c.id for c in load_index(index).chunks}
    wawu = reports_copy / "001_e78c042d1c9dcf59.txt"
    text = wawu.read_text(encoding="utf-8")
    wawu.write_text(text.replace("8余场次", "9余场次").replace("一是", "第一是", 1), "utf-8")
    update = build_index(reports_copy, index, None, chunker)
    updated = load_index(index)
    new = [c for c in updated.chunks if c.id not in before]
    # the edit shifts every later span of the report: those chunks are new
    assert len(new) > 1 and all(c.source == wawu.name for c in new)
    changed = [c for c in updated.chunks if c.source == wawu.name]
    assert update.tokenized == len(changed) and update.reused_tokens == update.chunks - len(changed)
    # a second segment: the first one's files are linked, not rewritten
    assert len(updated.manifest.segments) == 2
    fresh_dir = tmp_path / "fresh"
    build_index(reports_copy, fresh_dir, None, chunker)
    fresh = load_index(fresh_dir)
    assert sorted(c.id for c in updated.chunks) == sorted(c.id for c in fresh.chunks)
    order = [fresh.rows.row_of[c.id] for c in updated.chunks]
    for q in ("瓦屋镇普法活动几场", "水口镇执法培训", "金湖县法律顾问", "峡口镇综合查一次"):
        a, b = updated.lexical.bm25.scores(q), fresh.lexical.bm25.scores(q)[order]
        assert np.allclose(a, b, rtol=1e-6, atol=0), q
        assert updated.lexical.search(q, 5) == fresh.lexical.search(q, 5), q


def test_a_new_place_name_retokenises_the_chunks_that_contain_it(
    reports_copy: Path, tmp_path: Path
) -> None:
    chunker = ChunkerSettings()
    index = tmp_path / "index"
    build_index(reports_copy, index, None, chunker)
    old_words = set(load_index(index).manifest.tokenizer_words)
    # a report of 江苏省宝应县曹甸镇: 江苏省 becomes a jieba word, so 金湖县's chunk that
    # mentions 江苏省 is tokenised again rather than keep its old tokens
    new = reports_copy / "曹甸镇2024.txt"
    new.write_text(
        "江苏省宝应县曹甸镇人民政府关于2024年法治政府建设情况的报告\n"
        "2024年，曹甸镇开展普法活动6场。\n",
        encoding="utf-8",
    )
    summary = build_index(reports_copy, index, None, chunker)
    loaded = load_index(index)
    added = set(loaded.manifest.tokenizer_words) - old_words
    assert "江苏省" in added
    again = [
        c for c in loaded.chunks if c.source == new.name or any(w in c.index_text for w in added)
    ]
    assert any(c.source == "002_437bbe3c0d589296.txt" for c in again)
    assert summary.tokenized == len(again) and summary.reused_tokens == summary.chunks - len(again)


def test_an_update_writes_only_the_changed_report_and_searches_like_a_fresh_build(
    reports_copy: Path, tmp_path: Path
) -> None:
    from rag.index.layout import current_build, segment_folder

    index, emb = tmp_path / "index", FakeEmbedder()
    build_index(reports_copy, index, emb, ChunkerSettings())
    first = current_build(index)
    assert first is not None
    (seg,) = read_manifest(index).segments  # type: ignore[union-attr]
    written = {
        p.relative_to(first): p.stat().st_mtime_ns
        for p in [*segment_folder(first, seg).iterdir(), *(first / "bm25" / seg).iterdir()]
    }
    wawu = reports_copy / "001_e78c042d1c9dcf59.txt"
    wawu.write_text(wawu.read_text(encoding="utf-8").replace("8余场次", "9余场次"), "utf-8")
    update = build_index(reports_copy, index, emb, ChunkerSettings())
    second = current_build(index)
    assert second is not None and second != first and not first.exists()
    assert update.new_reports == [wawu.name] and len(update.reused_reports) == 4
    # the old segment's files are the same files (linked), not written again
    for rel, mtime in written.items():
        assert (second / rel).stat().st_mtime_ns == mtime, rel
    updated = load_index(index)
    assert updated.manifest.segments[0] == seg and len(updated.manifest.segments) == 2
    assert "9余场次" in "".join(c.text for c in updated.chunks if c.source == wawu.name)
    fresh_dir = tmp_path / "fresh"
    build_index(reports_copy, fresh_dir, emb, ChunkerSettings())
    fresh = load_index(fresh_dir)
    assert updated.dense is not None and fresh.dense is not None
    assert len(updated.dense) == len(fresh.dense) == len(updated.chunks)
    for q in ("瓦屋镇普法活动几场", "水口镇执法培训", "金湖县法律顾问"):
        v = emb.embed_query(q)
        assert updated.dense.search(v, 5) == fresh.dense.search(v, 5), q
        assert updated.dense.search(v, 3, {wawu.name}) == fresh.dense.search(v, 3, {wawu.name})


def test_many_updates_end_in_one_segment_again(reports_copy: Path, tmp_path: Path) -> None:
    from rag.index.build import MAX_SEGMENTS

    index = tmp_path / "index"
    build_index(reports_copy, index, None, ChunkerSettings())
    jinhu = reports_copy / "002_437bbe3c0d589296.txt"
    text = jinhu.read_text(encoding="utf-8")
    counts = []
    for i in range(MAX_SEGMENTS + 1):
        jinhu.write_text(text + f"\n补充{i}。\n", "utf-8")
        build_index(reports_copy, index, None, ChunkerSettings())
        counts.append(len(read_manifest(index).segments))  # type: ignore[union-attr]
    assert max(counts) <= MAX_SEGMENTS and 1 in counts[1:], counts
    assert len(load_index(index).chunks) == read_manifest(index).n_chunks  # type: ignore[union-attr]


def test_a_build_with_nothing_changed_links_every_file(reports_copy: Path, tmp_path: Path) -> None:
    from rag.index.layout import current_build

    index, emb = tmp_path / "index", FakeEmbedder()
    build_index(reports_copy, index, emb, ChunkerSettings())
    first = current_build(index)
    assert first is not None
    files = {
        p.relative_to(first): p.stat().st_mtime_ns
        for p in first.rglob("*")
        if p.is_file() and p.name not in ("manifest.json", "segments.json")
    }
    again = build_index(reports_copy, index, emb, ChunkerSettings())
    assert again.embedded == 0 and again.tokenized == 0 and len(again.reused_reports) == 5
    second = current_build(index)
    assert second is not None and second != first
    for rel, mtime in files.items():
        assert (second / rel).stat().st_mtime_ns == mtime, rel
    assert len(load_index(index).chunks) == again.chunks


def test_a_file_an_update_read_is_not_read_again_by_the_full_build_after_it(
    reports_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new town's name changes the keyword dictionary, so the update gives up for a full
    build; the report it read (a scan: minutes of OCR) is not read a second time."""
    import rag.index.reading

    index = tmp_path / "index"
    build_index(reports_copy, index, None, ChunkerSettings())
    new = reports_copy / "new.txt"
    text = (reports_copy / "001_e78c042d1c9dcf59.txt").read_text(encoding="utf-8")
    new.write_text(text.replace("瓦屋镇", "梁洼镇"), encoding="utf-8")
    real, reads = rag.index.reading.read_and_chunk, []

    def counted(path: Path, chunker: ChunkerSettings, progress=None):  # type: ignore[no-untyped-def]
        reads.append(path.name)
        return real(path, chunker, progress)

    monkeypatch.setattr(rag.index.reading, "read_and_chunk", counted)
    summary = build_index(reports_copy, index, None, ChunkerSettings())
    assert summary.store_update == ""  # a full build, not a new segment
    assert reads == ["new.txt"] and summary.new_reports == ["new.txt"]
    assert "梁洼镇" in load_index(index).manifest.tokenizer_words
