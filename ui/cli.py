"""`rag serve` and `rag hash-password`: the UI's commands, added to the `rag` CLI through
the `rag.commands` entry point (pyproject.toml)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from rag.cli import IndexOpt, err, fail, settings_for
from rag.errors import RagError


def serve(
    host: Annotated[
        str, typer.Option(help="监听地址（除非有反向代理，保持 127.0.0.1）/ address to bind")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 7860,
    audit_log: Annotated[
        Path | None,
        typer.Option("--audit-log", help="审核记录 JSONL / review log [默认: ./audit/audit.jsonl]"),
    ] = None,
    users: Annotated[
        Path | None,
        typer.Option(
            "--users", help="用户与角色的 TOML 文件：开启登录 / users file: turns on login"
        ),
    ] = None,
    index: IndexOpt = None,
    allow_anonymous_edits: Annotated[
        bool,
        typer.Option(
            "--allow-anonymous-edits",
            help="不登录也允许任何人上传和审核 / without --users, anyone may upload and review",
        ),
    ] = False,
) -> None:
    """打开问答界面，同一端口提供 /v1（OpenAI 兼容）和 /mcp / Open the chat UI, with /v1
    (OpenAI-compatible) and /mcp on the same port."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from rag.factory import open_pipeline
    from ui.app import launch
    from ui.users import load_users

    s = settings_for(index)
    try:
        accounts = load_users(users) if users else None
        pipeline = open_pipeline(s)
    except RagError as e:
        fail(e)
        return
    if accounts:
        login = f"已开启登录（{len(accounts)} 个用户）"
    elif allow_anonymous_edits:
        login = "未开启登录，但任何能访问此端口的人都可以上传和审核"
    else:
        login = "未开启登录：只读（上传和审核需要 --users 或 --allow-anonymous-edits）"
    err.print(f"回答方式：{pipeline.mode}；{login}；http://{host}:{port}", markup=False)
    audit_path = audit_log or Path.cwd() / "audit" / "audit.jsonl"
    launch(pipeline, s, audit_path, host, port, accounts, allow_anonymous_edits)


def hash_password_cmd(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
) -> None:
    """打印用户文件用的密码哈希 / Print a password hash for the users file."""
    from ui.users import hash_password

    print(hash_password(password))


def api_key_cmd(
    user: Annotated[str, typer.Argument(help="用户文件中的用户名 / the user in the users file")],
) -> None:
    """生成 /v1 与 /mcp 用的 API 密钥，并打印写入用户文件的一行（文件只存哈希）
    / Make an API key for /v1 and /mcp and the line for the users file."""
    from ui.users import new_api_key

    key, digest = new_api_key()
    err.print(f"{user} 的 API 密钥（只显示这一次；用户文件只保存其哈希）：", markup=False)
    print(key)
    err.print(f"把下面一行加到用户文件的 [users.{user}] 下：", markup=False)
    print(f'api_key = "{digest}"')


def mcp(index: IndexOpt = None) -> None:
    """通过 stdio 提供 MCP 工具（search_reports、ask、check_claims、list_reports）
    / Serve the MCP tools over stdio (rag serve has them over HTTP at /mcp)."""
    import logging

    from rag.factory import open_pipeline
    from ui.mcp_server import build_mcp

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)  # stdout is the protocol's
    try:
        pipeline = open_pipeline(settings_for(index))
    except RagError as e:
        fail(e)
        return
    err.print(f"MCP（stdio）；回答方式：{pipeline.mode}", markup=False)
    build_mcp(lambda: pipeline).run("stdio")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command("hash-password")(hash_password_cmd)
    app.command("api-key")(api_key_cmd)
    app.command()(mcp)
