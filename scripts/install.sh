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
# Browser tests drive Debian's chromium (never `playwright install`); a CJK font renders Chinese.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi"; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-wqy-microhei >/dev/null
  else
    echo "note: install chromium and fonts-wqy-microhei for the browser tests" >&2
  fi
fi
