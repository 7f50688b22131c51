#!/usr/bin/env bash
# Install, build the index over data/reports/ and open the chat UI on http://127.0.0.1:7860/.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
echo "== indexing data/reports/"
.venv/bin/rag index
export GRADIO_ANALYTICS_ENABLED=False
echo "== the chat UI: http://127.0.0.1:7860/"
exec .venv/bin/rag serve
