"""The composition root: the only reader of `Settings`. It builds the index, opens the
pipeline and its parts, and describes the configuration (`rag doctor`). The CLI, the UI, the
evaluation and the benchmarks all go through it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from rag.answer.chain import LLMAnswerer, make_chain
from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.llm import LLMConfig, llm_provider, make_model, provider_errors
from rag.answer.prompting import PromptSpec, load_prompt
from rag.config import Settings
from rag.contracts import Answerer, Embedder
from rag.errors import ConfigError, ModelError, first_line
from rag.index.backends import StoreOptions, make_store
from rag.index.build import BuildSummary, build_index
from rag.index.dense import DenseIndex, FaissStore, set_threads
from rag.index.embed import LEXICAL, PACKAGED, EndpointConfig, Resolution, resolve_embedder
from rag.index.layout import Manifest, ReportEntry, current_build, read_manifest
from rag.index.reading import read_isolated
from rag.index.sentvec import SentenceVectors
from rag.index.sparse import BM25Store
from rag.index.store import LoadedIndex, load_index
from rag.ingest.chunk import ChunkerSettings
from rag.ingest.reader import DEFAULT_LIMITS, SUPPORTED_SUFFIXES, ReadLimits
from rag.pipeline import Knobs, Pipeline
from rag.retrieve.rerank import make_reranker
from rag.retrieve.retriever import Retriever
from rag.types import Chunk, Report

__all__ = [
    "PACKAGED",
    "SUPPORTED_SUFFIXES",
    "BuildSummary",
    "LoadedIndex",
    "build",
    "describe",
    "open_index",
    "open_pipeline",
    "provider_errors",
    "read_report",
]


def _secret(value: SecretStr | None) -> str | None:
    """The plain text of a secret setting, for the one client that needs it."""
    return value.get_secret_value() if value is not None else None


def chunker_settings(settings: Settings) -> ChunkerSettings:
    return ChunkerSettings(
        max_tokens=settings.chunk_max_tokens,
        encoding=settings.token_encoding,
        context_headers=settings.chunk_context_headers,
    )


def knobs(settings: Settings) -> Knobs:
    return Knobs(
        answer_k=settings.answer_k,
        per_report_k=settings.per_report_k,
        max_reports=settings.max_reports,
        abstain_threshold=settings.abstain_threshold,
        candidates=settings.candidates,
        rrf_k=settings.rrf_k,
        llm_fallback=settings.llm_fallback,
        max_question_chars=settings.max_question_chars,
        max_history_chars=settings.max_history_chars,
        request_budget=settings.request_budget,
    )


def endpoint(settings: Settings) -> EndpointConfig | None:
    """The OpenAI-compatible embeddings endpoint, when RAG_EMBED_BASE_URL is set."""
    if not settings.embed_base_url:
        return None
    key = _secret(settings.embed_api_key)
    return EndpointConfig(
        base_url=settings.embed_base_url,
        model=settings.embed_model.removeprefix("openai:"),
        api_key=key,
        query_instruction=settings.query_instruction or "",
        document_instruction=settings.document_instruction,
        input_type=settings.embed_input_type,
        timeout=settings.embed_timeout,
        batch_size=settings.embed_batch_size,
    )


def resolve(settings: Settings) -> Resolution:
    """The embedding model to use (or why there is none)."""
    return resolve_embedder(
        settings.embed_model,
        settings.embed_fallback,
        settings.query_instruction,
        endpoint(settings),
    )


def build(
    settings: Settings,
    reports_dir: Path | None = None,
    index_dir: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    wait: float | None = None,
) -> tuple[BuildSummary, Resolution]:
    """Build or update the index (only new or changed reports are read and embedded);
    `wait` (default `build_wait`): seconds to queue behind another build of the folder."""
    resolution = resolve(settings)
    summary = build_index(
        reports_dir or settings.reports_dir,
        index_dir or settings.index_dir,
        resolution.embedder,
        chunker_settings(settings),
        progress,
        read_limits(settings),
        settings.build_wait if wait is None else wait,
        make_store(settings.store, store_options(settings, index_dir)),
    )
    return summary, resolution


def read_limits(settings: Settings) -> ReadLimits:
    return ReadLimits(int(settings.max_file_mb * 1024**2), settings.read_timeout)


def read_report(path: Path, settings: Settings | None = None) -> Report:
    """One report file, read as `rag index` reads it (IngestError names what is wrong): a
    .docx/.pdf/.html in a child process under the time and memory limits, and at most the
    passages a report may have."""
    if settings is None:
        return read_isolated(path, ChunkerSettings(), DEFAULT_LIMITS)[0]
    return read_isolated(path, chunker_settings(settings), read_limits(settings))[0]


def store_options(settings: Settings, index_dir: Path | None = None) -> StoreOptions:
    """Where RAG_STORE's backend keeps the search rows: for Milvus the URI (default: Milvus
    Lite in the index folder), the collection prefix (default: rag_<index folder name>), how
    it scores words, and the token (a secret)."""
    return StoreOptions(
        index_dir=index_dir or settings.index_dir,
        uri=settings.milvus_uri,
        collection=settings.milvus_collection,
        token=_secret(settings.milvus_token),
        lexical=settings.milvus_lexical,
    )


def open_index(settings: Settings, index_dir: Path | None = None) -> LoadedIndex:
    return load_index(index_dir or settings.index_dir, store_options(settings, index_dir))


def manifest(settings: Settings, index_dir: Path | None = None) -> Manifest | None:
    return read_manifest(index_dir or settings.index_dir)


def _checked_embedder(index: LoadedIndex, resolution: Resolution) -> Resolution:
    """The resolution, if it can query `index`; a ModelError naming both models otherwise."""
    built_with = index.embed_model
    if built_with != LEXICAL and resolution.model_name != built_with:
        raise ModelError(
            f"{index.folder.parent.parent} 中的索引是用向量模型 {built_with} 建的，"
            f"本次运行用的是 {resolution.model_name}（{resolution.message}）；"
            f"请设置 RAG_EMBED_MODEL={built_with}，或用 `rag index` 重建索引"
        )
    emb = resolution.embedder
    recorded = index.manifest.query_instruction
    used = getattr(emb, "query_instruction", "") if emb is not None else ""
    if emb is not None and built_with != LEXICAL and recorded and used != recorded:
        raise ModelError(
            f"{index.folder.parent.parent} 中的索引建立时查询前缀是 {recorded!r}，"
            f"本次运行用的是 {used!r}；请设置 RAG_QUERY_INSTRUCTION={recorded!r}，"
            "或用 `rag index` 重建索引"
        )
    if emb is not None and built_with != LEXICAL and emb.dim != index.manifest.dim:
        raise ModelError(
            f"向量模型 {resolution.model_name} 的维度是 {emb.dim}，索引中是 "
            f"{index.manifest.dim}；请用 `rag index` 重建索引"
        )
    return resolution


def open_retriever(settings: Settings, index: LoadedIndex) -> tuple[Retriever, Resolution]:
    set_threads(settings.faiss_threads)
    resolution = _checked_embedder(index, resolve(settings))
    embedder = resolution.embedder if index.embed_model != LEXICAL else None
    reranker = make_reranker(settings.reranker)
    return Retriever.over(index, embedder, reranker, settings.rerank_pool), resolution


def llm_config(settings: Settings) -> LLMConfig | None:
    """The configured LLM, or None for the extractive (no-LLM) mode."""
    common = {
        "temperature": settings.llm_temperature,
        "max_tokens": settings.llm_max_tokens,
        "context_tokens": settings.llm_context_tokens,
        "timeout": settings.llm_timeout,
        "style": settings.llm_api,
    }
    if settings.llm_backend == "none":
        return None
    provider = llm_provider(settings.llm_backend)
    path = settings.llm_gguf_path
    cfg = LLMConfig(
        settings.llm_backend,
        settings.llm_model or "",
        base_url=settings.llm_base_url,
        gguf_path=str(path) if path is not None else None,
        **common,  # type: ignore[arg-type]
    )
    return provider.configure(cfg)


def llm_answerer(settings: Settings, cfg: LLMConfig, prompt: PromptSpec) -> LLMAnswerer:
    key = _secret(settings.llm_api_key)
    return LLMAnswerer(
        make_model(cfg, key),
        prompt,
        cfg.style,
        cfg.label,
        settings.llm_context_tokens,
        settings.llm_max_tokens,
        settings.token_encoding,
    )


def open_pipeline(settings: Settings, index_dir: Path | None = None) -> Pipeline:
    """The answer pipeline over the index: extractive, or the configured LLM (with the
    extractive answerer as its fallback)."""
    index = open_index(settings, index_dir)
    retriever, resolution = open_retriever(settings, index)
    extractive: Answerer = ExtractiveAnswerer()
    cfg = llm_config(settings)
    if cfg is None:
        return Pipeline(index, retriever, extractive, knobs(settings), embedding=resolution.message)
    llm = llm_answerer(settings, cfg, load_prompt(settings.prompts_dir, "answer"))
    rewriter = make_chain(llm.model, load_prompt(settings.prompts_dir, "rewrite"), cfg.style)
    return Pipeline(
        index, retriever, llm, knobs(settings), extractive, rewriter, resolution.message
    )


def with_chat_model(
    settings: Settings, pipeline: Pipeline, model: Any, label: str = "llm:scripted"
) -> Pipeline:
    """The pipeline answering through `model`, any LangChain chat model (a scripted one in the
    核稿 benchmark's LLM run), with the answer prompt and the settings' token budget."""
    answerer = LLMAnswerer(
        model,
        load_prompt(settings.prompts_dir, "answer"),
        "chat",
        label,
        settings.llm_context_tokens,
        settings.llm_max_tokens,
        settings.token_encoding,
    )
    return pipeline.with_answerer(answerer)


def judge_chain(settings: Settings, model: Any = None):  # type: ignore[no-untyped-def]
    """The LLM-judge chain (prompts/judge.toml) and its style: over `model` (any LangChain
    chat model: a scripted one in tests), else over the configured model."""
    prompt = load_prompt(settings.prompts_dir, "judge")
    if model is not None:
        return make_chain(model, prompt, "chat"), "chat"
    cfg = llm_config(settings)
    if cfg is None:
        raise ConfigError("--judge 需要大模型：请设置 RAG_LLM_BACKEND（见 docs/configuration.md）")
    return make_chain(make_model(cfg, _secret(settings.llm_api_key)), prompt, cfg.style), cfg.style


@dataclass(frozen=True)
class Description:
    """What `rag doctor` reports."""

    settings: dict[str, object]
    embedding: str  # one line: the model in use, or why none
    embedding_path: str | None
    answering: str
    llm_problem: str | None
    manifest: Manifest | None
    index_dir: Path
    mismatch: str | None  # the index was built with another embedding model
    llm_endpoint: str | None = None  # the LLM endpoint probed: reachable or why not
    embed_endpoint: str | None = None  # the embeddings endpoint probed
    store: str | None = None  # where the index's search rows are, and how many

    def to_dict(self) -> dict[str, object]:
        m = self.manifest
        return {
            "settings": self.settings,
            "embedding": self.embedding,
            "embedding_path": self.embedding_path,
            "answering": self.answering,
            "llm_problem": self.llm_problem,
            "llm_endpoint": self.llm_endpoint,
            "embed_endpoint": self.embed_endpoint,
            "index_dir": str(self.index_dir),
            "index": None
            if m is None
            else {
                "reports": len(m.reports),
                "chunks": m.n_chunks,
                "created": m.created,
                "embed_model": m.embed_model,
                "dim": m.dim,
            },
            "mismatch": self.mismatch,
            "store": self.store,
        }


def probe(base_url: str, api_key: str | None = None, timeout: float = 5.0) -> str:
    """Whether an OpenAI-compatible endpoint answers GET /models, in plain words."""
    import httpx

    url = base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        r = httpx.get(url, headers=headers, timeout=timeout)
    except httpx.HTTPError as e:
        return f"{base_url}: not reachable ({type(e).__name__}: {first_line(e, 120)})"
    if r.status_code != 200:
        return f"{base_url}: answered HTTP {r.status_code} to GET /models"
    try:
        names = [m.get("id", "?") for m in r.json().get("data", [])]
    except (ValueError, AttributeError):
        names = []
    listed = f": {', '.join(names[:5])}" if names else ""
    return f"{base_url}: reachable ({len(names)} model(s){listed})"


def describe(settings: Settings) -> Description:
    res = resolve(settings)
    problem = None
    try:
        cfg = llm_config(settings)
    except ConfigError as e:
        cfg, problem = None, str(e)
    if cfg is None:
        answering = "extractive (no LLM configured: RAG_LLM_BACKEND=none)"
    else:
        where = cfg.base_url or cfg.gguf_path
        answering = f"{cfg.label} via {cfg.backend} at {where} ({cfg.style})"
    m = manifest(settings)
    problems = []
    if m is not None and m.embed_model not in (LEXICAL, res.model_name):
        problems.append(f"the index was built with {m.embed_model}")
    if m is not None and m.store != settings.store:
        problems.append(f"the index was built with RAG_STORE={m.store}; `rag index` rebuilds it")
    mismatch = "; ".join(problems) or None
    key = _secret(settings.llm_api_key)
    llm_probe = probe(cfg.base_url, key) if cfg is not None and cfg.base_url else None
    ep = endpoint(settings)
    embed_probe = probe(ep.base_url, ep.api_key) if ep is not None else None
    return Description(
        settings.model_dump(mode="json"),
        res.message,
        getattr(res.embedder, "path", None),
        answering,
        problem,
        m,
        settings.index_dir,
        mismatch,
        llm_probe,
        embed_probe,
        store_info(settings, m),
    )


def store_info(settings: Settings, m: Manifest | None) -> str | None:
    """Where the live build's search rows are and how many (`rag doctor`); None: no index."""
    folder = current_build(settings.index_dir)
    if m is None or folder is None:
        return None
    try:
        backend = make_store(m.store, store_options(settings))
    except ConfigError as e:
        return str(e)
    return backend.describe(folder, m)


def index_from_parts(
    reports: dict[str, Report],
    chunks: list[Chunk],
    lexical: BM25Store,
    dense: DenseIndex | None,
    embed_model: str,
    sentences: SentenceVectors | None = None,
) -> LoadedIndex:
    """An in-memory index over structures built elsewhere (the benchmark's synthetic corpora,
    whose BM25 postings come from pre-tokenised text)."""
    rows = lexical.rows
    manifest = Manifest(
        embed_model=embed_model if dense is not None else LEXICAL,
        dim=dense.index.d if dense is not None else 0,
        chunker={},
        tokenizer_words=lexical.tokenizer.extra_words,
        reports_dir="",
        n_chunks=len(chunks),
        reports={s: ReportEntry("", r.meta.title, 0) for s, r in reports.items()},
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    return LoadedIndex(
        Path("in-memory"),
        manifest,
        reports,
        rows,
        lexical,
        lexical,
        FaissStore(dense, rows, shared=True) if dense is not None else None,
        sentences,
    )


def pipeline_over(
    settings: Settings, index: LoadedIndex, embedder: Embedder | None, message: str = ""
) -> Pipeline:
    """The extractive pipeline over an index already in memory, with a given embedder."""
    set_threads(settings.faiss_threads)
    retriever = Retriever.over(index, embedder if index.dense is not None else None)
    answerer = ExtractiveAnswerer()
    return Pipeline(index, retriever, answerer, knobs(settings), embedding=message)


def faiss_threads(n: int) -> None:
    set_threads(n)
