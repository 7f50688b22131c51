"""UI pieces without a browser: escaping, the audit log, and the /ask API through gradio_client."""

import json
import socket
from pathlib import Path

import pytest

from rag.pipeline import Pipeline
from ui import audit
from ui.render import answer_markdown, claim_rows, passage_html, sources_html, status_line


def test_passages_are_escaped_and_the_support_is_marked(extractive: Pipeline) -> None:
    a = extractive.ask("水口镇2024年对执法人员进行了多少次执法培训？")
    c = a.citations[0]
    html = passage_html([c], extractive.reports[c.source])
    assert "<mark>" + c.support_text + "</mark>" in html
    assert c.source in html and "[1]" in html
    # one entry per cited passage, every supporting sentence of it marked
    sources = sources_html(a, extractive.reports)
    assert sources.count('<div class="cite">') == len({(x.source, x.start) for x in a.citations})
    for x in a.citations:
        assert x.support_text in sources
    rows = claim_rows(a)
    assert rows[0][0] == 1  # claims are numbered from 1
    assert rows[0][2] == "有依据" and c.support_text in rows[0][5]
    assert rows[0][4].startswith("100%的文字见于报告原文")
    assert status_line(a).startswith("回答方式：抽取式")
    assert "### 问：" in answer_markdown(a) and "核查 第1句：有依据" in answer_markdown(a)


def test_report_html_shows_as_text(extractive: Pipeline) -> None:
    from dataclasses import replace

    a = extractive.ask("水口镇2024年对执法人员进行了多少次执法培训？")
    c = a.citations[0]
    report = extractive.reports[c.source]
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    text = report.text[: c.support_start] + evil + report.text[c.support_start :]
    shifted = replace(c, support_end=c.support_end + len(evil), end=c.end + len(evil))
    html = passage_html([shifted], replace(report, text=text))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html


def test_audit_log_appends_and_validates(extractive: Pipeline, tmp_path: Path) -> None:
    a = extractive.ask("水口镇全镇有多少人考取了执法证？")
    log = tmp_path / "audit" / "audit.jsonl"
    first = audit.record(log, a, 0, "approve", "张三", "数字与原文一致")
    audit.record(log, a, 0, "reject", "李四")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[0]) == first
    entries = audit.read(log)
    assert [e["decision"] for e in entries] == ["approve", "reject"]
    assert entries[0]["question"] == a.question and entries[0]["citations"]
    assert entries[0]["claim"]["verdict"] == "supported" and entries[0]["reviewer"] == "张三"
    for bad in [(5, "approve", "张三"), (0, "maybe", "张三"), (0, "approve", " ")]:
        with pytest.raises(ValueError):
            audit.record(log, a, *bad)
    assert len(audit.read(log)) == 2  # nothing written for the refused ones


@pytest.mark.integration
def test_ask_api_through_gradio_client(extractive: Pipeline, tmp_path: Path) -> None:
    from gradio_client import Client

    from ui.app import build_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = build_app(extractive, tmp_path / "audit.jsonl")
    demo.queue().launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        out = client.predict("瓦屋镇2023年开展了多少场法治宣传活动？", api_name="/ask")
        assert out["mode"] == "extractive" and "8余场次" in out["answer"]
        cite = out["citations"][0]
        assert cite["source"] == "001_e78c042d1c9dcf59.txt" and set(cite["support"]) == {
            "start",
            "end",
            "text",
        }
        assert out["claims"][0]["verdict"] == "supported"
        scoped = client.predict(
            "开展了多少场法治宣传活动？", "", 0, "001_e78c042d1c9dcf59.txt", api_name="/ask"
        )
        assert scoped["searched"] == ["001_e78c042d1c9dcf59.txt"]
        # a follow-up with the conversation so far: rewritten to name the town asked before
        turns = [{"question": "峡口镇有多少人通过考试入驻数字执法系统？", "answer": "27人"}]
        follow = client.predict("开展了几次线下业务培训？", "", 0, "", turns, api_name="/ask")
        assert "峡口镇" in follow["rewritten"] and "4次" in follow["answer"], follow
        bad = client.predict("开展了几次线下业务培训？", "", 0, "", [{"q": 1}], api_name="/ask")
        assert "history: turn 0: question" in bad["error"]
        # 核稿 through the same server: the JSON of `rag check --json`
        draft = "瓦屋镇2023年共排查化解矛盾纠纷92起。瓦屋镇2023年共排查化解矛盾纠纷95起。"
        checked = client.predict(draft, api_name="/check")
        assert [c["verdict"] for c in checked["claims"]] == ["supported", "contradicted"]
        assert checked["claims"][1]["report_value"] == "92起"
        assert checked["summary"]["claims"] == 2
        assert "为空" in client.predict("  ", api_name="/check")["error"]
    finally:
        demo.close()


def _handler(demo, name: str):  # type: ignore[no-untyped-def]
    """The server-side function behind a UI event (what any HTTP client reaches by fn_index)."""
    fns = demo.fns.values() if isinstance(demo.fns, dict) else demo.fns
    return next(f.fn for f in fns if getattr(f.fn, "__name__", "") == name)


def test_without_login_the_server_refuses_upload_and_review(
    extractive: Pipeline, tmp_path: Path
) -> None:
    from ui.app import READ_ONLY, build_app

    answer = extractive.ask("瓦屋镇2023年开展了多少场法治宣传活动？")
    demo = build_app(extractive, tmp_path / "audit.jsonl")
    out = _handler(demo, "approve_claim")([answer], 0, 1, "任何人", "", None)
    assert out == READ_ONLY and not (tmp_path / "audit.jsonl").exists()
    upload = list(_handler(demo, "upload")(str(tmp_path / "x.txt"), None))
    assert upload[0][0] == READ_ONLY
    # allowed explicitly, the same review is recorded
    open_demo = build_app(extractive, tmp_path / "audit.jsonl", anonymous_edits=True)
    assert _handler(open_demo, "approve_claim")([answer], 0, 1, "张三", "", None).startswith(
        "已记录"
    )


def test_audit_comments_are_bounded(extractive: Pipeline, tmp_path: Path) -> None:
    from ui import audit

    answer = extractive.ask("瓦屋镇2023年开展了多少场法治宣传活动？")
    with pytest.raises(ValueError, match="过长"):
        audit.record(tmp_path / "a.jsonl", answer, 0, "approve", "张三", "x" * 20_000)
    assert not (tmp_path / "a.jsonl").exists()


def test_throttle_counts_failures_in_a_window() -> None:
    from ui.guard import Throttle

    now = [0.0]
    t = Throttle(limit=3, window=60, clock=lambda: now[0])
    for _ in range(2):
        t.fail("user:li")
    assert t.wait("user:li") == 0
    t.fail("user:li")
    assert t.wait("user:li") == 60  # the third failure locks until the first one expires
    now[0] = 30
    assert t.wait("user:li") == 30 and t.wait("user:zhang") == 0
    now[0] = 60.5
    assert t.wait("user:li") == 0  # the first failure left the window
    t.clear("user:li")
    assert t.wait("user:li") == 0
    with pytest.raises(ValueError, match="limit"):
        Throttle(limit=0)


def test_throttle_memory_is_bounded() -> None:
    from ui.guard import Throttle

    t = Throttle(limit=2, window=60, clock=lambda: 0.0, max_keys=100)
    for i in range(1000):
        t.fail(f"user:{i}")
    assert len(t._failures) <= 100


@pytest.mark.integration
def test_http_guards_login_throttling_and_upload_size(extractive: Pipeline, tmp_path: Path) -> None:
    """Through HTTP, as any client can: wrong passwords are throttled per name and address,
    and an upload over the size limit is refused by the server before the app sees it."""
    import httpx

    from conftest import serve_ui
    from ui.app import UPLOAD_MAX_MB, build_app
    from ui.guard import Access, Throttle
    from ui.users import User, hash_password

    users = {"li": User("li", "staff", hash_password("pw"))}
    access = Access(throttle=Throttle(limit=3, window=600))
    demo = build_app(extractive, tmp_path / "audit.jsonl", users=users, access=access)
    url = serve_ui(demo, access, users, pipeline=extractive).rstrip("/")
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            report = "/report-file/001_e78c042d1c9dcf59.txt"
            assert http.get(report).status_code == 401  # the original file needs a login
            assert http.post("/login", data={"username": "li", "password": "pw"}).status_code == 200
            got = http.get(report)
            assert got.status_code == 200 and "瓦屋镇" in got.text
            assert http.get("/report-file/..%2Fpyproject.toml").status_code == 404
            assert http.get("/report-file/not-indexed.txt").status_code == 404
            big = b"x" * int((UPLOAD_MAX_MB + 1) * 1024 * 1024)
            r = http.post("/gradio_api/upload", files={"files": ("big.txt", big)})
            assert r.status_code == 413
            small = http.post("/gradio_api/upload", files={"files": ("ok.txt", b"abc")})
            assert small.status_code == 200  # the same user, within the limit
        with httpx.Client(base_url=url, timeout=30) as http:
            codes = [
                http.post("/login", data={"username": "li", "password": "bad"}).status_code
                for _ in range(4)
            ]
            assert codes == [400, 400, 400, 429]
            right = http.post("/login", data={"username": "li", "password": "pw"})
            assert right.status_code == 429 and "秒后再试" in right.json()["detail"]
            assert int(right.headers["retry-after"]) > 0
            other = http.post("/login", data={"username": "wang", "password": "x"})
            assert other.status_code == 429  # the address is throttled too
    finally:
        demo.close()


def test_past_decisions_filter_by_reviewer_decision_and_report(
    extractive: Pipeline, tmp_path: Path
) -> None:
    from ui.app import build_app

    log = tmp_path / "audit.jsonl"
    a = extractive.ask("水口镇全镇有多少人考取了执法证？")
    b = extractive.ask("瓦屋镇2023年开展了多少场法治宣传活动？")
    audit.record(log, a, 0, "approve", "张三", "一致")
    audit.record(log, b, 0, "reject", "李四", "数字不符")
    view = _handler(build_app(extractive, log), "past_decisions")
    assert [r[1] for r in view("", "", "")] == ["李四", "张三"]  # newest first
    only = view("张三", "", "")
    assert len(only) == 1 and only[0][2] == "通过" and only[0][3] == a.question
    assert only[0][0] == audit.beijing(audit.read(log)[0]["time"])  # Beijing time
    assert [r[1] for r in view("", "reject", "")] == ["李四"]
    assert [r[1] for r in view("", "", "001_e78c042d1c9dcf59.txt")] == ["李四"]
    assert audit.beijing("2026-11-24T00:10:00+00:00") == "2026-11-24 08:10:00"


def test_reports_page_rows_carry_places_numbers_and_the_synthesized_mark(
    extractive: Pipeline,
) -> None:
    from ui.app import REPORT_HEADERS, SYNTHESIZED, report_rows

    rows = {r[0]: dict(zip(REPORT_HEADERS, r, strict=True)) for r in report_rows(extractive)}
    shuikou = rows["000_4e493ef760f0cb20.txt"]
    assert shuikou["标题"].endswith(SYNTHESIZED) and "水口镇" in shuikou["地方"]
    sandun = rows["003_bf156fa8c0c17ca2.txt"]
    assert sandun["索引号"] == "00250254-9/2020-04535" and sandun["成文日期"] == "2020-03-12"
    assert not sandun["标题"].endswith(SYNTHESIZED) and sandun["段数"] > 0


def test_a_hegao_verdict_review_is_refused_without_the_role(
    extractive: Pipeline, tmp_path: Path
) -> None:
    """On the server: staff cannot record a decision on a 核稿 verdict; a supervisor can, and
    the entry keeps the claim, its verdict, its citations and the checked text."""
    from types import SimpleNamespace

    from ui.audit import read
    from ui.guard import Access
    from ui.review import ReviewDesk
    from ui.service import check_json, options
    from ui.users import User, hash_password

    secret = hash_password("pw")
    users = {"li": User("li", "staff", secret), "zhang": User("zhang", "supervisor", secret)}
    log = tmp_path / "audit.jsonl"
    desk = ReviewDesk(log, users, False, Access())
    text = "瓦屋镇2023年共排查化解矛盾纠纷95起。"
    checked = {**check_json(extractive, text, options()), "text": text}
    as_li, as_zhang = SimpleNamespace(username="li"), SimpleNamespace(username="zhang")
    assert "只有督查员" in desk.approve_check(checked, 1, "", "", as_li)  # type: ignore[arg-type]
    assert not log.exists()
    assert "第2句不存在" in desk.approve_check(checked, 2, "", "", as_zhang)  # type: ignore[arg-type]
    msg = desk.approve_check(checked, 1, "anyone", "数字确有出入", as_zhang)  # type: ignore[arg-type]
    assert msg.startswith("已记录：zhang 通过 核稿第1句")
    (entry,) = read(log)
    assert entry["reviewer"] == "zhang" and entry["kind"] == "check"
    assert entry["claim"]["verdict"] == "contradicted" and entry["claim"]["report_value"] == "92起"
    assert entry["citations"][0]["source"] == "001_e78c042d1c9dcf59.txt"
    assert entry["text"] == text and entry["comment"] == "数字确有出入"
    # the history view lists it with the answers' decisions
    rows = desk.past_decisions("", "approve", "001_e78c042d1c9dcf59.txt")
    assert rows and rows[0][3] == "（核稿）" and rows[0][4] == text
