"""The no-LLM answerer: compose the answer from the best-supported source sentences, cited."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np

from rag.answer.compose import missing_line
from rag.contracts import Draft
from rag.index.sentvec import sentence_text
from rag.lang import lexicon
from rag.lang.outline import ITEM_LEVEL, ITEM_START, starts
from rag.retrieve.places import place_aliases
from rag.retrieve.sections import PLANS, chunk_topic, sentence_topic
from rag.retrieve.support import (
    SentenceSimilarity,
    has_figure,
    is_enumeration,
    lists_head,
    semantic_support,
    shares_content,
    states_count,
    support,
)
from rag.retrieve.terms import QuestionTerms
from rag.text.textmatch import is_heading, sentences
from rag.types import Candidate, Hit, Report, best_evidence

_NUMBERING = starts(1, ITEM_LEVEL, 2, 4, 3)  # the outline number a sentence opens with
_TRAIL = "。；;，,、 \t"


HEADING_CREDIT = 0.9  # a sentence matching only through its section heading


_TITLE = starts(1, 2, 4)  # a numbered heading line: 一、 （一） (1)


def _is_title(sentence: str, section: tuple[str, ...]) -> bool:
    """A numbered title of the chunk's section path (二、…, （三）…): it names a part of the
    report, it claims nothing (一是… items do)."""
    text = sentence.strip().rstrip("。")
    return text in section and bool(_TITLE.match(text))


def candidates(
    terms: QuestionTerms,
    hits: Sequence[Hit],
    semantic: Semantic | None = None,
) -> list[Candidate]:
    """Every sentence of every source, best first. With `semantic` (the question's vector and
    a sentence-vector cache), a sentence's support is the larger of its lexical support and
    its semantic support (rag.retrieve.support.semantic_support)."""
    out = []
    for n, hit in enumerate(hits, start=1):
        text = hit.chunk.text
        heading = hit.chunk.section[-1] if hit.chunk.section else ""
        spans = sentences(text)
        plans_part = chunk_topic(hit.chunk) == PLANS
        rows = []
        for a, b in spans:
            sent = text[a:b]
            topic = sentence_topic(hit.chunk, a) if terms.topic else ""
            s_own = support(terms, sent, topic)
            if is_heading(sent, hit.chunk.section):  # lends its words to what follows
                heading = sent
            s = max(s_own, HEADING_CREDIT * support(terms, f"{heading} {sent}", topic))
            # similarity counts only for a sentence sharing a content word with the question:
            # only those are encoded
            gated = (
                semantic is not None
                and not is_heading(sent, hit.chunk.section)
                and shares_content(terms, f"{heading} {sent}")
            )
            rows.append((a, b, sent, heading, s, gated))
        cosines = iter(_cosines(semantic, hit, [(a, sent) for a, _, sent, _, _, g in rows if g]))
        for a, b, sent, heading, s, gated in rows:
            if gated and semantic is not None:
                s = max(s, semantic_support(next(cosines), semantic[1].anchors))
            score = s - 0.01 * n
            answers = not terms.numeric or states_count(terms, f"{heading} {sent}")
            if terms.numeric:
                score += 0.15 if answers else -0.1
            elif terms.list_head and lists_head(f"{heading} {sent}", terms.list_head):
                score += LIST_HEAD_BONUS  # 哪些方面: A、B等方面 is the list asked for
            if not terms.topic and plans_part:
                score -= PLANS_PENALTY
            out.append(Candidate(n, a, b, s, score, answers))
    out.sort(key=lambda c: (-c.score, c.n, c.start))
    return out


# A question that asks for no plans asks what was done: next year's plans (明年将开展专题讲座)
# rank after the sentences reporting the year (开展了专题讲座2场).
PLANS_PENALTY = 0.05
LIST_HEAD_BONUS = 0.1  # 哪些方面: a sentence listing A、B等方面 before one listing other things

Semantic = tuple["np.ndarray", SentenceSimilarity]  # the question's vector, sentence vectors


def _cosines(semantic: Semantic | None, hit: Hit, sents: list[tuple[int, str]]) -> list[float]:
    """The question's cosine to each (offset, sentence) of `hit`, in order."""
    if semantic is None or not sents:
        return []
    qv, cache = semantic
    keys = [f"{hit.chunk.id}:{a}" for a, _ in sents]
    vecs = cache.vectors(keys, [sentence_text(hit.chunk.section, s) for _, s in sents])
    return [float(c) for c in np.asarray(vecs) @ qv]


def _clean(sentence: str) -> str:
    return _NUMBERING.sub("", sentence.strip()).strip().rstrip(_TRAIL)


SHORT_SENTENCE = 30  # "一是...还有不足。": a summary line whose substance is the next sentence


def _extend_short(chosen: Sequence[Candidate], hits: Sequence[Hit], limit: int) -> list[Candidate]:
    """Add the sentence after each short chosen one (same source), while under `limit`; and
    the short item head right before a chosen sentence (二是…较为单一。 before the sentence
    that explains it): the head states the item, the sentence its substance."""
    out = list(chosen)
    for c in chosen:
        spans = sentences(hits[c.n - 1].chunk.text)
        head = next((s for s in reversed(spans) if s[1] <= c.start), None)
        if (
            head
            and _is_item_head(hits[c.n - 1].chunk.text[head[0] : head[1]])
            and not any(o.n == c.n and o.start == head[0] for o in out)
        ):
            out.append(Candidate(c.n, head[0], head[1], c.support, c.score))
        if len(out) >= limit + 1 or c.end - c.start > SHORT_SENTENCE:
            continue
        after = [(a, b) for a, b in spans if a >= c.end]
        if after and not any(o.n == c.n and o.start == after[0][0] for o in out):
            out.append(Candidate(c.n, after[0][0], after[0][1], c.support, c.score))
    return out


def _is_item_head(sentence: str) -> bool:
    """一是…。 / （二）…。: a short numbered item whose substance is the next sentence."""
    text = sentence.strip()
    return len(text) <= SHORT_SENTENCE and bool(ITEM_START.match(text)) and text.endswith("。")


def place_label(report: Report) -> str:
    return report.label


def compose(
    ranked: Sequence[Candidate],
    hits: Sequence[Hit],
    reports: dict[str, Report],
    max_sentences: int = 3,
    keep_ratio: float = 0.75,
    titles: bool = False,
) -> str:
    """Up to `max_sentences` sentences close to the best one, each followed by its [n];
    `ranked` is `candidates(terms, hits)`. Numbered section titles are left out unless
    `titles` (a question about plans or shortcomings, whose items are titled)."""
    if not ranked:
        return ""
    best = ranked[0]
    chosen: list[Candidate] = []
    for c in ranked:
        if len(chosen) == max_sentences or c.score < best.score * keep_ratio:
            break
        if any(c.n == o.n and c.start < o.end and o.start < c.end for o in chosen):
            continue
        if c.support <= 0:
            break
        if not titles and _is_title(c.text(hits), hits[c.n - 1].chunk.section):
            continue
        chosen.append(c)
    chosen = _extend_short(chosen, hits, max_sentences)
    chosen.sort(key=lambda c: (c.n, c.start))
    several = len({hits[c.n - 1].chunk.source for c in chosen}) > 1
    lines = []
    for n, texts in _claims(chosen, hits):
        label = place_label(reports[hits[n - 1].chunk.source]) + "：" if several else ""
        lines.append(f"{label}{'：'.join(texts)}[{n}]。")
    return "\n".join(lines) if several else "".join(lines)


def _claims(chosen: Sequence[Candidate], hits: Sequence[Hit]) -> list[tuple[int, list[str]]]:
    """The chosen sentences (in reading order) as claims: a short one (一是…不够。) and the
    sentence right after it that states its substance make one claim, cited once, as an
    item of a list does (topic_items)."""
    out: list[tuple[int, list[str]]] = []
    prev: Candidate | None = None
    for c in chosen:
        text = _clean(c.text(hits))
        joined = (
            prev is not None
            and prev.n == c.n
            and prev.end - prev.start <= SHORT_SENTENCE
            and _next_start(hits[c.n - 1].chunk.text, prev.end) == c.start
        )
        if joined:
            out[-1][1].append(text)
        else:
            out.append((c.n, [text]))
        prev = c
    return out


def _next_start(text: str, end: int) -> int:
    """Where the sentence after the one ending at `end` starts."""
    return next((a for a, _ in sentences(text) if a >= end), -1)


def topic_items(
    ranked: Sequence[Candidate],
    hits: Sequence[Hit],
    topic: str,
    keep_ratio: float = 0.75,
    most: int = 8,
) -> list[tuple[int, str]]:
    """The items of the part of a report that states `topic` ((一)…, 一是…), each as its head
    sentence (a short head joined to the sentence after it) with its source number, in
    reading order. Items under a (一)-level heading are read at that level; items whose
    support is below `keep_ratio` of the best one's are left out (a question about one plan
    gets that plan)."""
    support_of = {(c.n, c.start): c.support for c in ranked}
    heads: list[tuple[int, int, int, str]] = []  # n, start, level, sentence
    inside: set[tuple[int, int]] = set()  # items that start inside a lead-in sentence
    order = sorted(
        range(1, len(hits) + 1), key=lambda n: (hits[n - 1].chunk.source, hits[n - 1].chunk.start)
    )
    spans: dict[int, list[tuple[int, int]]] = {}
    for n in order:
        chunk = hits[n - 1].chunk
        spans[n] = [(a, b) for a, b in sentences(chunk.text) if sentence_topic(chunk, a) == topic]
        for a, b in spans[n]:
            level = item_level(chunk.text[a:b])
            inner = None if level else _INNER_ITEM.search(chunk.text, a, b)
            if inner:  # "主要表现在：一是…" / "2025年，我县将…，一是…": the item starts inside
                support_of.setdefault((n, inner.start(1)), support_of.get((n, a), 0.0))
                a, level = inner.start(1), item_level(chunk.text[inner.start(1) : b])
                inside.add((n, a))
            if level:
                heads.append((n, a, level, chunk.text[a:b]))
    if not heads:
        return []
    top = min(level for _, _, level, _ in heads)
    items: list[tuple[int, float, list[str]]] = []
    lead_in: list[int] = []  # the items whose support includes their lead-in's words
    for n, a, level, sent in heads:
        if level != top:
            continue
        text, after = [sent], [s for s in spans[n] if s[0] > a]
        score = support_of.get((n, a), 0.0)
        if len(sent) <= SHORT_SENTENCE and after:
            text.append(hits[n - 1].chunk.text[after[0][0] : after[0][1]])
            score = max(score, support_of.get((n, after[0][0]), 0.0))
        if (n, a) in inside:
            lead_in.append(len(items))
        items.append((n, score, text))
    others = [score for i, (_, score, _) in enumerate(items) if i not in lead_in]
    if others:  # the lead-in's words are not the item's: no more support than the others'
        for i in lead_in:
            n, score, text = items[i]
            items[i] = (n, min(score, max(others)), text)
    best = max(score for _, score, _ in items)
    kept = [i for i in items if i[1] >= best * keep_ratio and i[1] > 0][:most]
    return [(n, "：".join(_clean(s) for s in sents)) for n, _, sents in kept]


_LEVEL_1 = starts(2)  # （一）: the first level of items inside a part
_INNER_ITEM = re.compile(r"[：:，,]\s*((?:一是|[（(]一[）)]))")


def item_level(sentence: str) -> int:
    """1 for a (一) item, 2 for 一是/（1）/1. items, 0 for no item (a lead-in ending in ：)."""
    if sentence.endswith(("：", ":")):
        return 0
    if _LEVEL_1.match(sentence):
        return 1
    return 2 if ITEM_START.match(sentence) else 0


def compose_per_report(
    ranked_groups: Sequence[Sequence[Candidate]],
    groups: Sequence[tuple[str, Sequence[int]]],
    hits: Sequence[Hit],
    reports: dict[str, Report],
    missing: Sequence[str] = (),
    topic: str = "",
) -> tuple[str, list[str]]:
    """One line per report (`groups`: source -> its source numbers; `ranked_groups`: the
    candidates of each group's hits); reports without support are returned separately so the
    answer can say where nothing was found. With a `topic` (plans, shortcomings), a report's
    line lists the items of its part stating it. `missing`: the reports the decision found no
    support in (rag.answer.decide)."""
    lines, absent = [], []
    for (source, numbers), ranked in zip(groups, ranked_groups, strict=True):
        subset = [hits[n - 1] for n in numbers]
        best = best_evidence(ranked)
        if best is None or source in missing:
            absent.append(source)
            continue
        items = topic_items(ranked, subset, topic) if topic else []
        if len(items) > 1:
            cited = "；".join(f"{text}[{numbers[n - 1]}]" for n, text in items)
            lines.append(f"- {place_label(reports[source])}：{cited}。")
            continue
        top = ranked[0] if ranked[0].answers else best
        picked = sorted(_extend_short([top], subset, 1), key=lambda c: c.start)
        body = "；".join(_clean(c.text(subset)) for c in picked)
        n = numbers[top.n - 1]
        lines.append(f"- {place_label(reports[source])}：{body}[{n}]。")
    return "\n".join(lines), absent


_CLAUSE = re.compile(r"(?<!\d)[，,](?!\d)|[；;：:]")
_YES_NO = lexicon()["yes_no_lead"].pattern  # rag/lang/data/question.toml
LEAD_MIN = 40  # a best sentence shorter than this is its own lead


def lead(draft: Draft, hits: Sequence[Hit]) -> tuple[str, str]:
    """For a question asking a figure, a list or a yes/no: the clause of the best sentence
    that states it, with the report's place and year, cited ("峡口镇（2024年）：已有27人通过
    考试入驻“数字执法”系统[1]。"); '' when the best sentence is short enough to lead itself.
    Built only from the cited sentence's own words, so the claim check can verify it.
    Returns (the lead line, its clause)."""
    terms: QuestionTerms = draft.terms
    if not (terms.numeric or terms.listing or _YES_NO.search(draft.question)):
        return "", ""
    ranked = draft.ranked[0] if draft.ranked else []
    best = ranked[0] if ranked and (ranked[0].answers or not terms.numeric) else None
    if best is None or best.support <= 0:
        return "", ""
    sentence = _clean(best.text(hits))
    if len(sentence) < LEAD_MIN:
        return "", ""
    clauses = [c.strip() for c in _CLAUSE.split(sentence) if len(c.strip()) >= 4]
    if terms.numeric:
        clauses = [c for c in clauses if has_figure(c, terms.unit)]
    elif terms.listing:  # the clause closing the list asked for (…等宣传方式), or a list
        named = [c for c in clauses if lists_head(c, terms.list_head)] if terms.list_head else []
        clauses = named or [c for c in clauses if is_enumeration(c)] or clauses
    if not clauses:
        return "", ""
    clause = max(clauses, key=lambda c: support(terms, c))
    if clause == sentence or support(terms, clause) <= 0:
        return "", ""
    report = draft.reports[hits[best.n - 1].chunk.source]
    return f"{place_label(report)}：{clause}[{best.n}]。", clause


_DOUBLE = re.compile(r"[，,、；;]\s*[，,、；;]")
_LEFT_PUNCT = re.compile(r"^[，、；：,;\s]+|(?<=[：:])[，、；,;\s]+|[，、；：,;]+(?=\[\d+\]。)")


def without_clause(body: str, clause: str) -> str:
    """`body` without the clause its lead line states (the lead says it once): the rest of
    that sentence stays; a sentence with nothing else to say is left out."""
    out = []
    for sentence in re.split(r"(?<=\]。)", body):
        if clause and clause in sentence:
            rest = _LEFT_PUNCT.sub("", _DOUBLE.sub("，", sentence.replace(clause, "", 1)))
            if len(re.sub(r"\[\d+\]|\W", "", rest)) < 4:
                continue
            sentence = rest
        out.append(sentence)
    return "".join(out).strip()


def _holds_best(item: tuple[int, str], ranked: Sequence[Candidate], hits: Sequence[Hit]) -> bool:
    """Whether a topic item ((二)继续推进…：为居民提供…) holds the best-ranked sentence."""
    return bool(ranked) and item[0] == ranked[0].n and _clean(ranked[0].text(hits)) in item[1]


_MARKER = re.compile(r"\[(\d+)\]")


def _sources(body: str, hits: Sequence[Hit]) -> set[str]:
    """The reports an answer's [n] markers cite."""
    return {hits[int(n) - 1].chunk.source for n in _MARKER.findall(body) if 0 < int(n) <= len(hits)}


def unnamed_label(draft: Draft, body: str, hits: Sequence[Hit]) -> str:
    """ "水口镇（2024年）：" before an answer drawn from one report whose place the question
    does not name (哪里…?, or no place at all): the user learns whose figure it is. '' when
    the question names it, or the answer cites several reports (compose labels each line)."""
    sources = _sources(body, hits)
    if len(sources) != 1:
        return ""
    report = draft.reports[next(iter(sources))]
    if any(a in draft.question for a in place_aliases(report)):
        return ""
    return f"{place_label(report)}："


class ExtractiveAnswerer:
    """`Answerer` without an LLM: the best-supported sentences of the sources, each cited;
    for a question across reports, one line per report (and the reports with nothing)."""

    label = "extractive"
    mode: Literal["extractive", "llm"] = "extractive"
    streams = False
    abstain_marker: str | None = None  # never abstains by itself: rag.answer.decide decides

    def select(self, draft: Draft, hits: Sequence[Hit]) -> list[Hit]:
        return list(hits)

    def stream(self, draft: Draft, hits: Sequence[Hit]) -> Iterator[str]:
        if not draft.groups:
            topic = draft.topic
            items = topic_items(draft.ranked[0], hits, topic) if topic else []
            if len(items) == 1 and not _holds_best(items[0], draft.ranked[0], hits):
                items = []  # the best sentence is elsewhere: compose leads with it
            if items:  # one item too, when it holds the best sentence: its head states it
                bullet = "- " if len(items) > 1 else ""
                listed = "\n".join(f"{bullet}{text}[{n}]。" for n, text in items)
                label = unnamed_label(draft, listed, hits)
                yield f"{label}\n{listed}" if label else listed
                return
            # a plan's own title ((二)继续推进“一村一法律顾问”建设。) states the plan
            body = compose(draft.ranked[0], hits, draft.reports, titles=bool(topic))
            # one report's clause does not lead an answer drawn from several (their
            # figures differ: each line says whose it is)
            head, clause = lead(draft, hits) if len(_sources(body, hits)) <= 1 else ("", "")
            if not head:
                yield unnamed_label(draft, body, hits) + body
                return
            rest = without_clause(body, clause)
            yield f"{head}\n{rest}" if rest else head
            return
        body, missing = compose_per_report(
            draft.ranked, draft.groups, hits, draft.reports, draft.missing, draft.topic
        )
        if missing:
            labels = "、".join(place_label(draft.reports[m]) for m in missing)
            body += "\n" + missing_line(labels)
        yield body
