import json
from pathlib import Path

from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


def _env(tmp_path: Path) -> dict[str, str]:
    # BM25-only keeps the CLI tests fast; the dense path has its own tests
    return {"RAG_EMBED_MODEL": "none", "RAG_INDEX_DIR": str(tmp_path / "index")}


def test_index_reports_search_doctor(reports_copy: Path, tmp_path: Path) -> None:
    (reports_copy / "broken.pdf").write_bytes(b"%PDF-1.4 junk")
    env = _env(tmp_path)
    result = runner.invoke(app, ["index", "--reports", str(reports_copy)], env=env)
    assert result.exit_code == 0, result.output
    assert "indexed 5 report(s)" in result.output
    assert "skipped broken.pdf: not a readable .pdf file" in result.output.replace("\n", " ")

    result = runner.invoke(app, ["reports", "--json"], env=env)
    rows = json.loads(result.stdout)
    assert {r["source"] for r in rows} == {p.name for p in reports_copy.glob("0*.txt")}

    result = runner.invoke(
        app, ["search", "瓦屋镇召开了几次党委会专题研究法治建设", "-k", "3", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    first = hits[0]
    assert set(first) >= {"rank", "score", "source", "title", "section", "start", "end", "text"}
    assert first["source"] == "001_e78c042d1c9dcf59.txt"
    text = (reports_copy / first["source"]).read_text(encoding="utf-8")
    assert text[first["start"] : first["end"]] == first["text"]
    assert "3次党委会" in first["text"]

    result = runner.invoke(app, ["search", "执法", "--place", "峡口镇", "--json"], env=env)
    assert {h["source"] for h in json.loads(result.stdout)} == {"004_ec6daf499c9a8590.txt"}

    result = runner.invoke(app, ["doctor"], env=env)
    assert result.exit_code == 0
    assert "dense retrieval off" in result.output and "5 reports" in result.output


def test_index_fails_when_nothing_is_indexable(tmp_path: Path) -> None:
    empty = tmp_path / "reports"
    empty.mkdir()
    (empty / "a.txt").write_bytes(b"")
    result = runner.invoke(app, ["index", "--reports", str(empty)], env=_env(tmp_path))
    assert result.exit_code == 1
    assert "nothing could be indexed" in result.output


def test_search_without_index_explains(tmp_path: Path) -> None:
    result = runner.invoke(app, ["search", "执法"], env=_env(tmp_path))
    assert result.exit_code == 1
    assert "rag index" in result.output
