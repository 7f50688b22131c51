#!/usr/bin/env bash
# The last build step a compile log shows: ninja's "[81/193]" or make's "[ 42%]" ('' if none).
# Used by scripts/install.sh's heartbeat while llama-cpp-python compiles llama.cpp.
grep -oE "\[ *[0-9]+%\]|\[[0-9]+/[0-9]+\]" "$1" 2>/dev/null | tail -1 || true
