#!/usr/bin/env bash
# 安装、为 data/reports/ 建索引、打开问答界面 http://127.0.0.1:7860/
# Install, build the index over data/reports/ and open the chat UI on http://127.0.0.1:7860/.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
# a `rag` on PATH: linked into ~/.local/bin when that folder is on PATH (nothing is changed otherwise)
shim=""
case ":$PATH:" in
  *":$HOME/.local/bin:"*)
    mkdir -p "$HOME/.local/bin" && ln -sf "$PWD/.venv/bin/rag" "$HOME/.local/bin/rag" && shim=yes ;;
esac
echo "== 建索引 / indexing data/reports/"
.venv/bin/rag index
cat <<USAGE
== 使用 rag 命令 / using the rag command:
   source $PWD/.venv/bin/activate      # 之后可直接运行 rag ask "…" / then: rag ask "…"
   $PWD/.venv/bin/rag ask "瓦屋镇去年开展了多少场法治宣传活动？"   # 不激活也可以 / or without activating
USAGE
if [ -n "$shim" ]; then echo "   （已在 ~/.local/bin 放置 rag 快捷方式 / linked rag into ~/.local/bin）"; fi
export GRADIO_ANALYTICS_ENABLED=False
echo "== 问答界面 / the chat UI: http://127.0.0.1:7860/  （Ctrl+C 退出 / to stop）"
exec .venv/bin/rag serve
