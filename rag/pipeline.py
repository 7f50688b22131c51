"""Composition root: Settings -> chunker, embedder, index, retriever, answerer (`Pipeline`)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from langchain_core.runnables import Runnable

from rag.answer import LLMAnswerer, budget, fit_sources, make_chain
from rag.chunk import ChunkerSettings
from rag.cite import parse, resolve_citations
from rag.compose import absence_text, is_cross, says_absent, scope_text
from rag.config import Settings
from rag.converse import Turn, rewrite
from rag.dense import set_threads
from rag.embed import LEXICAL, Resolution, resolve_embedder
from rag.errors import ConfigError, ModelError, RagError
from rag.extractive import Candidate, candidates, compose, compose_per_report, place_label
from rag.llm import config_from, make_model, provider_errors
from rag.meta_answer import answer_lines, intent
from rag.prompting import load_prompt
from rag.retrieve import QueryOptions, Retriever, Scope, resolve_scope
from rag.store import BuildSummary, LoadedIndex, build_index, load_index
from rag.support import QuestionTerms, question_terms
from rag.types import Answer, Chunk, Hit
from rag.verify import check_answer

logger = logging.getLogger(__name__)


def chunker_settings(settings: Settings) -> ChunkerSettings:
    return ChunkerSettings(
        max_tokens=settings.chunk_max_tokens,
        encoding=settings.token_encoding,
        context_headers=settings.chunk_context_headers,
    )


def resolve(settings: Settings) -> Resolution:
    return resolve_embedder(
        settings.embed_model, settings.embed_fallback, settings.query_instruction
    )


def build(
    settings: Settings,
    reports_dir: Path,
    index_dir: Path,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[BuildSummary, Resolution]:
    resolution = resolve(settings)
    summary = build_index(
        reports_dir, index_dir, resolution.embedder, chunker_settings(settings), progress
    )
    return summary, resolution


@dataclass
class SearchEngine:
    index: LoadedIndex
    resolution: Resolution
    retriever: Retriever
    settings: Settings

    @classmethod
    def open(cls, settings: Settings, index_dir: Path) -> SearchEngine:
        set_threads(settings.faiss_threads)
        index = load_index(index_dir)
        resolution = resolve(settings)
        built_with = index.embed_model
        if built_with != LEXICAL and resolution.model_name != built_with:
            raise ModelError(
                f"the index in {index_dir} was built with embedding model {built_with}, but this "
                f"run uses {resolution.model_name} ({resolution.message}); set RAG_EMBED_MODEL="
                f"{built_with} or rebuild with `rag index --index {index_dir}`"
            )
        if resolution.embedder is not None and built_with != LEXICAL:
            dim = int(index.manifest["dim"])
            if resolution.embedder.dim != dim:
                raise ModelError(
                    f"embedding dimension {resolution.embedder.dim} of "
                    f"{resolution.model_name} != {dim} in the index; rebuild it"
                )
        embedder = resolution.embedder if built_with != LEXICAL else None
        return cls(index, resolution, Retriever(index, embedder), settings)

    def options(self, **overrides: object) -> QueryOptions:
        base = {"candidates": self.settings.candidates, "rrf_k": self.settings.rrf_k}
        return QueryOptions(**{**base, **overrides})  # type: ignore[arg-type]

    def search(
        self, question: str, opts: QueryOptions | None = None, scope: Scope | None = None
    ) -> list[Hit]:
        return self.retriever.search(question, opts or self.options(), scope)


@dataclass(frozen=True)
class AskOptions:
    """Per-question filters and knobs (the UI's and CLI's --place/--year/--report/--mode)."""

    places: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    reports: tuple[str, ...] = ()
    mode: str = "hybrid"
    k: int | None = None  # passages for the answerer; None: settings.answer_k
    scope_from_question: bool = True  # place names in the question restrict the reports


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: rewritten question, contexts, a text delta, the answer."""

    kind: Literal["rewritten", "contexts", "token", "answer"]
    text: str = ""
    hits: tuple[Hit, ...] = ()
    answer: Answer | None = None


class Pipeline:
    """ask(question, history, options) -> Answer; `stream` yields the same as Events."""

    def __init__(
        self,
        engine: SearchEngine,
        llm: LLMAnswerer | None = None,
        rewriter: Runnable | None = None,
    ) -> None:
        self.engine = engine
        self.settings = engine.settings
        self.llm = llm
        self.rewriter = rewriter
        self.reports = engine.index.reports
        self.aliases = frozenset(engine.retriever.places.by_alias)
        self.years = {s: r.meta.year for s, r in self.reports.items()}

    @classmethod
    def open(cls, settings: Settings, index_dir: Path | None = None) -> Pipeline:
        engine = SearchEngine.open(settings, index_dir or settings.index_dir)
        cfg = config_from(settings)
        if cfg is None:
            return cls(engine)
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        model = make_model(cfg, key)
        answer_prompt = load_prompt(settings.prompts_dir, "answer")
        rewrite_prompt = load_prompt(settings.prompts_dir, "rewrite")
        return cls(
            engine,
            LLMAnswerer(model, answer_prompt, cfg.style, cfg.label),
            make_chain(model, rewrite_prompt, cfg.style),
        )

    @property
    def mode(self) -> str:
        return self.llm.label if self.llm else "extractive"

    def ask(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions = AskOptions()
    ) -> Answer:
        for event in self.stream(question, history, options):
            if event.answer is not None:
                return event.answer
        raise RagError("the answer stream ended without an answer")  # pragma: no cover

    def stream(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions = AskOptions()
    ) -> Iterator[Event]:
        if not question.strip():
            raise ConfigError("the question is empty")
        t0 = time.perf_counter()
        rewritten = rewrite(question, history, self.aliases, self.rewriter)
        yield Event("rewritten", rewritten)
        s = self.settings
        opts = self.engine.options(
            k=options.k or s.answer_k,
            mode=options.mode,
            places=options.places,
            years=options.years,
            reports=options.reports,
            scope_from_question=options.scope_from_question,
        )
        scope = resolve_scope(rewritten, self.reports, opts, self.engine.retriever.places)
        searched = scope.reports or tuple(self.reports)
        meta = intent(rewritten)
        if meta and (scope.named or options.reports):
            yield from self._meta_answer(question, rewritten, meta, searched, scope.reasons, t0)
            return
        cross = is_cross(rewritten, len(scope.named)) and len(searched) > 1
        hits, groups = (
            self._per_report(rewritten, opts, searched)
            if cross
            else (self.engine.search(rewritten, opts, scope), [])
        )
        t_retrieve = time.perf_counter()
        yield Event("contexts", hits=tuple(hits))
        terms = self._terms(rewritten)
        if groups:
            ranked = [candidates(terms, [hits[n - 1] for n in ns]) for _, ns in groups]
        else:
            ranked = [candidates(terms, hits)]
        draft = Draft(rewritten, hits, groups, terms, searched, scope.reasons, ranked)
        yield from self._answer(question, draft, t0, t_retrieve)

    def _meta_answer(
        self,
        question: str,
        rewritten: str,
        meta: tuple[str, str],
        searched: Sequence[str],
        filters: Sequence[str],
        t0: float,
    ) -> Iterator[Event]:
        """A question about the report itself: its metadata, cited to the line stating it."""
        lines = answer_lines(meta[0], [self.reports[r] for r in searched])
        hits = [
            Hit(
                rank=i,
                score=1.0,
                chunk=Chunk(
                    x.source,
                    x.start,
                    x.end,
                    self.reports[x.source].text[x.start : x.end],
                    ("报告信息",),
                ),
                title=self.reports[x.source].meta.title,
            )
            for i, x in enumerate(lines, start=1)
        ]
        t_retrieve = time.perf_counter()
        yield Event("contexts", hits=tuple(hits))
        d = Draft(rewritten, hits, [], QuestionTerms({}, False), searched, filters)
        if not lines:
            text = absence_text(searched, self.reports, filters, f"报告未载明{meta[1]}")
            yield Event("token", text)
            yield Event(
                "answer",
                answer=self._finish(
                    question, d, text, (), "extractive", True, 0.0, (), t0, t_retrieve
                ),
            )
            return
        text = "\n".join(
            f"{place_label(self.reports[x.source])}报告的{meta[1]}为{x.value}"
            f"（原文：“{h.chunk.text.strip()}”）[{h.rank}]。"
            for x, h in zip(lines, hits, strict=True)
        )
        yield Event("token", text)
        yield Event(
            "answer",
            answer=self._finish(
                question, d, text, hits, "extractive (metadata)", False, 1.0, (), t0, t_retrieve
            ),
        )

    def _per_report(
        self, question: str, opts: QueryOptions, searched: Sequence[str]
    ) -> tuple[list[Hit], list[tuple[str, list[int]]]]:
        """Top passages of each report in scope (reports ordered by their best global rank)."""
        ranked = self.engine.search(
            question,
            replace(opts, k=max(opts.candidates, 4 * self.settings.max_reports), diversify=False),
        )
        order = list(dict.fromkeys([h.chunk.source for h in ranked if h.chunk.source in searched]))
        order += [r for r in searched if r not in order]
        hits: list[Hit] = []
        groups: list[tuple[str, list[int]]] = []
        for source in order[: self.settings.max_reports]:
            sub = replace(
                opts,
                k=self.settings.per_report_k,
                reports=(source,),
                places=(),
                scope_from_question=False,
            )
            found = self.engine.search(question, sub)
            if found:
                groups.append((source, list(range(len(hits) + 1, len(hits) + len(found) + 1))))
                hits.extend(found)
        return [replace(h, rank=i) for i, h in enumerate(hits, start=1)], groups

    def _terms(self, question: str) -> QuestionTerms:
        bm25 = self.engine.index.bm25
        return question_terms(
            question, bm25.tokenizer.words, bm25.tokenizer, bm25.idf, self.aliases
        )

    def _answer(self, question: str, d: Draft, t0: float, t_retrieve: float) -> Iterator[Event]:
        s = self.settings
        support = max((c.support for group in d.ranked for c in group), default=0.0)
        gap = self._year_gap(d)
        if not d.hits or gap or support < s.abstain_threshold:
            reason = "没有检索到任何段落" if not d.hits else gap
            text = absence_text(d.searched, self.reports, d.filters, reason)
            yield Event("token", text)
            yield Event(
                "answer",
                answer=self._finish(
                    question, d, text, (), self.mode, True, support, (), t0, t_retrieve
                ),
            )
            return
        mode, used, warnings = self.mode, list(d.hits), []
        if self.llm is None:
            text = self._extractive(d)
            yield Event("token", text)
        else:
            sources, used = fit_sources(
                d.hits,
                self.reports,
                budget(s.llm_context_tokens, s.llm_max_tokens, self.llm.prompt_tokens()),
                s.token_encoding,
            )
            if not used:
                raise ConfigError(
                    f"no source fits the LLM's context: RAG_LLM_CONTEXT_TOKENS="
                    f"{s.llm_context_tokens} less RAG_LLM_MAX_TOKENS={s.llm_max_tokens} and the "
                    "prompt leaves no room; raise the first or lower the second"
                )
            parts: list[str] = []
            try:
                for delta in self.llm.stream(
                    d.question, sources, scope_text(d.searched, self.reports)
                ):
                    parts.append(delta)
                    yield Event("token", delta)
                text = "".join(parts)
            except provider_errors() as e:
                if parts or not s.llm_fallback:
                    raise ModelError(f"the LLM ({self.llm.label}) failed: {e}") from e
                logger.warning("LLM unreachable (%s); answering extractively", type(e).__name__)
                warnings.append(f"LLM unreachable ({type(e).__name__}): answered extractively")
                mode, used = "extractive", list(d.hits)
                text = self._extractive(d)
                yield Event("token", text)
        yield Event(
            "answer",
            answer=self._finish(
                question, d, text, used, mode, False, support, tuple(warnings), t0, t_retrieve
            ),
        )

    def _finish(
        self,
        question: str,
        d: Draft,
        text: str,
        used: Sequence[Hit],
        mode: str,
        abstained: bool,
        support: float,
        warnings: tuple[str, ...],
        t0: float,
        t_retrieve: float,
    ) -> Answer:
        parsed = parse(text, len(used))
        claims = [] if abstained else [c for c in parsed.claims if not says_absent(c[0]) or c[1]]
        citations = resolve_citations(claims, used)
        checks = check_answer(claims, citations, self.years)
        if parsed.invalid:
            warnings += (f"removed marker(s) naming no source: {list(parsed.invalid)}",)
        final = parsed.text
        if not abstained and not citations and says_absent(final):  # the LLM found nothing
            abstained = True
            final += "\n" + absence_text(d.searched, self.reports, d.filters).split("\n", 1)[1]
        now = time.perf_counter()
        return Answer(
            question=question,
            rewritten=d.question,
            text=final,
            mode=mode,
            abstained=abstained,
            citations=tuple(citations),
            claims=tuple(checks),
            contexts=tuple(replace(h, rank=i) for i, h in enumerate(used or d.hits, start=1)),
            searched=tuple(d.searched),
            filters=tuple(d.filters),
            warnings=warnings,
            support=support,
            latency_ms={
                "retrieve": (t_retrieve - t0) * 1000,
                "answer": (now - t_retrieve) * 1000,
                "total": (now - t0) * 1000,
            },
        )

    def _extractive(self, d: Draft) -> str:
        if not d.groups:
            return compose(d.ranked[0], d.hits, self.reports)
        body, missing = compose_per_report(
            d.ranked, d.groups, d.hits, self.reports, self.settings.abstain_threshold
        )
        if missing:
            labels = "、".join(place_label(self.reports[m]) for m in missing)
            body += f"\n未找到相关内容的报告：{labels}"
        return body

    def _year_gap(self, d: Draft) -> str:
        """Why the searched reports cannot answer for the year(s) asked, or ''."""
        asked = {int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年", d.question)}
        covered = {self.years[r] for r in d.searched}
        if (
            not asked
            or asked & covered
            or any(str(y) in h.chunk.text for h in d.hits for y in asked)
        ):
            return ""
        years = "、".join(str(y) for y in sorted(y for y in covered if y))
        return f"检索范围内的报告不涉及{'、'.join(map(str, sorted(asked)))}年，报告年份为{years}"


@dataclass(frozen=True)
class Draft:
    question: str  # standalone question
    hits: list[Hit]
    groups: list[tuple[str, list[int]]]  # cross-report: source -> its source numbers
    terms: QuestionTerms
    searched: Sequence[str]
    filters: Sequence[str]
    # the sources' sentences ranked for the question: one list per group, or one for all hits
    ranked: list[list[Candidate]] = field(default_factory=list)
