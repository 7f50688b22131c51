"""Bounded requests and damaged indexes: a clear message, never a traceback or a hang."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from rag.answer.converse import Turn
from rag.errors import ConfigError, IndexStoreError
from rag.index.layout import current_build
from rag.index.store import load_index
from rag.pipeline import Pipeline

runner = CliRunner()


def test_a_huge_question_is_refused_before_any_work(
    extractive: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.pipeline

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the question was analysed before its length was checked")

    monkeypatch.setattr(rag.pipeline, "read", no_work)
    monkeypatch.setattr(rag.pipeline, "rewrite", no_work)
    with pytest.raises(ConfigError, match="问题有 100000 个字符，上限是 2000 个"):
        extractive.ask("法" * 100_000)


def test_an_over_long_history_is_cut_to_the_recent_turns_and_said(extractive: Pipeline) -> None:
    long = [Turn("瓦屋镇开展了多少场普法活动？", answer="普法" * 2000) for _ in range(10)]
    a = extractive.ask("峡口镇呢？", long)
    assert any(
        "RAG_MAX_HISTORY_CHARS" in w and "只读了 10 轮中的最后 1 轮" in w for w in a.warnings
    )


def test_the_cli_refuses_before_loading_anything(lexical_index_dir: Path) -> None:
    from rag.cli import app

    result = runner.invoke(app, ["ask", "法" * 40_000, "--index", str(lexical_index_dir)])
    assert result.exit_code == 1
    assert "问题有 40000 个字符" in result.output and "Traceback" not in result.output


def _copy(index_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    dst = tmp_path / "index"
    shutil.copytree(index_dir, dst)
    folder = current_build(dst)
    assert folder is not None
    return dst, folder


def _segment(folder: Path) -> Path:
    (seg,) = (folder / "segments").iterdir()  # a full build writes one segment
    return seg


def _damage_chunks(folder: Path) -> None:
    data = (_segment(folder) / "chunks.jsonl").read_text(encoding="utf-8")
    (_segment(folder) / "chunks.jsonl").write_text(data[: len(data) // 2], encoding="utf-8")


def _damage_manifest(folder: Path) -> None:
    (folder / "manifest.json").write_text('{"reports": [', encoding="utf-8")


def _drop_report(folder: Path) -> None:
    lines = (_segment(folder) / "reports.jsonl").read_text(encoding="utf-8").splitlines()
    (_segment(folder) / "reports.jsonl").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")


def _foreign_manifest(folder: Path) -> None:
    (folder / "manifest.json").write_text(json.dumps([1, 2, 3]), encoding="utf-8")


def _damage_bm25(folder: Path) -> None:
    for f in (folder / "bm25").rglob("*.npy"):
        f.write_bytes(f.read_bytes()[:7])


@pytest.mark.parametrize(
    ("damage", "names"),
    [
        (_damage_chunks, "chunks.jsonl"),
        (_damage_manifest, "manifest.json"),
        (_drop_report, "missing from reports.jsonl"),
        (_foreign_manifest, "manifest.json"),
        (_damage_bm25, "bm25"),
    ],
)
def test_a_damaged_index_names_the_file_and_the_fix(
    lexical_index_dir: Path,
    tmp_path: Path,
    damage,
    names: str,  # type: ignore[no-untyped-def]
) -> None:
    index_dir, folder = _copy(lexical_index_dir, tmp_path)
    damage(folder)
    with pytest.raises(IndexStoreError) as e:
        load_index(index_dir)
    assert names in str(e.value) and "rag index" in str(e.value)


def test_the_cli_prints_a_damaged_index_without_a_traceback(
    lexical_index_dir: Path, tmp_path: Path
) -> None:
    index_dir, folder = _copy(lexical_index_dir, tmp_path / "[bold]x[red]")
    _damage_chunks(folder)
    result = subprocess.run(
        [sys.executable, "-m", "rag", "search", "执法培训", "--index", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HF_HUB_OFFLINE": "1", "RAG_EMBED_MODEL": "none", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "chunks.jsonl" in result.stderr and "[bold]x[red]" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unexpected_error_is_one_line_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.cli

    def boom() -> None:
        raise KeyError("summary")

    monkeypatch.setattr(rag.cli, "app", boom)
    monkeypatch.setattr(sys, "argv", ["rag", "index"])
    with pytest.raises(SystemExit) as e:
        rag.cli.run()
    assert e.value.code == 1
    monkeypatch.setattr(sys, "argv", ["rag", "--debug", "index"])
    with pytest.raises(KeyError):
        rag.cli.run()


def test_a_missing_extra_is_named_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    from rag.config import Settings
    from rag.factory import describe, llm_config

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llama_cpp" else real(name, *a),
    )
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    settings = Settings(llm_backend="llamacpp", llm_gguf_path=gguf, index_dir=tmp_path / "none")
    with pytest.raises(ConfigError, match=r"llama-cpp-python.*\.\[llamacpp\]"):
        llm_config(settings)
    assert "llama-cpp-python" in (describe(settings).llm_problem or "")


class _Silent:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a hung
    endpoint); counts the connections it got."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[object] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()  # type: ignore[attr-defined]


def test_a_hung_llm_gets_one_attempt_then_the_extractive_answer(extractive: Pipeline) -> None:
    from rag.answer.chain import LLMAnswerer
    from rag.answer.llm import LLMConfig, make_model
    from rag.answer.prompting import load_prompt
    from rag.config import PROJECT_ROOT

    silent = _Silent()
    try:
        cfg = LLMConfig("openai", "hung", "chat", base_url=f"http://127.0.0.1:{silent.port}/v1")
        cfg = LLMConfig(**{**cfg.__dict__, "timeout": 1.0})
        llm = LLMAnswerer(
            make_model(cfg), load_prompt(PROJECT_ROOT / "prompts", "answer"), "chat", "llm:hung"
        )
        a = extractive.with_answerer(llm).ask("水口镇对执法人员进行了多少次执法培训？")
        assert a.mode == "extractive" and "15次" in a.text
        assert any("大模型连不上" in w for w in a.warnings)
        assert len(silent.conns) == 1  # one attempt, no retry
    finally:
        silent.close()


def test_a_trickling_llm_stream_is_cut_at_the_time_budget(extractive: Pipeline) -> None:
    from dataclasses import replace

    from langchain_core.language_models.fake import FakeStreamingListLLM

    from rag.answer.chain import LLMAnswerer
    from rag.answer.prompting import load_prompt
    from rag.config import PROJECT_ROOT

    reply = "对执法人员共进行执法培训15次[1]。" * 10
    slow = FakeStreamingListLLM(responses=[reply], sleep=0.05)  # 20 characters a second
    p = extractive.with_answerer(
        LLMAnswerer(slow, load_prompt(PROJECT_ROOT / "prompts", "answer"), "completion", "llm:slow")
    )
    p.knobs = replace(p.knobs, request_budget=0.5)
    a = p.ask("水口镇对执法人员进行了多少次执法培训？")
    assert any("RAG_REQUEST_BUDGET" in w and "回答被截断" in w for w in a.warnings)
    assert 0 < len(a.text) < len(reply)  # what came in time is kept, the rest not waited for


def test_a_silent_model_hub_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.index.embed

    silent = _Silent()
    try:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.port}")
        monkeypatch.setattr(rag.index.embed, "HUB_TIMEOUT", 0.5)
        assert rag.index.embed._hub_path("nobody/no-such-model-here") is None
        assert len(silent.conns) == 1  # it was asked, did not answer, and was given up on
    finally:
        silent.close()


def test_a_hub_whose_host_does_not_resolve_is_not_asked_and_said_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import httpx

    import rag.index.embed

    def no_request(*args: object, **kwargs: object) -> None:
        raise AssertionError("the hub was asked although its host does not resolve")

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.no-such-host.invalid")
    monkeypatch.setattr(httpx, "get", no_request)
    monkeypatch.setattr(rag.index.embed, "_HUB_ANSWERS", {})
    with caplog.at_level("WARNING", logger="rag.index.embed"):
        assert rag.index.embed._hub_reachable("BAAI/bge-small-zh-v1.5") is False
        assert rag.index.embed._hub_reachable("BAAI/bge-reranker-base") is False
    said = [r.getMessage() for r in caplog.records if "hub" in r.getMessage()]
    assert len(said) == 1, said
    assert "无网络" in said[0] and "does not resolve" in said[0]


def _rag_index(reports: Path, index: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**__import__("os").environ, "RAG_EMBED_MODEL": "none", "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "rag", "index", "--reports", str(reports), "--index", str(index),
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip


@pytest.mark.integration
def test_two_builds_of_one_index_never_overwrite_each_other(tmp_path: Path) -> None:
    """While one build holds the folder, `rag index` refuses with who holds it (and changes
    nothing); with --wait it queues and then builds. Two at once with --wait both finish
    and leave one valid index."""
    from rag.config import PROJECT_ROOT
    from rag.index.layout import build_lock, read_build

    reports, index = PROJECT_ROOT / "data" / "reports", tmp_path / "index"
    with build_lock(index):
        refused = _rag_index(reports, index)
        out, _ = refused.communicate(timeout=300)
        assert refused.returncode == 1, out
        assert (
            "正由 进程" in out
            and "建索引，本次未做任何改动" in out
            and "--wait" in out
            and "Traceback" not in out
        )
        assert current_build(index) is None  # nothing was written
        queued = _rag_index(reports, index, "--wait", "300")
        with pytest.raises(subprocess.TimeoutExpired):
            queued.wait(timeout=3)  # still waiting for the lock held here
    out, _ = queued.communicate(timeout=300)
    assert queued.returncode == 0 and "已索引 5 份报告" in out, out
    pair = [_rag_index(reports, index, "--wait", "300") for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in pair]
    assert [p.returncode for p in pair] == [0, 0], outs
    folder = current_build(index)
    assert folder is not None and len(read_build(folder)[1]) == 5
    assert [f.name for f in (index / "builds").iterdir()] == [folder.name]  # no leftovers


HEAD = "瓦屋镇2024年法治政府建设情况报告\n一、主要工作\n开展普法活动15次，覆盖群众2000余人。\n"
MILLION = 1_000_000
HANG_GUARD = 120  # seconds; the quadratic rule needed hours for a million spaces
PATHOLOGICAL = {
    "spaces": " " * MILLION,
    "spaces then a letter": " " * MILLION + "x",
    "tabs and ideographic spaces": "\t\u3000" * (MILLION // 2),
    "a furniture label then spaces": "索引号" + " " * MILLION + "x",
    "a spaced label": "索 引 号" + " \t" * (MILLION // 2),
    "pipes": "| a " * (MILLION // 4),
    "a heading then spaces": "一、" + " " * MILLION,
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_a_pathological_line_is_read_and_chunked_without_hanging(name: str, tmp_path: Path) -> None:
    """A line of a million characters of the kinds that made the noise rules backtrack (16k
    spaces took 6.6 s of CPU, so a million would take hours): read and chunked like any
    report, in a child process that must end within HANG_GUARD seconds (a guard against a
    hang, not a speed figure: docs/operations.md has those)."""
    path = tmp_path / "r.txt"
    path.write_text(HEAD + PATHOLOGICAL[name] + "\n结尾。\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from rag.index.reading import read_isolated\n"
        "from rag.ingest.chunk import ChunkerSettings\n"
        "from rag.ingest.reader import DEFAULT_LIMITS\n"
        "report, chunks = read_isolated(Path(sys.argv[1]), ChunkerSettings(), DEFAULT_LIMITS)\n"
        "print(len(chunks), '开展普法活动15次' in report.text)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True, text=True, timeout=HANG_GUARD, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    chunks, found = done.stdout.split()
    assert int(chunks) > 0 and found == "True"


def test_a_long_whitespace_run_is_counted_not_a_tokenizer_error() -> None:
    from rag.text.tokens import count_tokens

    assert count_tokens("甲" + " " * MILLION + "乙") >= MILLION // 8
    assert count_tokens("甲 乙") == count_tokens("甲 乙")  # short text: tiktoken's own count


def test_a_report_that_cuts_into_too_many_passages_is_skipped_by_name(tmp_path: Path) -> None:
    from rag.errors import IngestError
    from rag.index.reading import read_isolated
    from rag.ingest.chunk import ChunkerSettings
    from rag.ingest.reader import ReadLimits

    path = tmp_path / "huge.txt"
    path.write_text(HEAD + "开展普法活动15次。" * 2000, encoding="utf-8")
    with pytest.raises(IngestError, match=r"huge\.txt.*超过每份报告 10 个的上限"):
        read_isolated(path, ChunkerSettings(), ReadLimits(max_chunks=10))


def _vector_index(tmp_path: Path) -> tuple[Path, Path]:
    from conftest import SAMPLES, FakeEmbedder
    from rag.index.build import build_index
    from rag.ingest.chunk import ChunkerSettings

    build_index(SAMPLES, tmp_path / "index", FakeEmbedder(), ChunkerSettings())
    folder = current_build(tmp_path / "index")
    assert folder is not None
    return tmp_path / "index", folder


def _garble_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(b ^ 0x5A for b in data[mid : mid + 64])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "names"),
    [
        (lambda i, f: (i / "CURRENT").write_bytes(b"\xff\xfe\x00garbled"), "CURRENT"),
        (lambda i, f: (i / "CURRENT").write_text("../../etc\n", encoding="utf-8"), "CURRENT"),
        (lambda i, f: (f / "dense.faiss").unlink(), "dense.faiss"),
        (lambda i, f: _garble_middle(f / "dense.faiss"), "dense.faiss"),
    ],
    ids=["CURRENT not text", "CURRENT not a build", "vectors deleted", "vectors overwritten"],
)
def test_a_damaged_vector_index_is_an_error_naming_the_file_not_a_silent_fallback(
    tmp_path: Path,
    damage,
    names: str,  # type: ignore[no-untyped-def]
) -> None:
    from conftest import SAMPLES, FakeEmbedder
    from rag.index.build import build_index
    from rag.ingest.chunk import ChunkerSettings

    index_dir, folder = _vector_index(tmp_path)
    damage(index_dir, folder)
    with pytest.raises(IndexStoreError) as e:
        load_index(index_dir)
    assert names in str(e.value) and "rag index" in str(e.value)
    # and `rag index` (what the message says to run) repairs it
    build_index(SAMPLES, index_dir, FakeEmbedder(), ChunkerSettings())
    assert load_index(index_dir).dense is not None
