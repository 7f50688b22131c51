"""Read report files of every format into text, and find the spans that are not report content.

The text a report keeps is the decoded file text (for .docx/.pdf/.html the extracted text);
cleaning never rewrites it: it only records noise spans, so every offset maps back exactly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from rag.errors import IngestError
from rag.ingest import ocr
from rag.ingest.metadata import extract_meta
from rag.ingest.ofd import ofd_pages
from rag.ingest.pdf import JUNK_MAX_SHARE, image_text, paged, pdf_text
from rag.ingest.tables import docx_text
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
# Text whose adjacent characters rarely make words is junk (rag.lang.script.word_pair_share,
# below JUNK_MAX_SHARE as a PDF page's text layer): random bytes that happen to decode,
# characters strung at random. Judged on 100 pairs or more.
JUNK_MIN_PAIRS = 100

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
        decoded = Decoded(docx_text(data, name), "docx")
    elif suffix == ".pdf":
        text, pages = pdf_text(data, name, progress)
        decoded = Decoded(text, "pdf", pages=pages)
    elif suffix == ".ofd":
        read = ofd_pages(data, name, progress)
        goes_on = {i for i, p in enumerate(read.pages[:-1]) if p.goes_on}
        text, pages = paged([p.text for p in read.pages], set(read.recognized), goes_on)
        decoded = Decoded(text, "ofd", pages=pages)
    elif suffix in IMAGE_SUFFIXES:
        text, pages = image_text(data, name, progress)
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
