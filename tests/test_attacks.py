"""The server under the attacks of issue 33, through HTTP as any client can send them: a file
input is never made to read a server path on the client's word; login throttling cannot be
dodged with a forged X-Forwarded-For or a repeated field, and a lock on one address never
blocks the right password from another; another user's export is refused on every file
route."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from conftest import serve_ui
from eval.attack import call_event, file_data
from rag.pipeline import Pipeline

pytestmark = pytest.mark.integration

SECRET = "机密标记-7d1f0c"


def _server(extractive: Pipeline, tmp_path: Path, users=None, throttle=None):  # type: ignore[no-untyped-def]
    from ui.app import build_app
    from ui.guard import Access, Throttle

    access = Access(throttle=throttle or Throttle(limit=3, window=600))
    demo = build_app(extractive, tmp_path / "audit.jsonl", users=users, access=access)
    return serve_ui(demo, access, users, pipeline=extractive).rstrip("/"), demo


def test_the_check_tab_never_reads_a_server_path_the_client_names(
    extractive: Pipeline, tmp_path: Path
) -> None:
    from ui.users import User, hash_password

    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(f"瓦屋镇开展普法活动15次。{SECRET}\n", encoding="utf-8")
    # without login
    url, demo = _server(extractive, tmp_path / "open")
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            got = call_event(http, "draft-file", {"draft": "", "draft-file": file_data(secret)})
            assert SECRET not in got and "process_completed" in got
            assert '"success": false' in got.replace('"success":false', '"success": false')
    finally:
        demo.close()
    # as a logged-in staff user
    users = {"li": User("li", "staff", hash_password("pw"))}
    url, demo = _server(extractive, tmp_path / "login", users)
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            assert http.post("/login", data={"username": "li", "password": "pw"}).status_code == 200
            got = call_event(http, "draft-file", {"draft": "", "draft-file": file_data(secret)})
            assert SECRET not in got and "process_completed" in got
            # a file the user did upload is read
            up = http.post(
                "/gradio_api/upload", files={"files": ("draft.txt", secret.read_bytes())}
            )
            assert up.status_code == 200
            (path,) = up.json()
            got = call_event(http, "draft-file", {"draft": "", "draft-file": file_data(Path(path))})
            assert "瓦屋镇" in got and '"success": true' in got.replace(
                '"success":true', '"success": true'
            )
    finally:
        demo.close()


def _login(http: httpx.Client, name: str, password: str, **headers: str) -> int:
    return http.post(
        "/login", data={"username": name, "password": password}, headers=headers
    ).status_code


def test_login_throttling_cannot_be_dodged_nor_turned_against_a_user(
    extractive: Pipeline, tmp_path: Path
) -> None:
    from ui.users import User, hash_password

    users = {
        "admin1": User("admin1", "admin", hash_password("right-admin")),
        "sup": User("sup", "supervisor", hash_password("right-sup")),
    }
    url, demo = _server(extractive, tmp_path, users)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            # a rotating X-Forwarded-For from a client that is no configured proxy counts
            # for nothing: the peer address is locked after 3 failures
            codes = [
                _login(http, "admin1", f"wrong{i}", **{"X-Forwarded-For": f"10.0.0.{i}"})
                for i in range(5)
            ]
            assert codes[:3] == [400, 400, 400] and set(codes[3:]) == {429}, codes
            # and the address is locked for every account, whatever address the header names
            other = _login(http, "sup", "wrong", **{"X-Forwarded-For": "10.9.9.9"})
            assert other == 429
            # a repeated field is refused, never read two ways
            twice = http.post(
                "/login",
                content="username=decoy&username=admin1&password=right-admin",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert twice.status_code in (400, 429)
    finally:
        demo.close()
    # failures for one account from several addresses do not lock its owner out elsewhere:
    # the lock is per address and per account on that address
    from ui.guard import Access, Guard, Throttle

    access = Access(throttle=Throttle(limit=3, window=600))
    keys = [Guard.keys("sup", f"10.1.0.{i}") for i in range(5)]
    for ks in keys:
        for _ in range(3):
            for k in ks:
                access.throttle.fail(k)
    assert all(access.throttle.wait(k) > 0 for ks in keys for k in ks)
    assert all(access.throttle.wait(k) == 0 for k in Guard.keys("sup", "10.1.0.99"))


def test_another_users_export_is_refused_on_every_file_route(
    extractive: Pipeline, tmp_path: Path
) -> None:
    from ui.users import User, hash_password

    users = {
        "staff1": User("staff1", "staff", hash_password("pw1")),
        "staff2": User("staff2", "staff", hash_password("pw2")),
    }
    url, demo = _server(extractive, tmp_path, users)
    try:
        with (
            httpx.Client(base_url=url, timeout=60) as one,
            httpx.Client(base_url=url, timeout=60) as two,
        ):
            assert _login(one, "staff1", "pw1") == 200 and _login(two, "staff2", "pw2") == 200
            up = one.post("/gradio_api/upload", files={"files": ("mine.txt", SECRET.encode())})
            (path,) = up.json()
            for route in (f"/gradio_api/file={path}", f"/gradio_api/file/{path}"):
                assert one.get(route).status_code == 200, route
                theirs = two.get(route)
                assert theirs.status_code == 403 and SECRET not in theirs.text, route
            assert "另一位用户" in json.loads(two.get(f"/gradio_api/file/{path}").text)["detail"]
        # with login on, the routes Gradio leaves open need one; the login page still loads
        with httpx.Client(base_url=url, timeout=10) as anonymous:
            for route in ("/openapi.json", "/gradio_api/startup-events", "/gradio_api/heartbeat/x"):
                assert anonymous.get(route).status_code == 401, route
            assert anonymous.get("/").status_code == 200
    finally:
        demo.close()


def test_malformed_api_bodies_get_a_400_or_413_in_the_apis_shape(
    extractive: Pipeline, tmp_path: Path
) -> None:
    url, demo = _server(extractive, tmp_path)
    ask = '{"messages":[{"role":"user","content":%s}]%s}'
    v1 = "/v1/chat/completions"
    cases = [
        ("[" * 100_000 + "]" * 100_000, 400),  # deeper than the parser's recursion
        ('{"a":' * 40 + "1" + "}" * 40, 400),  # deeper than any request needs
        (ask % ('"\\ud800"', ""), 400),  # a lone surrogate
        (ask % ('"问"', ', "year": 1' + "0" * 5000), 400),  # an integer of 5000 digits
        (ask % ('"问"', ', "year": 1e999'), 400),  # infinity
        (ask % ('"问"', ', "year": 99999999999'), 400),
        (ask % ('"问"', ', "tools": [{"type": "function"}]'), 400),
        (ask % ('"问"', ', "frobnicate": 1'), 400),
        ('{"messages": "' + "x" * (11 * 2**20) + '"}', 413),
    ]
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            for body, status in cases:
                r = http.post(v1, content=body, headers={"content-type": "application/json"})
                assert r.status_code == status, (body[:60], r.status_code, r.text[:200])
                assert r.json()["error"]["message"], body[:60]
                assert r.json()["error"]["type"] == "invalid_request_error"
            # the fields that change nothing here are accepted
            ok = http.post(v1, json={"messages": [{"role": "user", "content": "瓦屋镇开展了几场普法活动？"}],
                                     "temperature": 0.2, "n": 1, "model": "x"})  # fmt: skip
            assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"]
            for body, status in cases[:3] + cases[-1:]:
                r = http.post("/mcp", content=body, headers={"content-type": "application/json",
                              "accept": "application/json, text/event-stream"})  # fmt: skip
                assert r.status_code == status, (body[:60], r.status_code, r.text[:200])
                assert r.json()["jsonrpc"] == "2.0" and r.json()["error"]["message"]
            idle = http.get("/mcp", headers={"accept": "text/event-stream"}, timeout=10)
            assert idle.status_code == 405  # no endless event stream without data
    finally:
        demo.close()


def test_the_api_key_cannot_be_slipped_past_with_header_variants(
    extractive: Pipeline, tmp_path: Path
) -> None:
    from ui.users import User, hash_password, new_api_key

    key, digest = new_api_key()
    users = {"li": User("li", "staff", hash_password("pw"), digest)}
    url, demo = _server(extractive, tmp_path, users)
    body = {"messages": [{"role": "user", "content": "瓦屋镇开展了几场普法活动？"}]}
    v1 = "/v1/chat/completions"
    try:
        with httpx.Client(base_url=url, timeout=60) as http:

            def post(headers: list[tuple[str, str]]) -> httpx.Response:
                return http.post(v1, json=body, headers=httpx.Headers(headers))

            assert post([("Authorization", f"Bearer {key}")]).status_code == 200
            assert post([("AUTHORIZATION", f"bearer {key}")]).status_code == 200  # case
            refused = {
                "none": [],
                "bearer only": [("Authorization", "Bearer")],
                "basic": [("Authorization", f"Basic {key}")],
                "wrong key": [("Authorization", "Bearer rag-not-a-key")],
                "two, valid first": [("Authorization", f"Bearer {key}"),
                                     ("Authorization", "Bearer rag-x")],
                "two, valid second": [("Authorization", "Bearer rag-x"),
                                      ("Authorization", f"Bearer {key}")],
            }  # fmt: skip
            for name, headers in refused.items():
                r = post(headers)
                assert r.status_code == 401, name
                assert r.json()["error"]["message"] and "瓦屋镇" not in r.text, name
            # an empty bearer as raw bytes (clients refuse to send the trailing space)
            host, port = url.removeprefix("http://").split(":")
            raw = json.dumps(body).encode()
            with socket.create_connection((host, int(port)), timeout=30) as sock:
                sock.sendall(
                    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                    b"Authorization: Bearer \r\nContent-Type: application/json\r\n"
                    b"Content-Length: " + str(len(raw)).encode() + b"\r\n\r\n" + raw
                )
                assert sock.recv(65536).split(b"\r\n", 1)[0].endswith(b"401 Unauthorized")
            mcp = http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                            headers={"accept": "application/json, text/event-stream"})  # fmt: skip
            assert mcp.status_code == 401
    finally:
        demo.close()
