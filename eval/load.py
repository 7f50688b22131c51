"""Load test of the UI's /ask API (not a unit test): N simulated users for T seconds.

    python -m eval.load [--users 20] [--seconds 60] [--url http://127.0.0.1:7860/]

Without --url it starts the app itself on 127.0.0.1 (extractive mode, the project's index).
Each user asks dev-set questions in a loop through gradio_client; prints p50/p95 latency,
throughput and errors, and writes eval/results/load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from rag.config import PROJECT_ROOT


def _user(
    url: str, questions: list[str], stop: float, seed: int, out: list[float], errors: list[str]
) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    rng = random.Random(seed)
    while time.monotonic() < stop:
        q = rng.choice(questions)
        t = time.perf_counter()
        try:
            result = client.predict(q, api_name="/ask")
            if "answer" not in result:
                raise ValueError("no answer in the response")
            out.append((time.perf_counter() - t) * 1000)
        except Exception as e:  # noqa: BLE001 - every failure is counted and reported
            errors.append(f"{type(e).__name__}: {e}")


def _wait_for(port: int, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if server.poll() is not None:
            raise SystemExit(f"rag serve exited with {server.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    server.kill()
    raise SystemExit(f"rag serve did not listen on port {port} within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--url")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "load.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    rows = (PROJECT_ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(r)["question"] for r in rows if r.strip()]
    server = None
    url = args.url
    if url is None:  # `rag serve` in its own process, extractive mode
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "RAG_LLM_BACKEND": "none"}
        server = subprocess.Popen(
            [sys.executable, "-m", "rag", "serve", "--port", str(port),
             "--audit-log", os.devnull],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for(port, server)
        url = f"http://127.0.0.1:{port}/"
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + args.seconds
    threads = [
        threading.Thread(target=_user, args=(url, questions, stop, i, latencies, errors))
        for i in range(args.users)
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    if server is not None:
        server.terminate()
        server.wait(10)
    q = (
        statistics.quantiles(latencies, n=100, method="inclusive")
        if len(latencies) > 1
        else [0.0] * 99
    )
    result = {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:5],
        "throughput_rps": round(len(latencies) / elapsed, 2),
        "latency_ms": {
            "p50": round(q[49], 1),
            "p95": round(q[94], 1),
            "max": round(max(latencies, default=0), 1),
        },
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
