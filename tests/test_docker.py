"""The Docker image (Dockerfile, compose.yaml): built and started over the sample reports, the
chat UI answering on 127.0.0.1. Runs only where docker is installed and its daemon answers;
elsewhere it is skipped with that reason (the development machine has no docker, so the
image is untested there: README.md says so)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
import uuid

import pytest

from conftest import ROOT


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=30)
    return probe.returncode == 0


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not _docker_answers(), reason="no docker on this machine"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_image_serves_the_chat_ui_over_a_mounted_reports_folder() -> None:
    tag = f"rag-test:{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=3600)
    port = _free_port()
    name = f"rag-test-{uuid.uuid4().hex[:8]}"
    reports = ROOT / "data" / "reports"
    subprocess.run(
        ["docker", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:7860",
         "-v", f"{reports}:/data/reports:ro", tag],
        check=True, timeout=120,
    )  # fmt: skip
    try:
        deadline, page = time.monotonic() + 600, ""
        while time.monotonic() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    page = r.read().decode("utf-8", "replace")
            except OSError:
                time.sleep(3)
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True).stdout
        assert page, f"the UI never answered on port {port}:\n{logs[-2000:]}"
        assert "已索引 5 份报告" in logs, logs[-2000:]
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
