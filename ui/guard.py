"""HTTP-level guards in front of the Gradio app (an ASGI middleware).

- Failed logins are throttled per user name and per client address: after `limit` failures
  within `window` seconds, that name or address gets 429 (even with the right password)
  until the oldest failure leaves the window.
- Conversation exports belong to the user who made them: a request for another user's
  export file is refused with 403, whoever can guess or see its link.

- The machine APIs (/v1, the OpenAI-compatible one, and /mcp) need a bearer API key when the
  server has users (`ApiKeyGate`); the UI's routes keep Gradio's login.

Everything else passes through untouched (streaming responses included).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import HTTPConnection

from ui.users import User, user_for_key

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_LOGIN_BODY = 16_384  # a login form is a name and a password


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

    def fail(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self.clock())
            if len(self._failures) > self.max_keys:  # bounded memory under a spray of names
                cutoff = self.clock() - self.window
                for stale in [k for k, t in self._failures.items() if not t or t[-1] <= cutoff]:
                    del self._failures[stale]
                while len(self._failures) > self.max_keys:
                    del self._failures[next(iter(self._failures))]

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
    """Which logged-in user made which export file (by file name)."""

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, name: str, user: str) -> None:
        with self._lock:
            self._owners[name] = user

    def owner(self, name: str) -> str | None:
        with self._lock:
            return self._owners.get(name)


@dataclass
class Access:
    throttle: Throttle = field(default_factory=Throttle)
    exports: Exports = field(default_factory=Exports)


class Guard:
    """ASGI middleware applying `Access` to the login route and the file route."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app, self.access = app, access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "")
        if method == "POST" and path.rstrip("/").endswith("/login"):
            await self._login(scope, receive, send)
            return
        if method in ("GET", "HEAD") and "/file=" in path:
            owner = self.access.exports.owner(path.rsplit("/", 1)[-1])
            if owner is not None and owner != _user(scope):
                logger.warning("export %s refused to %r", path.rsplit("/", 1)[-1], _user(scope))
                await _reply(send, 403, "这份导出文件属于另一位用户")
                return
        await self.app(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_LOGIN_BODY:
                await _reply(send, 413, "登录请求过大")
                return
            if not message.get("more_body", False):
                break
        form = parse_qs(body.decode("utf-8", "replace"))
        name = (form.get("username") or [""])[0].strip()
        client = scope.get("client") or ("?", 0)
        keys = [f"user:{name}", f"addr:{client[0]}"]
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
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, watch)
        if status == 200:
            self.access.throttle.clear(keys[0])
        else:
            for key in keys:
                self.access.throttle.fail(key)


API_PREFIXES = ("/v1/", "/mcp")


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
        header = HTTPConnection(scope).headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            message, code = (
                "this server needs an API key: Authorization: Bearer <key> (see rag api-key)",
                "missing_api_key",
            )
        elif user_for_key(self.users, key.strip()) is None:
            message, code = "the API key is not valid", "invalid_api_key"
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
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


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
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
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
