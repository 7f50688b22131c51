"""One claim judge, measured: `rag check` on every sentence of the indexed reports (each
should be supported), and our answers' claim checks against `rag check` of the same claims
(the two must agree: both go through rag/verify/judge.py).

    python -m eval.agreement [--dataset eval/dev.jsonl] [--out eval/results/agreement.json]

Agreement is on the verdict a supervisor acts on: supported, contradicted, or neither (an
answer's partly and not_found against 核稿's not_found).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from rag.check import ClaimChecker, not_a_claim, split_claims
from rag.config import PROJECT_ROOT, Settings
from rag.factory import open_pipeline
from rag.text.textmatch import strip_markers


def _side(verdict: str) -> str:
    return verdict if verdict in ("supported", "contradicted") else "neither"


def report_sentences(checker: ClaimChecker, sources: set[str] | None = None) -> dict[str, object]:
    """`rag check` of every sentence of every indexed report (of `sources`, when given)."""
    counts: Counter[str] = Counter()
    wrong = []
    for source, report in sorted(checker.pipeline.reports.items()):
        if sources is not None and source not in sources:
            continue
        for a, b in split_claims(report.text):
            sentence = report.text[a:b].strip()
            if (
                not sentence
                or not_a_claim(sentence)
                or report.noise
                and any(s.start <= a < s.end for s in report.noise)
            ):
                continue
            c = checker.check_claim(sentence)
            counts[c.verdict] += 1
            if c.verdict != "supported":
                wrong.append({"source": source, "sentence": sentence, "verdict": c.verdict,
                              "reason": c.reason})  # fmt: skip
    n = sum(counts.values())
    return {"sentences": n, "verdicts": dict(counts),
            "supported": round(counts["supported"] / n, 4) if n else None, "not_supported": wrong}  # fmt: skip


def answer_claims(checker: ClaimChecker, dataset: Path) -> dict[str, object]:
    """Each claim of our answers to `dataset`'s questions, checked again by `rag check`."""
    pairs: Counter[tuple[str, str]] = Counter()
    disagree = []
    for line in dataset.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        answer = checker.pipeline.ask(q["question"])
        if answer.abstained:
            continue
        for claim in answer.claims:
            if claim.verdict == "uncited":
                continue
            text = strip_markers(claim.text).strip()
            again = checker.check_claim(text)
            pair = (_side(claim.verdict), _side(again.verdict))
            pairs[pair] += 1
            if pair[0] != pair[1]:
                disagree.append({"id": q["id"], "claim": text, "answer": claim.verdict,
                                 "check": again.verdict, "check_reason": again.reason})  # fmt: skip
    n = sum(pairs.values())
    same = sum(v for (a, b), v in pairs.items() if a == b)
    return {"claims": n, "agree": round(same / n, 4) if n else None,
            "pairs": {f"{a}/{b}": v for (a, b), v in sorted(pairs.items())}, "disagree": disagree}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=PROJECT_ROOT / "eval" / "dev.jsonl")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval/results/agreement.json")
    args = parser.parse_args()
    checker = ClaimChecker(open_pipeline(Settings()))
    result = {
        "report_sentences": report_sentences(checker),
        "answer_claims": answer_claims(checker, args.dataset),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    r, a = result["report_sentences"], result["answer_claims"]
    print(f"report sentences supported: {r['supported']} of {r['sentences']}; "  # type: ignore[index]
          f"answer claims agreeing with rag check: {a['agree']} of {a['claims']}")  # type: ignore[index]  # fmt: skip


if __name__ == "__main__":
    main()
