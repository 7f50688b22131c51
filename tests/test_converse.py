import pytest
from langchain_core.runnables import RunnableLambda

from rag.answer.converse import Turn, accept_rewrite, find_places, rewrite, rewrite_heuristic

ALIASES = frozenset({"水口镇", "水口", "瓦屋镇", "瓦屋", "峡口镇", "峡口"})
FIRST = Turn("水口镇2024年设立了哪些调解室？", "水口镇2024年设立了哪些调解室？")


def test_find_places_prefers_the_longest_name() -> None:
    assert find_places("对比水口镇和峡口的执法", ALIASES) == ["水口镇", "峡口"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("那瓦屋镇呢？", "瓦屋镇2024年设立了哪些调解室？"),
        ("瓦屋镇呢", "瓦屋镇2024年设立了哪些调解室？"),
        ("那2023年呢？", "水口镇2023年设立了哪些调解室？"),
        ("那瓦屋镇2023年呢？", "瓦屋镇2023年设立了哪些调解室？"),
        ("那瓦屋镇和峡口镇呢？", "瓦屋镇和峡口镇2024年设立了哪些调解室？"),
        ("它下一步有什么安排？", "水口镇下一步有什么安排？"),
        ("该镇执法培训开展了几次？", "水口镇执法培训开展了几次？"),
        ("执法培训开展了几次？", "水口镇2024年执法培训开展了几次？"),
        ("峡口镇有多少人考取执法证？", "峡口镇有多少人考取执法证？"),  # already standalone
    ],
)
def test_heuristic_rewrite(question: str, expected: str) -> None:
    assert rewrite_heuristic(question, [FIRST], ALIASES) == expected


def test_first_turn_is_left_alone() -> None:
    assert rewrite("它下一步有什么安排？", [], ALIASES) == "它下一步有什么安排？"


def test_llm_rewrite_is_used_when_it_keeps_the_place() -> None:
    seen = {}

    def fake(values: dict) -> str:
        seen.update(values)
        return "改写后的独立问题：瓦屋镇设立了哪些调解室？\n（解释）"

    out = rewrite("那瓦屋镇呢？", [FIRST], ALIASES, RunnableLambda(fake))
    assert out == "瓦屋镇设立了哪些调解室？"
    assert seen["question"] == "那瓦屋镇呢？" and "水口镇2024年设立了哪些调解室" in seen["history"]


def test_llm_rewrite_that_loses_the_place_falls_back_to_the_heuristic() -> None:
    heuristic = "瓦屋镇2024年设立了哪些调解室？"
    assert accept_rewrite("设立了哪些调解室？", "那瓦屋镇呢？", heuristic, ALIASES) == heuristic
    assert accept_rewrite("", "那瓦屋镇呢？", heuristic, ALIASES) == heuristic
    assert accept_rewrite("瓦" * 500, "那瓦屋镇呢？", heuristic, ALIASES) == heuristic


def test_llm_failure_falls_back_to_the_heuristic() -> None:
    def down(values: dict) -> str:
        raise ConnectionError("refused")

    assert rewrite("那瓦屋镇呢？", [FIRST], ALIASES, RunnableLambda(down)) == (
        "瓦屋镇2024年设立了哪些调解室？"
    )
