"""The knowledge base as other tools reach it: the OpenAI-compatible /v1/chat/completions
(through the `openai` client) and the MCP server (through the `mcp` SDK's client), both on the
port of `rag serve`, and the MCP server over stdio (`rag mcp`)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, RecordingChat, serve_ui
from rag.config import Settings
from rag.factory import with_chat_model
from rag.pipeline import Pipeline
from ui.openai_api import RequestError, parse_request

WAWU = "瓦屋镇2023年开展了多少场法治宣传活动？"
WAWU_FILE = "001_e78c042d1c9dcf59.txt"


def _server(pipeline: Pipeline, tmp_path: Path, users=None) -> str:  # type: ignore[no-untyped-def]
    from ui.app import build_app
    from ui.guard import Access

    access = Access()
    demo = build_app(pipeline, tmp_path / "audit.jsonl", users=users, access=access)
    return serve_ui(demo, access, users, pipeline=pipeline)


def test_messages_become_the_question_the_turns_and_the_filters() -> None:
    req = parse_request(
        {
            "model": "anything",
            "messages": [
                {"role": "system", "content": "你是助手"},
                {"role": "user", "content": "峡口镇有多少人入驻数字执法系统？"},
                {"role": "assistant", "content": "27人[1]"},
                {"role": "user", "content": [{"type": "text", "text": "开展了几次培训？"}]},
            ],
            "place": "峡口镇",
            "year": 2024,
        }
    )
    assert req.question == "开展了几次培训？" and not req.stream
    assert [(t.question, t.answer) for t in req.history] == [
        ("峡口镇有多少人入驻数字执法系统？", "27人[1]")
    ]
    assert req.asked.options.places == ("峡口镇",) and req.asked.options.years == (2024,)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "assistant", "content": "x"}]}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
         "messages[0].content[0]"),
        ({"messages": [{"role": "user", "content": "x"}], "year": "明年"}, "year"),
        ({"messages": [{"role": "user", "content": "x"}], "year": 3024}, "year"),
        ({"messages": [{"role": "user", "content": "x"}], "place": ["水口镇", 3]}, "place"),
        ({"messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
    ],
)  # fmt: skip
def test_a_bad_request_names_its_field(body: dict, param: str) -> None:
    with pytest.raises(RequestError) as e:
        parse_request(body)
    assert e.value.param == param


@pytest.mark.integration
def test_chat_completions_through_the_openai_client(extractive: Pipeline, tmp_path: Path) -> None:
    from openai import BadRequestError, OpenAI

    url = _server(extractive, tmp_path)
    client = OpenAI(base_url=url + "v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list().data] == ["extractive"]

    done = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": WAWU}])
    message = done.choices[0].message
    assert done.model == "extractive" and done.choices[0].finish_reason == "stop"
    assert "8余场次" in message.content and "[1]" in message.content
    extra = message.model_extra or {}
    assert extra["abstained"] is False
    cite = extra["citations"][0]
    report = extractive.reports[cite["source"]].text
    assert cite["source"] == WAWU_FILE and report[cite["start"] : cite["end"]] == cite["text"]
    support = cite["support"]
    assert report[support["start"] : support["end"]] == support["text"]
    assert extra["claims"][0]["verdict"] == "supported"
    assert done.usage is not None and done.usage.completion_tokens > 0

    # streaming: the deltas add up to the answer; the last chunk carries the citations
    parts, last = [], None
    for chunk in client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": WAWU}], stream=True
    ):
        parts.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert last is not None and last.choices[0].finish_reason == "stop"
    final = last.choices[0].delta.model_extra or {}
    assert "".join(parts) == message.content == final["final_content"]
    assert final["replaced"] is False and final["citations"] == extra["citations"]

    # a follow-up: the conversation's earlier turn names the town
    follow = client.chat.completions.create(
        model="rag",
        messages=[
            {"role": "user", "content": "峡口镇有多少人通过考试入驻数字执法系统？"},
            {"role": "assistant", "content": "27人"},
            {"role": "user", "content": "开展了几次线下业务培训？"},
        ],
    )
    assert "4次" in (follow.choices[0].message.content or "")

    # a place the reports do not have: refused, in the same shape
    none = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "白沙镇2023年开展了多少场普法活动？"}]
    )
    assert (none.choices[0].message.model_extra or {})["abstained"] is True

    # filters as extra body fields; an unknown report and a bad field are 400 with the reason
    scoped = client.chat.completions.create(
        model="rag",
        messages=[{"role": "user", "content": "开展了多少场法治宣传活动？"}],
        extra_body={"report": WAWU_FILE},
    )
    assert {c["source"] for c in (scoped.choices[0].message.model_extra or {})["citations"]} == {
        WAWU_FILE
    }
    with pytest.raises(BadRequestError) as bad:
        client.chat.completions.create(
            model="rag", messages=[{"role": "user", "content": "x"}], extra_body={"year": "明年"}
        )
    assert bad.value.body["param"] == "year"  # type: ignore[index]
    last_year = client.chat.completions.create(  # read against the reports, as the CLI does
        model="rag",
        messages=[{"role": "user", "content": "瓦屋镇开展了多少场法治宣传活动？"}],
        extra_body={"year": "去年", "place": "瓦屋镇"},  # 瓦屋镇's newest report: 2023
    )
    said = (last_year.choices[0].message.model_extra or {})["said"]
    assert said == ["年份“去年”按最近一份报告（2023年）回答"]
    with pytest.raises(BadRequestError, match="no_such.txt"):
        client.chat.completions.create(
            model="rag",
            messages=[{"role": "user", "content": "开展了多少场法治宣传活动？"}],
            extra_body={"report": "no_such.txt"},
        )


@pytest.mark.integration
def test_an_llm_answer_streams_and_keeps_its_claim_checks(
    extractive: Pipeline, tmp_path: Path
) -> None:
    """Through the LLM path: a model stating a wrong figure is streamed token by token, and the
    final chunk's claims flag the figure the cited passage does not state."""
    from openai import OpenAI

    chat = RecordingChat(reply="瓦屋镇2023年开展法治宣传活动12场次[1]。")
    pipeline = with_chat_model(Settings(), extractive, chat)
    url = _server(pipeline, tmp_path)
    client = OpenAI(base_url=url + "v1", api_key="unused", max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="x", messages=[{"role": "user", "content": WAWU}], stream=True
        )
    )
    assert len(chunks) > 5  # the role, the model's 2-character deltas, the final chunk
    assert chunks[-1].model == "llm:scripted"
    final = chunks[-1].choices[0].delta.model_extra or {}
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == final["final_content"]
    claim = final["claims"][0]
    assert claim["verdict"] != "supported" and "12" in "".join(claim["unmatched_numbers"])


@pytest.mark.integration
def test_with_users_the_api_needs_a_key(extractive: Pipeline, tmp_path: Path) -> None:
    from openai import AuthenticationError, OpenAI

    from ui.users import User, hash_password, new_api_key

    key, digest = new_api_key()
    users = {"li": User("li", "staff", hash_password("pw"), digest)}
    url = _server(extractive, tmp_path, users)
    ask = [{"role": "user", "content": WAWU}]
    for wrong in ("rag-not-a-key", key + "x"):
        with pytest.raises(AuthenticationError) as e:
            OpenAI(base_url=url + "v1", api_key=wrong, max_retries=0).chat.completions.create(
                model="rag", messages=ask
            )
        assert e.value.body["code"] == "invalid_api_key"  # type: ignore[index]
    bare = httpx.post(url + "v1/chat/completions", json={"messages": ask})
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "missing_api_key"
    assert httpx.post(url + "mcp", json={}).status_code == 401  # MCP behind the same key
    good = OpenAI(base_url=url + "v1", api_key=key, max_retries=0)
    assert "8余场次" in (good.chat.completions.create(model="rag", messages=ask)
                         .choices[0].message.content or "")  # fmt: skip
    # the UI's own routes still use the login, not the key
    assert httpx.get(url, follow_redirects=False).status_code in (200, 302, 307)


def _tool_json(result) -> dict:  # type: ignore[no-untyped-def]
    assert not result.isError, result
    if result.structuredContent is not None:
        return dict(result.structuredContent)
    return json.loads(result.content[0].text)


async def _exercise(session) -> None:  # type: ignore[no-untyped-def]
    await session.initialize()
    tools = {t.name for t in (await session.list_tools()).tools}
    assert tools == {
        "search_reports", "ask", "check_claims", "list_reports", "export_answer", "export_check",
        "indicator_table", "export_table", "year_over_year", "copied_text",
    }  # fmt: skip
    listed = _tool_json(await session.call_tool("list_reports", {}))
    assert len(listed["reports"]) == 5 and WAWU_FILE in {r["source"] for r in listed["reports"]}
    answer = _tool_json(await session.call_tool("ask", {"question": WAWU}))
    assert "8余场次" in answer["answer"] and answer["citations"][0]["source"] == WAWU_FILE
    found = _tool_json(
        await session.call_tool(
            "search_reports", {"query": "法治宣传活动", "place": "瓦屋镇", "k": 3}
        )
    )
    assert len(found["passages"]) == 3
    assert {p["source"] for p in found["passages"]} == {WAWU_FILE}
    checked = _tool_json(
        await session.call_tool("check_claims", {"text": "瓦屋镇2023年共排查化解矛盾纠纷95起。"})
    )
    assert checked["claims"][0]["verdict"] == "contradicted"
    assert checked["claims"][0]["report_value"] == "92起"
    # a query of any length is refused before it is embedded (a 1M-character one held a core
    # for 20 minutes)
    long = _tool_json(await session.call_tool("search_reports", {"query": "法" * 100_000}))
    assert "上限是 2000 个" in long["error"]


@pytest.mark.integration
def test_mcp_tools_over_streamable_http(extractive: Pipeline, tmp_path: Path) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    from ui.users import User, hash_password, new_api_key

    key, digest = new_api_key()
    url = _server(extractive, tmp_path, {"li": User("li", "staff", hash_password("pw"), digest)})

    async def main() -> None:
        headers = {"Authorization": f"Bearer {key}"}
        async with (
            streamablehttp_client(url + "mcp", headers=headers) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await _exercise(session)

    asyncio.run(main())


@pytest.mark.integration
def test_mcp_tools_over_stdio(lexical_index_dir: Path) -> None:
    """`rag mcp` as a desktop client starts it: a subprocess speaking MCP on stdin/stdout."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(lexical_index_dir),
        "RAG_EMBED_MODEL": "none",
        "RAG_LLM_BACKEND": "none",
        "HF_HUB_OFFLINE": "1",
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "rag", "mcp"], env=env, cwd=str(ROOT)
    )

    async def main() -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await _exercise(session)

    asyncio.run(main())


@pytest.mark.integration
def test_rag_ask_and_check_are_answered_by_a_running_server_over_the_same_index(
    extractive: Pipeline, lexical_index_dir: Path, tmp_path: Path
) -> None:
    """`rag ask`/`rag check` use a `rag serve` on RAG_SERVER_URL when it serves the same index
    build (no model loads in the command); another index, or no server, is answered locally."""
    from typer.testing import CliRunner

    from rag.cli import app
    from ui.users import User, hash_password, new_api_key

    runner = CliRunner()
    url = _server(extractive, tmp_path).rstrip("/")
    env = {"RAG_SERVER_URL": url, "RAG_EMBED_MODEL": "none", "RAG_LLM_BACKEND": "none"}
    index = ["--index", str(lexical_index_dir)]
    served = runner.invoke(app, ["ask", WAWU, *index], env=env)
    assert served.exit_code == 0 and "rag serve 回答" in served.output, served.output
    assert "8余场次" in served.output and WAWU_FILE in served.output
    as_json = runner.invoke(app, ["ask", WAWU, "--json", *index], env=env)
    assert json.loads(as_json.stdout)["citations"][0]["source"] == WAWU_FILE
    check = runner.invoke(app, ["check", "瓦屋镇2023年共排查化解矛盾纠纷95起。", *index], env=env)
    assert check.exit_code == 0 and "与报告不符" in check.output and "92起" in check.output
    # a refusal the server gives is the command's error
    bad = runner.invoke(app, ["ask", WAWU, "--report", "no_such.txt", *index], env=env)
    assert bad.exit_code == 1 and "no_such.txt" in bad.output
    # the same command over another index build is answered here, not by the server
    other = tmp_path / "other-index"
    shutil.copytree(lexical_index_dir, other)
    (other / "builds" / (lexical_index_dir / "CURRENT").read_text().strip()).rename(
        other / "builds" / "another-build"
    )
    (other / "CURRENT").write_text("another-build\n", encoding="utf-8")
    local = runner.invoke(app, ["ask", WAWU, "--index", str(other)], env=env)
    assert local.exit_code == 0 and "rag serve" not in local.output and "8余场次" in local.output
    # a server with users needs the key: without it the command answers here and says why
    key, digest = new_api_key()
    locked = _server(extractive, tmp_path / "users",
                     {"li": User("li", "staff", hash_password("pw"), digest)}).rstrip("/")  # fmt: skip
    env = {**env, "RAG_SERVER_URL": locked}
    unkeyed = runner.invoke(app, ["ask", WAWU, *index], env=env)
    assert "RAG_API_KEY" in unkeyed.output and "8余场次" in unkeyed.output
    keyed = runner.invoke(app, ["ask", WAWU, *index], env={**env, "RAG_API_KEY": key})
    assert "rag serve 回答" in keyed.output and "8余场次" in keyed.output
