"""HTTP-level guards in front of the Gradio app (an ASGI middleware).

- Failed logins are throttled per peer address and per account on that address: after
  `limit` failures within `window` seconds, that address (or that account from that address)
  gets 429, even with the right password, until the oldest failure leaves the window. The
  address is the TCP peer (X-Forwarded-For counts only from configured proxies, ui/server.py),
  so a rotating header dodges nothing; failures from other addresses never lock an account's
  owner out; a login form that repeats a field is refused (it could be read two ways).
- Files belong to the user who made them: conversation exports (by their unguessable name)
  and uploads (by their path): another user's request for one, on any of Gradio's file
  routes (/file=… and /file/…), is refused with 403.

- The machine APIs (/v1, the OpenAI-compatible one, and /mcp) need a bearer API key when the
  server has users (`ApiKeyGate`); the UI's routes keep Gradio's login.

Everything else passes through untouched (streaming responses included).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import HTTPConnection

from rag.errors import first_line
from ui.users import User, user_for_key

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_LOGIN_BODY = 16_384  # a login form is a name and a password
MAX_UPLOAD_ANSWER = 1 << 20  # Gradio's answer to an upload: the paths it stored
# Gradio's file routes: /gradio_api/file=<path> and /gradio_api/file/<path>
_FILE_ROUTE = re.compile(r"/file[=/](.+)$")


class Throttle:
    """Failures per key in a sliding window; a key over `limit` waits until one expires."""

    def __init__(
        self,
        limit: int = 5,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"throttle needs limit >= 1 and window > 0, got {limit}, {window}")
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds until `key` may try again (0: now)."""
        with self._lock:
            times = self._recent(key)
            if len(times) < self.limit:
                return 0.0
            return times[0] + self.window - self.clock()

    def fail(self, key: str) -> bool:
        """Count a failure; True when it locks `key`."""
        with self._lock:
            times = self._recent(key)
            times.append(self.clock())
            locked = len(times) == self.limit
            if len(self._failures) > self.max_keys:  # bounded memory under a spray of names
                cutoff = self.clock() - self.window
                for stale in [k for k, t in self._failures.items() if not t or t[-1] <= cutoff]:
                    del self._failures[stale]
                while len(self._failures) > self.max_keys:
                    del self._failures[next(iter(self._failures))]
            return locked

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        now = self.clock()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


class Exports:
    """Which logged-in user made which file: exports by their (unguessable) file name, which
    Gradio keeps when it copies them to its cache; uploads by their path in the cache."""

    def __init__(self, max_files: int = 100_000) -> None:
        self._names: dict[str, str] = {}
        self._paths: dict[str, str] = {}
        self._lock = threading.Lock()
        self.max_files = max_files

    def register(self, name: str, user: str) -> None:
        with self._lock:
            self._names[name] = user

    def register_path(self, path: str, user: str) -> None:
        with self._lock:
            self._paths[os.path.normpath(path)] = user
            while len(self._paths) > self.max_files:  # bounded: the oldest uploads go first
                del self._paths[next(iter(self._paths))]

    def owner(self, path: str) -> str | None:
        """The owner of the file a route names (a path or a bare name), if any."""
        with self._lock:
            owner = self._paths.get(os.path.normpath("/" + path.lstrip("/")))
            return owner if owner is not None else self._names.get(path.rsplit("/", 1)[-1])


@dataclass
class Access:
    throttle: Throttle = field(default_factory=Throttle)
    exports: Exports = field(default_factory=Exports)


# Gradio routes that answer without its login: the API description (every route, 40 KB), the
# startup events, and the heartbeat (a stream held open). With login on they need one.
_LOGIN_ONLY = re.compile(r"^(?:/openapi\.json|/docs|/redoc|(?:/gradio_api)?/startup-events"
                         r"|(?:/gradio_api)?/heartbeat/.*)$")  # fmt: skip


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """A request's whole body, or None once it passes `limit` bytes (or the client left)."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return body


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, then the client's messages."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class Guard:
    """ASGI middleware applying `Access` to the login route and the file route; with `login`,
    the routes Gradio leaves open (_LOGIN_ONLY) need a logged-in user."""

    def __init__(self, app: ASGIApp, access: Access, login: bool = False) -> None:
        self.app, self.access, self.login = app, access, login

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "")
        if method == "POST" and path.rstrip("/").endswith("/login"):
            await self._login(scope, receive, send)
            return
        if self.login and _LOGIN_ONLY.match(path.rstrip("/") or "/") and not _user(scope):
            await _reply(send, 401, "请先登录")
            return
        if method in ("GET", "HEAD") and (m := _FILE_ROUTE.search(path)):
            owner = self.access.exports.owner(m.group(1))
            if owner is not None and owner != _user(scope):
                logger.warning("file %s refused to %r", m.group(1), _user(scope))
                await _reply(send, 403, "这份文件属于另一位用户")
                return
        if method == "POST" and path.rstrip("/").endswith("/upload") and _user(scope):
            await self._upload(scope, receive, send, str(_user(scope)))
            return
        await self.app(scope, receive, send)

    async def _upload(self, scope: Scope, receive: Receive, send: Send, user: str) -> None:
        """Pass an upload through and note its user as the owner of the paths Gradio answers."""
        status, body = 0, b""

        async def watch(message: Message) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and len(body) < MAX_UPLOAD_ANSWER:
                body += message.get("body", b"")
            await send(message)

        await self.app(scope, receive, watch)
        if status == 200:
            try:
                paths = json.loads(body)
            except ValueError:
                return
            for p in paths if isinstance(paths, list) else []:
                if isinstance(p, str):
                    self.access.exports.register_path(p, user)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive, MAX_LOGIN_BODY)
        if body is None:
            await _reply(send, 413, "登录请求过大")
            return
        form = parse_qs(body.decode("utf-8", "replace"))
        if any(len(v) > 1 for v in form.values()):
            await _reply(send, 400, "登录表单的字段重复")
            return
        name = (form.get("username") or [""])[0].strip()
        client = scope.get("client") or ("?", 0)
        keys = self.keys(name, str(client[0]))
        wait = max(self.access.throttle.wait(k) for k in keys)
        if wait > 0:
            logger.warning("login throttled for %r from %s", name, client[0])
            await _reply(
                send,
                429,
                f"登录失败次数过多，请 {math.ceil(wait)} 秒后再试",
                [(b"retry-after", str(math.ceil(wait)).encode())],
            )
            return
        replay = replaying(body, receive)
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, watch)
        if status == 200:
            self.access.throttle.clear(keys[1])
        else:
            for key in keys:
                if self.access.throttle.fail(key):
                    logger.warning(
                        "login locked: %s after %d failures", key, self.access.throttle.limit
                    )

    @staticmethod
    def keys(name: str, address: str) -> list[str]:
        """The throttle's keys of a login: the peer address, and the account on it."""
        return [f"addr:{address}", f"user:{name}@{address}"]


API_PREFIXES = ("/v1/", "/mcp")
MAX_API_BODY = 1 << 20  # a question, its conversation (64 messages) and filters
MAX_JSON_DEPTH = 32  # a chat request nests 5 deep (body, messages, message, content, part)
MAX_JSON_INT = 2**53  # larger integers are not exchanged exactly by JSON clients


def json_problem(value: Any, depth: int = 0) -> str | None:
    """Why a parsed JSON body cannot be taken (too deep, a lone surrogate, a number out of
    range), or None. Iterative in spirit: depth is bounded before any recursion goes far."""
    if depth > MAX_JSON_DEPTH:
        return f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "文字里有无效的字符（孤立的 UTF-16 代理项）"
    elif isinstance(value, bool) or value is None:
        return None
    elif isinstance(value, int):
        if abs(value) > MAX_JSON_INT:
            return f"数字 {str(value)[:20]}… 超出范围"
    elif isinstance(value, float):
        if not math.isfinite(value):
            return "数字超出范围（不是有限数）"
    elif isinstance(value, dict):
        for k, v in value.items():
            why = json_problem(k, depth + 1) or json_problem(v, depth + 1)
            if why:
                return why
    elif isinstance(value, list):
        for v in value:
            why = json_problem(v, depth + 1)
            if why:
                return why
    return None


def _api_error(path: str, status: int, message: str) -> bytes:
    """The error in the shape of the API asked: JSON-RPC for /mcp, OpenAI's for /v1."""
    if path.startswith("/mcp"):
        code = -32700 if status == 400 else -32600
        body: dict[str, Any] = {
            "jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message},
        }  # fmt: skip
    else:
        body = {"error": {"message": message, "type": "invalid_request_error", "param": None,
                          "code": "request_too_large" if status == 413 else "invalid_body"}}  # fmt: skip
    return json.dumps(body, ensure_ascii=False).encode()


class BodyGate:
    """ASGI middleware in front of /v1 and /mcp: a POST body is read (at most MAX_API_BODY
    bytes: 413 beyond) and must be JSON a client can mean (not nested past MAX_JSON_DEPTH, no
    lone surrogate, numbers in range): 400 in the API's error shape, never a 500 or a reset.
    GET /mcp (a stream for messages the server would send on its own: it sends none) is 405,
    as the streamable HTTP transport allows, instead of an event stream that never ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/mcp" or path.startswith(API_PREFIXES)):
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "")
        if method == "GET" and path.rstrip("/") == "/mcp":
            await _send_json(send, 405, _api_error(path, 405, "此服务不提供服务器推送流，请用 POST"),
                             [(b"allow", b"POST, DELETE")])  # fmt: skip
            return
        if method != "POST":
            await self.app(scope, receive, send)
            return
        declared = HTTPConnection(scope).headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_API_BODY:
            await _send_json(send, 413, _api_error(path, 413, _too_large()))
            return
        body = await read_body(receive, MAX_API_BODY)
        if body is None:
            await _send_json(send, 413, _api_error(path, 413, _too_large()))
            return
        why = _body_problem(body)
        if why:
            await _send_json(send, 400, _api_error(path, 400, why))
            return
        await self.app(scope, replaying(body, receive), send)


def _too_large() -> str:
    return f"请求体超过 {MAX_API_BODY // 1024} KB 的上限"


def _body_problem(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except RecursionError:
        return f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层"
    except ValueError as e:  # not UTF-8, not JSON, an integer of thousands of digits
        return f"请求体不是有效的 JSON（{first_line(e)[:80]}）"
    return json_problem(value)


async def _send_json(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ApiKeyGate:
    """ASGI middleware: with users, /v1/… and /mcp need `Authorization: Bearer <key>` of a
    user's API key (ui/users.py); refused with 401 in OpenAI's error shape."""

    def __init__(self, app: ASGIApp, users: dict[str, User] | None) -> None:
        self.app, self.users = app, users

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            self.users is None
            or scope["type"] != "http"
            or not (path == "/mcp" or path.startswith(API_PREFIXES))
        ):
            await self.app(scope, receive, send)
            return
        headers = HTTPConnection(scope).headers.getlist("authorization")
        scheme, _, key = (headers[0] if headers else "").partition(" ")
        if len(headers) > 1:  # which one counts would depend on who reads it
            message, code = "请求里有多个 Authorization 头，只能有一个", "invalid_api_key"
        elif scheme.lower() != "bearer" or not key.strip():
            message, code = (
                "此服务需要 API 密钥：Authorization: Bearer <密钥>（用 rag api-key 生成）",
                "missing_api_key",
            )
        elif user_for_key(self.users, key.strip()) is None:
            message, code = "API 密钥无效", "invalid_api_key"
        else:
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("?", 0)
        logger.warning("API request to %s refused (%s) from %s", path, code, client[0])
        body = json.dumps(
            {"error": {"message": message, "type": "invalid_request_error", "param": None,
                       "code": code}},
            ensure_ascii=False,
        ).encode()  # fmt: skip
        await _send_json(send, 401, body, [(b"www-authenticate", b"Bearer")])


def login_user(app: Any, cookies: Mapping[str, str]) -> str | None:
    """The user logged in to the Gradio app `app`, from its login cookie among `cookies`."""
    tokens = getattr(app, "tokens", None)
    cookie_id = getattr(app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return None
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(
        f"access-token-unsecure-{cookie_id}"
    )
    user = tokens.get(token) if token else None
    return str(user) if user is not None else None


def _user(scope: Scope) -> str | None:
    """The logged-in user of a request to the Gradio app, from its login cookie."""
    return login_user(scope.get("app"), HTTPConnection(scope).cookies)


async def _reply(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await _send_json(
        send, status, json.dumps({"detail": detail}, ensure_ascii=False).encode(), headers
    )
