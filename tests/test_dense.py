"""The same contract for the exact and the approximate (IVF) dense index."""

from pathlib import Path

import faiss
import numpy as np
import pytest

from rag.index.dense import EXACT_LIMIT, DenseIndex


@pytest.fixture(scope="module", params=[1_000, EXACT_LIMIT + 10_000], ids=["flat", "ivf"])
def vectors(request: pytest.FixtureRequest) -> np.ndarray:
    rng = np.random.default_rng(5)
    v = rng.standard_normal((request.param, 16)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def index(vectors: np.ndarray) -> DenseIndex:
    return DenseIndex.build(vectors)


def test_kind_follows_size(index: DenseIndex, vectors: np.ndarray) -> None:
    expected = faiss.IndexFlatIP if len(vectors) <= EXACT_LIMIT else faiss.IndexIVFFlat
    assert isinstance(index.index, expected) and len(index) == len(vectors)


def test_a_stored_vector_finds_itself(index: DenseIndex, vectors: np.ndarray) -> None:
    for i in (0, 17, len(vectors) - 1):
        ids, scores = index.search(vectors[i], 3)
        assert ids[0] == i and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_filters_small_and_large(index: DenseIndex, vectors: np.ndarray) -> None:
    small = np.array([3, 40, 500])
    ids, scores = index.search(vectors[40], 5, small)
    assert ids.tolist()[0] == 40 and set(ids.tolist()) == {3, 40, 500}
    assert list(scores) == sorted(scores, reverse=True)
    evens = np.arange(0, len(vectors), 2)
    ids, _ = index.search(vectors[41], 5, evens)
    assert len(ids) == 5 and all(i % 2 == 0 for i in ids)


def test_save_and_load_keep_the_search(
    index: DenseIndex, vectors: np.ndarray, tmp_path: Path
) -> None:
    index.save(tmp_path / "d.faiss")
    loaded = DenseIndex.load(tmp_path / "d.faiss")
    for q in (vectors[7], vectors[8]):
        assert loaded.search(q, 4)[0].tolist() == index.search(q, 4)[0].tolist()
    assert loaded.search(vectors[7], 2, np.array([7, 9]))[0].tolist()[0] == 7
