"""The `TermStatistics` contract (rag/contracts.py): the corpus's word statistics that the
reading of a question, the evidence score and a Milvus index of our tokens read, run against
every implementation (the local BM25 store, fresh and reopened from its files)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from contract_data import make_chunks

from rag.contracts import TermStatistics, Tokenizer
from rag.index.rows import Rows
from rag.index.sparse import BM25Store, JiebaTokenizer

PLACES = ["水口镇"]


def _fresh(folder: Path) -> TermStatistics:
    return BM25Store.build(make_chunks(), JiebaTokenizer(PLACES))


def _reopened(folder: Path) -> TermStatistics:
    BM25Store.build(make_chunks(), JiebaTokenizer(PLACES)).save(folder)
    return BM25Store.open(folder, Rows(make_chunks()), JiebaTokenizer(PLACES))


STATISTICS: dict[str, Callable[[Path], TermStatistics]] = {
    "bm25": _fresh,
    "bm25-reopened": _reopened,
}


@pytest.fixture(params=sorted(STATISTICS))
def stats(request: pytest.FixtureRequest, tmp_path: Path) -> TermStatistics:
    return STATISTICS[request.param](tmp_path)


def test_is_term_statistics_with_a_tokenizer(stats: TermStatistics) -> None:
    assert isinstance(stats, TermStatistics) and isinstance(stats.tokenizer, Tokenizer)
    assert "水口镇" in stats.tokenizer.extra_words
    assert "水口镇" in stats.tokenizer("水口镇开展执法培训")  # a place stays one token
    assert set(stats.tokenizer.words("执法培训")) <= set(stats.tokenizer("执法培训"))


def test_df_counts_the_chunks_that_use_a_token(stats: TermStatistics) -> None:
    chunks = make_chunks()
    assert len(stats) == len(chunks)
    for token in ("执法", "调解", "第", "不存在的词"):
        expected = sum(token in stats.tokenizer(c.index_text) for c in chunks)
        assert stats.df(token) == expected
    assert set(stats.vocabulary()) >= {"执法", "调解"} and "不存在的词" not in stats.vocabulary()


def test_idf_is_higher_for_rarer_tokens(stats: TermStatistics) -> None:
    tokens = sorted({t for t in stats.vocabulary() if stats.df(t)}, key=stats.df)
    rare, common = tokens[0], tokens[-1]
    assert stats.df(rare) < stats.df(common) and stats.idf(rare) > stats.idf(common)
    assert stats.idf("不存在的词") >= stats.idf(rare)  # a word no chunk has weighs the most
    assert all(math.isfinite(stats.idf(t)) for t in tokens)


def test_query_weights_are_the_indexed_tokens_idf(stats: TermStatistics) -> None:
    weights = stats.query_weights("执法培训和不存在的词")
    assert "不存在的词" not in weights and weights
    for token, weight in weights.items():
        assert stats.df(token) > 0
        count = stats.tokenizer("执法培训和不存在的词").count(token)
        assert weight == pytest.approx(count * stats.idf(token))
