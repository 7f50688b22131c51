"""A question with several asks (下陆区2024年全年学法几次？化解行政争议几件？): each ask is
answered on its own (the later ones read with the earlier as their context, so they keep its
place and year), and the answers are joined into one, each part under its ask, with its own
refusal where it has no support, saying where it looked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.lang import lexicon
from rag.text.textmatch import content
from rag.types import Answer, Citation, ClaimCheck, Hit

_END = lexicon()["ask_parts"].pattern  # rag/lang/data/question.toml
_MARKER = re.compile(r"\[(\d+)\]")
MIN_ASK = 5  # content characters: a shorter piece (哪个多？总数多少？) belongs to the ask before it


def ask_parts(question: str) -> list[str]:
    """The asks of `question`, in order; one element when it asks one thing."""
    pieces, pos = [], 0
    for m in _END.finditer(question):
        pieces.append(question[pos : m.end()])
        pos = m.end()
    if question[pos:].strip():
        pieces.append(question[pos:])
    asks: list[str] = []
    for piece in (p.strip() for p in pieces):
        if asks and len(content(piece)) < MIN_ASK:
            asks[-1] += piece
        elif piece:
            asks.append(piece)
    if len(asks) > 1 and len(content(asks[0])) < MIN_ASK:
        asks[1] = asks[0] + asks[1]
        asks.pop(0)
    return asks


def _shift(text: str, by: int) -> str:
    return _MARKER.sub(lambda m: f"[{int(m[1]) + by}]", text) if by else text


def joined(question: str, asks: Sequence[str], answers: Sequence[Answer]) -> Answer:
    """One answer of the parts' answers: each under its ask (numbered 1. 2. …), the sources
    they cite numbered 1, 2, 3… across the parts, their citations and claims renumbered to
    match, and each part's passages after the part before's."""
    texts: list[str] = []
    citations: list[Citation] = []
    claims: list[ClaimCheck] = []
    contexts: list[Hit] = []
    warnings: list[str] = []
    shift = 0  # the sources the parts before cite: an answer cites [1]..[n] in order
    for i, (ask, a) in enumerate(zip(asks, answers, strict=True), start=1):
        texts.append(f"{i}. {ask}\n{_shift(a.text, shift)}")
        citations += [replace(c, n=c.n + shift, claim=c.claim + len(claims)) for c in a.citations]
        claims += [
            replace(c, text=_shift(c.text, shift), markers=tuple(n + shift for n in c.markers))
            for c in a.claims
        ]
        # each part's passages in its retrieval's order, after the parts before
        contexts += [replace(h, rank=len(contexts) + h.rank) for h in a.contexts]
        warnings += [w for w in a.warnings if w not in warnings]
        shift += max((c.n for c in a.citations), default=0)
    latency = {k: sum(a.latency_ms.get(k, 0.0) for a in answers) for k in answers[0].latency_ms}
    rewritten = "".join(a.rewritten for a in answers)
    return Answer(
        question=question,
        rewritten=question if rewritten == "".join(asks) else rewritten,
        text="\n\n".join(texts),
        mode=next((a.mode for a in answers if not a.abstained), answers[0].mode),
        abstained=all(a.abstained for a in answers),
        citations=tuple(citations),
        claims=tuple(claims),
        contexts=tuple(contexts),
        searched=tuple(dict.fromkeys(s for a in answers for s in a.searched)),
        filters=tuple(dict.fromkeys(f for a in answers for f in a.filters)),
        warnings=tuple(warnings),
        support=max(a.support for a in answers),
        latency_ms=latency,
    )
