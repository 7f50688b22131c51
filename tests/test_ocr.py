"""Scanned reports read by OCR (rag/ingest/ocr.py, rag/ingest/reader.py): the layout of the
recognised lines, which text layers are no text, and scans of the sample reports (rendered by
eval/scan.py as image-only PDFs) indexed, answered and cited to their page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from conftest import SAMPLES, needs_font, needs_ocr
from eval.scan import page_images, scanned_copy, write_pdf
from rag.errors import IngestError
from rag.index.build import build_index
from rag.ingest import ocr, pdf, reader
from rag.ingest.chunk import ChunkerSettings
from rag.ingest.ocr import Piece, layout
from rag.types import Citation

WAWU = "001_e78c042d1c9dcf59"


def _piece(text: str, x0: float, y0: float, x1: float, h: float = 30) -> Piece:
    return Piece(text, x0, y0, x1, y0 + h)


def test_the_lines_of_a_paragraph_are_joined_and_a_heading_starts_its_own() -> None:
    pieces = [
        _piece("一、主要举措", 100, 100, 400),  # short: a heading line
        _piece("全年开展执法培训15次，参训人员", 160, 150, 1500),  # runs to the margin: goes on
        _piece("1305人次。", 100, 200, 400),
        _piece("二、存在的不足", 100, 250, 420),
    ]
    page = layout(pieces)
    assert page.text == "一、主要举措\n全年开展执法培训15次，参训人员1305人次。\n二、存在的不足"
    assert not page.goes_on  # its last line is short: the paragraph ends on this page


def test_a_paragraph_that_runs_to_the_foot_of_a_page_goes_on_on_the_next() -> None:
    from rag.ingest.pdf import paged as _paged

    first = layout(
        [_piece("一、主要举措", 100, 100, 400), _piece("全年开展执法培训", 160, 150, 1500)]
    )
    assert first.goes_on
    text, pages = _paged([first.text, "15次。\n二、存在的不足", "三、下一步"], {0, 1, 2}, {0, 1})
    assert text == "一、主要举措\n全年开展执法培训15次。\n二、存在的不足\n三、下一步"
    assert [text[p.start : p.end] for p in pages] == [
        first.text,
        "15次。\n二、存在的不足",
        "三、下一步",
    ]


def test_a_ruled_table_row_that_reaches_the_margin_is_a_line_of_its_own() -> None:
    pieces = [_piece("索引号|014351098/2025-00011|发布机构|县政府办|公开日期|2025-03-07", 100, 100, 1500),
              _piece("文号|主题分类|政府工作报告", 100, 150, 700)]  # fmt: skip
    assert layout(pieces).text.splitlines()[1] == "文号|主题分类|政府工作报告"


def test_a_full_line_before_an_outline_number_ends_its_paragraph() -> None:
    pieces = [_piece("办结率100%，群众满意度明显提升，", 100, 100, 1500),
              _piece("（二）强化执法监督", 100, 150, 600)]  # fmt: skip
    assert layout(pieces).text == "办结率100%，群众满意度明显提升，\n（二）强化执法监督"


def test_pieces_of_one_line_are_read_left_to_right_and_a_wide_gap_is_a_space() -> None:
    pieces = [
        _piece("5件", 900, 102, 980),  # a table's third column, found first
        _piece("行政复议案件", 100, 100, 300),
        _piece("2023年", 400, 98, 500),
        _piece("下一行", 100, 160, 200),
    ]
    assert layout(pieces).text == "行政复议案件 2023年 5件\n下一行"


@pytest.mark.parametrize(
    ("text", "garbled"),
    [
        ("", True),
        ("   \n ", True),
        ("(cid:12)(cid:45)(cid:78)(cid:90)", True),  # glyph ids, no Unicode map
        ("ÕâÊÇÒ»·Ý±¨¸æ£¬ÎÒÕò¿ªÕ¹Ö´·¨ÅàÑµ", True),  # GBK bytes read as Latin-1
        ("\ue001\ue002\ue003\ue004\ue005\ue006", True),  # private-use glyphs
        ("全年开展执法培训15次，参训人员1305人次。", False),
        ("Annual report of the town government, page 2", False),
        ("- 3 -", False),  # a page with only its number is a page, not a scan
    ],
)
def test_a_text_layer_that_is_no_text_is_told(text: str, garbled: bool) -> None:
    assert pdf.garbled(text) is garbled


def test_without_the_ocr_extra_a_scan_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    monkeypatch.setattr(ocr, "available", lambda: False)
    path = tmp_path / "scan.pdf"
    Image.new("RGB", (200, 200), "white").save(path, "PDF")
    with pytest.raises(IngestError, match=r"扫描件.*pip install -e '\.\[ocr\]'"):
        reader.read_text(path)
    png = tmp_path / "scan.png"
    Image.new("RGB", (200, 200), "white").save(png)
    with pytest.raises(IngestError, match=r"pip install -e '\.\[ocr\]'"):
        reader.read_text(png)


def test_a_citation_of_a_recognised_page_says_so() -> None:
    base = dict(n=1, claim=0, source="a.pdf", title="t", section="", start=0, end=5, text="x",
                support_start=0, support_end=1, support_text="x")  # fmt: skip
    assert Citation(**base, page=2, recognized=True).where == "第2页，识别文字"  # type: ignore[arg-type]
    assert Citation(**base, page=3).where == "第3页"  # type: ignore[arg-type]
    assert Citation(**base).where == ""  # type: ignore[arg-type]


@needs_ocr
@needs_font
@pytest.mark.integration
def test_a_scanned_report_is_read_page_by_page_like_its_text(tmp_path: Path) -> None:
    text = (SAMPLES / f"{WAWU}.txt").read_text(encoding="utf-8")
    pages = scanned_copy(SAMPLES / f"{WAWU}.txt", tmp_path / f"{WAWU}.pdf")
    seen: list[tuple[int, int]] = []
    report = reader.load_report(tmp_path / f"{WAWU}.pdf", lambda d, t: seen.append((d, t)))
    assert seen == [(i, pages) for i in range(1, pages + 1)] and pages >= 2
    assert [p.number for p in report.pages] == list(range(1, pages + 1))
    assert all(p.recognized for p in report.pages)
    assert all(report.text[p.start : p.end].strip() for p in report.pages)
    assert (report.meta.title, report.meta.year, report.meta.places.town) == (
        "鲁山县瓦屋镇人民政府关于2023年法治政府建设情况的报告", 2023, "瓦屋镇",
    )  # fmt: skip
    # one paragraph per line, as the text file has them; the characters nearly all the same
    import difflib

    paragraphs = [p for p in text.splitlines() if p.strip()]
    assert abs(len(report.text.splitlines()) - len(paragraphs)) <= 2
    assert difflib.SequenceMatcher(None, report.text, "\n".join(paragraphs)).ratio() > 0.97


@needs_ocr
@needs_font
@pytest.mark.integration
def test_a_scan_is_indexed_with_the_others_and_its_answers_cite_the_page(tmp_path: Path) -> None:
    from rag.config import Settings
    from rag.factory import open_pipeline

    folder = tmp_path / "reports"
    folder.mkdir()
    for path in SAMPLES.glob("*.txt"):
        if path.stem != WAWU:
            (folder / path.name).write_bytes(path.read_bytes())
    scanned_copy(SAMPLES / f"{WAWU}.txt", folder / f"{WAWU}.pdf")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    stages: list[str] = []
    summary = build_index(folder, tmp_path / "index", None, ChunkerSettings(),
                          progress=lambda stage, d, t: stages.append(stage))  # fmt: skip
    assert f"{WAWU}.pdf" in summary.new_reports and "ocr" in stages
    assert dict(summary.skipped)["broken.png"].startswith("不是可读的图片")
    pipeline = open_pipeline(Settings(embed_model="none", llm_backend="none"), tmp_path / "index")
    answer = pipeline.ask("瓦屋镇党委会专题研究法治建设开了几次？")
    assert "3次" in answer.text
    cited = [c for c in answer.citations if c.source == f"{WAWU}.pdf"]
    assert cited and all(c.recognized and c.page for c in cited)
    report = pipeline.reports[f"{WAWU}.pdf"]
    for c in cited:  # the quote is the stored text at its offsets, on the page it names
        assert report.text[c.support_start : c.support_end] == c.support_text
        page = report.pages[c.page - 1]  # type: ignore[operator]
        assert page.start <= c.support_start < page.end
    shown = [c for c in answer.to_dict()["citations"] if c["source"] == f"{WAWU}.pdf"]
    assert shown and all(c["recognized"] is True and c["page"] >= 1 for c in shown)


@needs_ocr
@needs_font
@pytest.mark.integration
def test_only_the_pages_without_a_usable_text_layer_are_recognised(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    text_page, glyph_page = io.BytesIO(), io.BytesIO()
    c = canvas.Canvas(text_page)
    c.drawString(72, 720, "Report of the town government, page one: 15 trainings held.")
    c.save()
    c = canvas.Canvas(glyph_page)  # a text layer of glyph ids over nothing readable
    c.drawString(72, 720, "(cid:12)(cid:45)(cid:78)(cid:90)(cid:11)")
    c.save()
    scan = io.BytesIO()
    write_pdf(page_images("我镇全年开展执法培训15次，参训人员1305人次。")[:1], tmp_path / "s.pdf")
    scan.write((tmp_path / "s.pdf").read_bytes())
    writer = PdfWriter()
    for data in (text_page, glyph_page, scan):
        writer.add_page(PdfReader(io.BytesIO(data.getvalue())).pages[0])
    path = tmp_path / "mixed.pdf"
    with path.open("wb") as f:
        writer.write(f)
    text, pages = pdf.pdf_text(path.read_bytes(), path.name)
    assert [p.recognized for p in pages] == [False, True, True]
    assert "15 trainings" in text[pages[0].start : pages[0].end]
    assert "执法培训15次" in text[pages[2].start : pages[2].end]


def test_a_sentence_at_the_head_of_a_page_is_on_that_page() -> None:
    from rag.ingest.pdf import paged as _paged
    from rag.types import Places, Report, ReportMeta

    text, pages = _paged(["一、甲\n全年开展执法", "培训15次。\n二、乙", "三、丙"], set(), {0})
    report = Report("a.pdf", text, ReportMeta("t", False, None, Places(), None, None, None, None),
                    "pdf", pages=pages)  # fmt: skip
    assert pages[0].end == pages[1].start  # the paragraph runs on: no break between the pages
    assert [report.page_at(p.start).number for p in pages] == [1, 2, 3]  # type: ignore[union-attr]
    assert report.page_at(pages[1].start - 1).number == 1  # type: ignore[union-attr]
    assert report.page_at(len(text)).number == 3  # type: ignore[union-attr]


@needs_ocr
def test_a_file_with_more_pages_than_ocr_may_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    monkeypatch.setattr(ocr, "MAX_PAGES", 1)
    path = tmp_path / "two.tif"
    pages = [Image.new("L", (100, 100), 255) for _ in range(2)]
    pages[0].save(path, save_all=True, append_images=pages[1:])
    with pytest.raises(IngestError, match="超过识别 1 页的上限"):
        reader.read_text(path)
