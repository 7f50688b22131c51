"""A wheel of the project carries the prompts, and its defaults resolve against the working
directory, not the install location."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.integration
def test_a_wheel_ships_the_prompts_and_uses_the_working_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(wheels)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    wheel = next(wheels.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"rag/prompts/answer.toml", "rag/prompts/rewrite.toml"} <= set(names)
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rag/lang/data").glob("*.toml")}
    assert shipped and shipped <= set(names)  # the vocabularies travel with the code
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"  # somewhere else than the checkout
    work.mkdir()
    code = (
        "import json; from rag.config import Settings; from rag.answer.prompting import load_prompt; "
        "s = Settings(); p = load_prompt(s.prompts_dir, 'answer'); "
        "print(json.dumps([str(s.prompts_dir), str(s.index_dir), str(s.reports_dir), "
        "bool(p.system)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=work,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    prompts, index, reports, loaded = json.loads(out.stdout)
    assert Path(prompts).is_relative_to(site) and loaded
    assert Path(index) == work / "index" and Path(reports) == work / "data" / "reports"


@pytest.mark.parametrize(
    ("log", "step"),
    [
        # scikit-build-core drives ninja for llama.cpp (seen in pip -v's log of 0.3.36)
        (
            "Collecting llama-cpp-python\n  [81/193] /usr/bin/g++ -I/tmp/x -O3 -c ggml.c\n"
            "  [82/193] : && /usr/bin/cmake -E rm -f libllama-common-base.a\n",
            "[82/193]",
        ),
        ("[  9%] Building C object ggml.c.o\n[ 42%] Linking CXX shared library\n", "[ 42%]"),
        ("Collecting numpy\nSuccessfully installed numpy-2.4.6\n", ""),
    ],
)
def test_the_install_heartbeat_reads_the_last_build_step(
    tmp_path: Path, log: str, step: str
) -> None:
    path = tmp_path / "install.log"
    path.write_text(log, encoding="utf-8")
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-step.sh"), str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == step
