"""Two stages of an answer between the analysed question and the decision:

- `Sources`: the passages of a question: one retrieval in its scope, or per report for a
  question across reports; for a question on a report's plans or shortcomings, the whole part
  of the report that states them first (all its items).
- `Evidence`: the sources with their sentences ranked for the question (a `Draft`): by the
  question's words first; only when they leave some source below the threshold is the encoder
  asked (a second look): the reports' words it puts beside the question words no report uses
  (rag.retrieve.neighbours), and each sentence's similarity to the question. Report text is never
  encoded for a question the words already answer.

The pipeline chains them (rag/pipeline.py); 核稿 (rag/check.py) reads the retriever itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rag.answer.crossreport import per_report
from rag.answer.decide import Decider, Draft
from rag.answer.extractive import Semantic, candidates
from rag.index.store import LoadedIndex
from rag.retrieve.neighbours import WordNeighbours
from rag.retrieve.query import Query, widened
from rag.retrieve.retriever import Retriever
from rag.retrieve.sections import section_chunks
from rag.retrieve.support import SentenceSimilarity
from rag.types import Hit, best_evidence

Groups = list[tuple[str, list[int]]]  # a question across reports: source -> its hit numbers


@dataclass
class Sources:
    index: LoadedIndex
    retriever: Retriever
    decider: Decider
    per_report_k: int = 2
    max_reports: int = 20

    def of(self, query: Query) -> tuple[list[Hit], Groups | None]:
        """The passages of a question, and for a question across reports each report's source
        numbers (None for a question of one scope)."""
        if not self.decider.across(query):
            hits = self.retriever.search(query.text, query.options, query.scope, query.lexical)
            return self._with_section(query, hits), None
        hits, groups = per_report(self.retriever, query, self.per_report_k, self.max_reports)
        if query.terms.topic:  # each report's plans or shortcomings part, all its items
            hits, groups = self._group_sections(query, hits, groups)
        return hits, groups

    def _section_first(self, topic: str, hits: list[Hit]) -> tuple[list[Hit], list[Hit]]:
        """The part of the report of `hits[0]` that states `topic` (all its chunks, as hits
        of that report), and the other `hits`; ([], hits) when the report has no such part."""
        rows = self.index.rows
        report = [rows.chunks[int(r)] for r in rows.of_reports([hits[0].chunk.source])]  # type: ignore[union-attr]
        part = section_chunks(report, topic)
        ids = {c.id for c in part}
        first = [Hit(0, hits[0].score, c, hits[0].title) for c in part]
        return first, [h for h in hits if h.chunk.id not in ids]

    def _with_section(self, query: Query, hits: list[Hit]) -> list[Hit]:
        """For a question asking for a report's plans or shortcomings, the whole part of the
        best-ranked report that states them first (all its items), then the other hits."""
        topic = query.terms.topic
        if not topic or not hits:
            return hits
        first, rest = self._section_first(topic, hits)
        if not first:
            return hits
        out = first + rest[: max(0, query.options.k - len(first))]
        return [replace(h, rank=i) for i, h in enumerate(out, start=1)]

    def _group_sections(
        self, query: Query, hits: list[Hit], groups: Groups
    ) -> tuple[list[Hit], Groups]:
        """Per report of a question across reports: the part stating the asked topic first,
        then that report's other hits."""
        out: list[Hit] = []
        new_groups: Groups = []
        for source, ns in groups:
            first, rest = self._section_first(query.terms.topic, [hits[n - 1] for n in ns])
            merged = first + rest
            new_groups.append((source, list(range(len(out) + 1, len(out) + len(merged) + 1))))
            out.extend(merged)
        return [replace(h, rank=i) for i, h in enumerate(out, start=1)], new_groups


@dataclass
class Evidence:
    sources: Sources
    similarity: SentenceSimilarity | None = None  # the encoder's sentence similarity
    neighbours: WordNeighbours | None = None  # the reports' words beside a question's

    def draft(self, query: Query) -> Draft:
        """The sources of a question with their sentences ranked for it: everything the
        answerer is given (a second look with the encoder only when the words fall short)."""
        hits, groups = self.sources.of(query)
        first = self._ranked(query, hits, groups, semantic=False)
        if self.similarity is None and self.neighbours is None or self._supported(first):
            return first
        index = self.sources.index
        wide = widened(query, self.neighbours, index.lexical) if self.neighbours else query
        # the same sources unless the reports' words widened the keyword search
        found = self.sources.of(wide) if wide is not query else (hits, groups)
        return self._ranked(wide, *found, semantic=True)

    def _supported(self, d: Draft) -> bool:
        """Whether every source group has a sentence at or above the threshold."""
        threshold = self.sources.decider.threshold
        return bool(d.ranked) and all(
            (best := best_evidence(group)) is not None and best.support >= threshold
            for group in d.ranked
        )

    def _ranked(
        self, query: Query, hits: list[Hit], groups: Groups | None, semantic: bool
    ) -> Draft:
        """The draft of `hits` with their sentences ranked, per report when `groups`."""
        sem = self._semantic(query) if semantic else None
        subsets = [hits] if groups is None else [[hits[n - 1] for n in ns] for _, ns in groups]
        ranked = [candidates(query.terms, subset, sem) for subset in subsets]
        return Draft(query, self.sources.index.reports, hits, groups or [], ranked)

    def _semantic(self, query: Query) -> Semantic | None:
        if self.similarity is None:
            return None
        vector = self.sources.retriever.query_vector(query.text)
        return None if vector is None else (vector, self.similarity)
