"""Word and Excel exports of answers and 核稿 results (rag/export.py): the files open, every
quote in them is the report's text at the offsets they give, only supported sentences go
unmarked, and `rag ask/check --export` write them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.check import ClaimChecker
from rag.cli import app
from rag.export import export_answers, export_check
from rag.pipeline import Pipeline

PROOF = re.compile(
    r"《(?P<title>[^》]+)》原文（(?P<source>\S+) (?P<start>\d+)-(?P<end>\d+)(?:，(?P<where>[^）]+))?）：“(?P<quote>.*)”$"
)


def _proofs(lines: list[str]) -> list[re.Match[str]]:
    return [m for line in lines if (m := PROOF.search(line))]


def _assert_quotes_are_the_reports(pipeline: Pipeline, proofs: list[re.Match[str]]) -> None:
    assert proofs
    for m in proofs:
        report = pipeline.reports[m["source"]]
        assert report.text[int(m["start"]) : int(m["end"])] == m["quote"], m.group()
        assert report.meta.title == m["title"]


def test_an_answer_in_word_carries_each_sentence_proof_as_a_comment(
    extractive: Pipeline, tmp_path: Path
) -> None:
    import docx

    answers = [
        extractive.ask("哪些镇设立了调解室？"),
        extractive.ask("水口镇对执法人员进行了多少次执法培训？"),
    ]
    path = export_answers(answers, tmp_path / "a.docx")
    document = docx.Document(str(path))
    comments = list(document.comments)
    assert len(comments) == sum(len(a.claims) for a in answers)
    proofs = _proofs([line for c in comments for line in c.text.splitlines()])
    assert len(proofs) == sum(len(a.citations) for a in answers)
    _assert_quotes_are_the_reports(extractive, proofs)
    assert all(c.text.startswith("核对：") for c in comments)
    body = [p.text for p in document.paragraphs]
    assert "问：哪些镇设立了调解室？" in body and "引用原文" in body
    claims = [c for a in answers for c in a.claims]
    for claim in claims:  # a supported sentence unmarked, any other with its verdict
        shown = next(t for t in body if t.startswith(claim.text))
        assert (shown == claim.text) == (claim.verdict == "supported"), shown
    sources = body[body.index("引用原文") + 1 :]
    _assert_quotes_are_the_reports(extractive, _proofs(sources))


def test_an_answer_in_excel_is_one_row_per_citation(extractive: Pipeline, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    answer = extractive.ask("哪些镇设立了调解室？")
    path = export_answers([answer], tmp_path / "a.xlsx")
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("问题或文字", "句序", "句子", "结论")
    body = rows[1:]
    assert len(body) == sum(max(1, sum(c.claim == i for c in answer.citations))
                            for i in range(len(answer.claims)))  # fmt: skip
    for row in body:
        if row[7] is None:
            continue
        source, start, end, quote = row[7], row[9], row[10], row[11]
        assert extractive.reports[source].text[start:end] == quote


def test_a_check_in_word_shows_the_wrong_figure_and_the_report_sentence(
    extractive: Pipeline, tmp_path: Path
) -> None:
    import docx

    text = "水口镇全年开展执法培训15次。水口镇全年开展执法培训50次。"
    result = ClaimChecker(extractive).check(text)
    verdicts = [c.verdict for c in result.claims]
    assert verdicts == ["supported", "contradicted"]
    document = docx.Document(str(export_check(result, extractive.reports, tmp_path / "c.docx")))
    comments = [c.text for c in document.comments]
    assert comments[0].startswith("核对：有依据") and comments[1].startswith("核对：与报告不符")
    _assert_quotes_are_the_reports(
        extractive, _proofs([x for c in comments for x in c.splitlines()])
    )
    body = [p.text for p in document.paragraphs]
    assert body[1].startswith("共 2 句：有依据 1；")
    assert "水口镇全年开展执法培训15次。" in body
    assert any(t.startswith("水口镇全年开展执法培训50次。〔与报告不符：") for t in body)


runner = CliRunner()


def test_rag_ask_and_check_export_and_refuse_another_file_type(
    lexical_index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docx
    from openpyxl import load_workbook

    monkeypatch.setenv("RAG_EMBED_MODEL", "none")
    monkeypatch.setenv("RAG_USE_SERVER", "0")
    index = str(lexical_index_dir)
    out = tmp_path / "answer.docx"
    r = runner.invoke(app, ["ask", "水口镇对执法人员进行了多少次执法培训？", "--index", index,
                            "--export", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "已导出" in r.output and list(docx.Document(str(out)).comments)
    sheet = tmp_path / "check.xlsx"
    r = runner.invoke(app, ["check", "水口镇全年开展执法培训15次。", "--index", index,
                            "--export", str(sheet)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert list(load_workbook(sheet).active.iter_rows(values_only=True))[1][3] == "有依据"
    r = runner.invoke(app, ["ask", "问题", "--index", index, "--export", str(tmp_path / "a.pdf")])
    assert r.exit_code != 0 and "--export a.pdf" in r.output and ".docx、.xlsx" in r.output


def test_the_review_desk_exports_a_check_and_a_conversation_to_their_maker(
    extractive: Pipeline, tmp_path: Path
) -> None:
    import docx
    from openpyxl import load_workbook

    from ui.guard import Access
    from ui.review import ReviewDesk
    from ui.service import check_json, filtered

    desk = ReviewDesk(tmp_path / "audit.jsonl", None, True, Access())
    text = "瓦屋镇2023年共排查化解矛盾纠纷95起。水口镇全年开展执法培训50次。"
    checked = filtered(lambda asked: check_json(extractive, text, asked), "", [], [])
    path = desk.export_check({**checked, "text": text}, ".xlsx", extractive.reports, None)
    assert path is not None and path.endswith(".xlsx")
    rows = list(load_workbook(path).active.iter_rows(values_only=True))[1:]
    assert [r[3] for r in rows if r[1] == 2][0] == "与报告不符"
    for row in rows:
        if row[7] is not None:
            assert extractive.reports[row[7]].text[row[9] : row[10]] == row[11]
    assert desk.export_check(None, ".docx", extractive.reports, None) is None
    answer = extractive.ask("水口镇对执法人员进行了多少次执法培训？")
    word = desk.export([answer], ".docx", None)
    assert word is not None and list(docx.Document(word).comments)
    md = desk.export([answer], ".md", None)
    assert md is not None and "### 问：" in Path(md).read_text(encoding="utf-8")


def test_the_api_exports_an_answer_and_a_check_as_files(extractive: Pipeline) -> None:
    import io

    import docx
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from openpyxl import load_workbook

    from ui.cli_api import router

    app = FastAPI()
    app.include_router(router(lambda: extractive))
    client = TestClient(app)
    r = client.post("/v1/rag/export/ask?format=docx",
                    json={"question": "水口镇对执法人员进行了多少次执法培训？"})  # fmt: skip
    assert r.status_code == 200 and "ask.docx" in r.headers["content-disposition"]
    comments = [c.text for c in docx.Document(io.BytesIO(r.content)).comments]
    _assert_quotes_are_the_reports(
        extractive, _proofs([x for c in comments for x in c.splitlines()])
    )
    r = client.post(
        "/v1/rag/export/check?format=xlsx", json={"text": "水口镇全年开展执法培训15次。"}
    )
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[1][3] == "有依据"
    r = client.post("/v1/rag/export/check?format=xlsx", json={"text": ""})
    assert r.status_code == 400 and "空" in r.json()["error"]
    assert client.post("/v1/rag/export/other?format=pdf", json={}).status_code == 404
    r = client.post("/v1/rag/export/ask?format=docx", json={"question": ["not", "text"]})
    assert r.status_code == 400 and "question 必须是字符串" in r.json()["error"]


def test_an_export_quotes_what_was_cited_even_after_the_index_changed(
    extractive: Pipeline, tmp_path: Path
) -> None:
    import docx

    answer = extractive.ask("水口镇对执法人员进行了多少次执法培训？")
    path = export_answers([answer], tmp_path / "later.docx")  # no index read at all
    proofs = _proofs([x for c in docx.Document(str(path)).comments for x in c.text.splitlines()])
    assert [m["quote"] for m in proofs] == [c.support_text for c in answer.citations]


def test_a_control_character_in_a_report_does_not_stop_an_export(tmp_path: Path) -> None:
    import docx
    from openpyxl import load_workbook

    from rag.export import Proof, Sentence, _write

    quote = "全年开展执法培训\f15次"  # pdftotext's form feed between pages
    sentence = Sentence(quote, "有依据", "", True, (Proof(1, "a.txt", 0, 11, quote, "t", ""),))
    for suffix in (".docx", ".xlsx"):
        path = _write([("问：x", "", [sentence])], tmp_path / f"c{suffix}")
        if suffix == ".docx":
            assert "“全年开展执法培训 15次”" in next(iter(docx.Document(str(path)).comments)).text
        else:
            row = list(load_workbook(path).active.iter_rows(values_only=True))[1]
            assert row[11] == "全年开展执法培训 15次" and len(row[11]) == len(quote)


def test_mcp_exports_an_answer_and_a_check_as_embedded_files(extractive: Pipeline) -> None:
    """The MCP tools return the file itself (an embedded resource, base64), so a client on
    another machine gets it; its proofs quote the reports at their offsets."""
    import asyncio
    import base64
    import io
    import json

    import docx
    from mcp.shared.memory import create_connected_server_and_client_session
    from openpyxl import load_workbook

    from ui.mcp_server import MIME, build_mcp

    server = build_mcp(lambda: extractive)

    async def main() -> list:  # type: ignore[type-arg]
        async with create_connected_server_and_client_session(server._mcp_server) as session:
            asked = await session.call_tool(
                "export_answer", {"question": "水口镇对执法人员进行了多少次执法培训？"}
            )
            checked = await session.call_tool(
                "export_check", {"text": "水口镇全年开展执法培训15次。", "format": "xlsx"}
            )
            empty = await session.call_tool("export_check", {"text": ""})
            pdf = await session.call_tool("export_answer", {"question": "x", "format": "pdf"})
            return [asked, checked, empty, pdf]

    asked, checked, empty, pdf = asyncio.run(main())
    summary, resource = asked.content
    blob = resource.resource
    assert blob.mimeType == MIME["docx"]
    data = base64.b64decode(blob.blob)
    assert json.loads(summary.text) == {
        "file_name": "回答.docx",
        "format": "docx",
        "bytes": len(data),
    }
    comments = [c.text for c in docx.Document(io.BytesIO(data)).comments]
    _assert_quotes_are_the_reports(
        extractive, _proofs([x for c in comments for x in c.splitlines()])
    )
    data = base64.b64decode(checked.content[1].resource.blob)
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[1][3] == "有依据"
    assert len(empty.content) == 1 and "空" in json.loads(empty.content[0].text)["error"]
    assert "docx 或 xlsx" in json.loads(pdf.content[0].text)["error"]
