"""OFD files (rag/ingest/ofd.py): files the tests build the way OFD writers lay them out (a zip
of OFD.xml, Document.xml and a Content.xml per page, text objects placed in millimetres),
read in page order; damaged and empty ones give a clear error naming the file while the other
reports are indexed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from conftest import SAMPLES, needs_font, needs_ocr
from eval.scan import page_images
from rag.errors import IngestError
from rag.index.build import build_index
from rag.ingest.chunk import ChunkerSettings
from rag.ingest.ofd import ofd_pages
from rag.ingest.reader import load_report

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
PAGE_WIDTH, SIZE = 210.0, 4.2  # A4 in mm; 12-pt text is 4.2 mm
PER_LINE = 40  # characters of a full line


def _content(paragraphs: list[str]) -> str:
    """A page's Content.xml: each paragraph cut into lines of PER_LINE characters, one text
    object per line (as writers do), the first line indented by two characters."""
    objects, y, oid = [], 30.0, 100
    for para in paragraphs:
        text, first = para, True
        while text:
            width = PER_LINE - (2 if first else 0)
            line, text = text[:width], text[width:]
            x = 25.0 + (2 * SIZE if first else 0.0)
            deltas = " ".join([str(SIZE)] * (len(line) - 1))
            objects.append(
                f'<ofd:TextObject ID="{oid}" Boundary="{x} {y} {len(line) * SIZE} {SIZE * 1.5}" '
                f'Font="3" Size="{SIZE}"><ofd:TextCode X="0" Y="{SIZE}" DeltaX="{deltas}">'
                f"{line}</ofd:TextCode></ofd:TextObject>"
            )
            oid, y, first = oid + 1, y + SIZE * 1.8, False
    layer = "".join(objects)
    return f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {NS}><ofd:Content><ofd:Layer ID="2">{layer}</ofd:Layer></ofd:Content></ofd:Page>'


def make_ofd(
    pages: list[list[str]], absolute: bool = False, scans: dict[int, list[bytes]] | None = None
) -> bytes:
    """An OFD of `pages` (paragraphs each); `scans`: pages (0-based) that hold these images
    instead (PNG bytes, one ImageObject each, as a scanner's OFD writes them)."""
    scans = scans or {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "OFD.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {NS} Version="1.0" DocType="OFD">'
            "<ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
        refs = "".join(
            f'<ofd:Page ID="{i + 1}" BaseLoc="{"/Doc_0/" if absolute else ""}Pages/Page_{i}/Content.xml"/>'
            for i in range(len(pages))
        )
        zf.writestr(
            "Doc_0/Document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {NS}><ofd:CommonData>'
            f"<ofd:PageArea><ofd:PhysicalBox>0 0 {PAGE_WIDTH} 297</ofd:PhysicalBox></ofd:PageArea>"
            "<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>"
            '<ofd:TemplatePage ID="9" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData>'
            f"<ofd:Pages>{refs}</ofd:Pages></ofd:Document>",
        )
        media = "".join(
            f'<ofd:MultiMedia ID="{500 + 10 * n + j}" Type="Image"><ofd:MediaFile>'
            f"image_{n}_{j}.png</ofd:MediaFile></ofd:MultiMedia>"
            for n, images in scans.items()
            for j in range(len(images))
        )
        zf.writestr(
            "Doc_0/DocumentRes.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {NS} BaseLoc="Res">'
            f"<ofd:MultiMedias>{media}</ofd:MultiMedias></ofd:Res>",
        )
        for n, images in scans.items():
            for j, png in enumerate(images):
                zf.writestr(f"Doc_0/Res/image_{n}_{j}.png", png)
        zf.writestr("Doc_0/Tpls/Tpl_0/Content.xml", _content(["政务公开网 版权所有"]))
        for i, paras in enumerate(pages):
            content = _scanned(i, len(scans[i])) if i in scans else _content(paras)
            zf.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", content)
    return buf.getvalue()


def _scanned(page: int, images: int) -> str:
    """A page's Content.xml holding only images, stacked top to bottom."""
    height = 297.0 / images
    objects = "".join(
        f'<ofd:ImageObject ID="{900 + j}" ResourceID="{500 + 10 * page + j}" '
        f'Boundary="0 {j * height} {PAGE_WIDTH} {height}" CTM="{PAGE_WIDTH} 0 0 {height} 0 0"/>'
        for j in range(images)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {NS}><ofd:Content><ofd:Layer ID="2">{objects}</ofd:Layer></ofd:Content></ofd:Page>'


def _paragraphs(name: str) -> list[str]:
    return [
        p.strip() for p in (SAMPLES / name).read_text(encoding="utf-8").splitlines() if p.strip()
    ]


WAWU = "001_e78c042d1c9dcf59.txt"


@pytest.mark.parametrize("absolute", [False, True])
def test_an_ofd_reads_page_by_page_one_paragraph_per_line(absolute: bool) -> None:
    paras = _paragraphs(WAWU)
    half = len(paras) // 2
    read = ofd_pages(make_ofd([paras[:half], paras[half:]], absolute), "r.ofd")
    pages = [p.text for p in read.pages]
    assert read.recognized == frozenset()
    assert pages == ["\n".join(paras[:half]), "\n".join(paras[half:])]
    assert "版权所有" not in "".join(pages)  # the page template is no report text


def test_an_ofd_report_has_its_pages_and_metadata(tmp_path: Path) -> None:
    paras = _paragraphs(WAWU)
    path = tmp_path / "wawu.ofd"
    path.write_bytes(make_ofd([paras[:5], paras[5:]]))
    report = load_report(path)
    assert [(p.number, p.recognized) for p in report.pages] == [(1, False), (2, False)]
    assert report.text[report.pages[1].start : report.pages[1].end] == "\n".join(paras[5:])
    assert (report.meta.title, report.meta.year, report.meta.places.town) == (
        "鲁山县瓦屋镇人民政府关于2023年法治政府建设情况的报告", 2023, "瓦屋镇",
    )  # fmt: skip


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"PK\x03\x04 truncated", "不是可读的 .ofd 文件"),
        (b"", "不是可读的 .ofd 文件"),
        (_zip({"OFD.xml": "<ofd:OFD " + NS + "><ofd:DocBody/></ofd:OFD>"}), "没有指明文档"),
        (
            _zip(
                {
                    "OFD.xml": f"<ofd:OFD {NS}><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml"
                    "</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
                }
            ),
            "缺少 Doc_0/Document.xml",
        ),  # fmt: skip
        (_zip({"OFD.xml": "<not xml"}), "OFD.xml 不是有效的 XML"),
        (make_ofd([[], []]), "OFD 中没有文字"),
    ],
)
def test_a_damaged_or_empty_ofd_says_what_is_wrong(data: bytes, error: str) -> None:
    with pytest.raises(IngestError, match=error):
        ofd_pages(data, "bad.ofd")


def test_an_entity_bomb_is_not_expanded() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "哈哈哈哈哈哈哈哈哈哈">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        f"<ofd:Page {NS}><ofd:Content><ofd:Layer>"
        '<ofd:TextObject Boundary="25 30 100 6" Size="4.2"><ofd:TextCode X="0" Y="4.2">&c;全年开展执法培训15次'
        "</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>"
    )
    data = make_ofd([["x"]])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n).decode() for n in zf.namelist()}
    files["Doc_0/Pages/Page_0/Content.xml"] = bomb
    try:
        pages = ofd_pages(_zip(files), "bomb.ofd")
    except IngestError as e:
        assert "不是有效的 XML" in e.reason
    else:
        assert "哈" not in pages.pages[0].text and "执法培训15次" in pages.pages[0].text


def test_a_damaged_ofd_is_skipped_and_the_others_are_indexed(tmp_path: Path) -> None:
    from rag.config import Settings
    from rag.factory import open_pipeline

    folder = tmp_path / "reports"
    folder.mkdir()
    for p in SAMPLES.glob("*.txt"):
        if p.name != WAWU:
            (folder / p.name).write_bytes(p.read_bytes())
    paras = _paragraphs(WAWU)
    (folder / "wawu.ofd").write_bytes(make_ofd([paras[:6], paras[6:]]))
    (folder / "broken.ofd").write_bytes(b"PK\x03\x04 not an ofd at all")
    summary = build_index(folder, tmp_path / "index", None, ChunkerSettings())
    assert "wawu.ofd" in summary.new_reports and len(summary.new_reports) == 5
    assert dict(summary.skipped)["broken.ofd"].startswith("不是可读的 .ofd 文件")
    answer = open_pipeline(
        Settings(embed_model="none", llm_backend="none"), tmp_path / "index"
    ).ask("瓦屋镇党委会专题研究法治建设开了几次？")
    assert "3次" in answer.text
    cited = [c for c in answer.citations if c.source == "wawu.ofd"]
    assert cited and all(c.page in (1, 2) and not c.recognized for c in cited)


def test_compressed_glyph_steps_are_expanded() -> None:
    from rag.ingest.ofd import _numbers

    assert _numbers("g 3 2.5 1") == [2.5, 2.5, 2.5, 1.0]
    assert _numbers("4.2 g 2 3 x 1") == [4.2, 3.0, 3.0, 1.0]
    assert _numbers("25, 30 100 6") == [25.0, 30.0, 100.0, 6.0] and _numbers(None) == []


def _png(image) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@needs_ocr
@needs_font
@pytest.mark.integration
def test_a_scanned_ofd_is_read_by_ocr_and_its_pages_say_so(tmp_path: Path) -> None:
    """A signed copy saved as OFD: page 1 has its text, page 2 only the scanned image of the
    rest (split in two images, read top to bottom). The recognised page is marked, its text
    nearly the report's, and the metadata read as from the text version."""
    import difflib

    paras = _paragraphs(WAWU)
    rest = "\n".join(paras[5:])
    images = page_images(rest)[:1]
    upper, lower = (images[0].crop((0, 0, images[0].width, images[0].height // 2)),
                    images[0].crop((0, images[0].height // 2, images[0].width, images[0].height)))  # fmt: skip
    path = tmp_path / "wawu.ofd"
    seen: list[tuple[int, int]] = []
    path.write_bytes(make_ofd([paras[:5], []], scans={1: [_png(upper), _png(lower)]}))
    report = load_report(path, lambda d, t: seen.append((d, t)))
    assert seen == [(1, 2), (2, 2)]
    assert [(p.number, p.recognized) for p in report.pages] == [(1, False), (2, True)]
    shown = report.text[report.pages[1].start : report.pages[1].end]
    printed = rest[: len(shown) + 40]
    assert difflib.SequenceMatcher(None, shown[:200], printed[:200]).ratio() > 0.9
    assert report.meta.places.town == "瓦屋镇" and report.meta.year == 2023


def test_an_ofd_of_images_only_without_ocr_says_how_to_install_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from rag.ingest import ocr

    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(IngestError, match="只有图片"):
        ofd_pages(make_ofd([[]], scans={0: [b"not read"]}), "scan.ofd")


@needs_ocr
def test_a_broken_scan_loses_its_page_not_the_file(caplog: pytest.LogCaptureFixture) -> None:
    """One unreadable image: the other pages are read and the log names the page; an OFD
    with nothing else to read is refused, naming the page."""
    data = make_ofd([["第一页的文字，全镇开展普法活动15场。"], []], scans={1: [b"\x89PNG broken"]})
    read = ofd_pages(data, "broken.ofd")
    assert "普法活动15场" in read.pages[0].text and not read.pages[1].text
    assert read.recognized == frozenset() and "第 2 页的图片" in caplog.text
    with pytest.raises(IngestError, match="第 1 页的图片"):
        ofd_pages(make_ofd([[]], scans={0: [b"\x89PNG broken"]}), "only.ofd")


@needs_ocr
@needs_font
@pytest.mark.integration
def test_a_scan_named_in_the_pages_own_resources_is_read(tmp_path: Path) -> None:
    """A page may list its images in its own PageRes (not the document's DocumentRes)."""
    paras = _paragraphs(WAWU)
    image = page_images("\n".join(paras[5:]))[0]
    data = make_ofd([paras[:5], []], scans={1: [_png(image)]})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    res = files.pop("Doc_0/DocumentRes.xml").decode()
    files["Doc_0/DocumentRes.xml"] = res.split("<ofd:MultiMedias>")[0].encode() + b"</ofd:Res>"
    files["Doc_0/Pages/Page_1/PageRes.xml"] = res.replace(
        'BaseLoc="Res"', 'BaseLoc="../../Res"'
    ).encode()
    page = files["Doc_0/Pages/Page_1/Content.xml"].decode()
    files["Doc_0/Pages/Page_1/Content.xml"] = page.replace(
        "<ofd:Content>", "<ofd:PageRes>PageRes.xml</ofd:PageRes><ofd:Content>"
    ).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in files.items():
            zf.writestr(n, b)
    read = ofd_pages(buf.getvalue(), "pageres.ofd")
    assert read.recognized == frozenset({1}) and len(read.pages[1].text) > 100
