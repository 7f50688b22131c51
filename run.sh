#!/usr/bin/env bash
# Install, build the index over data/reports/ and run the main job (a sample answer for now).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
.venv/bin/rag index
.venv/bin/rag ask "水口镇2024年对执法人员进行了多少次执法培训？"
