import os
import shutil
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import hashlib  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult  # noqa: E402

from rag.index.build import build_index  # noqa: E402
from rag.index.store import load_index  # noqa: E402
from rag.ingest.chunk import ChunkerSettings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "reports"


def _ocr_available() -> bool:
    from rag.ingest import ocr

    return ocr.available()


def _font_exists() -> bool:
    from eval.scan import FONT

    return FONT.exists()


# tests that read scans: the `ocr` extra, and Debian's fonts-wqy-microhei to draw the scans
needs_ocr = pytest.mark.skipif(not _ocr_available(), reason='needs pip install -e ".[ocr]"')
needs_font = pytest.mark.skipif(not _font_exists(), reason="needs Debian's fonts-wqy-microhei")
SHUIKOU = "000_4e493ef760f0cb20.txt"


class FakeEmbedder:
    """Deterministic bag-of-character-bigrams vectors: similar texts get similar vectors."""

    def __init__(self, name: str = "fake-bigram", dim: int = 64) -> None:
        self.name = name
        self._dim = dim
        self.calls = 0

    @property
    def dim(self) -> int:
        return self._dim

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        for i in range(len(text) - 1):
            h = int.from_bytes(hashlib.md5(text[i : i + 2].encode()).digest()[:4], "little")
            v[h % self._dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return np.stack([self._vec(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)


class RecordingChat(BaseChatModel):
    """Streams a fixed reply two characters at a time and keeps the messages it was sent."""

    reply: str
    seen: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.seen.append(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply))])

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        self.seen.append(messages)
        for i in range(0, len(self.reply), 2):
            yield ChatGenerationChunk(message=AIMessageChunk(content=self.reply[i : i + 2]))


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def reports_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    shutil.copytree(SAMPLES, folder)
    return folder


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory):
    """The five sample reports, indexed with BM25 and the fake dense embedder."""
    folder = tmp_path_factory.mktemp("index")
    build_index(SAMPLES, folder, FakeEmbedder(), ChunkerSettings())  # type: ignore[arg-type]
    return load_index(folder)


@pytest.fixture(scope="session")
def lexical_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five sample reports, BM25 only (what the app uses when no embedding model loads)."""
    folder = tmp_path_factory.mktemp("lexical-index")
    build_index(SAMPLES, folder, None, ChunkerSettings())
    return folder


@pytest.fixture(scope="session")
def extractive(lexical_index_dir: Path):
    """The answer pipeline in its no-LLM (extractive) mode over the samples."""
    from rag.config import Settings
    from rag.factory import open_pipeline

    return open_pipeline(Settings(embed_model="none", llm_backend="none"), lexical_index_dir)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The Milvus Lite tests run last: once pymilvus has started grpc's threads in this
    process, the forked readers of rag.index.build (tested elsewhere) can fail in the child.
    (Wiring the Milvus store into `rag index` must start its readers with forkserver.)"""
    items.sort(key=lambda item: "milvus" in item.nodeid)


_STOPS: list = []


def serve_ui(demo, access, users=None, allowed=None, pipeline=None) -> str:  # type: ignore[no-untyped-def]
    """Serve a built app on a free 127.0.0.1 port the way `rag serve` does (ui.server: the UI
    with serve_options' login, throttling, upload limit and export guard, /v1 and /mcp over
    `pipeline`); its base URL. The servers stop at the end of the session."""
    from ui.app import serve_options
    from ui.server import make_app, start

    def no_pipeline():  # type: ignore[no-untyped-def]
        raise AssertionError("serve_ui(..., pipeline=...) is needed for /v1 and /mcp")

    answering = (lambda: pipeline) if pipeline is not None else no_pipeline
    app = make_app(demo, answering, users, serve_options(access, users, allowed))
    url, stop = start(app)
    _STOPS.append(stop)
    return url


@pytest.fixture(scope="session", autouse=True)
def _stop_servers():  # type: ignore[no-untyped-def]
    yield
    for stop in _STOPS:
        stop()
