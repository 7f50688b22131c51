"""The text of scanned pages: OCR with RapidOCR, whose PP-OCRv4 Chinese detection, direction
and recognition models (ONNX) ship inside the `rapidocr-onnxruntime` wheel (Apache-2.0), so
nothing is downloaded at run time; PDF pages are rendered by pypdfium2 (Apache-2.0/BSD-3,
PDFium's own licence: no AGPL). Both come with the `ocr` extra.

A page's recognised lines are put in reading order (top to bottom, a line's pieces left to
right), and the lines of one paragraph are joined: a line that runs to the right margin goes
on in the next one, unless that one opens with an outline number (二、 （三）). The result
reads like the report's own text, one paragraph per line, so sentences are not cut at the
scanner's line ends.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from rag.errors import IngestError
from rag.lang.outline import starts

logger = logging.getLogger(__name__)

DPI = 200  # rendering resolution of a PDF page: the models read 10.5-pt text well at 200
MAX_PAGES = 500  # pages one file may have OCR read (about 50 minutes on 2 cores)
MIN_SCORE = 0.5  # a piece recognised with less confidence is left out (speckle, stamps)
# the recogniser reads a table's rule "|" as the radical 丨, which no report writes: read back
# as "|", an index table's row is told as page furniture and its fields read as metadata
_RULE = str.maketrans({"丨": "|"})
_HEADING = starts(1, 2, 3, 4)
INSTALL = "识别扫描件需要 OCR 组件：pip install -e '.[ocr]'（scripts/install.sh 已包含）"

PageProgress = Callable[[int, int], None]  # (pages done, pages to read)


@dataclass(frozen=True)
class Piece:
    """One recognised piece of a line: its text and its box on the page (pixels)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def available() -> bool:
    try:
        import pypdfium2  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as e:
        raise ImportError(INSTALL) from e
    return RapidOCR()


@dataclass(frozen=True)
class PageText:
    text: str
    goes_on: bool  # its last line runs to the margin: the paragraph goes on on the next page


def recognize(image: Any) -> PageText:
    """The text of one page image (a PIL image), in reading order, paragraphs joined."""
    import numpy as np

    # no per-line direction classifier: a report's page is upright, and the classifier turned
    # whole lines of a scanned sample report upside down (their text then lost)
    result, _ = _engine()(np.asarray(image.convert("RGB")), use_cls=False)
    pieces = [
        Piece(
            text.strip().translate(_RULE),
            min(p[0] for p in box),
            min(p[1] for p in box),
            max(p[0] for p in box),
            max(p[1] for p in box),
        )
        for box, text, score in result or []
        if text.strip() and float(score) >= MIN_SCORE
    ]
    return layout(pieces)


def _lines(pieces: Sequence[Piece]) -> list[list[Piece]]:
    """Pieces grouped into lines (a piece whose middle is within a line's height joins it),
    top to bottom, each line left to right."""
    lines: list[list[Piece]] = []
    for piece in sorted(pieces, key=lambda p: (p.y0 + p.y1) / 2):
        middle = (piece.y0 + piece.y1) / 2
        if lines and lines[-1][0].y0 <= middle <= lines[-1][0].y1:
            lines[-1].append(piece)
        else:
            lines.append([piece])
    return [sorted(line, key=lambda p: p.x0) for line in lines]


def _joined(line: Sequence[Piece]) -> tuple[str, bool]:
    """A line's pieces: side by side, or apart by a space where a wide gap parts them (the
    columns of a table); and whether one did."""
    out, columns = line[0].text, False
    for before, piece in zip(line, line[1:], strict=False):
        wide = piece.x0 - before.x1 > 2 * max(before.height, piece.height)
        out += (" " if wide else "") + piece.text
        columns = columns or wide
    return out, columns


def starts_paragraph(text: str) -> bool:
    """Whether a page's text opens a paragraph of its own (an outline number) rather than
    going on with the previous page's last one."""
    return bool(_HEADING.match(text))


def layout(pieces: Sequence[Piece]) -> PageText:
    """Lines in reading order; a line that reaches the right margin goes on in the next one
    (one paragraph per line of text), unless it is a table's row (columns apart, or cells
    between rules) or the next opens with an outline number."""
    lines = _lines(pieces)
    if not lines:
        return PageText("", False)
    right = max(max(p.x1 for p in line) for line in lines)
    out: list[str] = []
    carry = False
    for line in lines:
        text, columns = _joined(line)
        if carry and not _HEADING.match(text):
            out[-1] += text
        else:
            out.append(text)
        height = max(p.height for p in line)
        ruled = text.count("|") >= 2  # a row of a ruled table (a page's index table)
        carry = not columns and not ruled and max(p.x1 for p in line) >= right - 1.5 * height
    return PageText("\n".join(out), carry)


def pdf_pages(data: bytes, numbers: Sequence[int], name: str) -> Iterator[tuple[int, Any]]:
    """The PIL images of the PDF pages `numbers` (0-based), rendered at `DPI`."""
    try:
        import pypdfium2 as pdfium
    except ImportError as e:
        raise IngestError(name, INSTALL) from e
    try:
        pdf = pdfium.PdfDocument(io.BytesIO(data))
    except pdfium.PdfiumError as e:
        raise IngestError(name, f"扫描页无法渲染（{e}）") from e
    try:
        for n in numbers:
            page = pdf[n]
            try:
                yield n, page.render(scale=DPI / 72).to_pil()
            finally:
                page.close()
    finally:
        pdf.close()


def read_pages(
    images: Iterator[tuple[int, Any]], total: int, name: str, progress: PageProgress | None
) -> dict[int, PageText]:
    """The recognised text of each page image, page by page (`progress` after each)."""
    try:
        _engine()
    except ImportError as e:
        raise IngestError(name, INSTALL) from e
    out: dict[int, PageText] = {}
    for done, (n, image) in enumerate(images, 1):
        out[n] = recognize(image)
        logger.info("%s: page %d recognised (%d of %d)", name, n + 1, done, total)
        if progress is not None:
            progress(done, total)
    return out
