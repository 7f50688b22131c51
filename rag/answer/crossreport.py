"""Questions across reports (哪些镇…, 对比…): the top passages of each report in scope."""

from __future__ import annotations

from dataclasses import replace

from rag.answer.compose import is_cross
from rag.retrieve.query import Query
from rag.retrieve.retriever import Retriever
from rag.types import Hit

Groups = list[tuple[str, list[int]]]  # source -> the 1-based numbers of its hits


def asks_across(query: Query) -> bool:
    return is_cross(query.text, len(query.scope.named)) and len(query.searched) > 1


def per_report(
    retriever: Retriever, query: Query, per_report_k: int, max_reports: int
) -> tuple[list[Hit], Groups]:
    """Top `per_report_k` passages of each report in scope, reports ordered by their best
    global rank, at most `max_reports` of them."""
    question, opts, searched = query.text, query.options, query.searched
    wide = replace(opts, k=max(opts.candidates, 4 * max_reports), diversify=False)
    ranked = retriever.search(question, wide, query.scope, query.lexical)
    order = list(dict.fromkeys([h.chunk.source for h in ranked if h.chunk.source in searched]))
    order += [r for r in searched if r not in order]
    hits: list[Hit] = []
    groups: Groups = []
    for source in order[:max_reports]:
        sub = replace(opts, k=per_report_k, reports=(source,), places=(), scope_from_question=False)
        found = retriever.search(question, sub, lexical=query.lexical)
        if found:
            groups.append((source, list(range(len(hits) + 1, len(hits) + len(found) + 1))))
            hits.extend(found)
    return [replace(h, rank=i) for i, h in enumerate(hits, start=1)], groups
