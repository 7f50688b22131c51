#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install the project.
#   bash scripts/install.sh               what the chat UI needs, OCR of scans included (a few
#                                         minutes, progress shown)
#   bash scripts/install.sh --with-tests  also the test tools, the llamacpp extra (compiles
#                                         llama.cpp once, ~8 min on 2 cores; pip caches the
#                                         wheel) and Debian's chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is pinned to the 2.13.0 CPU build in pyproject.toml (a bare torch pulls several GB of CUDA)
if [ "${1:-}" = "--with-tests" ]; then
  echo "== installing the project with its test tools and the llamacpp and milvus extras"
  echo "   (the first time, llama-cpp-python compiles llama.cpp: about 8 minutes on 2 cores)"
  # progress: one line per package, and while a wheel compiles a heartbeat every 30 s with the
  # build's last step (ninja's [81/193], make's [ 42%]); pip's verbose log goes to
  # .venv/install.log. pipefail keeps pip's own exit status.
  log=.venv/install.log
  heartbeat() {
    local t=0 step
    while sleep 30; do
      t=$((t + 30))
      step=$(bash scripts/build-step.sh "$log")
      echo "   … 仍在安装 / still installing (${t} s${step:+, llama.cpp $step}; log: $log)"
    done
  }
  heartbeat &
  beat=$!
  trap 'kill $beat 2>/dev/null || true' EXIT
  .venv/bin/python -m pip install -v --progress-bar off -e ".[dev,llamacpp,milvus,ocr]" 2>&1 \
    | tee "$log" | { grep -E "^(Collecting|Building wheel|Successfully)" || true; }
  kill $beat 2>/dev/null || true
  test -x .venv/bin/pytest
  # Browser tests drive Debian's chromium (never `playwright install`); a CJK font renders Chinese.
  if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi"; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      echo "== installing chromium and fonts-wqy-microhei (apt)"
      apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-wqy-microhei >/dev/null
    else
      echo "note: install chromium and fonts-wqy-microhei for the browser tests" >&2
    fi
  fi
else
  echo "== installing the project (what the chat UI needs)"
  .venv/bin/python -m pip install --progress-bar off -e ".[ocr]" \
    | { grep -E "^(Collecting|Successfully)" || true; }
  test -x .venv/bin/rag
fi
echo "== installed"
