"""Settings, read from RAG_* environment variables and .env, only at composition roots."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    reports_dir: Path = PROJECT_ROOT / "data" / "reports"
    index_dir: Path = PROJECT_ROOT / "index"
    # Hugging Face id, local folder, "packaged:all-MiniLM-L6-v2", or "none" (BM25 only).
    embed_model: str = "BAAI/bge-small-zh-v1.5"
    # When embed_model cannot be loaded offline. Measured on eval/dev.jsonl (README): the
    # packaged English MiniLM drags hybrid recall@1 from 0.958 (BM25) to 0.438, so BM25 only.
    embed_fallback: Literal["packaged", "lexical"] = "lexical"
    query_instruction: str | None = None  # None: the model's own (bge-*-zh have one)
    embed_batch_size: int = Field(32, ge=1)
    chunk_max_tokens: int = Field(320, ge=16)
    token_encoding: Literal["cl100k_base", "o200k_base"] = "cl100k_base"
    faiss_threads: int = Field(1, ge=1)
    rrf_k: int = Field(60, ge=1)
    candidates: int = Field(50, ge=1)
