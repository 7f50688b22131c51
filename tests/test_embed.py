import numpy as np
import pytest

from rag.errors import ModelError
from rag.index.embed import PACKAGED, default_instruction, packaged_model_path, resolve_embedder


def test_uncached_hub_model_falls_back_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lexical = resolve_embedder("BAAI/bge-small-zh-v1.5-not-cached", fallback="lexical")
    assert lexical.embedder is None
    assert "不在本机缓存中，模型仓库也连不上，只用 BM25" in lexical.message
    packaged = resolve_embedder("BAAI/bge-small-zh-v1.5-not-cached", fallback="packaged")
    assert packaged.embedder is not None and packaged.model_name == PACKAGED
    assert "改用 packaged:all-MiniLM-L6-v2" in packaged.message


def test_none_means_lexical_and_bad_fallback_is_rejected() -> None:
    assert resolve_embedder("none").embedder is None
    with pytest.raises(ModelError, match="RAG_EMBED_FALLBACK 只能是"):
        resolve_embedder("none", fallback="random")


def test_bge_zh_models_get_their_query_instruction() -> None:
    assert default_instruction("BAAI/bge-small-zh-v1.5").startswith("为这个句子生成表示")
    assert default_instruction("sentence-transformers/all-MiniLM-L6-v2") == ""
    assert default_instruction("/models/my-bge-small-zh-copy") == ""  # never from a folder name


def test_local_folder_is_loaded_by_path() -> None:
    path = packaged_model_path()
    res = resolve_embedder(path)
    assert res.embedder is not None and res.model_name == path
    assert res.embedder._model is None  # loads on first use, not when resolved


@pytest.mark.integration
def test_packaged_model_embeds_normalised_vectors() -> None:
    res = resolve_embedder(PACKAGED)
    assert res.embedder is not None
    docs = res.embedder.embed_documents(["legal training 15 times", "调解室"])
    assert docs.shape == (2, res.embedder.dim) == (2, 384)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    q = res.embedder.embed_query("legal training")
    assert float(docs[0] @ q) > float(docs[1] @ q)
