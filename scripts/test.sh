#!/usr/bin/env bash
# The test command of the README and of CI: install what the tests need, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
bash scripts/install.sh --with-tests
exec .venv/bin/python -m pytest "$@"
