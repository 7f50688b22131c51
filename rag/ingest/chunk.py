"""Structure-aware, token-budgeted chunking with exact character offsets.

Chinese official documents nest 一、 > （一） > 1. > （1）, and enumerate inside paragraphs with
一是…二是…. Headings always open a new chunk; items are preferred cut points; otherwise chunks
are packed sentence by sentence (。！？；) up to `max_tokens`. Every chunk is a contiguous slice
of the report text: `report.text[chunk.start:chunk.end] == chunk.text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.errors import ConfigError
from rag.ingest.reader import INLINE_NOISE, iter_lines
from rag.lang.outline import HEADING_LEVELS, ITEM, ITEM_LEVEL
from rag.text.textmatch import sentences
from rag.text.tokens import count_tokens
from rag.types import Chunk, Report

# the one outline grammar (rag/lang/data/outline.toml): 一、 （一） 1. (1), and 一是 items
_CLAUSE = re.compile(r"[^，,、：:]*(?:[，,、：:]+|$)")
TITLE_CHARS = 40


@dataclass(frozen=True)
class ChunkerSettings:
    max_tokens: int = 320
    encoding: str = "cl100k_base"
    item_cut_ratio: float = 0.4  # cut at an 一是/二是 boundary if the part before it is this full
    context_headers: bool = True  # prefix the indexed text with the report's place/year/title

    def __post_init__(self) -> None:
        if self.max_tokens < 16:
            raise ConfigError(f"chunk max_tokens must be >= 16, got {self.max_tokens}")
        if not 0 <= self.item_cut_ratio <= 1:
            raise ConfigError(f"item_cut_ratio must be in [0, 1], got {self.item_cut_ratio}")


@dataclass
class _Piece:
    start: int
    end: int
    level: int | None  # heading level 1-4, ITEM_LEVEL for 一是…, None for plain text
    breaks_before: bool  # a noise line lies before this piece
    line_start: bool = False


def heading_level(line: str) -> int | None:
    s = line.lstrip(" \t\u3000")
    for level, pattern in HEADING_LEVELS:
        if pattern.match(s):
            return level
    return None


def _title(text: str) -> str:
    head = re.split(r"[。！？；]", text.strip(" \t\u3000"), maxsplit=1)[0]
    head = re.sub(r"\s+", "", INLINE_NOISE.sub("", head))
    return head[:TITLE_CHARS] + ("…" if len(head) > TITLE_CHARS else "")


def _pieces(report: Report) -> list[_Piece]:
    """Sentences of the content lines, outside noise spans, tagged with heading levels."""
    text = report.text
    noise = sorted((s.start, s.end) for s in report.noise)
    out: list[_Piece] = []
    pending_break = False
    for a, b in iter_lines(text):
        segments, pos = [], a
        for na, nb in noise:
            if nb <= a or na >= b:
                continue
            if na > pos:
                segments.append((pos, na))
            pos = max(pos, nb)
        if pos < b:
            segments.append((pos, b))
        whole_line_noise = segments == [] and a < b
        if whole_line_noise:
            pending_break = True
            continue
        first_in_line = True
        for sa, sb in segments:
            for s, e in sentences(text, sa, sb, content_only=False):
                level = heading_level(text[s:e]) if first_in_line else None
                if level is None and ITEM.match(text[s:e]):
                    level = ITEM_LEVEL
                out.append(_Piece(s, e, level, pending_break, first_in_line))
                pending_break = False
                first_in_line = False
    return out


def _trimmed(text: str, p: _Piece) -> _Piece:
    start, end = p.start, p.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return _Piece(start, end, p.level, p.breaks_before, p.line_start)


def _over(text: str, a: int, b: int, max_tokens: int, count: Callable[[str], int]) -> bool:
    """Whether text[a:b] has more than `max_tokens` tokens, counting a window that doubles
    from 4 characters per token allowed: linear in the answer, not in b - a (a 1 MB line
    without punctuation is cut in seconds, not minutes)."""
    width = 4 * max_tokens + 4
    while True:
        end = min(b, a + width)
        if count(text[a:end]) > max_tokens:
            return True
        if end == b:
            return False
        width *= 2


def _split_long(
    text: str, piece: _Piece, max_tokens: int, count: Callable[[str], int]
) -> list[_Piece]:
    """Split one over-long sentence at clause marks, else at token-safe character cuts."""
    parts: list[_Piece] = []
    cur_start = piece.start
    last_ok = None
    for m in _CLAUSE.finditer(text, piece.start, piece.end):
        if m.end() == m.start():
            continue
        if not _over(text, cur_start, m.end(), max_tokens, count):
            last_ok = m.end()
            continue
        if last_ok is not None and last_ok > cur_start:
            parts.append(_Piece(cur_start, last_ok, None, False))
            cur_start = last_ok
        while _over(text, cur_start, m.end(), max_tokens, count):
            n = max_tokens
            while count(text[cur_start : cur_start + n]) > max_tokens:
                n = max(1, int(n * 0.8))
            parts.append(_Piece(cur_start, cur_start + n, None, False))
            cur_start += n
        last_ok = m.end()
    if cur_start < piece.end:
        parts.append(_Piece(cur_start, piece.end, None, False))
    parts = [p for p in (_trimmed(text, p) for p in parts) if p.start < p.end]
    parts[0] = _Piece(
        parts[0].start, parts[0].end, piece.level, piece.breaks_before, piece.line_start
    )
    return parts


def context_header(report: Report, section: tuple[str, ...]) -> str:
    """Report context prepended to the indexed text: the body says 我镇, users say 水口镇."""
    meta = report.meta
    where = "".join(meta.places.names()) or (meta.issuer or "")
    when = f"{meta.year}年" if meta.year else ""
    path = " > ".join(section)
    return f"【{where} {when} {meta.title}】{path}".strip()


def index_text(report: Report, section: tuple[str, ...], text: str, header: bool = True) -> str:
    body = re.sub(r"\s+", " ", INLINE_NOISE.sub("", text)).strip()
    return f"{context_header(report, section)}\n{body}" if header else body


@dataclass
class _Placed:
    piece: _Piece
    headings: tuple[str, ...]  # outline path of levels 1-4 at this piece
    item: str | None  # the 一是… item this piece belongs to

    @property
    def is_body(self) -> bool:
        return self.piece.level is None or self.piece.level == ITEM_LEVEL


def _section(group: list[_Placed]) -> tuple[str, ...]:
    """Outline path at the first body sentence; the item too when the chunk holds only one."""
    body = [p for p in group if p.is_body] or group[-1:]
    first = body[0]
    items = {p.item for p in body}
    if first.item and len(items) == 1:
        return (*first.headings, first.item)
    return first.headings


def _item_cut(group: list[_Placed], floor: float, tokens_of: Callable[[list[_Placed]], int]) -> int:
    """Where to cut `group`: the last 一是/二是 start leaving a first part of >= floor tokens."""
    for i in range(len(group) - 1, 0, -1):
        if group[i].piece.level == ITEM_LEVEL and tokens_of(group[:i]) >= floor:
            return i
    return len(group)


def chunk_report(report: Report, settings: ChunkerSettings | None = None) -> list[Chunk]:
    """Cut a report into chunks; see the module docstring for the rules."""
    settings = settings or ChunkerSettings()
    text = report.text

    def count(s: str) -> int:
        return count_tokens(s, settings.encoding)

    def tokens_of(group: list[_Placed]) -> int:
        return count(text[group[0].piece.start : group[-1].piece.end]) if group else 0

    chunks: list[Chunk] = []

    def emit(group: list[_Placed]) -> None:
        if not group:
            return
        start, end = group[0].piece.start, group[-1].piece.end
        section = _section(group)
        chunks.append(
            Chunk(
                source=report.source,
                start=start,
                end=end,
                text=text[start:end],
                section=section,
                index_text=index_text(report, section, text[start:end], settings.context_headers),
            )
        )

    headings: dict[int, str] = {}
    item: str | None = None
    current: list[_Placed] = []
    for raw_piece in _pieces(report):
        too_long = count(text[raw_piece.start : raw_piece.end]) > settings.max_tokens
        parts = (
            _split_long(text, raw_piece, settings.max_tokens, count) if too_long else [raw_piece]
        )
        for piece in parts:
            level = piece.level
            new_section = level is not None and level < ITEM_LEVEL
            if (new_section and any(p.is_body for p in current)) or (
                piece.breaks_before and current
            ):
                emit(current)
                current = []
            if level is not None and new_section:
                headings = {k: v for k, v in headings.items() if k < level}
                headings[level] = _title(text[piece.start : piece.end])
                item = None
            elif level == ITEM_LEVEL:
                item = _title(text[piece.start : piece.end])
            elif piece.line_start:
                item = None
            placed = _Placed(piece, tuple(headings[k] for k in sorted(headings)), item)
            if current and tokens_of([*current, placed]) > settings.max_tokens:
                cut = _item_cut(current, settings.item_cut_ratio * settings.max_tokens, tokens_of)
                emit(current[:cut])
                current = current[cut:]
                if current and tokens_of([*current, placed]) > settings.max_tokens:
                    emit(current)
                    current = []
            current.append(placed)
    emit(current)
    return chunks
