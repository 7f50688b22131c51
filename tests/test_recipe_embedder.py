"""docs/architecture.md, "Adding an embedder", followed step by step with a toy model: only
the documented steps, nothing else touched; the index is built with it, questions are
answered with it, and its semantic evidence is on."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES
from rag.config import Settings
from rag.factory import build, open_pipeline
from rag.index import embed


class ToyEmbedder:  # step 1: the Embedder protocol (rag/contracts.py)
    name = "toy:bigram"
    query_instruction = ""
    dim = 128

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for i in range(len(text) - 1):
            v[int(hashlib.md5(text[i : i + 2].encode()).hexdigest(), 16) % self.dim] += 1.0
        return v / (np.linalg.norm(v) or 1.0)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(embed, "EMBEDDERS", dict(embed.EMBEDDERS))  # the test leaves no trace
    embed.register_embedder("toy:bigram", ToyEmbedder, anchors=(0.2, 0.9))  # step 2
    yield


def test_the_documented_steps_add_an_embedder(toy_registered, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reports = tmp_path / "reports"
    shutil.copytree(SAMPLES, reports)
    # step 4: choose it by name (RAG_EMBED_MODEL=toy:bigram)
    settings = Settings(embed_model="toy:bigram", reports_dir=reports, index_dir=tmp_path / "i")  # type: ignore[call-arg]
    summary, resolution = build(settings)
    assert resolution.embedder is not None and resolution.embedder.name == "toy:bigram"
    assert summary.embedded == summary.chunks > 0
    pipeline = open_pipeline(settings)
    assert pipeline.index.manifest.embed_model == "toy:bigram"
    assert pipeline.similarity is not None  # its anchors turn its semantic evidence on
    a = pipeline.ask("水口镇对执法人员进行了多少次执法培训？")
    assert "15次" in a.text and a.citations


def test_an_embedder_without_anchors_retrieves_but_adds_no_semantic_evidence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embed, "EMBEDDERS", dict(embed.EMBEDDERS))
    embed.register_embedder("toy:plain", ToyEmbedder)
    assert embed.semantic_anchors("toy:plain") is None
    with pytest.raises(embed.ModelError, match="anchors"):
        embed.register_embedder("toy:bad", ToyEmbedder, anchors=(0.9, 0.2))
