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
        str, typer.Option(help="address to bind (keep 127.0.0.1 unless proxied)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 7860,
    audit_log: Annotated[
        Path | None,
        typer.Option(
            "--audit-log", help="JSONL of review decisions [default: ./audit/audit.jsonl]"
        ),
    ] = None,
    users: Annotated[
        Path | None, typer.Option("--users", help="TOML of users and roles: turns on login")
    ] = None,
    index: IndexOpt = None,
    allow_anonymous_edits: Annotated[
        bool,
        typer.Option(
            "--allow-anonymous-edits",
            help="without --users, let anyone who reaches the port upload and review",
        ),
    ] = False,
) -> None:
    """Open the chat UI over the index, with the OpenAI-compatible API at /v1 and the MCP
    server at /mcp on the same port (see README)."""
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
        login = f"login on ({len(accounts)} users)"
    elif allow_anonymous_edits:
        login = "no login; ANYONE who reaches the port may upload and review"
    else:
        login = "no login: read-only (upload and review need --users or --allow-anonymous-edits)"
    err.print(f"answering: {pipeline.mode}; {login}; http://{host}:{port}", markup=False)
    audit_path = audit_log or Path.cwd() / "audit" / "audit.jsonl"
    launch(pipeline, s, audit_path, host, port, accounts, allow_anonymous_edits)


def hash_password_cmd(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
) -> None:
    """Print a password hash for the users file of `rag serve --users`."""
    from ui.users import hash_password

    print(hash_password(password))


def api_key_cmd(
    user: Annotated[str, typer.Argument(help="the user in the users file of rag serve --users")],
) -> None:
    """Make an API key for /v1/chat/completions and /mcp: prints the key (give it to the
    client) and the line for the user's entry in the users file (the file keeps only a hash)."""
    from ui.users import new_api_key

    key, digest = new_api_key()
    err.print(f"API key for {user} (shown once; the users file keeps only its hash):", markup=False)
    print(key)
    err.print(f"add under [users.{user}] in the users file:", markup=False)
    print(f'api_key = "{digest}"')


def mcp(index: IndexOpt = None) -> None:
    """Serve the MCP tools (search_reports, ask, check_claims, list_reports) over stdio, for
    a client that starts the server itself; `rag serve` has them over HTTP at /mcp."""
    import logging

    from rag.factory import open_pipeline
    from ui.mcp_server import build_mcp

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)  # stdout is the protocol's
    try:
        pipeline = open_pipeline(settings_for(index))
    except RagError as e:
        fail(e)
        return
    err.print(f"MCP over stdio; answering: {pipeline.mode}", markup=False)
    build_mcp(lambda: pipeline).run("stdio")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command("hash-password")(hash_password_cmd)
    app.command("api-key")(api_key_cmd)
    app.command()(mcp)
