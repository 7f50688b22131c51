"""The UI in headless Chromium (Debian's, driven by Playwright; never `playwright install`):
ask, see the answer and a highlighted citation, approve a claim into the audit log, and see a
report's <script> rendered as text. With RAG_SCREENSHOT_DIR=docs it saves the screenshots the
README shows; otherwise they go to a temporary folder."""

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest

from conftest import serve_ui
from rag.config import Settings
from rag.factory import open_pipeline
from rag.index.build import build_index
from rag.ingest.chunk import ChunkerSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>"
EVIL_REPORT = (
    "测试镇人民政府关于2024年法治政府建设情况的报告\n\n"
    f"2024年，测试镇开展防诈骗宣讲活动77场{EVIL}，覆盖全镇群众。\n"
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium fonts-wqy-microhei")
    from ui.app import build_app

    tmp = tmp_path_factory.mktemp("ui")
    reports = tmp / "reports"
    shutil.copytree(ROOT / "data" / "reports", reports)
    (reports / "900_evil.txt").write_text(EVIL_REPORT, encoding="utf-8")
    build_index(reports, tmp / "index", None, ChunkerSettings())
    settings = Settings(embed_model="none", llm_backend="none")
    pipeline = open_pipeline(settings, tmp / "index")
    audit_log = tmp / "audit.jsonl"
    from ui.guard import Access

    access = Access()
    demo = build_app(pipeline, audit_log, settings=settings, anonymous_edits=True, access=access)
    yield serve_ui(demo, access, pipeline=pipeline), audit_log
    demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("RAG_SCREENSHOT_DIR")
    return Path(folder) if folder else tmp_path_factory.mktemp("shots")


def _ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()
    page.locator("#sources mark").first.wait_for(timeout=30_000)


def test_ask_verify_and_audit(app_url: tuple[str, Path], browser, shots: Path) -> None:  # type: ignore[no-untyped-def]
    url, audit_log = app_url
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, wait_until="load")
    _ask(page, "水口镇2024年对执法人员进行了多少次执法培训？")
    page.wait_for_function(
        "document.querySelector('#chat').innerText.includes('15次')", timeout=30_000
    )
    assert "执法培训15次" in page.locator("#sources mark").first.inner_text()
    assert "抽取式" in page.locator("#status textarea").input_value()
    page.locator("#sources details summary").first.click()  # the whole section, span marked
    section = page.locator("#sources details").first
    assert "执法培训15次" in section.locator("mark").inner_text()
    assert len(section.inner_text()) > len(page.locator("#sources .cite-body").first.inner_text())
    href = page.locator("#sources a[download]").first.get_attribute("href")
    assert href == "/report-file/000_4e493ef760f0cb20.txt"  # by file name, no server path
    assert "/tmp" not in page.locator("#sources").inner_html()
    original = page.request.get(url.rstrip("/") + href)
    assert original.ok and "对执法人员共进行执法培训15次" in original.text()
    page.screenshot(path=str(shots / "chat.png"), full_page=True)

    page.get_by_role("tab", name="核查").click()
    page.locator("#claims").wait_for()
    assert "有依据" in page.locator("#claims").inner_text()
    page.locator("#reviewer textarea").fill("督查员甲")
    page.locator("#comment textarea").fill("与原文一致")
    page.locator("#approve").click()
    page.wait_for_function(
        "document.querySelector('#audit-msg textarea').value.includes('已记录')", timeout=15_000
    )
    page.screenshot(path=str(shots / "verify.png"), full_page=True)
    entry = json.loads(audit_log.read_text(encoding="utf-8").splitlines()[-1])
    assert entry["reviewer"] == "督查员甲" and entry["decision"] == "approve"
    assert (
        "15次" in entry["answer"] and entry["citations"][0]["source"] == "000_4e493ef760f0cb20.txt"
    )
    page.close()


def test_report_markup_is_shown_as_text(app_url: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = app_url
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url, wait_until="load")
    _ask(page, "测试镇开展了多少场防诈骗宣讲活动？")
    page.wait_for_function(
        "document.querySelector('#chat').innerText.includes('77场')", timeout=30_000
    )
    assert "<script>alert(1)</script>" in page.locator("#sources").inner_text()
    assert "<script>alert(1)</script>" in page.locator("#chat").inner_text()
    assert page.locator("#sources script, #sources img, #chat img[src=x]").count() == 0
    assert dialogs == []
    page.close()


def test_upload_adds_a_report_while_chat_keeps_working(
    app_url: tuple[str, Path], browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    url, _ = app_url
    new = tmp_path / "901_upload.txt"
    new.write_text(
        "上传镇人民政府关于2024年法治政府建设情况的报告\n\n2024年，上传镇组织法律明白人培训31期。\n",
        encoding="utf-8",
    )
    page = browser.new_page()
    page.goto(url, wait_until="load")
    page.get_by_role("tab", name="报告").click()
    page.get_by_text("上传报告（管理员）").click()
    page.locator("#upload input[type=file]").set_input_files(str(new))
    page.locator("#upload-btn").click()
    page.wait_for_function(
        "document.querySelector('#upload-msg textarea').value.includes('已加入')", timeout=60_000
    )
    assert "901_upload.txt" in page.locator("#reports").inner_text()
    page.get_by_role("tab", name="问答").click()
    _ask(page, "上传镇组织了多少期法律明白人培训？")
    page.wait_for_function(
        "document.querySelector('#chat').innerText.includes('31期')", timeout=30_000
    )
    page.close()


def test_login_and_roles(tmp_path: Path, browser, lexical_index_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Roles decide on the server; an export can be fetched by its maker only."""
    from ui.app import build_app
    from ui.guard import Access
    from ui.users import User, hash_password

    secret = hash_password("pw")
    users = {"li": User("li", "staff", secret), "zhang": User("zhang", "supervisor", secret)}
    pipeline = open_pipeline(Settings(embed_model="none", llm_backend="none"), lexical_index_dir)
    audit_log = tmp_path / "audit.jsonl"
    access = Access()
    demo = build_app(pipeline, audit_log, users=users, access=access)
    url = serve_ui(demo, access, users)
    exported: list[str] = []
    try:
        for name, expected in (("li", "只有督查员"), ("zhang", "已记录：zhang 通过")):
            context = browser.new_context()
            page = context.new_page()
            page.goto(url, wait_until="load")
            page.locator("input[type=password]").wait_for()
            page.locator("input[type=text]").first.fill(name)
            page.locator("input[type=password]").fill("pw")
            page.locator("button", has_text="Login").click()
            page.locator("#question textarea").wait_for(timeout=15_000)
            _ask(page, "水口镇全镇有多少人考取了执法证？")
            page.get_by_role("tab", name="核查").click()
            page.locator("#reviewer textarea").fill("冒名")  # ignored: the login decides
            page.locator("#approve").click()
            page.wait_for_function(
                f"document.querySelector('#audit-msg textarea').value.includes('{expected}')",
                timeout=15_000,
            )
            if not exported:  # li exports the conversation and can fetch it
                page.locator("#export").click()
                link = page.locator("#export-file a").first
                link.wait_for(timeout=15_000)
                exported.append(urljoin(url, link.get_attribute("href") or ""))
                mine = page.request.get(exported[0])
                import io

                import docx  # the desk exports Word by default, each sentence's proof a comment

                body = [p.text for p in docx.Document(io.BytesIO(mine.body())).paragraphs]
                assert mine.ok and any("水口镇全镇有多少人考取了执法证" in t for t in body)
            else:  # zhang, logged in, is refused li's export although the link is known
                theirs = page.request.get(exported[0])
                assert theirs.status == 403 and "另一位用户" in theirs.text()
            context.close()
        entries = [json.loads(line) for line in audit_log.read_text(encoding="utf-8").splitlines()]
        assert [e["reviewer"] for e in entries] == ["zhang"]
    finally:
        demo.close()


def test_explicit_filters_win_over_the_follow_up_rewrite(
    app_url: tuple[str, Path], browser
) -> None:  # type: ignore[no-untyped-def]
    url, _ = app_url
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, wait_until="load")
    _ask(page, "峡口镇有多少人通过考试入驻数字执法系统？")
    page.wait_for_function(
        "document.querySelector('#chat').innerText.includes('27人')", timeout=30_000
    )
    page.get_by_text("筛选", exact=True).click()
    page.locator("#place-filter textarea").fill("瓦屋镇")
    page.locator("#filter-chips").get_by_text("地方：瓦屋镇").wait_for(timeout=15_000)
    # the follow-up would be rewritten to 峡口镇; the filter says 瓦屋镇, and wins
    page.locator("#question textarea").fill("开展了多少场法治宣传活动？")
    page.locator("#send").click()
    page.wait_for_function(
        "document.querySelector('#chat').innerText.includes('8余场次')", timeout=30_000
    )
    assert "峡口镇" not in page.locator("#status textarea").input_value()
    page.locator("#clear").click()
    page.wait_for_function(
        "document.querySelector('#status textarea').value.includes('已清空')", timeout=15_000
    )
    assert page.locator("#place-filter textarea").input_value() == ""
    assert "瓦屋镇" not in page.locator("#filter-chips").inner_text()
    page.close()


def test_review_an_earlier_answer_by_clicking_its_claim(
    app_url: tuple[str, Path], browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    url, audit_log = app_url
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, wait_until="load")
    first_q, second_q = (
        "峡口镇有多少人通过考试入驻数字执法系统？",
        "水口镇全镇有多少人考取了执法证？",
    )
    _ask(page, first_q)
    page.wait_for_function("document.querySelector('#chat').innerText.includes('27人')")
    _ask(page, second_q)
    page.wait_for_function("document.querySelector('#chat').innerText.includes('19人')")
    page.get_by_role("tab", name="核查").click()
    # the picker holds both answers; choose the first one
    page.locator("#answer-pick input").click()
    page.get_by_role("option", name=f"第1问：{first_q}").click()
    page.wait_for_function(
        f"document.querySelector('#picked-question textarea').value.includes('{first_q}')"
    )
    # the second claim of that answer: the excerpt (its item head and sentence) after its
    # one-sentence lead
    page.keyboard.press("Escape")
    page.wait_for_function("document.querySelector('#claims').innerText.includes('依托线上培训')")
    page.locator("#claims span:visible", has_text=re.compile("^全力推行依法行政")).first.click()
    page.wait_for_function("document.querySelector('#claim-no input').value === '2'")
    page.locator("#reviewer textarea").fill("督查员乙")
    page.locator("#comment textarea").fill("核对无误")
    page.locator("#approve").click()
    page.wait_for_function(
        "document.querySelector('#audit-msg textarea').value.includes('第1问第2句')",
        timeout=15_000,
    )
    assert "北京时间" in page.locator("#audit-msg textarea").input_value()
    entry = json.loads(audit_log.read_text(encoding="utf-8").splitlines()[-1])
    assert entry["question"] == first_q and entry["reviewer"] == "督查员乙"
    # the export carries the decision, under a name of its own: Markdown with the review log
    page.locator("#export-format").get_by_text("Markdown").click()
    page.locator("#export").click()
    link = page.locator("#export-file a").first
    link.wait_for(timeout=15_000)
    md = link.get_attribute("href") or ""
    exported = page.request.get(urljoin(url, md)).text()
    assert "审核：督查员乙 通过 第2句" in exported and "核对无误" in exported
    assert f"### 问：{second_q}" in exported
    # and Word: each sentence's proof in a comment, the decision beside it
    page.locator("#export-format").get_by_text("Word").click()
    page.locator("#export").click()
    page.wait_for_function(
        "[...document.querySelectorAll('#export-file a')].some(a => a.href.includes('.docx'))",
        timeout=15_000,
    )
    href = page.locator("#export-file a").first.get_attribute("href") or ""
    assert href.endswith(".docx") and href != md
    import io

    import docx

    document = docx.Document(io.BytesIO(page.request.get(urljoin(url, href)).body()))
    comments = [c.text for c in document.comments]
    assert any("审核：督查员乙 通过" in c and "核对无误" in c for c in comments)
    assert any(p.text == f"问：{second_q}" for p in document.paragraphs)
    page.close()


ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z]+")
# file types, units, hex ids, and the names of the office programs the exports open in
ALLOWED_ASCII = re.compile(
    r"^(?:txt|pdf|ofd|docx|xlsx|html|htm|md|png|jpg|jpeg|tif|tiff|bmp|MB|ms|API|Word|Excel"
    r"|Markdown|[0-9a-f]+)$"
)


def test_no_english_on_the_main_pages(tmp_path: Path, browser, lexical_index_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Visible text of every tab, after an answer, in a Chinese browser: no English words
    (file names, units and hex ids allowed)."""
    from ui.app import build_app
    from ui.guard import Access

    pipeline = open_pipeline(Settings(embed_model="none", llm_backend="none"), lexical_index_dir)
    access = Access()
    demo = build_app(pipeline, tmp_path / "audit.jsonl", anonymous_edits=True, access=access)
    url = serve_ui(demo, access)
    try:
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.goto(url, wait_until="load")
        _ask(page, "水口镇2024年对执法人员进行了多少次执法培训？")
        seen: list[str] = []
        for tab in ("问答", "核查", "报告"):
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(500)
            text = page.locator("body").inner_text()
            for word in ASCII_WORD.findall(text):
                if not ALLOWED_ASCII.match(word):
                    seen.append(f"{tab}: {word}")
        assert not seen, seen
        context.close()
    finally:
        demo.close()


def test_on_a_phone_the_sources_follow_the_answer(app_url: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = app_url
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(url, wait_until="load")
    _ask(page, "水口镇2024年对执法人员进行了多少次执法培训？")
    chat, sources, question = (
        page.locator(sel).bounding_box() for sel in ("#chat", "#sources", "#question")
    )
    assert chat and sources and question
    assert chat["y"] + chat["height"] <= sources["y"] < question["y"]
    page.close()


def test_the_reports_table_fits_a_1366_px_screen(app_url: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = app_url
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(url, wait_until="load")
    page.get_by_role("tab", name="报告").click()
    page.locator("#reports table").first.wait_for()
    cut = page.evaluate(
        """() => {
          const root = document.querySelector('#reports');
          const right = Math.max(...[...root.querySelectorAll('th, td')].map(
            c => c.getBoundingClientRect().right));
          const scrolls = [root, ...root.querySelectorAll('*')].filter(
            e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible'
              && e.innerText.trim() !== '');  // text cut off or a scroll bar
          return {right, width: document.documentElement.clientWidth, scrolls: scrolls.length};
        }"""
    )
    assert cut["right"] <= cut["width"] and cut["scrolls"] == 0, cut
    assert "014351098/2025-00011" in page.locator("#reports").inner_text()  # nothing cut off
    page.close()


def test_check_a_pasted_draft_in_the_hegao_tab(
    app_url: tuple[str, Path], browser, shots: Path
) -> None:  # type: ignore[no-untyped-def]
    """核稿: a supervisor pastes a draft; each sentence shows its verdict, the report's own
    sentence, and what the report states where the draft disagrees; the supervisor's
    disagreement with one verdict goes into the audit log."""
    url, audit_log = app_url
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(url, wait_until="load")
    page.get_by_role("tab", name="核稿").click()
    page.locator("#draft textarea").fill(
        "江华瑶族自治县水口镇人民政府\n水口镇全镇考取执法证19人。水口镇全镇考取执法证25人。"
        "水口镇建成了全省第一个智慧法治无人机基地。"
    )
    page.locator("#check-btn").click()
    page.wait_for_selector("#check-rows", timeout=30_000)
    rows = page.locator("#check-rows tr")
    assert rows.count() == 5  # the header and four sentences
    verdicts = [rows.nth(i).locator("td").nth(2).inner_text() for i in range(1, 5)]
    assert verdicts == ["非陈述", "有依据", "与报告不符", "报告未载"]
    assert "报告写的是：19人" in rows.nth(3).inner_text()
    assert "全镇考取执法证19人" in rows.nth(2).inner_text()  # the report's own sentence
    summary = page.locator(".check-summary").inner_text()
    assert summary == "4 句：有依据 1，与报告不符 1，报告未载 1，非陈述 1"
    page.screenshot(path=str(shots / "hegao.png"), full_page=True)
    page.locator("#check-no input").fill("4")
    page.locator("#check-reviewer textarea").fill("督查员乙")
    page.locator("#check-comment textarea").fill("基地是全市第一个，不是全省")
    page.locator("#check-reject").click()
    page.wait_for_function(
        "document.querySelector('#check-msg textarea').value.startsWith('已记录')",
        timeout=30_000,
    )
    assert "督查员乙 驳回 核稿第4句" in page.locator("#check-msg textarea").input_value()
    entry = json.loads(audit_log.read_text(encoding="utf-8").splitlines()[-1])
    assert entry["kind"] == "check" and entry["decision"] == "reject"
    assert entry["claim"]["verdict"] == "not_found" and "无人机基地" in entry["claim"]["text"]
    assert entry["text"].startswith("江华瑶族自治县水口镇人民政府")
    page.close()


@pytest.fixture(scope="module")
def county_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The samples and 水口镇's report of the year before (tests/test_compare.py builds it:
    other figures, plans one of which is done, one never mentioned, one copied)."""
    from test_compare import SHUIKOU, earlier_year

    from ui.app import build_app
    from ui.guard import Access

    tmp = tmp_path_factory.mktemp("county")
    reports = tmp / "reports"
    shutil.copytree(ROOT / "data" / "reports", reports)
    text = (reports / SHUIKOU).read_text(encoding="utf-8")
    (reports / "100_shuikou_2023.txt").write_text(earlier_year(text), encoding="utf-8")
    build_index(reports, tmp / "index", None, ChunkerSettings())
    settings = Settings(embed_model="none", llm_backend="none")
    pipeline = open_pipeline(settings, tmp / "index")
    access = Access()
    demo = build_app(pipeline, tmp / "audit.jsonl", settings=settings, anonymous_edits=True,
                     access=access)  # fmt: skip
    yield serve_ui(demo, access, pipeline=pipeline)
    demo.close()


def test_the_county_view_table_trend_and_copied_text(county_url: str, browser, shots: Path) -> None:  # type: ignore[no-untyped-def]
    """汇总: a table of the indicators across the reports, each figure with its sentence (on
    hover and listed), exported to Excel; 水口镇 year over year with last year's plans; and the
    text the two 水口镇 reports share."""
    import io

    from openpyxl import load_workbook

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(county_url, wait_until="load")
    page.get_by_role("tab", name="汇总").click()
    page.locator("#indicators textarea").fill("执法培训次数，行政复议案件数，法律顾问")
    page.locator("#table-btn").click()
    page.wait_for_selector("#county-grid", timeout=30_000)
    rows = page.locator("#county-grid tr")
    assert rows.count() == 7  # the header, the five samples and 水口镇 2023
    shuikou = page.locator("#county-grid tr", has_text="水口镇（2024年）")
    cell = shuikou.locator("td.stated").first
    assert cell.inner_text() == "15次"
    assert "执法培训15次" in (cell.get_attribute("title") or "")
    assert "未载明" in page.locator("#county-grid").inner_text()
    assert "执法培训15次" in page.locator(".county-cites").inner_text()
    page.screenshot(path=str(shots / "county-table.png"), full_page=True)
    page.locator("#table-export").click()
    link = page.locator("#table-export-file a").first
    link.wait_for(timeout=15_000)
    book = load_workbook(
        io.BytesIO(page.request.get(urljoin(county_url, link.get_attribute("href") or "")).body())
    )
    assert book.sheetnames == ["汇总", "引文", "合计"]

    page.locator("#trend-place textarea").fill("水口镇")
    page.locator("#trend-btn").click()
    page.wait_for_selector("#promises", timeout=30_000)
    assert "10次 → 15次（+5次）" in page.locator("#trend-out").inner_text()
    verdicts = page.locator("#promises tr td:first-child").all_inner_texts()
    assert verdicts == ["已见落实", "未见提及", "表述相同"]
    assert "执法培训15次" in page.locator(".promise-kept").inner_text()
    page.locator("#trend-out").screenshot(path=str(shots / "county-trend.png"))

    page.locator("#similar-btn").click()
    page.wait_for_selector("#similar-shares", timeout=30_000)
    shares = page.locator("#similar-shares").inner_text()
    assert "水口镇（2023年）" in shares and "本地往年" in page.locator("#similar-out").inner_text()
    box = page.locator("#similar-out").bounding_box()
    assert box is not None
    page.screenshot(path=str(shots / "county-similar.png"), full_page=True,
                    clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": 520})  # fmt: skip
    page.close()
