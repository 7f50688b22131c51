"""PDF files and page images: the text layer page by page, ruled tables read as rows in place
(pdfplumber), and the pages without a usable text layer (a scan, a font without its Unicode
map) read by OCR (rag/ingest/ocr.py) when the `ocr` extra is installed."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import Any

from rag.errors import IngestError
from rag.ingest import ocr
from rag.ingest.tables import row_lines
from rag.lang.script import word_pair_share
from rag.types import Page

logger = logging.getLogger(__name__)
# a page's text layer whose adjacent characters rarely make words is no text
# (rag.lang.script.word_pair_share), judged on 30 pairs or more
JUNK_MAX_SHARE = 0.15


def garbled(text: str) -> bool:
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


def paged(
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


def pdf_tables(data: bytes, pages: Iterable[int], name: str) -> dict[int, str]:
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


def pdf_text(
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
    scans = [i for i, t in enumerate(texts) if garbled(t)]
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
    for i, text in pdf_tables(data, (i for i in range(len(texts)) if i not in scans), name).items():
        texts[i] = text
    text, pages = paged(texts, recognized, goes_on)
    if not text.strip():
        raise IngestError(name, "PDF 没有文字：扫描页也没有识别出文字")
    return text, pages


def image_text(
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
    text, pages = paged([read[i].text for i in range(n)], set(range(n)), goes_on)
    if not text.strip():
        raise IngestError(name, "图片中没有识别出文字")
    return text, pages


def _decrypts(reader) -> bool:  # type: ignore[no-untyped-def]
    """Whether an encrypted PDF opens with the empty password (AES needs `cryptography`)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # pypdf's DependencyError, NotImplementedError for unknown ciphers
        return False
