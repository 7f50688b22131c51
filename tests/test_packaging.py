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
        "import json; from rag.config import Settings; from rag.prompting import load_prompt; "
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
