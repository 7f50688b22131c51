"""A LangChain `BaseRetriever` over the pipeline's retrieval, for users' own chains:

    retriever = ReportRetriever(pipeline=open_pipeline(Settings()))
    chain = {"context": retriever | join_passages, "question": RunnablePassthrough()} | prompt | llm

Each `Document` is one passage with the report file, title, year, section path and the exact
character span in the decoded report (`start`, `end`) in its metadata. Scoping is the
pipeline's: place names in the question, or the `places`/`years`/`reports` fields; a place or
year no report covers gives no documents (the reason is logged).
"""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from rag.pipeline import AskOptions, Pipeline
from rag.types import Hit

logger = logging.getLogger(__name__)


class ReportRetriever(BaseRetriever):
    """Hybrid retrieval (BM25 + dense, fused), scoped to the places and years asked."""

    pipeline: Any  # rag.pipeline.Pipeline (Any: pydantic does not validate it)
    k: int | None = None  # passages; None: the pipeline's answer_k
    places: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    reports: tuple[str, ...] = ()

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        pipeline: Pipeline = self.pipeline
        options = AskOptions(self.places, self.years, self.reports, k=self.k)
        hits, reason = pipeline.retrieve(query, (), options)
        if reason:
            logger.info("no passages: %s", reason)
        return [_document(h, pipeline) for h in hits]


def _document(hit: Hit, pipeline: Pipeline) -> Document:
    c = hit.chunk
    report = pipeline.reports.get(c.source)
    return Document(
        page_content=c.text,
        metadata={
            "source": c.source,
            "title": hit.title,
            "year": report.meta.year if report else None,
            "section": " > ".join(c.section),
            "start": c.start,
            "end": c.end,
            "rank": hit.rank,
            "score": hit.score,
            "chunk_id": c.id,
        },
    )
