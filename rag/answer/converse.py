"""Follow-up questions rewritten into standalone ones ("那瓦屋镇呢？" -> "瓦屋镇...").

Without an LLM the rewrite carries over place, year and topic from the previous turn; with
one, the LLM rewrites and the heuristic result guards it (a rewrite that loses a place the
conversation is about is not used).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.answer.llm import provider_errors
from rag.errors import ConfigError
from rag.lang import lexicon
from rag.text.textmatch import names_in, year_strings

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

logger = logging.getLogger(__name__)

_PRONOUN = lexicon()["followup_pronoun"].pattern  # rag/lang/data/question.toml
_SHORT_FOLLOWUP = re.compile(  # question.toml followup_lead, followup_tail
    rf"^(?:{lexicon()['followup_lead'].alternation})?(?P<rest>.*?)"
    rf"(?:{lexicon()['followup_tail'].alternation})?[？?。！!]*$"
)


@dataclass(frozen=True)
class Turn:
    question: str
    rewritten: str = ""
    answer: str = ""

    @property
    def standalone(self) -> str:
        return self.rewritten or self.question


def turns_from_json(data: Any, where: str) -> list[Turn]:
    """The turns of a conversation given as JSON: a list of {"question": str, "answer": str,
    "rewritten": str (optional)}, oldest first. A ConfigError names `where`, the item and the
    field."""
    if not isinstance(data, list):
        raise ConfigError(
            f"{where}: the history must be a JSON list of turns, got {type(data).__name__}"
        )
    turns = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: turn {i}: must be an object with question and answer")
        for key in ("question", "answer", "rewritten"):
            value = item.get(key, "" if key == "rewritten" else None)
            if not isinstance(value, str):
                raise ConfigError(
                    f"{where}: turn {i}: {key}: must be a string, got {value!r}"[:300]
                )
        turns.append(Turn(item["question"], item.get("rewritten", ""), item["answer"]))
    return turns


def find_places(text: str, aliases: AbstractSet[str]) -> list[str]:
    """Place names (any alias) in `text`, in order, a name inside a longer one not repeated."""
    spans: list[tuple[int, int]] = []
    for alias in sorted(names_in(text, aliases), key=len, reverse=True):
        for m in re.finditer(re.escape(alias), text):
            if not any(a <= m.start() and m.end() <= b for a, b in spans):
                spans.append((m.start(), m.end()))
    return [text[a:b] for a, b in sorted(spans)]


def rewrite_heuristic(question: str, history: Sequence[Turn], aliases: AbstractSet[str]) -> str:
    q = question.strip()
    if not history:
        return q
    prev = history[-1].standalone
    prev_places = find_places(prev, aliases)
    places = find_places(q, aliases)
    years = year_strings(q)
    short = _SHORT_FOLLOWUP.fullmatch(q)
    rest = short.group("rest") if short else q
    leftover = rest
    for p in places:
        leftover = leftover.replace(p, "")
    leftover = re.sub(r"(?:19|20)\d{2}年?|[和与及、，,\s]", "", leftover)
    if short and (places or years) and len(leftover) <= 2:  # 那瓦屋镇呢？ / 2023年呢？
        new = prev
        if places:
            if prev_places:
                new = new.replace(prev_places[0], "和".join(places), 1)
                for extra in prev_places[1:]:
                    new = new.replace(extra, "").replace("和和", "和")
            else:
                new = "和".join(places) + new
        if years:
            prev_years = year_strings(new)
            new = new.replace(prev_years[0], years[0], 1) if prev_years else years[0] + "年" + new
        return new
    if not places and prev_places:
        label = "和".join(dict.fromkeys(prev_places))
        if _PRONOUN.search(q):
            return _PRONOUN.sub(label, q, count=1)
        prev_years = year_strings(prev)
        year = f"{prev_years[0]}年" if prev_years and not years else ""
        return f"{label}{year}{q}"
    return q


def history_text(history: Sequence[Turn], max_chars: int = 300) -> str:
    lines = []
    for t in history[-3:]:
        lines.append(f"用户：{t.standalone}")
        if t.answer:
            lines.append(f"助手：{t.answer[:max_chars]}")
    return "\n".join(lines)


def rewrite(
    question: str,
    history: Sequence[Turn],
    aliases: AbstractSet[str],
    chain: Runnable | None = None,
) -> str:
    """Standalone question for `question` given `history` (LLM first when `chain` is given)."""
    heuristic = rewrite_heuristic(question, history, aliases)
    if not history or chain is None:
        return heuristic
    try:
        out = chain.invoke({"history": history_text(history), "question": question})
    except provider_errors() as e:
        logger.warning("LLM rewrite failed (%s); using the heuristic rewrite", type(e).__name__)
        return heuristic
    return accept_rewrite(str(out), question, heuristic, aliases)


def accept_rewrite(out: str, question: str, heuristic: str, aliases: AbstractSet[str]) -> str:
    """The LLM's rewrite when it is one plausible question keeping the conversation's places."""
    line = next((ln.strip() for ln in out.splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:改写后的独立问题|完整问题|问题)[：:]\s*", "", line).strip("“”\"' ")
    needed = set(find_places(heuristic, aliases))
    if (
        not line
        or len(line) > 3 * len(heuristic) + 40
        or not needed <= set(find_places(line, aliases))
    ):
        logger.info("LLM rewrite rejected; using the heuristic rewrite")
        return heuristic
    return line
