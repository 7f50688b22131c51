"""Copied text (rag/similar.py, `rag similar`, the 雷同 column of `rag reports`, /v1/rag/similar,
MCP): paragraphs one town copies from another (its names changed, its figures new) are found
with both spans; the boilerplate every report shares is not; eval/copied.py measures it on
generated corpora."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SAMPLES
from rag.cli import app
from rag.pipeline import Pipeline
from rag.similar import find_copies

SHUIKOU, WAWU, XIAKOU = (
    "000_4e493ef760f0cb20.txt",
    "001_e78c042d1c9dcf59.txt",
    "004_ec6daf499c9a8590.txt",
)
SHARED = "深入学习贯彻习近平法治思想，全面落实法治政府建设实施纲要，坚持以法治思维推动基层治理体系和治理能力现代化。"


def _copied_block() -> tuple[str, int, int]:
    """A paragraph of the 水口镇 report, and its offsets there."""
    text = (SAMPLES / SHUIKOU).read_text(encoding="utf-8")
    start = text.index("一是持续优化政务服务")
    return text, start, text.index("\n", start)


@pytest.fixture(scope="module")
def copied(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pipeline, Path, int, int]:
    from rag.config import Settings
    from rag.factory import build, open_pipeline

    root = tmp_path_factory.mktemp("copied")
    folder = root / "reports"
    folder.mkdir()
    source, a, b = _copied_block()
    block = re.sub(r"\d+", lambda m: str(int(m[0]) + 3), source[a:b].replace("水口镇", "峡口镇"))
    for p in sorted(SAMPLES.iterdir()):
        text = p.read_text(encoding="utf-8")
        first = text.index("\n") + 1
        text = text[:first] + SHARED + "\n" + text[first:]  # in every report: boilerplate
        if p.name == XIAKOU:
            at = text.index("\n", text.index("\n", first + len(SHARED) + 1) + 1) + 1
            text = text[:at] + block + "\n" + text[at:]
            inserted = at
        (folder / p.name).write_text(text, encoding="utf-8")
    settings = Settings(embed_model="none", llm_backend="none", reports_dir=folder,
                        index_dir=root / "index")  # fmt: skip
    build(settings)
    pipeline = open_pipeline(settings, settings.index_dir)
    return pipeline, settings.index_dir, inserted, inserted + len(block)


def test_paragraphs_copied_from_another_town_are_found_with_both_spans(
    copied: tuple[Pipeline, Path, int, int],
) -> None:
    pipeline, _, start, end = copied
    found = find_copies(pipeline.reports, pipeline.index.chunks)
    spans = found.of(XIAKOU)
    assert len(spans) == 1
    span = spans[0]
    assert (span.other, span.kind) == (SHUIKOU, "other_place")
    assert abs(span.start - start) <= 2 and abs(span.end - end) <= 2
    source = pipeline.reports[SHUIKOU].text
    original = (SAMPLES / SHUIKOU).read_text(encoding="utf-8")
    _, a, b = _copied_block()
    assert (
        source[span.other_start : span.other_end].strip()
        == source[a + (len(source) - len(original)) : b + (len(source) - len(original))].strip()
        or original[a:b] in source[span.other_start - 2 : span.other_end + 2]
    )
    assert found.shares[XIAKOU] > 0.05 and found.shares[WAWU] == 0.0


def test_the_boilerplate_every_report_shares_is_not_copied(
    copied: tuple[Pipeline, Path, int, int],
) -> None:
    pipeline, _, _, _ = copied
    found = find_copies(pipeline.reports, pipeline.index.chunks)
    assert found.boilerplate > 0
    for span in found.spans:
        assert SHARED not in pipeline.reports[span.source].text[span.start : span.end]
    assert {s.source for s in found.spans} == {XIAKOU, SHUIKOU}  # the copy and its original


def test_rag_similar_rag_reports_the_api_and_mcp(
    copied: tuple[Pipeline, Path, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from mcp.shared.memory import create_connected_server_and_client_session

    from ui.cli_api import router
    from ui.mcp_server import build_mcp

    pipeline, index, _, _ = copied
    monkeypatch.setenv("RAG_EMBED_MODEL", "none")
    runner = CliRunner()
    r = runner.invoke(app, ["similar", "--report", XIAKOU, "--index", str(index), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout[r.stdout.index("{") :])
    assert [s["other"] for s in data["spans"]] == [SHUIKOU]
    assert "一是持续优化政务服务" in data["spans"][0]["other_text"]
    r = runner.invoke(app, ["reports", "--index", str(index), "--json"])
    shares = {row["source"]: row["copied_share"] for row in json.loads(r.stdout)}
    assert shares[XIAKOU] > 0.05 and shares[WAWU] == 0
    r = runner.invoke(app, ["similar", "--report", "nope.txt", "--index", str(index)])
    assert r.exit_code == 1 and "nope.txt" in r.output
    api = FastAPI()
    api.include_router(router(lambda: pipeline))
    r = TestClient(api).post("/v1/rag/similar", json={"reports": [XIAKOU]})
    assert r.status_code == 200 and r.json()["spans"][0]["kind"] == "other_place"

    async def main():  # type: ignore[no-untyped-def]
        server = build_mcp(lambda: pipeline)
        async with create_connected_server_and_client_session(server._mcp_server) as session:
            return await session.call_tool("copied_text", {"report": XIAKOU})

    result = asyncio.run(main())
    data = result.structuredContent or json.loads(result.content[0].text)
    assert data["spans"][0]["other"] == SHUIKOU


def test_asking_for_one_report_gives_what_the_whole_run_gives_it(
    copied: tuple[Pipeline, Path, int, int],
) -> None:
    """Only the asked report's 5-grams are looked up, with the same spans and share; a share
    is of the report's sentences, so never over 1."""
    pipeline, _, _, _ = copied
    whole = find_copies(pipeline.reports, pipeline.index.chunks)
    one = find_copies(pipeline.reports, pipeline.index.chunks, [XIAKOU])
    assert one.spans == tuple(whole.of(XIAKOU)) and one.shares == {XIAKOU: whole.shares[XIAKOU]}
    assert all(0.0 <= v <= 1.0 for v in whole.shares.values())


def test_rag_reports_reads_the_shares_once_per_build(
    copied: tuple[Pipeline, Path, int, int],
) -> None:
    """The 雷同 column is searched once per index build and kept beside it."""
    from rag.similar import SHARES_FILE, build_shares

    pipeline, _, _, _ = copied
    folder = pipeline.index.folder
    first = build_shares(folder, pipeline.reports, pipeline.index.chunks)
    assert first == find_copies(pipeline.reports, pipeline.index.chunks).shares
    kept = folder / SHARES_FILE
    assert json.loads(kept.read_text(encoding="utf-8")) == first
    kept.write_text(json.dumps({s: 0.5 for s in first}), encoding="utf-8")
    assert set(build_shares(folder, pipeline.reports, []).values()) == {0.5}  # read, not searched
    kept.unlink()
