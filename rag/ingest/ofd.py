"""OFD files (GB/T 33190, the fixed-layout format many government sites publish): the text of
each page, in page order.

An OFD is a zip of XML: OFD.xml names the document's root (Document.xml), which lists the
pages in order; each page's Content.xml holds its text objects, each with its box on the page
(Boundary) and its text codes (TextCode, with their X/Y offsets in the box). The reader
places every text code on the page and puts them in reading order with the OCR layout
(rag/ingest/ocr.py: lines top to bottom, a paragraph's lines joined), so an OFD reads like the
report's own text. Written over zipfile and lxml (both already here): easyofd would pull
PyMuPDF, which is AGPL. Page templates (a page's running head and foot) are left out.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import zipfile
from typing import Any

from rag.errors import IngestError
from rag.ingest.ocr import PageText, Piece, layout

MAX_UNZIPPED = 200 * 1024**2  # an OFD that inflates past this is a zip bomb, not a report
MAX_PAGES = 2000


def _parser() -> Any:
    from lxml import etree

    # no entities resolved, no network, no huge trees: an XML bomb is refused, not expanded
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _children(node: Any, name: str) -> list[Any]:
    return [c for c in node.iter() if isinstance(c.tag, str) and _local(c.tag) == name]


def _xml(zf: zipfile.ZipFile, path: str, name: str) -> Any:
    from lxml import etree

    try:
        data = zf.read(path)
    except KeyError as e:
        raise IngestError(name, f"OFD 文件缺少 {path}") from e
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        raise IngestError(name, f"OFD 文件中的 {path} 不是有效的 XML（{e}）") from e


def _joined(base: str, loc: str) -> str:
    """A BaseLoc of the package: absolute from the zip's root (/Doc_0/...), or relative to
    the file that names it."""
    loc = loc.strip()
    if loc.startswith("/"):
        return loc.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), loc))


def _numbers(text: str | None) -> list[float]:
    """The numbers of an attribute (Boundary, X, DeltaX…), a compressed run expanded ("g 3 2.5"
    is 2.5 three times, as DeltaX writes equal steps); a token that is no number is skipped."""
    parts = (text or "").replace(",", " ").split()
    out: list[float] = []
    i = 0
    while i < len(parts):
        if parts[i] == "g" and i + 2 < len(parts):
            with contextlib.suppress(ValueError):
                out += [float(parts[i + 2])] * int(float(parts[i + 1]))
            i += 3
            continue
        with contextlib.suppress(ValueError):
            out.append(float(parts[i]))
        i += 1
    return out


def _pieces(content: Any) -> list[Piece]:
    """Every text code of a page, at its place (millimetres from the page's top left)."""
    out = []
    for obj in _children(content, "TextObject"):
        box = _numbers(obj.get("Boundary"))
        if len(box) < 4:
            continue
        x, y, _, height = box[:4]
        size = (_numbers(obj.get("Size")) or [height])[0] or height
        for code in _children(obj, "TextCode"):
            text = "".join(code.itertext())
            if not text.strip():
                continue
            dx = (_numbers(code.get("X")) or [0.0])[0]
            baseline = (_numbers(code.get("Y")) or [size])[0]
            deltas = _numbers(code.get("DeltaX"))
            width = sum(deltas[: len(text) - 1]) + size if deltas else size * len(text)
            x0, y1 = x + dx, y + baseline
            out.append(Piece(text, x0, y1 - size, x0 + width, y1))
    return out


def ofd_pages(data: bytes, name: str) -> list[PageText]:
    """The text of each page of an OFD file, in the document's page order."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise IngestError(name, f"不是可读的 .ofd 文件（{e}）") from e
    with zf:
        if sum(i.file_size for i in zf.infolist()) > MAX_UNZIPPED:
            raise IngestError(
                name, f"解压后超过 {MAX_UNZIPPED / 2**20:.0f} MB 的上限（像是压缩炸弹）"
            )
        root = _xml(zf, "OFD.xml", name)
        doc_roots = [e.text for e in _children(root, "DocRoot") if e.text]
        if not doc_roots:
            raise IngestError(name, "OFD.xml 没有指明文档（DocRoot）")
        doc_path = _joined("OFD.xml", doc_roots[0])
        document = _xml(zf, doc_path, name)
        pages = [p.get("BaseLoc") for p in _children(document, "Page") if p.get("BaseLoc")]
        if not pages:
            raise IngestError(name, "OFD 文档没有页面")
        if len(pages) > MAX_PAGES:
            raise IngestError(name, f"OFD 有 {len(pages)} 页，超过 {MAX_PAGES} 页的上限")
        out = []
        for loc in pages:
            path = _joined(doc_path, loc)
            if not path.endswith(".xml"):  # BaseLoc names the page's folder or its Content.xml
                path = posixpath.join(path, "Content.xml")
            out.append(layout(_pieces(_xml(zf, path, name))))
    if not any(t.text.strip() for t in out):
        raise IngestError(name, "OFD 中没有文字（可能是扫描件的图片，暂不识别）")
    return out
