"""The knowledge base in OpenAI's shape: `POST /v1/chat/completions` and `GET /v1/models`.

Any OpenAI client (the `openai` package, LangChain's ChatOpenAI, Open WebUI, Dify's
"OpenAI-API-compatible" provider) can ask the reports. The answer keeps its [n] markers, and
the message carries what an OpenAI answer does not have:

- `citations`: each marker resolved to its report span (source, title, start, end, text) and
  the supporting sentence (`support`: start, end, text);
- `claims`: each sentence of the answer with its verdict against the spans it cites;
- `abstained`: true when the reports do not answer the question (the text says so).

Streaming (`"stream": true`) sends the text as `chat.completion.chunk` deltas; the final chunk
(finish_reason "stop") carries citations, claims and abstained in its delta, with
`final_content` (the answer's text) and `replaced` (true when that text is not the deltas'
sum: the pipeline replaced the draft, e.g. by its refusal). `model` in the
response names the answering mode (`extractive`, `llm:<model>`); the `model` asked for is not
used to pick one. The last user message is the question; earlier user/assistant pairs are the
conversation (a follow-up is rewritten from them); system messages are not used. Extra body
fields `place`, `year` and `report` scope the search as the UI's filters do.

With users configured (`rag serve --users`), every request needs `Authorization: Bearer <key>`
with a key from `rag api-key` (checked by ui/guard.py ApiKeyGate); without users, the API is
open as the read-only UI is. Errors have OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from rag.answer.converse import Turn
from rag.errors import RagError
from rag.pipeline import AskOptions, Pipeline
from rag.request import Asked, FilterError, resolve
from rag.text.tokens import count_tokens
from rag.types import Answer
from ui.service import options

MAX_MESSAGES = 64
_ANSWERING: weakref.WeakKeyDictionary[Any, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def answering() -> anyio.CapacityLimiter:
    """At most one answer per core is computed at once (per server, that is per event loop):
    more only interleave on the same cores (each encoder call already runs on all of them),
    and every request waits longer."""
    loop = asyncio.get_running_loop()
    if loop not in _ANSWERING:
        _ANSWERING[loop] = anyio.CapacityLimiter(os.cpu_count() or 2)
    return _ANSWERING[loop]


ROLES = ("system", "developer", "user", "assistant")


class RequestError(ValueError):
    """A request the API refuses: the message names the field (OpenAI's `param`)."""

    def __init__(self, message: str, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.param, self.status = param, status


def error_body(message: str, kind: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _content(value: Any, where: str) -> str:
    """A message's text: a string, or OpenAI's list of parts (only text parts are allowed)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for i, part in enumerate(value):
            if not isinstance(part, dict) or part.get("type") != "text":
                raise RequestError(f"{where}[{i}]：只能提问文字（type 为 text）", f"{where}[{i}]")
            if not isinstance(part.get("text"), str):
                raise RequestError(f"{where}[{i}].text 必须是字符串", f"{where}[{i}].text")
            texts.append(part["text"])
        return "".join(texts)
    if value is None:
        return ""
    raise RequestError(f"{where} 必须是字符串或文字片段的列表", where)


@dataclass(frozen=True)
class ChatRequest:
    question: str
    history: tuple[Turn, ...]
    asked: Asked  # the filters as given; `resolved` reads them against the index
    stream: bool
    options: AskOptions = AskOptions()
    said: tuple[str, ...] = ()  # how a relative year filter was read

    def resolved(self, pipeline: Pipeline) -> ChatRequest:
        """With its report names checked and 去年 read against `pipeline`'s reports
        (FilterError naming the field otherwise)."""
        options, said = resolve(pipeline, self.asked)
        return replace(self, options=options, said=said)


# The chat-completions fields of OpenAI's API reference that change nothing here (sampling,
# length, logging) are accepted and ignored; the fields asking for what this server cannot do
# (tools, JSON output, several choices, log-probabilities, audio) are refused, and so is a field
# OpenAI does not have (OpenAI answers "Unrecognized request argument" too), so that a client
# never takes an answer for one that honoured its request.
IGNORED = frozenset(
    "model stream stream_options temperature top_p max_tokens max_completion_tokens stop seed "
    "presence_penalty frequency_penalty logit_bias user metadata store service_tier "
    "reasoning_effort parallel_tool_calls".split()
)
UNSUPPORTED = frozenset(
    "tools tool_choice functions function_call response_format n logprobs top_logprobs audio "
    "modalities prediction web_search_options".split()
)
OURS = frozenset(("messages", "place", "year", "report"))


def _fields(body: dict[str, Any]) -> None:
    for key, value in body.items():
        if key in OURS or key in IGNORED:
            continue
        if key in UNSUPPORTED:
            harmless = (key == "n" and value == 1) or (key == "logprobs" and value is False)
            if not harmless and value is not None:
                raise RequestError(f"不支持 {key}：这里只按报告回答文字问题", key)
            continue
        raise RequestError(f"不认识的字段 {key}", key)


def parse_request(body: Any) -> ChatRequest:
    """The question, the earlier turns and the filters of a chat-completions body."""
    if not isinstance(body, dict):
        raise RequestError("请求体必须是 JSON 对象")
    _fields(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("messages 必须是非空列表", "messages")
    if len(messages) > MAX_MESSAGES:
        raise RequestError(f"messages 最多 {MAX_MESSAGES} 条，收到 {len(messages)} 条", "messages")
    said: list[tuple[str, str]] = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise RequestError(f"{where}.role 必须是 {'、'.join(ROLES)} 之一", f"{where}.role")
        if m["role"] in ("user", "assistant"):
            said.append((m["role"], _content(m.get("content"), f"{where}.content")))
    if not said or said[-1][0] != "user":
        raise RequestError("最后一条消息必须是用户的问题（role 为 user）", "messages")
    history, pending = [], None
    for role, text in said[:-1]:
        if role == "user":
            pending = text
        elif pending is not None:
            history.append(Turn(question=pending, answer=text))
            pending = None
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise RequestError("stream 必须是 true 或 false", "stream")
    return ChatRequest(said[-1][1], tuple(history), _filters(body), stream)


def _filters(body: dict[str, Any]) -> Asked:
    """place, year (2024 or 去年) and report, by the one request model (rag/request.py)."""
    try:
        return options(body.get("place"), body.get("year"), body.get("report"))
    except FilterError as e:
        raise RequestError(str(e), e.field) from e


def extras(answer: Answer, said: tuple[str, ...] = ()) -> dict[str, Any]:
    """What our message adds to OpenAI's: the resolved citations, the claim checks, abstained,
    and how a relative year filter was read (`said`, when one was)."""
    d = answer.to_dict()
    out = {k: d[k] for k in ("citations", "claims", "abstained")}
    return {**out, "said": list(said)} if said else out


def _usage(question: str, history: tuple[Turn, ...], answer: Answer) -> dict[str, int]:
    asked = sum(count_tokens(t.question) + count_tokens(t.answer) for t in history)
    prompt = asked + count_tokens(question)
    done = count_tokens(answer.text)
    return {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}


def completion(req: ChatRequest, answer: Answer, cid: str, created: int) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": answer.mode,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": answer.text,
                    **extras(answer, req.said),
                },
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(req.question, req.history, answer),
    }


def chunks(req: ChatRequest, pipeline: Pipeline, cid: str, created: int) -> Iterator[dict]:
    """The stream: the role, the text deltas, then a final chunk with the extras. The deltas
    add up to the answer's text unless the pipeline replaced the draft afterwards (an LLM's
    "not in the reports" becomes the refusal naming the reports searched, a marker naming no
    source is removed): the final chunk says so (`replaced`) and carries `final_content`."""

    def chunk(delta: dict[str, Any], model: str, finish: str | None = None) -> dict:
        return {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    mode = pipeline.mode
    yield chunk({"role": "assistant", "content": ""}, mode)
    sent = ""
    for event in pipeline.stream(req.question, req.history, req.options):
        if event.kind == "token" and event.text:
            sent += event.text
            yield chunk({"content": event.text}, mode)
        elif event.answer is not None:
            answer = event.answer
            follows = answer.text.startswith(sent)
            rest = answer.text[len(sent) :] if follows else ""
            delta: dict[str, Any] = {"content": rest} if rest else {}
            # the final text, and whether it replaced the streamed draft (a refusal)
            delta.update(
                final_content=answer.text, replaced=not follows, **extras(answer, req.said)
            )
            yield chunk(delta, answer.mode, "stop")


def _sse(items: Iterator[dict], on_error: Callable[[Exception], dict]) -> Iterator[str]:
    try:
        for item in items:
            yield f"data: {json.dumps(item, ensure_ascii=False)}\n\n"
    except RagError as e:  # after the first byte the status is sent: the error is an event
        yield f"data: {json.dumps(on_error(e), ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def router(pipeline: Callable[[], Pipeline]) -> APIRouter:
    """The routes; `pipeline()` is the pipeline answering now (an upload replaces it). The API
    key is checked before them (ui/guard.py ApiKeyGate)."""
    api = APIRouter(prefix="/v1")

    @api.get("/models")
    async def models(request: Request) -> JSONResponse:
        mode = pipeline().mode
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": mode, "object": "model", "created": 0, "owned_by": "rag"}],
            }
        )

    @api.post("/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse(error_body("请求体不是有效的 JSON", "invalid_request_error"), 400)
        try:
            req = parse_request(body)
        except RequestError as e:
            return JSONResponse(error_body(str(e), "invalid_request_error", e.param), e.status)
        cid, created, now = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), pipeline()
        try:
            req = req.resolved(now)
        except FilterError as e:  # an unknown report, 去年 with no dated report
            return JSONResponse(error_body(str(e), "invalid_request_error", e.field), 400)
        if req.stream:
            return StreamingResponse(
                _sse(
                    chunks(req, now, cid, created),
                    lambda e: error_body(str(e), "invalid_request_error"),
                ),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        try:
            answer = await anyio.to_thread.run_sync(
                now.ask, req.question, req.history, req.options, limiter=answering()
            )
        except RagError as e:  # an over-long question or history, an unknown report
            return JSONResponse(error_body(str(e), "invalid_request_error", "messages"), 400)
        return JSONResponse(completion(req, answer, cid, created))

    return api
