"""What the commands print of an answer, and how they ask a running `rag serve` instead of
loading the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from rag.cli import (
    console,
    err,
)
from rag.errors import ConfigError, first_line

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.request import Asked


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}：无法读取（{e.strerror or e}）") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path}：不是 UTF-8 编码的 JSON（{first_line(e, 120)}）") from e


def _show_answer(answer: dict[str, Any]) -> None:
    """After the answer's text (its JSON form, local or from `rag serve`): each cited passage
    once (its supporting sentence), then each claim's verdict."""
    from rag.types import ClaimCheck, page_label
    from rag.verify.answers import VERDICT_ZH, reason_zh

    if answer["rewritten"] != answer["question"]:
        err.print(f"（问题改写为：{answer['rewritten']}）", markup=False)
    console.print(
        f"\n[dim]回答方式 {answer['mode']}；证据得分 {answer['support']:.2f}；"
        f"用时 {answer['latency_ms'].get('total', 0):.0f} ms[/dim]"
    )
    for w in answer["warnings"]:
        err.print(f"[yellow]提示：[/yellow]{escape(w)}")
    shown: set[tuple[int, str, int, int]] = set()
    for c in answer["citations"]:
        key = (c["n"], c["source"], c["support"]["start"], c["support"]["end"])
        if key in shown:
            continue
        shown.add(key)
        where = page_label(c.get("page"), c.get("recognized", False))
        console.print(
            f"[bold][{c['n']}][/bold] {escape(c['title'])}"
            f"（{c['source']} {where + ' ' if where else ''}"
            f"{c['support']['start']}-{c['support']['end']}）",
            highlight=False,
        )
        console.print(f"    {c['support']['text']}", markup=False, highlight=False)
    marks = {"supported": "green", "partly": "yellow", "unsupported": "red", "uncited": "red"}
    for d in answer["claims"]:
        claim = ClaimCheck(
            d["text"], tuple(d["markers"]), d["verdict"], tuple(d["reasons"]),
            tuple(d["unmatched_numbers"]), d["overlap"],
        )  # fmt: skip
        color = marks.get(claim.verdict, "white")
        console.print(f"[{color}]{VERDICT_ZH.get(claim.verdict, claim.verdict)}[/{color}] ", end="")
        console.print(f"{claim.text}  （{reason_zh(claim)}）", markup=False, highlight=False)


def _options_json(asked: Asked) -> dict[str, Any]:
    """The filters as `rag serve` takes them (去年 is read there, against its reports)."""
    o = asked.options
    return {"places": list(o.places), "years": [*o.years, *asked.relative],
            "reports": list(o.reports), "mode": o.mode, "k": o.k}  # fmt: skip


def _say(served: dict[str, Any]) -> None:
    """How the server read the filters (年份“去年”按最近一份报告（2023年）回答), on stderr."""
    for line in served.get("said", ()):
        err.print(line, markup=False)


def _served(kind: str, payload: dict[str, Any], settings: Settings) -> dict[str, Any] | None:
    """The answer of a `rag serve` on `settings.server_url` over this same index build (no
    model loads here), or None to answer locally: no server there, another index, no route,
    a key needed and not given. A refusal the server gives (an unknown report) is raised."""
    if not settings.use_server:
        return None
    from rag.index.layout import current_build

    build = current_build(settings.index_dir, damaged_ok=True)
    if build is None:
        return None
    import httpx

    headers = {"X-Rag-Build": build.name}
    if settings.api_key is not None:
        headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    url = f"{settings.server_url.rstrip('/')}/v1/rag/{kind}"
    try:
        r = httpx.post(url, json=payload, headers=headers,
                       timeout=httpx.Timeout(settings.request_budget, connect=0.5))  # fmt: skip
    except httpx.HTTPError:
        return None
    if r.status_code == 401:
        err.print("提示：rag serve 需要 API 密钥（RAG_API_KEY），改在本进程回答", markup=False)
        return None
    try:
        body = r.json()
    except ValueError:
        return None
    if r.status_code == 400 and isinstance(body, dict) and isinstance(body.get("error"), str):
        raise ConfigError(body["error"])
    return body if r.status_code == 200 and isinstance(body, dict) else None
