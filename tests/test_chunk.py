from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rag.errors import ConfigError
from rag.ingest.chunk import ChunkerSettings, chunk_report, heading_level
from rag.ingest.metadata import extract_meta
from rag.ingest.reader import find_noise
from rag.text.tokens import count_tokens
from rag.types import Report

SAMPLES = Path(__file__).parent.parent / "data" / "reports"


def make_report(text: str, source: str = "t.txt") -> Report:
    noise = find_noise(text)
    return Report(
        source=source,
        text=text,
        meta=extract_meta(text, noise, source),
        encoding="utf-8",
        noise=tuple(noise),
    )


def check_invariants(report: Report, chunks, max_tokens: int) -> None:  # type: ignore[no-untyped-def]
    prev_end = 0
    for c in chunks:
        assert report.text[c.start : c.end] == c.text
        assert c.start >= prev_end, "chunks overlap or are out of order"
        assert c.text.strip() == c.text and c.text
        assert count_tokens(c.text) <= max_tokens
        for s in report.noise:
            if report.text[s.start : s.end].startswith("[bookmark"):
                continue  # inline markup may sit inside a chunk; it is stripped from index_text
            assert s.end <= c.start or s.start >= c.end, "a noise line inside a chunk"
        prev_end = c.end


@pytest.mark.parametrize("path", sorted(SAMPLES.iterdir()), ids=lambda p: p.name[:3])
@pytest.mark.parametrize("max_tokens", [64, 320])
def test_sample_reports_offsets_and_budget(path: Path, max_tokens: int) -> None:
    from rag.ingest.reader import load_report

    report = load_report(path)
    chunks = chunk_report(report, ChunkerSettings(max_tokens=max_tokens))
    check_invariants(report, chunks, max_tokens)
    assert all("[bookmark" not in c.index_text for c in chunks)


def test_section_paths_follow_the_outline_with_mixed_numbering() -> None:
    from rag.ingest.reader import load_report

    chunks = chunk_report(load_report(SAMPLES / "004_ec6daf499c9a8590.txt"))
    paths = [c.section for c in chunks]
    top = "一、2024年推进法治政府建设的主要举措和成效"
    assert (top, "（1）强化宣传引导，营造法治政府建设浓厚氛围") in paths
    assert (top, "（三）强化规范执法，确保执法公正文明", "一是全力推行依法行政") in paths


def test_headings_start_chunks_and_sentences_are_not_cut() -> None:
    text = (
        "一、总体情况\n（一）执法培训\n开展执法培训15次。组织测试6次；发放资料1000份！\n"
        "（二）普法宣传\n1. 开展宣传活动\n一是进村入户。二是进校园。\n（1）小标题\n内容。"
    )
    report = make_report(text)
    chunks = chunk_report(report, ChunkerSettings(max_tokens=20))
    for c in chunks:
        assert c.text[-1] in "。；！" or report.text[c.end : c.end + 1] in ("\n", "")
    assert chunks[0].text.startswith("一、总体情况")
    assert any(c.text.startswith("（二）普法宣传") for c in chunks)
    sections = {c.text: c.section for c in chunks}
    # a chunk holding two items gets the path down to their heading, not one item's title
    assert sections["一是进村入户。二是进校园。"] == (
        "一、总体情况",
        "（二）普法宣传",
        "1.开展宣传活动",
    )
    assert sections["（1）小标题\n内容。"][-1] == "（1）小标题"


def test_a_sentence_longer_than_the_budget_is_split() -> None:
    text = "一、情况\n" + "，".join(["开展法治宣传教育活动"] * 40) + "。"
    report = make_report(text)
    chunks = chunk_report(report, ChunkerSettings(max_tokens=32))
    check_invariants(report, chunks, 32)
    assert len(chunks) > 5


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("一、主要举措", 1),
        ("十二、其他", 1),
        ("（一）执法", 2),
        ("(三)执法", 2),
        ("1.培训", 3),
        ("2、培训", 3),
        ("（1）培训", 4),
        ("(2) 培训", 4),
        ("2024年以来", None),
        ("1.5万人次参加", None),
        ("一是加强", None),
    ],
)
def test_heading_levels(line: str, level: int | None) -> None:
    assert heading_level(line) == level


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="max_tokens"):
        ChunkerSettings(max_tokens=3)


_fragments = st.sampled_from(
    [
        "一、",
        "二、",
        "（一）",
        "(二)",
        "1.",
        "2、",
        "（1）",
        "一是",
        "二是",
        "开展执法培训15次",
        "。",
        "；",
        "！",
        "，",
        "\n",
        "\r\n",
        "\n\n",
        " ",
        "\u3000",
        "我镇",
        "100%",
        "[bookmark: _GoBack]",
        "发布机构 | 县政府办 |",
        "索 引 号 | 0143/2025 | 公开日期 | 2025-03-07 |",
        "公安机关备案号:431129",
        "abc",
        "”",
        "法治",
    ]
)


@example(parts=["一、", "一、", "开展执法培训15次", "发布机构 | 县政府办 |"], max_tokens=16)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(_fragments, min_size=1, max_size=80),
    max_tokens=st.integers(min_value=16, max_value=120),
)
def test_offset_invariant_holds_for_any_text(parts: list[str], max_tokens: int) -> None:
    text = "".join(parts)
    report = make_report(text)
    chunks = chunk_report(report, ChunkerSettings(max_tokens=max_tokens))
    check_invariants(report, chunks, max_tokens)
    in_noise = [False] * len(text)
    for s in report.noise:
        in_noise[s.start : s.end] = [True] * (s.end - s.start)
    in_chunk = [False] * len(text)
    for c in chunks:
        in_chunk[c.start : c.end] = [True] * (c.end - c.start)
    dropped = [
        i for i, ch in enumerate(text) if not ch.isspace() and not in_noise[i] and not in_chunk[i]
    ]
    assert not dropped, f"report content was dropped at {dropped[:5]}"
