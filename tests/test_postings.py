"""BM25 postings in segments score exactly like bm25s over the same tokens (the oracle)."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from rag.index.postings import Postings, Segment
from rag.index.sparse import JiebaTokenizer
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def tokens() -> list[list[str]]:
    tk = JiebaTokenizer()
    out = []
    for path in sorted(SAMPLES.iterdir()):
        text = path.read_text(encoding="utf-8")
        out += [tk(text[i : i + 300]) for i in range(0, len(text), 300)]
    return out


QUERIES = ("水口镇执法培训次数", "调解室 人民调解", "行政复议 行政诉讼 案件 案件", "无此词")


def _oracle(tokens: list[list[str]], query: list[str]) -> np.ndarray:
    model = bm25s.BM25()  # method "lucene", k1 1.5, b 0.75
    model.index(tokens, show_progress=False)
    known = [t for t in query if t in model.vocab_dict]
    return np.asarray(model.get_scores(known)) if known else np.zeros(len(tokens))


def test_one_segment_scores_like_bm25s(tokens: list[list[str]]) -> None:
    p = Postings([(Segment.from_tokens(tokens), np.ones(len(tokens), dtype=bool))])
    tk = JiebaTokenizer()
    for q in QUERIES:
        assert np.allclose(p.scores(tk(q)), _oracle(tokens, tk(q)), rtol=1e-5, atol=1e-6), q


def test_segments_with_dead_chunks_score_like_a_fresh_index_of_the_live_ones(
    tokens: list[list[str]],
) -> None:
    half = len(tokens) // 2
    stale = tokens[3:9]  # an old version of some chunks, dead in the first segment
    first = Segment.from_tokens(tokens[:half] + stale)
    live = np.r_[np.ones(half, dtype=bool), np.zeros(len(stale), dtype=bool)]
    p = Postings(
        [(first, live), (Segment.from_tokens(tokens[half:]), np.ones(len(tokens) - half, bool))]
    )
    tk = JiebaTokenizer()
    assert len(p) == len(tokens)
    for q in QUERIES:
        assert np.allclose(p.scores(tk(q)), _oracle(tokens, tk(q)), rtol=1e-5, atol=1e-6), q
    word = tk("调解室")[0]
    assert p.df(word) == sum(word in doc for doc in tokens)


def test_a_segment_survives_saving(tokens: list[list[str]], tmp_path) -> None:  # type: ignore[no-untyped-def]
    seg = Segment.from_tokens(tokens)
    seg.save(tmp_path / "s")
    again = Segment.load(tmp_path / "s")
    assert again.terms == seg.terms and np.array_equal(again.docs, seg.docs)
    assert np.array_equal(again.tf, seg.tf) and np.array_equal(again.lengths, seg.lengths)
