from pathlib import Path

import pytest

from rag.errors import IngestError
from rag.ingest.reader import discover, load_report, read_text

BODY = (
    "水口镇人民政府关于2024年法治政府建设情况的报告\n"
    "一、主要举措和成效\n"
    "（一）严格执法\n"
    "2024年以来,对执法人员共进行执法培训15次,法律法规知识测试6次。\n"
)


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"]
)
def test_text_encodings_decode_to_the_same_text(tmp_path: Path, encoding: str) -> None:
    text = BODY * 3  # detection needs a little text; reports are far longer
    path = tmp_path / f"r-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    decoded = read_text(path)
    assert decoded.text.lstrip("\ufeff") == text
    report = load_report(path)
    assert report.meta.places.town == "水口镇"


def test_markdown_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text("# " + BODY, encoding="gb18030")
    report = load_report(path)
    assert report.encoding == "gb18030" and "执法培训15次" in report.text


def test_docx(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    for line in BODY.splitlines():
        document.add_paragraph(line)
    path = tmp_path / "r.docx"
    document.save(str(path))
    table = document.add_table(rows=2, cols=3)
    for i, cells in enumerate([("项目", "次数", "人数"), ("执法培训", "15", "120")]):
        for j, value in enumerate(cells):
            table.cell(i, j).text = value
    document.save(str(path))
    report = load_report(path)
    assert report.encoding == "docx"
    assert "执法培训15次" in report.text
    assert "项目\t次数\t人数\n执法培训：次数 15，人数 120。" in report.text
    assert not report.noise  # a data table is content, not a web-page index table
    assert report.meta.title == "水口镇人民政府关于2024年法治政府建设情况的报告"


def test_a_docx_table_is_read_in_place_each_row_with_its_header(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("水口镇人民政府关于2024年法治政府建设情况的报告")
    document.add_paragraph("一、主要数据")
    table = document.add_table(rows=4, cols=3)
    rows = [("项目", "2023年", "2024年"), ("行政复议案件", "5件", "7件"),
            ("执法培训", "12次", ""), ("合计", "", "")]  # fmt: skip
    for i, cells in enumerate(rows):
        for j, value in enumerate(cells):
            table.cell(i, j).text = value
    merged = document.add_table(rows=2, cols=3)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "指标"
    merged.cell(0, 2).text = "数值"
    merged.cell(1, 0).text, merged.cell(1, 1).text, merged.cell(1, 2).text = "调解", "成功率", "98%"
    document.add_paragraph("二、下一步打算")
    path = tmp_path / "t.docx"
    document.save(str(path))
    report = load_report(path)
    lines = report.text.splitlines()
    assert lines[1:7] == [
        "一、主要数据",
        "项目\t2023年\t2024年",
        "行政复议案件：2023年 5件，2024年 7件。",  # the figure with what it counts, in place
        "执法培训：2023年 12次。",
        "合计",
        "指标\t数值",  # a cell merged across two columns once
    ]
    assert lines[7] == "调解：指标 成功率，数值 98%。" and lines[-1] == "二、下一步打算"
    assert not report.noise


def test_a_pdf_table_is_read_in_place_each_row_with_its_header(tmp_path: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("zh", fontName="STSong-Light", fontSize=11, leading=16)
    table = Table([["项目", "2023年", "2024年"], ["行政复议案件", "5件", "7件"],
                   ["执法培训", "12次", None]])  # fmt: skip
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                               ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))  # fmt: skip
    path = tmp_path / "t.pdf"
    SimpleDocTemplate(str(path)).build([
        Paragraph("水口镇人民政府关于2024年法治政府建设情况的报告", style),
        Paragraph("一、主要数据", style),
        table,
        Paragraph("二、下一步打算：全年开展执法培训20次。", style),
    ])  # fmt: skip
    report = load_report(path)
    assert report.text.splitlines() == [
        "水口镇人民政府关于2024年法治政府建设情况的报告",
        "一、主要数据",
        "项目\t2023年\t2024年",
        "行政复议案件：2023年 5件，2024年 7件。",  # in place, each figure with what it counts
        "执法培训：2023年 12次。",
        "二、下一步打算：全年开展执法培训20次。",
    ]
    assert report.pages[0].end == len(report.text) and not report.noise


def test_pdf_text_layer(tmp_path: Path) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "r.pdf"
    c = canvas.Canvas(str(path))
    c.setFont("STSong-Light", 11)
    for i, line in enumerate(BODY.splitlines()):
        c.drawString(40, 800 - 18 * i, line)
    c.save()
    report = load_report(path)
    assert "执法培训15次" in report.text
    assert report.meta.year == 2024


def test_html_drops_scripts_and_footer(tmp_path: Path) -> None:
    html = (
        "<html><head><title>t</title><script>var x=1;</script></head><body>"
        + "".join(f"<p>{line}</p>" for line in BODY.splitlines())
        + "<footer>版权所有 某某网站</footer><p>公安机关备案号:43112902000012</p></body></html>"
    )
    path = tmp_path / "r.html"
    path.write_text(html, encoding="gb18030")
    report = load_report(path)
    assert "var x" not in report.text
    assert "执法培训15次" in report.text
    noise = [report.text[s.start : s.end] for s in report.noise]
    assert any("备案号" in n for n in noise)


def test_noise_lines_are_spans_of_the_original_text() -> None:
    report = load_report(Path(__file__).parent.parent / "data/reports/002_437bbe3c0d589296.txt")
    noise = [report.text[s.start : s.end] for s in report.noise]
    assert noise[0].startswith("索 引 号 | 014351098/2025-00011")
    assert len(noise) == 5 and all("|" in n for n in noise)
    bookmark = load_report(Path(__file__).parent.parent / "data/reports/004_ec6daf499c9a8590.txt")
    assert [bookmark.text[s.start : s.end] for s in bookmark.noise] == ["[bookmark: _GoBack]"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "文件是空的"),
        ("blank.txt", b"  \n\n ", "文件是空的"),
        ("corrupt.docx", b"PK\x03\x04 not really a zip", "不是可读的 .docx"),
        ("corrupt.pdf", b"%PDF-1.4 garbage", "不是可读的 .pdf"),
        ("binary.txt", bytes(range(256)) * 4, "二进制数据"),
        ("short.txt", "报告".encode(), "不是报告"),
        ("slides.pptx", b"whatever", "不支持的文件类型 .pptx"),
    ],
)
def test_bad_files_raise_errors_naming_file_and_reason(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as err:
        load_report(path)
    assert err.value.path == name
    assert reason in str(err.value)


def test_discover_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / ".DS_Store").write_bytes(b"x")
    (tmp_path / "b.txt").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    assert [p.name for p in discover(tmp_path)] == ["a.txt", "b.txt"]
    with pytest.raises(IngestError, match="报告文件夹不存在"):
        discover(tmp_path / "missing")


def test_a_utf8_bom_before_gbk_text_is_read_as_gbk() -> None:
    from rag.ingest.reader import decode_bytes

    text = "测试镇人民政府关于2024年法治政府建设情况的报告。开展普法活动6场。"
    out = decode_bytes(b"\xef\xbb\xbf" + text.encode("gbk"), "b.txt")
    assert out.text == text and out.encoding == "gb18030"
