#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install the project with its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is pinned to the 2.13.0 CPU build in pyproject.toml (a bare torch pulls several GB of CUDA)
# llamacpp: local GGUF models and the LLM server the integration tests start (compiles once)
.venv/bin/python -m pip install --quiet -e ".[dev,llamacpp]"
