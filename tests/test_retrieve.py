import pytest

from conftest import SHUIKOU, FakeEmbedder
from rag.config import QueryOptions
from rag.errors import ConfigError
from rag.index.store import LoadedIndex
from rag.retrieve.fusion import rrf
from rag.retrieve.places import place_aliases
from rag.retrieve.retriever import Retriever
from rag.retrieve.scope import resolve_scope


def test_rrf_oracle() -> None:
    scores = rrf([[1, 2, 3], [3, 1]], k=60)
    assert scores[1] == pytest.approx(1 / 61 + 1 / 62)
    assert scores[2] == pytest.approx(1 / 62)
    assert scores[3] == pytest.approx(1 / 63 + 1 / 61)
    assert sorted(scores, key=lambda d: -scores[d]) == [1, 3, 2]


def test_place_aliases(sample_index: LoadedIndex) -> None:
    aliases = place_aliases(sample_index.reports[SHUIKOU])
    assert aliases == {"水口镇", "水口", "江华瑶族自治县", "江华瑶族", "江华"}


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_question_naming_a_town_returns_its_report_first(
    sample_index: LoadedIndex, mode: str
) -> None:
    retriever = Retriever.over(sample_index, FakeEmbedder())
    hits = retriever.search("水口镇开展了多少次执法培训？", QueryOptions(k=5, mode=mode))  # type: ignore[arg-type]
    assert hits and all(h.chunk.source == SHUIKOU for h in hits)
    assert "水口镇" not in hits[0].chunk.text or mode != "bm25"  # the body says 我镇 / nothing
    if mode != "dense":
        assert "执法培训15次" in hits[0].chunk.text


def test_unscoped_question_spans_reports(sample_index: LoadedIndex) -> None:
    retriever = Retriever.over(sample_index, FakeEmbedder())
    hits = retriever.search("法律顾问", QueryOptions(k=8, mode="bm25"))
    assert len({h.chunk.source for h in hits}) >= 3


def test_explicit_filters(sample_index: LoadedIndex) -> None:
    retriever = Retriever.over(sample_index, FakeEmbedder())
    by_year = retriever.search("执法培训", QueryOptions(k=10, years=(2019,)))
    assert {h.chunk.source for h in by_year} == {"003_bf156fa8c0c17ca2.txt"}
    by_place = retriever.search("执法培训", QueryOptions(k=10, places=("峡口镇",)))
    assert {h.chunk.source for h in by_place} == {"004_ec6daf499c9a8590.txt"}
    by_report = retriever.search(
        "水口镇 执法培训", QueryOptions(k=10, reports=("001_e78c042d1c9dcf59.txt",))
    )
    assert {h.chunk.source for h in by_report} == {"001_e78c042d1c9dcf59.txt"}
    assert retriever.search("执法", QueryOptions(years=(1999,))) == []
    with pytest.raises(ConfigError, match="没有这些报告：nope.txt"):
        retriever.search("执法", QueryOptions(reports=("nope.txt",)))


def test_two_places_scope_to_both(sample_index: LoadedIndex) -> None:
    scope = resolve_scope("对比水口镇和峡口镇的执法培训", sample_index.reports, QueryOptions())
    assert scope.reports == (SHUIKOU, "004_ec6daf499c9a8590.txt")


def test_year_in_question_boosts_without_filtering(sample_index: LoadedIndex) -> None:
    scope = resolve_scope("2019年公开了多少条信息", sample_index.reports, QueryOptions())
    assert scope.reports is None
    assert scope.boosted == ("003_bf156fa8c0c17ca2.txt",)


def test_near_duplicates_are_removed(sample_index: LoadedIndex) -> None:
    from dataclasses import replace

    # a corpus where report B repeats report A's chunks verbatim (boilerplate copied between towns)
    a = [c for c in sample_index.chunks if c.source == SHUIKOU]
    copy_src = "copy.txt"
    b = [replace(c, source=copy_src) for c in a]
    original = sample_index.reports[SHUIKOU]
    reports = {  # its text differs (a word-for-word copy of the whole report is one report)
        SHUIKOU: original,
        copy_src: replace(original, source=copy_src, text=original.text + "\n（转载）"),
    }
    from rag.index.sparse import BM25Store, JiebaTokenizer

    sparse = BM25Store.build(a + b, JiebaTokenizer())
    retriever = Retriever(reports, sparse.rows, sparse)
    plain = retriever.search("法律顾问 合法性审查", QueryOptions(k=4, mode="bm25", diversify=False))
    texts = [h.chunk.text for h in plain]
    assert len(set(texts)) < len(texts)
    diverse = retriever.search("法律顾问 合法性审查", QueryOptions(k=4, mode="bm25"))
    assert len({h.chunk.text for h in diverse}) == len(diverse) == 4


def test_another_towns_copy_with_its_own_figures_is_kept(sample_index: LoadedIndex) -> None:
    """A near-duplicate from another report is dropped only when it states the same figures:
    a copy that says 21起 where the original says 15次 is another town's fact."""
    from dataclasses import replace

    from rag.index.sparse import BM25Store, JiebaTokenizer

    a = [c for c in sample_index.chunks if c.source == SHUIKOU]
    same, other = "same.txt", "other.txt"

    def copied(source: str, text: str) -> list:  # type: ignore[type-arg]
        return [
            replace(c, source=source, text=text(c.text), index_text=text(c.index_text)) for c in a
        ]

    chunks = a + copied(same, lambda t: t) + copied(other, lambda t: t.replace("15次", "21次"))
    original = sample_index.reports[SHUIKOU]
    reports = {
        SHUIKOU: original,
        same: replace(original, source=same),  # a word-for-word copy: searched once
        other: replace(original, source=other, text=original.text.replace("15次", "21次")),
    }
    sparse = BM25Store.build(chunks, JiebaTokenizer())
    retriever = Retriever(reports, sparse.rows, sparse)
    hits = retriever.search("执法培训多少次", QueryOptions(k=5, mode="bm25"))
    training = [h.chunk for h in hits if "执法培训" in h.chunk.text]
    # the copy with 21次 stays; of the two with 15次 (a verbatim copy) one is removed
    assert sorted("执法培训21次" in c.text for c in training) == [False, True]
    assert next(c.source for c in training if "执法培训21次" in c.text) == other


def test_options_are_validated() -> None:
    with pytest.raises(ConfigError, match="k 须为不小于 1 的整数，收到 0"):
        QueryOptions(k=0)
    with pytest.raises(ConfigError, match="mode"):
        QueryOptions(mode="fuzzy")  # type: ignore[arg-type]


def test_dense_mode_without_vectors_is_refused(sample_index: LoadedIndex) -> None:
    with pytest.raises(ConfigError, match=r"无法用向量检索（mode dense）"):
        Retriever.over(sample_index, None).search("执法", QueryOptions(mode="dense"))


def test_each_rankings_best_passage_is_kept(sample_index: LoadedIndex) -> None:
    """The passage BM25 ranks first (the one holding the question's rare word) stays in the
    hits although dense ranks it last and fusion alone would leave it out."""
    ids = [c.id for c in sample_index.chunks][:12]

    class Fixed:
        def __init__(self, order: list[str]) -> None:
            self.order = order

        def search(self, query: object, k: int, reports: object = None) -> list[tuple[str, float]]:
            return [(d, 1.0) for d in self.order[:k]]

    bm25, dense = Fixed(ids), Fixed(ids[1:] + ids[:1])
    fused = rrf([bm25.order, dense.order], 60)
    assert sorted(fused, key=lambda d: -fused[d]).index(ids[0]) >= 3  # fusion ranks it 6th
    retriever = Retriever(
        sample_index.reports,
        sample_index.rows,
        bm25,
        dense,
        FakeEmbedder(),  # type: ignore[arg-type]
    )
    opts = QueryOptions(k=3, diversify=False, scope_from_question=False)
    got = [h.chunk.id for h in retriever.search("执法培训", opts)]
    assert got == [ids[1], ids[2], ids[0]]  # dense's best, the next by fusion, BM25's best
