"""docs/architecture.md, "Adding a store", followed step by step with the toy store of
tests/toy_store.py: only the documented steps, nothing else touched; `rag index` writes its
rows, `rag ask`'s pipeline searches them, `rag doctor` describes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from toy_store import NumpyBackend, NumpyVectors

from conftest import FakeEmbedder
from rag.config import Settings
from rag.errors import ConfigError
from rag.factory import build, describe, open_pipeline
from rag.index import backends, embed


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(backends, "STORES", dict(backends.STORES))  # the test leaves no trace
    monkeypatch.setattr(embed, "EMBEDDERS", dict(embed.EMBEDDERS))
    backends.register_store("numpy", NumpyBackend)  # step 3
    embed.register_embedder("toy:bigram", lambda: FakeEmbedder("toy:bigram"))
    yield


def test_the_documented_steps_add_a_store(
    toy_registered, reports_copy: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # step 4: choose it by name (RAG_STORE=numpy)
    settings = Settings(  # type: ignore[call-arg]
        store="numpy", embed_model="toy:bigram", reports_dir=reports_copy, index_dir=tmp_path / "i"
    )
    summary, _ = build(settings)
    assert (
        summary.store == "numpy"
        and summary.store_update == f"{summary.chunks} row(s) in vectors.npy"
    )
    pipeline = open_pipeline(settings)
    assert isinstance(pipeline.index.dense, NumpyVectors)
    assert pipeline.index.manifest.store == "numpy"
    hits = pipeline.search("执法培训", pipeline.options(k=4, mode="dense"))
    assert len(hits) == 4
    a = pipeline.ask("水口镇对执法人员进行了多少次执法培训？")
    assert "15次" in a.text and a.citations
    assert describe(settings).store == f"numpy: {summary.chunks} rows in vectors.npy"


def test_an_unknown_store_is_refused_by_its_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RAG_STORE='nosuch'.*faiss、milvus"):
        build(Settings(store="nosuch", embed_model="none", index_dir=tmp_path / "i"))  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="存储后端的名字"):
        backends.register_store("a:b", NumpyBackend)
