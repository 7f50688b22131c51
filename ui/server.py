"""One HTTP server, one port: the chat UI (Gradio, mounted at /), the OpenAI-compatible API
(/v1), the MCP server (/mcp, streamable HTTP). `rag serve` runs it; the tests start the same
app on a free port (`start`)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.routing import Mount

from rag.pipeline import Pipeline
from ui.cli_api import router as cli_router
from ui.guard import ApiKeyGate, BodyGate, login_user
from ui.mcp_server import build_mcp
from ui.openai_api import router
from ui.users import User


def make_app(
    demo: gr.Blocks,
    pipeline: Callable[[], Pipeline],
    users: dict[str, User] | None,
    ui_options: dict[str, Any],
    host: str = "127.0.0.1",
) -> FastAPI:
    """The server's ASGI app. `ui_options`: ui.app.serve_options (login, upload limit, export
    guard); `pipeline()`: the pipeline answering now (the UI's, replaced by an upload)."""
    mcp = build_mcp(pipeline, host)
    mcp_app = mcp.streamable_http_app()  # creates the session manager the lifespan runs

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyGate)  # inner: runs once the API key has passed
    app.add_middleware(ApiKeyGate, users=users)
    app.include_router(router(pipeline))
    app.include_router(cli_router(pipeline))  # rag ask / rag check through this server
    app.router.routes.extend(mcp_app.routes)  # /mcp, before the UI's catch-all mount at /

    @app.get("/report-file/{name}")
    async def report_file(name: str, request: Request) -> Any:
        """The original file of an indexed report, by its file name only: the page never
        shows where the server keeps it. With login on, only for a logged-in user."""
        if users and not _logged_in(app, request):
            return JSONResponse({"detail": "请先登录"}, status_code=401)
        p = pipeline()
        folder = p.index.manifest.reports_dir
        if name not in p.reports or not folder:
            return JSONResponse({"detail": f"没有这份报告：{name}"}, status_code=404)
        root = Path(folder).resolve()
        path = (root / name).resolve()
        if path.parent != root or not path.is_file():
            return JSONResponse({"detail": f"没有这份报告：{name}"}, status_code=404)
        return FileResponse(path, filename=name)

    options = {k: v for k, v in ui_options.items() if k not in ("share", "app_kwargs")}
    mounted = gr.mount_gradio_app(
        app, demo.queue(default_concurrency_limit=8), path="/",
        app_kwargs=ui_options.get("app_kwargs"), show_error=True, **options,
    )  # fmt: skip
    # Gradio checks that a file a client names was uploaded to it (and not any server path)
    # only once the app counts as launched; mounted, it never does by itself
    demo.has_launched = True
    return mounted


def _logged_in(app: FastAPI, request: Request) -> bool:
    """Whether the request carries the login cookie of the Gradio app mounted in `app`."""
    for route in app.routes:
        ui = getattr(route, "app", None)
        if isinstance(route, Mount) and hasattr(ui, "tokens"):
            return login_user(ui, request.cookies) is not None
    return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _peer(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn's reading of X-Forwarded-For: only from the configured proxies (by default
    uvicorn trusts it from 127.0.0.1, so any local client could name any address)."""
    proxies = ",".join(p.strip() for p in trusted_proxies.split(",") if p.strip())
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


def run(app: FastAPI, host: str, port: int, trusted_proxies: str = "") -> None:
    """Serve until interrupted."""
    uvicorn.run(app, host=host, port=port, log_level="warning", **_peer(trusted_proxies))


def start(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """Serve in a background thread (tests): the base URL and a function that stops it."""
    port = port or free_port(host)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", **_peer(""))
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on {host}:{port} did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)

    return f"http://{host}:{port}/", stop
