"""The real path: the packaged sentence-transformers model, FAISS and BM25 over the samples."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app

pytestmark = pytest.mark.integration


def test_index_and_search_with_a_real_embedding_model(reports_copy: Path, tmp_path: Path) -> None:
    env = {"RAG_EMBED_MODEL": "packaged:all-MiniLM-L6-v2", "RAG_INDEX_DIR": str(tmp_path / "ix")}
    runner = CliRunner()
    result = runner.invoke(app, ["index", "--reports", str(reports_copy)], env=env)
    assert result.exit_code == 0, result.output
    manifest = json.loads(next((tmp_path / "ix" / "builds").glob("*/manifest.json")).read_text())
    assert manifest["embed_model"] == "packaged:all-MiniLM-L6-v2" and manifest["dim"] == 384

    for mode in ("dense", "hybrid"):
        result = runner.invoke(
            app, ["search", "水口镇执法培训", "--mode", mode, "-k", "3", "--json"], env=env
        )
        assert result.exit_code == 0, result.output
        hits = json.loads(result.stdout)
        assert len(hits) == 3 and {h["source"] for h in hits} == {"000_4e493ef760f0cb20.txt"}
        assert any(h["dense_rank"] for h in hits)

    # the same index opened with another model is refused with a clear message
    result = runner.invoke(app, ["search", "执法"], env={**env, "RAG_EMBED_MODEL": "none"})
    assert result.exit_code == 1
    assert "是用向量模型 packaged:all-MiniLM-L6-v2 建的" in result.output
