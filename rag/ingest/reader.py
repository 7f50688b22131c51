"""Read report files of every format into text, and find the spans that are not report content.

The text a report keeps is the decoded file text (for .docx/.pdf/.html the extracted text);
cleaning never rewrites it: it only records noise spans, so every offset maps back exactly.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from rag.errors import IngestError
from rag.ingest import ocr
from rag.ingest.metadata import extract_meta
from rag.ingest.ofd import ofd_pages
from rag.lang import lexicon
from rag.lang.script import simplified, word_pair_share
from rag.types import Page, Report, Span

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
# scans, read by OCR (rag/ingest/ocr.py); a multi-page .tif is one report of several pages
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
SUPPORTED_SUFFIXES = (
    *sorted(TEXT_SUFFIXES),
    ".docx",
    ".pdf",
    ".ofd",
    *sorted(HTML_SUFFIXES),
    *sorted(IMAGE_SUFFIXES),
)
MIN_CHARS = 20  # fewer meaningful characters than this is not a report
# Text whose adjacent characters rarely make words is junk (rag.lang.script.word_pair_share):
# random bytes that happen to decode, characters strung at random. Judged on 100 pairs or more.
JUNK_MIN_PAIRS = 100
JUNK_MAX_SHARE = 0.15

_LEX = lexicon()  # rag/lang/data/metadata.toml
# Whole lines that are page furniture, not report content: a row of the index table (a line
# that starts with one of its labels: 索引号 …, 发布时间：…) or a page_line (footers, breadcrumbs,
# print/close buttons, site names).
_LABELS = "|".join(r"\s*".join(k) for k in sorted(_LEX["meta_field"].words, key=len, reverse=True))
# Matched against the stripped line (fullmatch): a leading \s* before alternatives that may
# start with \s* themselves backtracks quadratically on a long run of spaces.
_NOISE_LINE = re.compile(rf"(?:(?:{_LABELS})\s*[|:：].*|{_LEX['page_line'].alternation})", re.I)
# Markup left inside lines by converters.
INLINE_NOISE = re.compile(r"\[bookmark:[^\]]*\]|\[(?:image|pic):[^\]]*\]", re.I)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    # what a web page says of its site outside the text kept (its <title>, its <footer>):
    # evidence of the report's places (rag.ingest.metadata site lines), never report text
    site: tuple[str, ...] = ()
    pages: tuple[Page, ...] = ()  # a PDF's or a scan's pages (which were recognised by OCR)


def decode_bytes(data: bytes, name: str) -> Decoded:
    """Decode text bytes: BOMs, UTF-8, then detection (GBK/GB18030, UTF-16...)."""
    if not data.strip():
        raise IngestError(name, "文件是空的")
    for bom, enc in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return Decoded(data.decode(enc), enc)
            except UnicodeDecodeError:  # a BOM before text in another encoding (GBK)
                data = data[len(bom) :]
                break
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise IngestError(name, "识别不出文字编码（不是 UTF-8、GBK/GB18030 或 UTF-16？）")
    enc = best.encoding
    if enc in {"gbk", "gb2312", "hz"}:  # gb18030 is their superset
        enc = "gb18030"
    return Decoded(data.decode(enc), enc)


# A .docx is a zip: its parts together may inflate to at most this many bytes (checked from
# the zip's directory before any part is read). A 640 KB file inflating to 300 MB had taken
# the reader past 4 GB of memory; a real report's parts are a few MB (photos are JPEG inside).
MAX_UNZIPPED = 100 * 1024 * 1024


def _grid(row: Any) -> list[tuple[Any, str]]:
    """A table row by grid column: (the cell, its text); a merged cell fills its columns."""
    return [(cell._tc, " ".join(cell.text.split())) for cell in row.cells]


def _once(cells: list[tuple[Any, str]]) -> list[str]:
    """The texts of a row with a cell merged across columns once."""
    return [t for i, (tc, t) in enumerate(cells) if i == 0 or tc is not cells[i - 1][0]]


def _table_lines(table: Any) -> list[str]:
    """A .docx table where it stands, one line per row (`row_lines`)."""
    return row_lines([_grid(row) for row in table.rows])


def row_lines(grid: list[list[tuple[Any, str]]]) -> list[str]:
    """A table's rows by grid column, each cell (its identity, its text): a cell merged across
    columns is the same identity in each. The first row is the header, kept as a line of its
    own; each other row is a sentence that names its columns, so a figure in a cell is found,
    cited and checked with what it counts: 行政复议案件：2023年 5件，2024年 7件。 A table of one row
    or one column stays as it is. Cells are apart by tabs, never "|" (a "|" row is a web
    page's index table: is_noise_line)."""
    rows = [r for r in grid if any(t for _, t in r)]
    if len(rows) < 2 or max(len(_once(r)) for r in rows) < 2:
        return ["\t".join(_once(r)) for r in rows]
    header, out = rows[0], ["\t".join(_once(rows[0]))]
    for row in rows[1:]:
        parts = [
            f"{header[j][1] if j < len(header) else ''} {t}".strip()
            for j, (tc, t) in enumerate(row)
            if j > 0 and t and tc is not row[j - 1][0]
        ]
        label = row[0][1]
        out.append(
            f"{label}：{'，'.join(parts)}。" if parts else "\t".join(x for x in _once(row) if x)
        )
    return out


def _docx_text(data: bytes, name: str) -> str:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            inflated = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, ValueError) as e:
        raise IngestError(name, f"不是可读的 .docx 文件（{e}）") from e
    if inflated > MAX_UNZIPPED:
        raise IngestError(
            name,
            f"解压后有 {inflated / 2**20:.0f} MB，超过 {MAX_UNZIPPED / 2**20:.0f} MB 的上限"
            "（像是压缩炸弹）",
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise IngestError(name, f"不是可读的 .docx 文件（{e}）") from e
    from docx.table import Table

    lines: list[str] = []
    for block in document.iter_inner_content():  # paragraphs and tables in reading order
        lines += _table_lines(block) if isinstance(block, Table) else [block.text]
    return "\n".join(lines)


def _garbled(text: str) -> bool:
    """A page's text layer that is no text: empty, glyph ids (cid:12), characters that make
    no words, or mostly characters no Chinese page writes (a font without its Unicode map
    gives Latin-1 letters, private-use or replacement characters)."""
    s = "".join(text.split())
    if not s or s.count("(cid:") >= 3:
        return True
    pairs, share = word_pair_share(s)
    if pairs >= 30 and share < JUNK_MAX_SHARE:
        return True
    odd = sum(1 for c in s if "\x80" <= c <= "\xff" or "\ue000" <= c <= "\uf8ff" or c == "\ufffd")
    return odd > 0.3 * len(s)


def _paged(
    texts: list[str], recognized: AbstractSet[int], goes_on: AbstractSet[int] = frozenset()
) -> tuple[str, tuple[Page, ...]]:
    """The pages' texts with each page's span: a line break between pages, none after a page
    in `goes_on` (its last paragraph runs on into the next page, which opens no heading)."""
    pages, parts, pos = [], [], 0
    for i, t in enumerate(texts):
        glue = "" if i == 0 or (i - 1 in goes_on and not ocr.starts_paragraph(t)) else "\n"
        pos += len(glue)
        parts.append(glue + t)
        pages.append(Page(i + 1, pos, pos + len(t), i in recognized))
        pos += len(t)
    return "".join(parts), tuple(pages)


def _pdf_tables(data: bytes, pages: Iterable[int], name: str) -> dict[int, str]:
    """The text of each text-layer page (0-based) that holds a ruled table, read again by
    pdfplumber with its tables as rows in place (`row_lines`) between the lines around them,
    top to bottom. A page whose tables cannot be read keeps pypdf's text."""
    try:
        import pdfplumber
    except ImportError:
        return {}
    out: dict[int, str] = {}
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for i in pages:
                page = pdf.pages[i]
                tables = page.find_tables()
                if tables:
                    out[i] = _page_with_tables(page, tables)
    except Exception as e:  # pdfminer's errors on a PDF pypdf could read: keep pypdf's text
        logger.warning("%s: tables not read (%s)", name, e)
    return out


def _page_with_tables(page: Any, tables: list[Any]) -> str:
    boxes = [t.bbox for t in tables]

    def outside(obj: dict[str, Any]) -> bool:
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    lines = [(line["top"], line["text"]) for line in page.filter(outside).extract_text_lines()]
    for t in tables:
        grid = []
        for r, row in enumerate(t.extract()):
            cells: list[tuple[Any, str]] = []
            for j, text in enumerate(row):  # None: the cell is merged with the one before it
                cell = " ".join((text or "").split())  # a cell's own line breaks as spaces
                cells.append(cells[-1] if text is None and cells else ((r, j), cell))
            grid.append(cells)
        lines.append((t.bbox[1], "\n".join(row_lines(grid))))
    return "\n".join(text for _, text in sorted(lines, key=lambda x: x[0]))


def _pdf_text(
    data: bytes, name: str, progress: ocr.PageProgress | None = None
) -> tuple[str, tuple[Page, ...]]:
    """The text layer page by page; a page without a usable one (a scan, a font without its
    Unicode map) is read by OCR when the `ocr` extra is installed."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _decrypts(reader):
            raise IngestError(name, "PDF 已加密，没有密码无法读取")
        texts = [(page.extract_text() or "").rstrip("\n") for page in reader.pages]
    except (PdfReadError, ValueError, OSError, SystemError) as e:  # SystemError: a C parser
        raise IngestError(name, f"不是可读的 .pdf 文件（{e}）") from e
    scans = [i for i, t in enumerate(texts) if _garbled(t)]
    if len(scans) > ocr.MAX_PAGES and ocr.available():
        raise IngestError(name, f"有 {len(scans)} 页要识别，超过识别 {ocr.MAX_PAGES} 页的上限")
    recognized: set[int] = set()
    goes_on: set[int] = set()
    if scans and ocr.available():
        read = ocr.read_pages(ocr.pdf_pages(data, scans, name), len(scans), name, progress)
        for i in scans:
            texts[i] = read[i].text
        recognized = set(scans)
        goes_on = {i for i in scans if read[i].goes_on and i + 1 in recognized}
    elif scans and len(scans) == len(texts):
        raise IngestError(name, "PDF 没有可用的文字层（扫描件？）。" + ocr.INSTALL)
    elif scans:
        logger.warning("%s: pages %s have no text layer and OCR is not installed", name, scans)
    for i, text in _pdf_tables(
        data, (i for i in range(len(texts)) if i not in scans), name
    ).items():
        texts[i] = text
    text, pages = _paged(texts, recognized, goes_on)
    if not text.strip():
        raise IngestError(name, "PDF 没有文字：扫描页也没有识别出文字")
    return text, pages


def _image_text(
    data: bytes, name: str, progress: ocr.PageProgress | None = None
) -> tuple[str, tuple[Page, ...]]:
    """A scanned page (or a multi-page .tif), read by OCR."""
    from PIL import Image, ImageSequence

    if not ocr.available():
        raise IngestError(name, ocr.INSTALL)
    try:
        image = Image.open(io.BytesIO(data))
        n = getattr(image, "n_frames", 1)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise IngestError(name, f"不是可读的图片（{e}）") from e
    if n > ocr.MAX_PAGES:
        raise IngestError(name, f"图片有 {n} 页，超过识别 {ocr.MAX_PAGES} 页的上限")

    def frames() -> Iterator[tuple[int, Any]]:  # one page in memory at a time
        try:
            for i, frame in enumerate(ImageSequence.Iterator(image)):
                yield i, frame.copy()
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            raise IngestError(name, f"不是可读的图片（{e}）") from e

    read = ocr.read_pages(frames(), n, name, progress)
    goes_on = {i for i in range(n - 1) if read[i].goes_on}
    text, pages = _paged([read[i].text for i in range(n)], set(range(n)), goes_on)
    if not text.strip():
        raise IngestError(name, "图片中没有识别出文字")
    return text, pages


def _decrypts(reader) -> bool:  # type: ignore[no-untyped-def]
    """Whether an encrypted PDF opens with the empty password (AES needs `cryptography`)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # pypdf's DependencyError, NotImplementedError for unknown ciphers
        return False


def _html_text(data: bytes, name: str) -> Decoded:
    from bs4 import BeautifulSoup

    decoded = decode_bytes(data, name)
    soup = BeautifulSoup(decoded.text, "html.parser")
    site = tuple(
        line.strip()
        for tag in soup(["title", "footer"])
        for line in tag.get_text("\n").splitlines()
        if line.strip()
    )
    for tag in soup(["script", "style", "noscript", "head", "nav", "footer", "iframe"]):
        tag.decompose()
    for row in soup("tr"):  # a table row on one line: 索引号 | … | 发布机构 | … (an index row)
        cells = [c.get_text(" ", strip=True) for c in row.find_all(["td", "th"])]
        row.replace_with("\n" + " | ".join(c for c in cells if c) + "\n")
    raw = soup.get_text("\n")
    text = "\n".join(line.strip() for line in raw.splitlines() if line.strip())
    return Decoded(text, "html", site)


def may_need_ocr(path: Path) -> bool:
    """Whether reading the file may run OCR (a PDF's pages without text, an image)."""
    suffix = path.suffix.lower()
    return suffix in (".pdf", ".ofd") or suffix in IMAGE_SUFFIXES


def read_text(path: Path, progress: ocr.PageProgress | None = None) -> Decoded:
    """Decode or extract the text of one report file (`progress`: after each page that OCR
    reads)."""
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(
            name,
            f"不支持的文件类型 {suffix or '（无扩展名）'}，可用：" + "、".join(SUPPORTED_SUFFIXES),
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(name, f"无法读取文件（{e.strerror}）") from e
    if not data:
        raise IngestError(name, "文件是空的")
    if suffix in TEXT_SUFFIXES:
        if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            best = from_bytes(data).best()
            if best is None or not (best.encoding or "").startswith("utf_16"):
                raise IngestError(name, "文本文件里有二进制数据（文件损坏或扩展名不对）")
        decoded = decode_bytes(data, name)
    elif suffix == ".docx":
        decoded = Decoded(_docx_text(data, name), "docx")
    elif suffix == ".pdf":
        text, pages = _pdf_text(data, name, progress)
        decoded = Decoded(text, "pdf", pages=pages)
    elif suffix == ".ofd":
        read = ofd_pages(data, name, progress)
        goes_on = {i for i, p in enumerate(read.pages[:-1]) if p.goes_on}
        text, pages = _paged([p.text for p in read.pages], set(read.recognized), goes_on)
        decoded = Decoded(text, "ofd", pages=pages)
    elif suffix in IMAGE_SUFFIXES:
        text, pages = _image_text(data, name, progress)
        decoded = Decoded(text, "ocr", pages=pages)
    else:
        decoded = _html_text(data, name)
    if "\ufffd" in decoded.text[:2000] and decoded.text[:2000].count("\ufffd") > 5:
        raise IngestError(name, f"按 {decoded.encoding} 解码后是乱码")
    return decoded


def iter_lines(text: str) -> Iterable[tuple[int, int]]:
    """(start, end) of each line, without its line break."""
    pos = 0
    for raw in text.splitlines(keepends=True):
        yield pos, pos + len(raw.rstrip("\r\n"))
        pos += len(raw)


def is_noise_line(line: str) -> bool:
    """Index-table rows (also as pipe tables of short cells), site footers."""
    if _NOISE_LINE.fullmatch(line.strip()):
        return True
    cells = line.split("|")
    return len(cells) >= 3 and "。" not in line and all(len(c.strip()) <= 16 for c in cells)


def find_noise(text: str) -> list[Span]:
    """Spans of page furniture: index-table rows, footers, converter markup."""
    spans = [Span(a, b) for a, b in iter_lines(text) if a < b and is_noise_line(text[a:b])]
    spans += [Span(m.start(), m.end()) for m in INLINE_NOISE.finditer(text)]
    return sorted(spans, key=lambda s: s.start)


def load_report(path: Path, progress: ocr.PageProgress | None = None) -> Report:
    """Read one file into a Report with metadata; raises IngestError naming the file."""
    decoded = read_text(path, progress)
    original = decoded.text
    text = simplified(original)  # 繁體 is read as simplified; offsets are the same in both
    noise = find_noise(text)
    content = INLINE_NOISE.sub("", text)
    meaningful = len(re.findall(r"[\u4e00-\u9fff0-9A-Za-z]", content))
    if meaningful < MIN_CHARS:
        raise IngestError(path.name, f"只有 {meaningful} 个字，不是报告")
    pairs, share = word_pair_share(content)
    if pairs >= JUNK_MIN_PAIRS and share < JUNK_MAX_SHARE:
        raise IngestError(
            path.name,
            f"读出的汉字连不成词（相邻两字成词的只占 {share:.0%}，正常报告约 55%）："
            "像是乱码，编码不对或不是文本文件",
        )
    meta = extract_meta(text, noise, path.name, tuple(simplified(x) for x in decoded.site))
    return Report(
        source=path.name,
        text=text,
        meta=meta,
        encoding=decoded.encoding,
        noise=tuple(noise),
        original=original if original != text else "",
        pages=decoded.pages,
    )


@dataclass(frozen=True)
class ReadLimits:
    """What one file may cost a build: bytes on disk, and seconds (and memory) to read a
    .docx/.pdf/.html in a child process that is killed at the limit (a decompression bomb or a
    PDF with a million objects is skipped, not waited for)."""

    max_bytes: int = 20 * 1024 * 1024
    seconds: float = 60.0
    memory_bytes: int = 1536 * 1024**2  # what a reader child may map beyond its parent
    # ... when the file may be a scan (.pdf, an image): OCR's models on a page rendered at
    # 200 dpi map about 1.5 GB at their peak
    ocr_memory_bytes: int = 3072 * 1024**2
    # a report that cuts into more passages is skipped: an annual report is 20-200 passages,
    # a county's compilation a few thousand; a docx that inflates to 100 MB made 141,000
    max_chunks: int = 5000


DEFAULT_LIMITS = ReadLimits()


def display_name(name: str) -> str:
    """A file name that prints: undecodable bytes as \\xNN escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def survey(
    reports_dir: Path, limits: ReadLimits = DEFAULT_LIMITS
) -> tuple[list[Path], list[tuple[str, str]]]:
    """The report files of a folder (not recursive), sorted by name, and every other entry
    with the reason it is skipped: hidden files, symbolic links (never followed), folders,
    FIFOs and devices, names that are not UTF-8, files over the size limit."""
    if not reports_dir.is_dir():
        raise IngestError(str(reports_dir), "报告文件夹不存在")
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for p in sorted(reports_dir.iterdir()):
        name = display_name(p.name)
        if p.name.startswith("."):
            skipped.append((name, "隐藏文件（文件名以点开头），不读"))
        elif p.is_symlink():
            skipped.append((name, "符号链接，不跟随读取"))
        elif p.is_dir():
            skipped.append((name, "文件夹，不读子文件夹"))
        elif not p.is_file():
            skipped.append((name, "不是普通文件（管道、套接字或设备）"))
        elif name != p.name:
            skipped.append((name, "文件名不是有效的 UTF-8，请改名"))
        elif p.stat().st_size > limits.max_bytes:
            mb = p.stat().st_size / 1024**2
            limit = limits.max_bytes / 1024**2
            skipped.append(
                (name, f"{mb:.1f} MB，超过每个文件 {limit:.0f} MB 的上限（RAG_MAX_FILE_MB）")
            )
        else:
            files.append(p)
    return files, skipped


def discover(reports_dir: Path) -> list[Path]:
    """Report files in a folder (see `survey` for what is left out and why)."""
    return survey(reports_dir)[0]
