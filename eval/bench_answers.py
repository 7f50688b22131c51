"""The answer path in the default configuration (what `bash run.sh` gives every user: the
bundled multilingual-e5-small + BM25, extractive answers), timed stage by stage.

    python -m eval.bench_answers [--questions 40] [--out eval/results/bench-answers.json]

1. Per question, in one loaded pipeline: wall and CPU time of the whole answer, p50/p95, and
   where it goes (query embedding, word neighbours, analysis, retrieval, sentence vectors,
   evidence ranking, decision, answer, claim check). Twice: the first time each question is
   asked (its passages' sentences not yet encoded: what a real corpus meets) and again (the
   caches warm: the flattering figure).
2. The encoder alone, beside it: one query, one sentence, one chunk (the floor of each stage
   that calls it), and the GEMM rate of this machine (numpy float32), so each figure can be
   read against what the hardware allows.
   核稿 of a 10-sentence draft in the same loaded pipeline, first time and again.
3. One-shot commands from the shell, as a newcomer runs them: `rag ask` and `rag check` of a
   10-sentence draft (wall time, each run in a fresh process).
   `rag serve` as users start it, with 1, 4 and 16 clients at once on /v1/chat/completions:
   answers per second and request p50/p95.
4. Index build of the sample reports in a fresh folder: chunks/s and peak memory of the child.

Times are printed and written as JSON; nothing here is a test. The machine is shared: compare
rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import rag.answer.sources as sources_module
import rag.pipeline as pipeline_module
from eval.dataset import load_questions
from rag.config import PROJECT_ROOT, Settings
from rag.factory import open_pipeline
from rag.pipeline import Pipeline

Clock = dict[str, list[float]]  # stage -> [wall ms, cpu ms] summed over one question


def _pct(values: Sequence[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": round(values[0], 1) if values else 0.0, "p95": 0.0, "n": len(values)}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(q[49], 1), "p95": round(q[94], 1), "n": len(values)}


@contextmanager
def _stopwatch(p: Pipeline, clock: Clock) -> Iterator[None]:
    """Each stage's calls timed into `clock` (wall and CPU ms), by wrapping them in place."""
    undo: list[Callable[[], None]] = []

    def wrap(owner: Any, name: str, stage: str) -> None:
        if owner is None or not hasattr(owner, name):
            return
        inner = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            w, c = time.perf_counter(), time.process_time()
            try:
                out = inner(*args, **kwargs)
                # a stream is timed while it is read (the extractive answer composes lazily)
                return iter(list(out)) if isinstance(out, Iterator) else out
            finally:
                clock[stage][0] += (time.perf_counter() - w) * 1000
                clock[stage][1] += (time.process_time() - c) * 1000

        setattr(owner, name, timed)
        undo.append(lambda: setattr(owner, name, inner))

    embedder = p.retriever.embedder
    wrap(embedder, "embed_query", "query embedding")
    wrap(getattr(p, "neighbours", None), "embed", "word neighbours (encoder)")
    wrap(p.similarity, "embed_documents", "sentence vectors (encoder)")
    wrap(p, "analyze", "analysis (places, terms, neighbours)")
    wrap(p.retriever, "search", "retrieval (BM25 + FAISS, with its query embedding)")
    wrap(sources_module, "candidates", "evidence ranking (with sentence vectors)")
    wrap(p.decider, "decide", "decision")
    wrap(p.answerer, "stream", "answer")
    wrap(pipeline_module, "check_answer", "claim check")
    try:
        yield
    finally:
        for restore in reversed(undo):
            restore()


def answer_latency(p: Pipeline, questions: Sequence[str]) -> dict[str, Any]:
    """Wall/CPU per question and per stage, first time and again."""
    out: dict[str, Any] = {}
    for run in ("first time", "again"):
        walls, cpus = [], []
        stages: dict[str, list[list[float]]] = defaultdict(list)
        for q in questions:
            clock: Clock = defaultdict(lambda: [0.0, 0.0])
            with _stopwatch(p, clock):
                w, c = time.perf_counter(), time.process_time()
                p.ask(q)
                walls.append((time.perf_counter() - w) * 1000)
                cpus.append((time.process_time() - c) * 1000)
            for stage, (sw, sc) in clock.items():
                stages[stage].append([sw, sc])
        out[run] = {
            "wall_ms": _pct(walls),
            "cpu_ms": _pct(cpus),
            "stages_mean_ms": {
                s: {
                    "wall": round(sum(x[0] for x in v) / len(questions), 1),
                    "cpu": round(sum(x[1] for x in v) / len(questions), 1),
                }
                for s, v in sorted(stages.items(), key=lambda kv: -sum(x[0] for x in kv[1]))
            },
        }
    return out


def encoder_floor(p: Pipeline) -> dict[str, Any]:
    """The encoder alone (ms per text, CPU), and the machine's float32 GEMM rate."""
    emb = p.retriever.embedder
    out: dict[str, Any] = {}
    if emb is not None:
        chunk = next(iter(p.index.chunks)).index_text
        sentence = "全年开展普法宣传活动10余次，发放宣传资料10000余份。"
        for name, call in (
            ("query", lambda: emb.embed_query("水口镇去年开展了几次执法培训？")),
            ("sentence", lambda: emb.embed_documents([sentence])),
            ("word", lambda: emb.embed_documents(["培训班"])),
            ("chunk", lambda: emb.embed_documents([chunk])),
            ("8 sentences in one call", lambda: emb.embed_documents([sentence] * 8)),
        ):
            call()
            times = []
            for _ in range(5):
                c = time.process_time()
                call()
                times.append((time.process_time() - c) * 1000)
            out[f"{name}_cpu_ms"] = round(statistics.median(times), 1)
    a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
    a @ a
    t = time.perf_counter()
    for _ in range(5):
        a @ a
    out["gemm_gflops"] = round(5 * 2 * 1024**3 / (time.perf_counter() - t) / 1e9, 1)
    return out


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=PROJECT_ROOT)
    return (time.perf_counter() - t) * 1000


DRAFT = [
    "水口镇全年开展普法宣传活动10余次。",
    "水口镇配置执法人员5名。",
    "瓦屋镇成功化解了12件信访积案。",
    "三墩镇2019年收到行政复议5件。",
    "金湖县各相关单位共聘请单位内部公职律师9名。",
    "峡口镇已有27人通过考试入驻数字执法系统。",
    "水口镇执法办案12起。",
    "瓦屋镇8件人大代表建议得到高质量办理落实。",
    "三墩镇调解纠纷917件。",
    "峡口镇开展院坝会2场。",
]  # fmt: skip  a 10-sentence draft for 核稿


def check_latency(p: Pipeline) -> dict[str, float]:
    """核稿 of the 10-sentence draft in the loaded pipeline: the first time and again (ms)."""
    from rag.check import ClaimChecker

    out = {}
    for run in ("first time", "again"):
        t = time.perf_counter()
        ClaimChecker(p).check("\n".join(DRAFT))
        out[f"{run}_wall_ms"] = round((time.perf_counter() - t) * 1000, 1)
    return out


def one_shot(index_dir: Path, runs: int = 3) -> dict[str, Any]:
    """`rag ask` and `rag check --file` (a 10-sentence draft) from the shell, fresh processes."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_INDEX_DIR": str(index_dir)}
    rag = [sys.executable, "-c", "from rag.cli import run; run()"]
    with tempfile.TemporaryDirectory() as tmp:
        draft = Path(tmp) / "draft.txt"
        draft.write_text("\n".join(DRAFT), encoding="utf-8")
        ask = [_wall([*rag, "ask", "水口镇去年开展了几次执法培训？"], env) for _ in range(runs)]
        check = [_wall([*rag, "check", "--file", str(draft)], env) for _ in range(runs)]
    return {"rag_ask_wall_ms": _pct(ask), "rag_check_10_sentences_wall_ms": _pct(check)}


def server_throughput(
    questions: Sequence[str], clients: Sequence[int] = (1, 4, 16), per_client: int = 5
) -> dict[str, Any]:
    """`rag serve` started as users start it (default configuration, no login, 127.0.0.1 on a
    free port), then `n` clients each asking `per_client` questions on /v1/chat/completions
    at once: answers per second and per-request wall time."""
    import concurrent.futures
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [sys.executable, "-c", "from rag.cli import run; run()", "serve", "--host",
           "127.0.0.1", "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.post(url, json={"messages": [{"role": "user", "content": questions[0]}]},
                           timeout=60).raise_for_status()  # fmt: skip
                break
            except (httpx.HTTPError, OSError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("rag serve did not answer") from None
                time.sleep(1)
        out: dict[str, Any] = {}
        for n in clients:

            def client(i: int) -> list[float]:
                times = []
                with httpx.Client(timeout=120) as http:
                    for j in range(per_client):
                        q = questions[(i * per_client + j) % len(questions)]
                        t = time.perf_counter()
                        http.post(url, json={"messages": [{"role": "user", "content": q}]})
                        times.append((time.perf_counter() - t) * 1000)
                return times

            t = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(n) as pool:
                times = [x for xs in pool.map(client, range(n)) for x in xs]
            seconds = time.perf_counter() - t
            out[f"{n} clients"] = {"answers_per_s": round(len(times) / seconds, 2),
                                   "request_ms": _pct(times)}  # fmt: skip
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def _build(out: str) -> None:
    from rag.factory import build

    s = Settings()
    t = time.perf_counter()
    summary, _ = build(s, s.reports_dir, Path(out))
    seconds = time.perf_counter() - t
    row = {"seconds": round(seconds, 1), "chunks": summary.chunks,
           "chunks_per_s": round(summary.chunks / seconds, 2),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}  # fmt: skip
    print(json.dumps(row))


def index_build() -> dict[str, Any]:
    """`rag index` of the sample reports into a fresh folder, in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        code = f"from eval.bench_answers import _build; _build({str(Path(tmp) / 'index')!r})"
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True,
            text=True, cwd=PROJECT_ROOT,
        )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "bench-answers.json"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    p = open_pipeline(settings)
    texts = {s: r.text for s, r in p.reports.items()}
    held = load_questions(PROJECT_ROOT / "eval" / "heldout.jsonl", texts)
    questions = [q.question for q in held][: args.questions]
    p.ask("峡口镇有几个人考过了执法资格？")  # the model loaded: not timed
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "configuration": p.embedding,
        "questions": f"{len(questions)} held-out questions",
    }
    print("1. answers ...", flush=True)
    results["answers"] = answer_latency(p, questions)
    print(json.dumps(results["answers"], ensure_ascii=False, indent=1), flush=True)
    print("1b. 核稿 of 10 sentences in the loaded pipeline ...", flush=True)
    results["check_warm"] = check_latency(p)
    print(json.dumps(results["check_warm"], indent=1), flush=True)
    print("2. encoder alone ...", flush=True)
    results["encoder"] = encoder_floor(p)
    print(json.dumps(results["encoder"], indent=1), flush=True)
    print("3. one-shot commands ...", flush=True)
    results["one_shot"] = one_shot(settings.index_dir)
    print(json.dumps(results["one_shot"], indent=1), flush=True)
    print("3b. rag serve: 1, 4 and 16 clients on /v1/chat/completions ...", flush=True)
    dev = load_questions(PROJECT_ROOT / "eval" / "dev.jsonl", texts)
    results["server"] = server_throughput([q.question for q in dev][:80])  # none asked twice
    print(json.dumps(results["server"], indent=1), flush=True)
    if not args.skip_build:
        print("4. index build ...", flush=True)
        results["build"] = index_build()
        print(json.dumps(results["build"], indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
