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
    assert "4 kept, 0 broken" in result.stdout


def test_the_library_never_imports_its_outer_layers() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "rag").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.lstrip().startswith(("from ui", "import ui", "from eval", "import eval"))
    ]
    assert offenders == []


def test_every_stage_package_is_in_the_layer_contract() -> None:
    """A new subpackage of rag/ gets its place in the package layers, or lint-imports would
    not check what it imports."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["name"].startswith("the stages, as packages"))
    listed = {
        name.strip() for layer in layers["layers"] for name in layer.replace("|", ":").split(":")
    }
    packages = {f"rag.{p.name}" for p in (ROOT / "rag").iterdir() if (p / "__init__.py").exists()}
    modules = {f"rag.{p.stem}" for p in (ROOT / "rag").glob("*.py") if not p.stem.startswith("__")}
    assert packages | modules == listed
    shipped = set(config["tool"]["setuptools"]["packages"])
    assert packages <= shipped, packages - shipped  # each installed with the wheel
