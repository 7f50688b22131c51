"""Parse [n] / 【n】 / [1,2] / [1][2] markers into claims and citations with supporting spans."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rag.lang import phrase
from rag.text.numbers import quantities, same_quantity
from rag.text.textmatch import containment, sentences, strip_markers
from rag.types import Citation, Hit, Report

MARKER = re.compile(
    r"\[\s*(\d+(?:\s*(?:[,，、]|[-–])\s*\d+)*)\s*\]|【\s*(\d+(?:\s*(?:[,，、]|[-–])\s*\d+)*)\s*】"
)
_CLAIM_END = re.compile(r"[。！？!?\n]+")
_CANONICAL = re.compile(r"\[(\d+)\]")  # a marker as normalize_markers writes it
_MIN_CLAIM_CHARS = 4


@dataclass(frozen=True)
class ParsedAnswer:
    text: str  # markers rewritten as [1][2]; markers naming no source removed
    claims: tuple[tuple[str, tuple[int, ...]], ...]  # (claim text with its markers, marker numbers)
    invalid: tuple[int, ...]  # marker numbers that point at no source


def _numbers(body: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*[,，、]\s*", body):
        if m := re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", part):
            a, b = int(m.group(1)), int(m.group(2))
            out.extend(range(a, b + 1) if 0 < b - a < 20 else (a, b))
        elif part.strip().isdigit():
            out.append(int(part))
    return out


def normalize_markers(text: str, n_sources: int) -> tuple[str, tuple[int, ...]]:
    """Rewrite every marker form as [a][b]; drop numbers outside 1..n_sources."""
    invalid: list[int] = []

    def repl(m: re.Match[str]) -> str:
        nums = _numbers(m.group(1) or m.group(2))
        good = [n for n in dict.fromkeys(nums) if 1 <= n <= n_sources]
        invalid.extend(n for n in nums if not 1 <= n <= n_sources)
        return "".join(f"[{n}]" for n in good)

    return MARKER.sub(repl, text), tuple(invalid)


def renumbered(text: str, hits: Sequence[Hit]) -> tuple[str, list[Hit], tuple[int, ...]]:
    """`text` with its markers numbered 1, 2, 3… in the order it first cites them, `hits` in
    that order (the uncited after them), and the marker numbers that named no source: an
    answer citing the 1st and 3rd passages cites [1] and [2], never [1] and [3]."""
    clean, invalid = normalize_markers(text, len(hits))
    order = list(dict.fromkeys(int(n) for n in _CANONICAL.findall(clean)))
    if order == list(range(1, len(order) + 1)):
        return clean, list(hits), invalid
    new = {old: i for i, old in enumerate(order, start=1)}
    clean = _CANONICAL.sub(lambda m: f"[{new[int(m.group(1))]}]", clean)
    rest = [h for i, h in enumerate(hits, start=1) if i not in new]
    return clean, [hits[old - 1] for old in order] + rest, invalid


def split_claims(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences of an answer with the markers each ends with (a marker after 。 joins it)."""
    pieces: list[str] = []
    pos = 0
    for m in _CLAIM_END.finditer(text):
        end = m.end()
        while trail := re.match(r"\s*\[\d+\]", text[end:]):  # "...15次。[1]"
            end += trail.end()
        if end <= pos:
            continue
        pieces.append(text[pos:end])
        pos = end
    pieces.append(text[pos:])
    out = []
    for piece in pieces:
        claim = piece.strip()
        body = MARKER.sub("", claim).strip(" -*•·\t")
        if len(re.sub(r"\W", "", body)) < _MIN_CLAIM_CHARS or body.endswith(("：", ":")):
            continue
        out.append((claim, tuple(dict.fromkeys(int(n) for n in _CANONICAL.findall(claim)))))
    return out


def parse(text: str, n_sources: int) -> ParsedAnswer:
    clean, invalid = normalize_markers(text, n_sources)
    return ParsedAnswer(clean.strip(), tuple(split_claims(clean)), invalid)


def supporting_sentence(claim: str, passage: str) -> tuple[int, int]:
    """(start, end) in `passage` of the sentence sharing most wording and numbers with `claim`,
    or of two adjacent sentences when the claim joins them (a plan's heading and its first
    sentence) and the pair holds clearly more of it."""
    claim = _LABEL.sub("", claim)  # "三墩镇（2019年）：" names the report, not the sentence
    claim_q = quantities(strip_markers(claim))
    spans = sentences(passage)
    windows = [(s, s) for s in spans] + list(zip(spans, spans[1:], strict=False))
    best, best_score = (0, len(passage)), -1.0
    for first, last in windows:
        start, end = first[0], last[1]
        sent = passage[start:end]
        score = containment(claim, sent) - (JOIN_MARGIN if first != last else 0.0)
        if claim_q:
            sent_q = quantities(sent)
            score += (
                0.5 * sum(any(same_quantity(q, s) for s in sent_q) for q in claim_q) / len(claim_q)
            )
        if score > best_score:
            best, best_score = (start, end), score
    return best


JOIN_MARGIN = 0.1  # two sentences are cited only if they hold 10% more of the claim than one
# The report label an answer line opens with (Report.label + "："): its place and year would
# otherwise pull the citation to whichever sentence repeats them (2019年,三墩镇收到…).
_LABEL = re.compile(r"^[\s\-*•]*" + phrase("report_label").source + "：")


def resolve_citations(
    claims: Sequence[tuple[str, tuple[int, ...]]],
    sources: Sequence[Hit],
    reports: Mapping[str, Report] | None = None,
) -> list[Citation]:
    """One Citation per (claim, marker); sources[n-1] is source [n]. With the `reports`, a
    citation of a paged report (a PDF, a scan) names the page of its sentence and whether
    that page's text was recognised by OCR."""
    out = []
    for i, (claim, markers) in enumerate(claims):
        for n in markers:
            hit = sources[n - 1]
            c = hit.chunk
            a, b = supporting_sentence(claim, c.text)
            report = reports.get(c.source) if reports is not None else None
            page = report.page_at(c.start + a) if report is not None else None
            out.append(
                Citation(
                    n=n,
                    claim=i,
                    source=c.source,
                    title=hit.title,
                    section=c.section_path,
                    start=c.start,
                    end=c.end,
                    text=c.text,
                    support_start=c.start + a,
                    support_end=c.start + b,
                    support_text=c.text[a:b],
                    page=page.number if page is not None else None,
                    recognized=page is not None and page.recognized,
                )
            )
    return out
