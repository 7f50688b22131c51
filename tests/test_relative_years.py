"""Years named relative to now (去年, 前年) are read against the reports' years, and the answer
says how (按最近一份报告（2023年）回答): never silently."""

from __future__ import annotations

import pytest

from rag.errors import ConfigError
from rag.lang import lexicon
from rag.pipeline import AskOptions, Pipeline
from rag.retrieve.scope import absolute_years, relative_to, relative_year

WORDS = lexicon()["relative_years"]


@pytest.mark.parametrize("entry", WORDS.entries, ids=lambda e: e.text)
def test_each_relative_year_word_counts_back_from_the_newest_report(entry) -> None:  # type: ignore[no-untyped-def]
    question = entry.examples[0]
    assert relative_year(question) == entry.text
    text, said = absolute_years(question, {2019, 2023, 2024})
    year = 2024 - entry.attrs["back"]
    assert f"{year}年" in text and entry.text not in text.replace(f"{year}年", "")
    assert said.startswith(f"“{entry.text}”按最近一份报告（2024年）")
    if year != 2024:
        assert f"推算为{year}年" in said


def test_a_question_naming_its_year_keeps_its_relative_words() -> None:
    assert relative_year("瓦屋镇2023年与上年相比多了几场普法？") is None
    assert absolute_years("瓦屋镇开展了几场普法？", {2023}) == ("瓦屋镇开展了几场普法？", "")


def test_an_unknown_relative_word_is_refused_naming_the_words_that_are() -> None:
    with pytest.raises(ConfigError, match="去年"):
        relative_to("明年", {2023})


def test_last_year_of_a_place_is_its_newest_report_and_the_answer_says_so(
    extractive: Pipeline,
) -> None:
    a = extractive.ask("瓦屋镇去年开展了多少场法治宣传活动？")
    assert not a.abstained
    assert "2023年" in a.rewritten and "去年" not in a.rewritten
    assert a.text.startswith("注：“去年”按最近一份报告（2023年）回答。")
    assert all(not c.text.startswith("注：") for c in a.claims)  # the note is no claim
    assert {c.source for c in a.citations} == {"001_e78c042d1c9dcf59.txt"}
    deltas = "".join(
        e.text
        for e in extractive.stream("瓦屋镇去年开展了多少场法治宣传活动？")
        if e.kind == "token"
    )
    assert deltas.strip() == a.text  # the note is streamed first, as it is shown


def test_the_year_before_a_places_only_report_is_refused_and_says_which_year(
    extractive: Pipeline,
) -> None:
    a = extractive.ask("瓦屋镇前年开展了多少场法治宣传活动？")
    assert a.abstained
    assert a.text.startswith("注：“前年”按最近一份报告（2023年）推算为2022年。")
    assert "2022" in a.text.split("。", 1)[1]  # the refusal names the year no report covers


def test_an_explicit_year_filter_wins_over_a_relative_word(extractive: Pipeline) -> None:
    a = extractive.ask("去年开展了多少场法治宣传活动？", options=AskOptions(years=(2024,)))
    assert not a.text.startswith("注：")
    assert a.citations and all(extractive.reports[c.source].meta.year == 2024 for c in a.citations)
