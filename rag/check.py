"""核稿: check any text (a draft, an LLM's answer) against the reports, claim by claim.

Each sentence of the text is a claim. It gets its own retrieval (the pipeline's analysis and
scope: the places and years it names, and the user's filters), and the one claim judge
(rag/verify/judge.py, the same that checks our answers) compares it with the retrieved report
sentences: `supported`, `contradicted` (with the report's value; also when the claim's
content belongs to another place or year), `not_found` (the reports searched are listed), or
`not_a_claim` (headings, signatures, date lines, greetings: told here).

A report's title, signature (落款) or date line never supports a claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from rag.answer.meta_answer import answer_lines, meta_hits
from rag.ingest.metadata import ISSUER_LINE, parse_date
from rag.lang import lexicon
from rag.lang.outline import HEADING_LEVELS
from rag.lang.script import simplified
from rag.pipeline import AskOptions, Pipeline
from rag.retrieve.query import Query, read
from rag.text.numbers import quantities, same_quantity
from rag.text.textmatch import containment, content, sentences
from rag.types import Hit
from rag.verify.judge import THRESHOLDS, Judgement, Thresholds, Unit, Verdict, is_furniture, judge

# the verdicts of 核稿: the judge's, without an answer's partly and uncited
VERDICTS: tuple[Verdict, ...] = ("supported", "contradicted", "not_found", "not_a_claim")
_NOT_CLAIM = lexicon()["not_claim"].pattern
MIN_CONTENT = 6  # characters: a shorter sentence states nothing to check
ANY = AskOptions()  # no filters
CLAIM_K = 12  # passages retrieved for one claim
CLAIM_LEXICAL_K = 4  # and the keyword search's best, when the hybrid order left them out


@dataclass(frozen=True)
class Evidence:
    source: str
    start: int  # offsets into the report text
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class CheckedClaim:
    text: str
    start: int  # offsets into the checked text
    end: int
    verdict: Verdict
    reason: str
    report_value: str | None = None  # what the report states instead (contradicted)
    citations: tuple[Evidence, ...] = ()
    searched: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "verdict": self.verdict,
            "reason": self.reason,
            "report_value": self.report_value,
            "citations": [e.to_dict() for e in self.citations],
            "searched": list(self.searched),
        }


@dataclass(frozen=True)
class CheckResult:
    claims: tuple[CheckedClaim, ...]
    filters: tuple[str, ...] = field(default_factory=tuple)

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {v: 0 for v in VERDICTS}
        for c in self.claims:
            counts[c.verdict] += 1
        return {**counts, "claims": len(self.claims)}

    def to_dict(self) -> dict[str, Any]:
        return {"claims": [c.to_dict() for c in self.claims], "summary": self.summary}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        """A result back from its JSON (`to_dict`, as the UI and the API hold it)."""
        return cls(
            tuple(
                CheckedClaim(
                    c["text"],
                    c["start"],
                    c["end"],
                    c["verdict"],
                    c["reason"],
                    c.get("report_value"),
                    tuple(
                        Evidence(e["source"], e["start"], e["end"], e["text"])
                        for e in c.get("citations", ())
                    ),
                    tuple(c.get("searched", ())),
                )  # fmt: skip
                for c in d["claims"]
            )
        )


def split_claims(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of each line of `text`: a heading or a signature on a
    line of its own is one piece."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        out += sentences(text, pos, pos + len(line.rstrip("\r\n")))
        pos += len(line)
    return out


def not_a_claim(sentence: str) -> str:
    """Why the sentence is no claim ('' when it is one)."""
    s = sentence.strip()
    if len(content(s)) < MIN_CONTENT:
        return "太短，没有可核对的内容"
    if _NOT_CLAIM.search(s) and len(s) <= 40:
        return "问候、结束语或引语"
    if len(s) <= 24 and parse_date(s) and len(content(s)) <= 12:
        return "日期行"
    if ISSUER_LINE.match(s.rstrip("。")):
        return "落款（署名）"
    headed = any(p.match(s) for _, p in HEADING_LEVELS) or re.search(r"报告|总结$", s)
    if headed and not s.endswith(("。", "；", "！", "？")) and len(s) <= 40:
        return "标题或小标题"
    return ""


_Candidate = tuple[Unit, Hit, int, int]  # a sentence as evidence, its hit and offsets in it


class ClaimChecker:
    """Checks each claim of a text against the pipeline's reports."""

    def __init__(self, pipeline: Pipeline, thresholds: Thresholds = THRESHOLDS) -> None:
        self.pipeline = pipeline
        self.thresholds = thresholds

    def check(self, text: str, options: AskOptions = ANY) -> CheckResult:
        claims = []
        text = simplified(text)  # a draft in 繁體 is checked as simplified, offsets kept
        for a, b in split_claims(text):
            claims.append(self.check_claim(text[a:b], a, b, options))
        return CheckResult(tuple(claims))

    def _read(self, claim: str, options: AskOptions) -> Query:
        """What a claim is about (places, years with 去年 made absolute, scope, terms), read as
        a question is but with no conversation to rewrite it from."""
        p = self.pipeline
        opts = p.query_options(options)
        return read(claim, claim.strip(), opts, p.reports, p.retriever.places, p.index.lexical)

    def _evidence(self, claim: str, query: Query) -> tuple[list[_Candidate], tuple[str, ...], str]:
        """Each passage retrieved for the claim (read as `query`) with the sentence of it that
        states the claim (its figures, then most of its wording; no title, 落款 or date line),
        as an answer cites a passage and its sentence; the reports searched; and why none may
        be used ('' when they may)."""
        p = self.pipeline
        # plain hybrid retrieval in the claim's scope: a claim is no question, so no part of a
        # report is put first for a topic it seems to ask (培训计划 is no question on plans)
        # (more passages than an answer's: a short claim is a small part of a long passage)
        opts = replace(query.options, k=max(query.options.k, CLAIM_K))
        hits = p.retriever.search(query.text, opts, query.scope, query.lexical)
        # and the keyword search's best passages: a sentence copied from a report is found by
        # its words even where the vectors rank other passages first (三是完善立法民意工作机制。
        # was 13th in hybrid order, 2nd by keywords)
        if opts.mode == "hybrid":
            seen = {h.chunk.id for h in hits}
            lexical = replace(opts, mode="bm25", k=CLAIM_LEXICAL_K)
            hits += [
                h
                for h in p.retriever.search(query.text, lexical, query.scope, query.lexical)
                if h.chunk.id not in seen
            ]
        figures = quantities(claim)
        out: list[_Candidate] = []
        for hit in hits:
            report = p.reports[hit.chunk.source]
            text = hit.chunk.text
            spans = [(a, b) for a, b in sentences(text) if not is_furniture(report, text[a:b])]
            if not spans:
                continue

            def states(span: tuple[int, int], t: str = text) -> tuple[int, float]:
                found = quantities(t[span[0] : span[1]])
                hits = sum(any(same_quantity(q, f) for f in found) for q in figures)
                return hits, containment(claim, t[span[0] : span[1]])

            a, b = max(spans, key=states)
            out.append((Unit((text,), (text[a:b],), (report,)), hit, a, b))
        out += self._joined(out)
        reason = ""
        if query.unknown_places:
            reason = f"语料中没有关于{'、'.join(query.unknown_places)}的报告"
        return out, tuple(query.searched), reason

    def _metadata(self, query: Query, options: AskOptions) -> list[_Candidate]:
        """For a claim (read as `query`) about a report itself (its date, issuer, number: the
        pipeline's metadata route), the lines of the reports in its scope that state that
        field (an index-table row, a 落款), as a metadata answer cites them; else none."""
        p = self.pipeline
        route, meta = p.decider.route(query, bool(options.reports))
        if route != "metadata" or meta is None:
            return []
        lines = answer_lines(meta[0], [p.reports[r] for r in query.searched])
        return [
            (Unit((h.chunk.text,), (h.chunk.text,), (p.reports[h.chunk.source],)), h, 0,
             len(h.chunk.text))
            for h in meta_hits(lines, p.reports)
        ]  # fmt: skip

    @staticmethod
    def _joined(single: list[_Candidate]) -> list[_Candidate]:
        """Per report, its retrieved passages together, as an answer's claim may cite several
        passages of one report (a list of its plans); the judge's stitching check still
        refuses a claim pieced from unrelated sentences of them."""
        by_report: dict[str, list[_Candidate]] = {}
        for c in single:
            by_report.setdefault(c[1].chunk.source, []).append(c)
        out: list[_Candidate] = []
        for group in by_report.values():
            if len(group) > 1:
                first = group[0]
                unit = Unit(
                    tuple(p for c in group for p in c[0].passages),
                    tuple(t for c in group for t in c[0].sentences),
                    first[0].reports,
                )
                out.append((unit, *first[1:]))
        return out

    def check_claim(
        self, claim: str, start: int = 0, end: int | None = None, options: AskOptions = ANY
    ) -> CheckedClaim:
        end = len(claim) if end is None else end
        why = not_a_claim(claim)
        if why:
            return CheckedClaim(claim, start, end, "not_a_claim", why)
        query = self._read(claim, options)
        found, searched, grounding = self._evidence(claim, query)
        base = CheckedClaim(claim, start, end, "not_found", "", searched=searched)
        scoped = None
        stated = self._metadata(query, options)
        if stated and not grounding:  # a claim about the report itself: the line stating it
            j = judge(claim, [c[0] for c in stated], about_report=True, thresholds=self.thresholds)
            if j.verdict in ("supported", "contradicted"):
                return self._with(base, j, stated[j.unit])
        if found and not grounding:
            j = judge(claim, [c[0] for c in found], thresholds=self.thresholds)
            scoped = self._with(base, j, found[j.unit])
            if j.verdict in ("supported", "contradicted"):
                return scoped
        # not in the reports of the place and year it names: is it another place's or year's?
        unscoped = replace(options, scope_from_question=False)
        anywhere, _, _ = self._evidence(claim, self._read(claim, unscoped))
        if anywhere:
            j = judge(claim, [c[0] for c in anywhere], thresholds=self.thresholds)
            if j.verdict == "supported":
                source = anywhere[j.unit][1].chunk.source
                verdict = self._with(base, j, anywhere[j.unit])
                if source in searched and not grounding:
                    return verdict
                report = self.pipeline.reports[source]
                return replace(
                    verdict,
                    verdict="contradicted",
                    reason=f"报告中这一内容属于{report.label}，不是文中所说的地方或年份",
                    report_value=report.label,
                )
        if grounding:
            return replace(base, reason=grounding)
        return scoped or replace(base, reason="检索范围内的报告没有这一内容")

    def _with(self, base: CheckedClaim, j: Judgement, c: _Candidate) -> CheckedClaim:
        """The claim with the judge's verdict, and the sentence judged against as its
        citation (also for not_found, when some of its wording is there)."""
        _, hit, s, e = c
        ev = Evidence(
            hit.chunk.source, hit.chunk.start + s, hit.chunk.start + e, hit.chunk.text[s:e]
        )
        shown = (ev,) if j.verdict != "not_found" or j.overlap >= self.thresholds.partly else ()
        verdict = "not_found" if j.verdict == "partly" else j.verdict
        return replace(
            base, verdict=verdict, reason=j.reason, report_value=j.report_value, citations=shown
        )
