"""OFD files (GB/T 33190, the fixed-layout format many government sites publish): the text of
each page, in page order.

An OFD is a zip of XML: OFD.xml names the document's root (Document.xml), which lists the
pages in order; each page's Content.xml holds its text objects, each with its box on the page
(Boundary) and its text codes (TextCode, with their X/Y offsets in the box). The reader
places every text code on the page and puts them in reading order with the OCR layout
(rag/ingest/ocr.py: lines top to bottom, a paragraph's lines joined), so an OFD reads like the
report's own text. Written over zipfile and lxml (both already here): easyofd would pull
PyMuPDF, which is AGPL. Page templates (a page's running head and foot) are left out.

A page with no text object but images (a scanned, signed and stamped copy saved as OFD) is
read by OCR (rag/ingest/ocr.py), its images top to bottom: the images are the package's
MultiMedia resources (DocumentRes/PublicRes), named by the page's ImageObject ResourceID.
"""

from __future__ import annotations

import contextlib
import io
import logging
import posixpath
import zipfile
from dataclasses import dataclass
from typing import Any

from rag.errors import IngestError
from rag.ingest import ocr
from rag.ingest.ocr import PageText, Piece, layout

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class OfdPages:
    pages: list[PageText]
    recognized: frozenset[int]  # pages (0-based) read by OCR from their images


def _media(
    zf: zipfile.ZipFile, at: str, node: Any, name: str, kinds: tuple[str, ...]
) -> dict[str, str]:
    """Resource ID -> the package path of its file, for the image resources that `node` (the
    document, or a page: its PageRes) names in its resource files (paths relative to `at`)."""
    out: dict[str, str] = {}
    for kind in kinds:
        for ref in _children(node, kind):
            if not (ref.text or "").strip():
                continue
            res_path = _joined(at, ref.text)
            if res_path not in zf.namelist():
                continue
            res = _xml(zf, res_path, name)
            base = _joined(res_path, (res.get("BaseLoc") or ".") + "/x")
            for media in _children(res, "MultiMedia"):
                files = [f.text for f in _children(media, "MediaFile") if f.text]
                if media.get("ID") and files:
                    out[media.get("ID")] = _joined(base, files[0])
    return out


def _images(content: Any) -> list[str]:
    """The resource IDs of a page's images, top to bottom."""
    found = []
    for obj in _children(content, "ImageObject"):
        box = _numbers(obj.get("Boundary"))
        if obj.get("ResourceID"):
            found.append(((box[1] if len(box) > 1 else 0.0), obj.get("ResourceID")))
    return [rid for _, rid in sorted(found)]


def _image(zf: zipfile.ZipFile, n: int, rid: str, media: dict[str, str], name: str) -> Any:
    """The PIL image of resource `rid` on page `n` (0-based); IngestError naming the page."""
    from PIL import Image

    path = media.get(rid)
    if path is None or path not in zf.namelist():
        raise IngestError(name, f"OFD 第 {n + 1} 页的图片资源 {rid} 不在文件中")
    try:
        image = Image.open(io.BytesIO(zf.read(path)))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise IngestError(name, f"OFD 第 {n + 1} 页的图片 {path} 无法读取（{e}）") from e
    return image


def ofd_pages(data: bytes, name: str, progress: ocr.PageProgress | None = None) -> OfdPages:
    """The text of each page of an OFD file, in the document's page order; a page of images
    only is read by OCR (`progress` after each image)."""
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
        out, scans = [], {}
        media = _media(zf, doc_path, document, name, ("DocumentRes", "PublicRes"))
        for i, loc in enumerate(pages):
            path = _joined(doc_path, loc)
            if not path.endswith(".xml"):  # BaseLoc names the page's folder or its Content.xml
                path = posixpath.join(path, "Content.xml")
            content = _xml(zf, path, name)
            out.append(layout(_pieces(content)))
            if not out[-1].text.strip() and _images(content):
                scans[i] = _images(content)
                media.update(_media(zf, path, content, name, ("PageRes",)))  # the page's own
        if scans:
            out = _recognized(zf, out, scans, media, name, progress)
    if not any(t.text.strip() for t in out):
        raise IngestError(name, "OFD 中没有文字")
    return OfdPages(out, frozenset(i for i in scans if out[i].text.strip()))


def _recognized(
    zf: zipfile.ZipFile,
    pages: list[PageText],
    scans: dict[int, list[str]],
    media: dict[str, str],
    name: str,
    progress: ocr.PageProgress | None,
) -> list[PageText]:
    """`pages` with the text OCR reads on the images of the pages without text; without the
    `ocr` extra, an OFD with some text keeps it (the scanned pages said in the log), one with
    none says how to install it."""
    texts = any(p.text.strip() for p in pages)
    if not ocr.available():
        if not texts:
            raise IngestError(name, "OFD 中只有图片（扫描件）。" + ocr.INSTALL)
        logger.warning("%s: pages %s are images and OCR is not installed", name,
                       [n + 1 for n in scans])  # fmt: skip
        return pages
    total = sum(len(ids) for ids in scans.values())
    if total > ocr.MAX_PAGES:
        raise IngestError(name, f"有 {total} 张图片要识别，超过识别 {ocr.MAX_PAGES} 页的上限")
    read: dict[int, list[PageText]] = {}
    done = 0
    for n, ids in scans.items():
        for rid in ids:
            done += 1
            try:
                image = _image(zf, n, rid, media, name)
            except IngestError as e:
                if not texts:  # nothing else to read: the file is refused, by its page
                    raise
                logger.warning("%s", e)  # one unreadable scan does not lose the other pages
                continue
            read.setdefault(n, []).append(ocr.recognize(image))
            if progress is not None:
                progress(done, total)
    out = list(pages)
    for n, parts in read.items():
        out[n] = PageText("\n".join(p.text for p in parts if p.text), parts[-1].goes_on)
    return out
