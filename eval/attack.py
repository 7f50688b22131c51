"""The attacks of issue 33 against a real `rag serve`, bounded and on 127.0.0.1 only.

    python -m eval.attack [--probe-seconds 20] [--out eval/results/attack.json]

It copies the sample reports to a temporary folder, builds the index in the default
configuration, writes a users file (admin, two staff) and starts `rag serve --users` on a free
127.0.0.1 port, as an administrator would. Then, through HTTP as any client can:

1. a file input made to read a server path (核稿's, with and without login): leaked or not;
2. login throttling: wrong passwords with a rotating X-Forwarded-For, a duplicated field, and
   failures for one account from five loopback addresses (127.0.0.2-6) before its owner logs in
   from a sixth;
3. another user's upload fetched on both of Gradio's file routes;
4. malformed bodies on /v1 and /mcp: how many answers were a 5xx;
5. a probe client asking on /v1 while idle, then while the administrator uploads a .txt with a
   1,000,000-space line and a .docx that inflates to 300 MB: its p95 and failures, and the
   server's peak memory over idle.

Every figure goes to the JSON file; nothing here is a test (tests/test_attacks.py is).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import psutil

from rag.config import PROJECT_ROOT

SECRET = "机密标记-attack"
QUESTIONS = [
    "瓦屋镇2023年开展了多少场法治宣传活动？",
    "水口镇全镇有多少人考取了执法证？",
    "峡口镇有多少人通过考试入驻数字执法系统？",
    "金湖县聘请了几名法律顾问？",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rag(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from rag.cli import run; run()", *args],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def call_event(http: httpx.Client, elem_id: str, values: dict[str, Any], wait: float = 600) -> str:
    """Run the UI event whose inputs include the component `elem_id` through Gradio's queue,
    as the browser does; the event stream's text."""
    config = http.get("/config").json()
    comps = {c["id"]: c for c in config["components"]}
    target = next(i for i, c in comps.items() if c.get("props", {}).get("elem_id") == elem_id)
    fn_index, dep = next(
        (n, d) for n, d in enumerate(config["dependencies"]) if target in d["inputs"]
    )
    data = [
        values.get(
            comps[i].get("props", {}).get("elem_id", ""), comps[i].get("props", {}).get("value")
        )
        for i in dep["inputs"]
    ]
    session = uuid.uuid4().hex[:10]
    joined = http.post("/gradio_api/queue/join", json={
        "data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
        "trigger_id": dep.get("targets", [[None]])[0][0]})  # fmt: skip
    if joined.status_code != 200:
        return f"HTTP {joined.status_code}"
    out = []
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session},
                     timeout=wait) as r:  # fmt: skip
        for line in r.iter_lines():
            out.append(line)
            if "process_completed" in line:
                break
    return "\n".join(out)


def file_data(path: str | Path) -> dict[str, Any]:
    """A file input's value naming `path` on the server, as Gradio's client sends it."""
    return {"path": str(path), "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}


def _login(
    url: str, name: str, password: str, source: str = "127.0.0.1", **headers: str
) -> tuple[int, httpx.Client]:  # noqa: E501
    http = httpx.Client(base_url=url, timeout=60,
                        transport=httpx.HTTPTransport(local_address=source))  # fmt: skip
    r = http.post("/login", data={"username": name, "password": password}, headers=headers)
    return r.status_code, http


def file_inputs(url: str, tmp: Path, passwords: dict[str, str]) -> dict[str, Any]:
    secret = tmp / "outside-secret.txt"
    secret.write_text(f"瓦屋镇开展普法活动15次。{SECRET}\n", encoding="utf-8")
    status, http = _login(url, "staff1", passwords["staff1"])
    with contextlib.closing(http):
        got = call_event(http, "draft-file", {"draft": "", "draft-file": file_data(str(secret))})
    return {"core_tab_read_a_server_path_as_staff": SECRET in got}


def throttling(url: str, passwords: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    codes = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(20):
            r = http.post("/login", data={"username": "admin1", "password": f"wrong{i}"},
                          headers={"X-Forwarded-For": f"10.0.{i}.1"})  # fmt: skip
            codes.append(r.status_code)
        out["rotating_x_forwarded_for_20_wrong_passwords"] = {
            "throttled": codes.count(429), "tried": codes.count(400)}  # fmt: skip
        twice = http.post("/login", content="username=decoy&username=admin1&password=x",
                          headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
        out["duplicated_field_status"] = twice.status_code
    tries = []
    for a in range(2, 7):  # five other loopback addresses fail for the supervisor
        for _ in range(5):
            status, http = _login(url, "sup", "wrong", source=f"127.0.0.{a}")
            http.close()
            tries.append(status)
    status, http = _login(url, "sup", passwords["sup"], source="127.0.0.9")
    http.close()
    out["owner_after_25_failures_from_5_addresses"] = status
    return out


def exports(url: str, passwords: dict[str, str]) -> dict[str, Any]:
    _, one = _login(url, "staff1", passwords["staff1"], source="127.0.0.21")
    _, two = _login(url, "staff2", passwords["staff2"], source="127.0.0.22")
    with contextlib.closing(one), contextlib.closing(two):
        (path,) = one.post(
            "/gradio_api/upload", files={"files": ("mine.txt", SECRET.encode())}
        ).json()
        return {
            route: two.get(f"/gradio_api/file{route}{path}").status_code for route in ("=", "/")
        }


def malformed(url: str, key: str) -> dict[str, Any]:
    ask = '{"messages":[{"role":"user","content":%s}]%s}'
    bodies = {
        "nested 100k": "[" * 100_000 + "]" * 100_000,
        "lone surrogate": ask % ('"\\ud800"', ""),
        "5000-digit number": ask % ('"问"', ', "year": 1' + "0" * 5000),
        "infinity": ask % ('"问"', ', "year": 1e999'),
        "tools": ask % ('"问"', ', "tools": [{"type": "function"}]'),
        "10 MB": '{"messages": "' + "x" * (10 * 2**20) + '"}',
    }
    out: dict[str, Any] = {}
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json",
               "accept": "application/json, text/event-stream"}  # fmt: skip
    with httpx.Client(base_url=url, timeout=60) as http:
        for route in ("/v1/chat/completions", "/mcp"):
            for name, body in bodies.items():
                try:
                    out[f"{route} {name}"] = http.post(
                        route, content=body, headers=headers
                    ).status_code
                except httpx.HTTPError as e:
                    out[f"{route} {name}"] = type(e).__name__
        t = time.perf_counter()
        try:
            out["GET /mcp"] = http.get("/mcp", headers=headers, timeout=10).status_code
        except httpx.HTTPError as e:
            out["GET /mcp"] = type(e).__name__
        out["GET /mcp seconds"] = round(time.perf_counter() - t, 2)
    return out


def _bomb() -> bytes:
    """A valid .docx (python-docx writes it) whose document.xml then inflates to ~300 MB."""
    import docx

    doc = docx.Document()
    doc.add_paragraph("瓦屋镇2025年法治政府建设情况报告")
    plain = io.BytesIO()
    doc.save(plain)
    body = "<w:p><w:r><w:t>" + "法" * 1000 + "</w:t></w:r></w:p>"
    buf = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                xml = data.decode("utf-8")
                at = xml.index("<w:body>") + len("<w:body>")
                data = (xml[:at] + body * 100_000 + xml[at:]).encode("utf-8")
            out.writestr(item, data, compresslevel=9)
    return buf.getvalue()


def probe(
    url: str, key: str, seconds: float, stop: threading.Event | None = None
) -> dict[str, Any]:
    times, failures = [], 0
    end = time.monotonic() + seconds
    with httpx.Client(
        base_url=url, timeout=120, headers={"authorization": f"Bearer {key}"}
    ) as http:
        i = 0
        while time.monotonic() < end and not (stop and stop.is_set()):
            t = time.perf_counter()
            try:
                r = http.post(
                    "/v1/chat/completions",
                    json={"messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]},
                )
                failures += r.status_code != 200
            except httpx.HTTPError:
                failures += 1
            times.append((time.perf_counter() - t) * 1000)
            i += 1
    q = statistics.quantiles(times, n=20) if len(times) >= 2 else times * 19
    return {"requests": len(times), "failures": failures, "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(q[18], 1)}  # fmt: skip


def uploads(url: str, key: str, passwords: dict[str, str], tmp: Path, pid: int,
            seconds: float) -> dict[str, Any]:  # fmt: skip
    proc = psutil.Process(pid)
    out: dict[str, Any] = {"idle": probe(url, key, seconds)}
    idle_rss = proc.memory_info().rss
    files = {"long-line.txt": ("瓦屋镇2025年法治政府建设情况报告\n一、主要工作\n开展普法活动15次。\n"
                               + " " * 1_000_000 + "x\n结尾。\n").encode(),
             "bomb.docx": _bomb()}  # fmt: skip
    _, admin = _login(url, "admin1", passwords["admin1"], source="127.0.0.31")
    with contextlib.closing(admin):
        for name, data in files.items():
            peak = [idle_rss]
            stop = threading.Event()

            def watch(peak: list[int] = peak, stop: threading.Event = stop) -> None:
                while not stop.is_set():
                    with contextlib.suppress(psutil.Error):  # a reader child that just ended
                        family = [proc, *proc.children(recursive=True)]
                        peak[0] = max(peak[0], sum(p.memory_info().rss for p in family))
                    time.sleep(0.2)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            result: dict[str, Any] = {}

            def probing(result: dict[str, Any] = result, stop: threading.Event = stop) -> None:
                result.update(probe(url, key, 600, stop))

            prober = threading.Thread(target=probing, daemon=True)
            prober.start()
            t = time.perf_counter()
            (path,) = admin.post("/gradio_api/upload", files={"files": (name, data)}).json()
            said = call_event(admin, "upload", {"upload": file_data(path)})
            took = time.perf_counter() - t
            time.sleep(2)
            stop.set()
            prober.join()
            watcher.join()
            out[name] = {
                "upload_s": round(took, 1),
                "message": _message(said),
                "probe": result,
                "server_and_readers_peak_over_idle_mb": round((peak[0] - idle_rss) / 2**20, 1),
                "left_in_reports_folder": (tmp / "reports" / name).exists(),
            }
    return out


def _message(stream: str) -> str:
    """The upload box's last message in the event stream."""
    for line in reversed(stream.splitlines()):
        if line.startswith("data:") and "process_completed" in line:
            try:
                output = json.loads(line[5:])["output"]["data"][0]
            except (ValueError, KeyError, IndexError, TypeError):
                break
            return str(output)[-300:]
    return stream[-300:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--probe-seconds", type=float, default=20)
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "attack.json"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rag-attack-"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "RAG_REPORTS_DIR": str(tmp / "reports"), "RAG_INDEX_DIR": str(tmp / "index")}  # fmt: skip
    shutil.copytree(PROJECT_ROOT / "data" / "reports", tmp / "reports")
    print("building the index ...", flush=True)
    _rag("index", env=env)
    passwords = {name: uuid.uuid4().hex for name in ("admin1", "staff1", "staff2", "sup")}
    roles = {"admin1": "admin", "staff1": "staff", "staff2": "staff", "sup": "supervisor"}
    key_line = _rag("api-key", "staff1", env=env).splitlines()
    key = next(w for line in key_line for w in line.split() if w.startswith("rag-"))
    digest = next(
        w.strip('"')
        for line in key_line
        for w in line.split()
        if w.strip('"').startswith("sha256$")
    )
    lines = []
    for name, role in roles.items():
        hashed = _rag("hash-password", "--password", passwords[name], env=env).split()[-1]
        lines += [f"[users.{name}]", f'role = "{role}"', f'password = "{hashed}"']
        if name == "staff1":
            lines.append(f'api_key = "{digest}"')
    (tmp / "users.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", "from rag.cli import run; run()", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--users", str(tmp / "users.toml")],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores",
    }
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.get(url + "/", timeout=5).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("rag serve did not start") from None
                time.sleep(1)
        for name, step in (
            ("file_inputs", lambda: file_inputs(url, tmp, passwords)),
            ("throttling", lambda: throttling(url, passwords)),
            ("another_users_upload", lambda: exports(url, passwords)),
            ("malformed", lambda: malformed(url, key)),
            ("uploads", lambda: uploads(url, key, passwords, tmp, server.pid, args.probe_seconds)),
        ):
            print(f"{name} ...", flush=True)
            results[name] = step()
            print(json.dumps(results[name], ensure_ascii=False, indent=1), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
