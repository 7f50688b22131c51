"""`Pipeline.ask/stream`: rewrite -> analyse -> retrieve -> decide -> answer -> cite/verify.

The parts are built by `rag.factory` from the settings; the pipeline only runs them. The
answer decision has one home, rag/answer/decide.py (route to metadata, answer or refuse, one
threshold); the pipeline asks it and runs the answerers (rag/answer/extractive.py, rag/answer/chain.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from rag.answer.chain import LLMUnavailable
from rag.answer.compose import MISSING_PREFIX, NOTE_PREFIX, absence_text, note_line
from rag.answer.converse import Turn, rewrite
from rag.answer.decide import Decider, Draft, grounding_reason
from rag.answer.meta_answer import about_report
from rag.answer.parts import ask_parts, joined
from rag.answer.sources import Evidence, Sources
from rag.config import QueryOptions
from rag.contracts import Answerer
from rag.errors import ConfigError, ModelError, RagError
from rag.index.embed import neighbour_cosine, semantic_anchors
from rag.index.store import LoadedIndex
from rag.lang.script import simplified
from rag.retrieve.neighbours import WordNeighbours
from rag.retrieve.query import Query, read
from rag.retrieve.retriever import Retriever
from rag.retrieve.support import SentenceSimilarity
from rag.types import Answer, Hit
from rag.verify.answers import check_answer
from rag.verify.cite import parse, renumbered, resolve_citations

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AskOptions:
    """Per-question filters and knobs (the UI's and CLI's --place/--year/--report/--mode)."""

    places: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    reports: tuple[str, ...] = ()
    mode: str = "hybrid"
    k: int | None = None  # passages for the answerer; None: Knobs.answer_k
    scope_from_question: bool = True  # place names in the question restrict the reports


@dataclass(frozen=True)
class Knobs:
    """The pipeline's settings (the factory fills them from `Settings`)."""

    answer_k: int = 6
    per_report_k: int = 2
    max_reports: int = 20
    abstain_threshold: float = 0.5
    candidates: int = 50
    rrf_k: int = 60
    llm_fallback: bool = True
    max_question_chars: int = 2000
    max_history_chars: int = 8000
    request_budget: float = 180.0  # seconds for one question, retrieval and answer


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: rewritten question, contexts, a text delta, the answer."""

    kind: Literal["rewritten", "contexts", "token", "answer"]
    text: str = ""
    hits: tuple[Hit, ...] = ()
    answer: Answer | None = None


@dataclass(frozen=True)
class Outcome:
    text: str
    used: Sequence[Hit]  # the sources the text's [n] number
    mode: str
    abstained: bool
    warnings: tuple[str, ...] = ()
    about_report: bool = False  # a metadata answer: the title or date line is its evidence
    note: str = ""  # the decision's note, said before the answer (not a claim)


@dataclass
class Timer:
    start: float = field(default_factory=time.perf_counter)
    retrieved: float = 0.0

    def mark(self) -> None:
        self.retrieved = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def check_question(question: str, limit: int) -> None:
    """An empty or over-long question is refused before any work (ConfigError says why)."""
    if not question.strip():
        raise ConfigError("问题为空")
    if len(question) > limit:
        raise ConfigError(
            f"问题有 {len(question)} 个字符，上限是 {limit} 个（RAG_MAX_QUESTION_CHARS）："
            "请把问题问得短一些"
        )


def _answer_of(events: Iterable[Event]) -> Answer:
    """The answer that ends a stream of events."""
    for event in events:
        if event.answer is not None:
            return event.answer
    raise RagError("the answer stream ended without an answer")  # pragma: no cover


class Pipeline:
    """ask(question, history, options) -> Answer; `stream` yields the same as Events."""

    def __init__(
        self,
        index: LoadedIndex,
        retriever: Retriever,
        answerer: Answerer,
        knobs: Knobs = Knobs(),
        fallback: Answerer | None = None,
        rewriter: Runnable | None = None,
        embedding: str = "",
    ) -> None:
        self.index = index
        self.retriever = retriever
        self.answerer = answerer
        self.knobs = knobs
        self.fallback = fallback
        self.rewriter = rewriter
        self.embedding = embedding  # one line: the embedding model in use, or why none
        self.reports = index.reports
        emb = retriever.embedder
        anchors = semantic_anchors(emb.name) if emb is not None else None
        self.similarity = (
            SentenceSimilarity(emb.embed_documents, anchors, stored=index.sentences)
            if emb and anchors
            else None
        )
        cosine = neighbour_cosine(emb.name) if emb is not None else None
        lexical = index.lexical
        self.neighbours = (
            WordNeighbours(lexical.vocabulary, emb.embed_documents, cosine, lexical.df)
            if emb is not None and cosine is not None
            else None
        )
        self.aliases = frozenset(retriever.places.by_alias)
        self.years = {s: r.meta.year for s, r in self.reports.items()}
        self.decider = Decider(knobs.abstain_threshold, self.years)
        sources = Sources(index, retriever, self.decider, knobs.per_report_k, knobs.max_reports)
        self.evidence = Evidence(sources, self.similarity, self.neighbours)

    def with_answerer(self, answerer: Answerer, rewriter: Runnable | None = None) -> Pipeline:
        """The same index and retriever, another answerer (the current one as fallback)."""
        return Pipeline(
            self.index, self.retriever, answerer, self.knobs, self.answerer, rewriter,
            self.embedding,
        )  # fmt: skip

    @property
    def mode(self) -> str:
        return self.answerer.label

    @property
    def generative(self) -> bool:
        """Whether a model writes the answers (else the extractive answerer does)."""
        return self.answerer.mode == "llm"

    def options(self, **overrides: object) -> QueryOptions:
        base = {"candidates": self.knobs.candidates, "rrf_k": self.knobs.rrf_k}
        return QueryOptions(**{**base, **overrides})  # type: ignore[arg-type]

    def search(self, question: str, opts: QueryOptions | None = None) -> list[Hit]:
        check_question(question, self.knobs.max_question_chars)  # every front end's search
        return self.retriever.search(question, opts or self.options())

    def ask(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions = AskOptions()
    ) -> Answer:
        return _answer_of(self.stream(question, history, options))

    def analyze(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions = AskOptions()
    ) -> Query:
        """The standalone question and what it asks (places, years, scope, terms)."""
        check_question(question, self.knobs.max_question_chars)
        question = simplified(question)  # a question in 繁體 is read as simplified
        history, notes = self._bounded(history)
        # explicit filters win: the conversation does not carry its places or years into
        # a question the user has scoped by hand
        explicit = options.places or options.years or options.reports
        rewritten = (
            question.strip()
            if explicit
            else rewrite(question, history, self.aliases, self.rewriter)
        )
        query = read(
            question,
            rewritten,
            self.query_options(options),
            self.reports,
            self.retriever.places,
            self.index.lexical,
        )
        return replace(query, notes=notes) if notes else query

    def query_options(self, options: AskOptions) -> QueryOptions:
        """The retrieval options of a request: its filters and mode, the knobs' k."""
        return self.options(
            k=options.k or self.knobs.answer_k,
            mode=options.mode,
            places=options.places,
            years=options.years,
            reports=options.reports,
            scope_from_question=options.scope_from_question,
        )

    def retrieve(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions = AskOptions()
    ) -> tuple[list[Hit], str]:
        """The passages an answer would be drawn from, and why none may be used ('' when they
        may): a place or year no report covers empties the list (retrieval-only use)."""
        d = self.draft(self.analyze(question, history, options))
        reason = grounding_reason(d, self.years)
        return ([] if reason else list(d.hits)), reason

    def _bounded(self, history: Sequence[Turn]) -> tuple[Sequence[Turn], tuple[str, ...]]:
        """The most recent turns within `max_history_chars`, and a note when some were left."""
        limit, kept, size = self.knobs.max_history_chars, 0, 0
        for turn in reversed(history):
            size += len(turn.question) + len(turn.rewritten) + len(turn.answer)
            if size > limit:
                break
            kept += 1
        if kept == len(history):
            return history, ()
        note = (
            f"对话记录超过 {limit} 个字符（RAG_MAX_HISTORY_CHARS）："
            f"只读了 {len(history)} 轮中的最后 {kept} 轮"
        )
        return history[len(history) - kept :], (note,)

    def draft(self, query: Query) -> Draft:
        """The sources of a question (per report for a question across reports), with their
        sentences ranked for it: everything the answerer is given (retrieval-only use)."""
        return self.evidence.draft(query)

    def stream(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions = AskOptions()
    ) -> Iterator[Event]:
        """The events of the answer; a question with several asks is answered ask by ask
        (each later ask read with the earlier ones as its context) and joined."""
        asks = ask_parts(question)
        if len(asks) < 2:
            yield from self._stream_one(question, history, options)
            return
        check_question(question, self.knobs.max_question_chars)
        answers: list[Answer] = []
        turns = list(history)
        for ask in asks:
            answer = self.ask_one(ask, turns, options)
            answers.append(answer)
            turns.append(Turn(ask, answer.rewritten, answer.text))
        whole = joined(question, asks, answers)
        yield Event("rewritten", whole.rewritten)
        yield Event("contexts", hits=whole.contexts)
        yield Event("token", whole.text)
        yield Event("answer", answer=whole)

    def ask_one(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions = AskOptions()
    ) -> Answer:
        """The answer of one ask (no splitting into parts)."""
        return _answer_of(self._stream_one(question, history, options))

    def _stream_one(
        self, question: str, history: Sequence[Turn], options: AskOptions
    ) -> Iterator[Event]:
        timer = Timer()
        query = self.analyze(question, history, options)
        yield Event("rewritten", query.text)
        if query.said:  # how the question was read, before the answer (去年 -> 2023年)
            yield Event("token", note_line(query.said))
        route, meta = self.decider.route(query, bool(options.reports))
        if route == "metadata" and meta is not None:
            yield from self._meta_answer(query, meta, timer)
            return
        draft = self.draft(query)
        timer.mark()
        yield Event("contexts", hits=tuple(draft.hits))
        yield from self._answer(draft, timer)

    def _meta_answer(self, query: Query, meta: tuple[str, str], timer: Timer) -> Iterator[Event]:
        """A question about the report itself: its metadata, cited to the line stating it."""
        about = about_report(meta, query.searched, self.reports, query.filters)
        timer.mark()
        yield Event("contexts", hits=tuple(about.hits))
        d = Draft(query, self.reports, about.hits, [])
        if about.stated:
            outcome = Outcome(
                about.text, about.hits, "extractive (metadata)", False, about_report=True
            )
        else:
            outcome = Outcome(about.text, (), "extractive", True)
        yield Event("token", about.text)
        yield Event("answer", answer=self._finish(d, outcome, 1.0 if about.stated else 0.0, timer))

    def _answer(self, d: Draft, timer: Timer) -> Iterator[Event]:
        decision = self.decider.decide(d)
        if decision.route == "refuse":
            text = absence_text(d.searched, self.reports, d.filters, decision.reason)
            yield Event("token", text)
            outcome = Outcome(text, (), self.mode, True)
            yield Event("answer", answer=self._finish(d, outcome, d.support, timer))
            return
        d = replace(d, missing=decision.missing)
        if decision.note:  # a year answered from the plans for it: said first
            yield Event("token", note_line(decision.note))
        answerer, warnings = self.answerer, tuple[str, ...]()
        budget = self.knobs.request_budget
        if self.fallback is not None and timer.elapsed() >= budget:  # no time left for an LLM
            answerer = self.fallback
            warnings = (f"检索已用完 {budget:g} 秒的时限（RAG_REQUEST_BUDGET）："
                        "改为摘录式回答",)  # fmt: skip
        used = answerer.select(d, d.hits)
        parts: list[str] = []
        deltas = answerer.stream(d, used)
        if not answerer.streams:  # one piece: numbered 1, 2… before it is shown
            whole, used, _ = renumbered("".join(deltas), used)
            deltas = iter([whole])
        try:
            for delta in deltas:
                parts.append(delta)
                yield Event("token", delta)
                if timer.elapsed() >= budget:  # a trickling stream is cut, not waited for
                    warnings += (f"已到 {budget:g} 秒的时限（RAG_REQUEST_BUDGET）：回答被截断",)
                    break
        except LLMUnavailable as e:
            if e.started or parts or self.fallback is None or not self.knobs.llm_fallback:
                raise ModelError(str(e)) from e
            logger.warning("LLM unreachable (%s); answering with %s", e.kind, self.fallback.label)
            warnings = (f"大模型连不上（{e.kind}）：改为摘录式回答",)
            answerer = self.fallback
            used = answerer.select(d, d.hits)
            whole, used, _ = renumbered("".join(answerer.stream(d, used)), used)
            parts = [whole]
            for delta in parts:
                yield Event("token", delta)
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()  # ends the LLM's HTTP stream when the answer was cut
        text = "".join(parts)
        if self.decider.refuses(text, answerer.abstain_marker):  # the LLM found nothing
            text = absence_text(d.searched, self.reports, d.filters)
            outcome = Outcome(text, (), answerer.label, True, warnings)
            yield Event("answer", answer=self._finish(d, outcome, d.support, timer))
            return
        outcome = Outcome(text, used, answerer.label, False, warnings, note=decision.note)
        yield Event("answer", answer=self._finish(d, outcome, d.support, timer))

    def _finish(self, d: Draft, o: Outcome, support: float, timer: Timer) -> Answer:
        # markers numbered 1, 2… in the order the text cites them (an LLM's [1][3] too)
        notes = note_line(d.query.said) + note_line(o.note)
        text, used, invalid = renumbered(notes + o.text, o.used)
        parsed = parse(text, len(used))
        abstained = o.abstained
        # our own lines are no claims: the reports with nothing (across reports), a refusal,
        # the note on how the question was read
        marks = tuple(m for m in (MISSING_PREFIX, NOTE_PREFIX, self.answerer.abstain_marker) if m)
        claims = (
            [] if abstained else [c for c in parsed.claims if c[1] or not c[0].startswith(marks)]
        )
        citations = resolve_citations(claims, used, self.reports)
        checks = check_answer(claims, citations, self.reports, about_report=o.about_report)
        warnings = d.query.notes + o.warnings
        if invalid:
            warnings += (f"已删去不对应任何来源的引用标号：{list(invalid)}",)
        final = parsed.text
        now = time.perf_counter()
        return Answer(
            question=d.query.question,
            rewritten=d.question,
            text=final,
            mode=o.mode,
            abstained=abstained,
            citations=tuple(citations),
            claims=tuple(checks),
            contexts=tuple(replace(h, rank=i) for i, h in enumerate(_retrieved(used, d.hits), 1)),
            searched=tuple(d.searched),
            filters=tuple(d.filters),
            warnings=warnings,
            support=support,
            latency_ms={
                "retrieve": (timer.retrieved - timer.start) * 1000,
                "answer": (now - timer.retrieved) * 1000,
                "total": (now - timer.start) * 1000,
            },
        )


def _retrieved(used: Sequence[Hit], hits: Sequence[Hit]) -> list[Hit]:
    """The passages an answer used, in the order retrieval ranked them (its ranks are the
    retrieval's, not the citation numbers, which follow the order the answer cites them)."""
    if not used:
        return list(hits)
    order = {id(h): i for i, h in enumerate(hits)}
    return sorted(used, key=lambda h: order.get(id(h), len(order)))
