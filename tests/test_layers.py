"""The layer contract of pyproject.toml ([tool.importlinter]): stages import only earlier
stages; ui/ and eval/ sit on top and reach the library through its front door."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_layer_contracts_are_kept() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 kept, 0 broken" in result.stdout


def test_the_library_never_imports_its_outer_layers() -> None:
    offenders = [
        f"{path.name}:{n}"
        for path in sorted((ROOT / "rag").glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.lstrip().startswith(("from ui", "import ui", "from eval", "import eval"))
    ]
    assert offenders == []
