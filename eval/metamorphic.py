"""Metamorphic evaluation: the sample and corpus-other reports re-skinned to real places of
other counties and levels, other years and real sites' page furniture, then read, indexed and
asked as `rag eval` does; the figures show what only held for our own pages.

    python -m eval.metamorphic --seed N [--out DIR] [--copies K] [--limit Q]

Deterministic in the seed (the corpus, its truth and its questions). Writes to --out (default
eval/results/metamorphic-<seed>): metrics.json, metadata_checks.jsonl (each report's title,
year, date, place and issuer as read against the generator's truth), outcomes.jsonl (each
question: what it asked, whether it was answered, from which reports), the questions, the
truth and the generated reports, and answers/ (run_eval's report of the answers).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from eval.dataset import read_questions
from eval.metamorphic_gen import Corpus, generate
from eval.metamorphic_pages import convert
from eval.run import run_eval
from rag.config import PROJECT_ROOT, Settings
from rag.factory import build, read_report
from rag.types import Report

FIELDS = ("place", "year", "date", "title", "issuer")


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def lowest_place(report: Report) -> str | None:
    p = report.meta.places
    return p.town or p.county or p.city or p.province


def check_report(truth: Mapping[str, Any], report: Report) -> list[dict[str, Any]]:
    """The five fields of one report as read, against the truth (繁體 folded to 简体)."""
    config = truth["traditional"]

    def fold(value: Any) -> Any:
        return convert(value, "t2s") if config and isinstance(value, str) else value

    meta = report.meta
    got: dict[str, Any] = {
        "place": fold(lowest_place(report)), "year": meta.year, "date": meta.published,
        "title": fold(meta.title), "issuer": fold(meta.issuer),
    }  # fmt: skip
    want: dict[str, Any] = {
        "place": truth["place"], "year": truth["year"], "date": truth["published"],
        "title": truth["title"], "issuer": truth["issuer"],
    }  # fmt: skip
    checks = []
    for field in FIELDS:
        if field == "issuer" and want[field] is None:
            continue  # the page does not say who issued it
        if field == "title" and want[field] is None:
            right = bool(meta.title_synthesized)  # no title on the page: one made up, and said so
        elif field == "issuer":
            right = got[field] in want[field]
        elif field == "date":  # a page with a 发文日期 and a 发布日期 states either
            right = got[field] in truth.get("published_ok", [want[field]])
        else:
            right = got[field] == want[field]
        checks.append(
            {"file": truth["file"], "source": truth["source"], "field": field,
             "want": want[field], "got": got[field], "right": right,
             "traditional": bool(config), "truncated": truth["truncated"],
             "html": truth["html"], "title_variant": truth["title_variant"]}
        )  # fmt: skip
    return checks


def rate(checks: list[dict[str, Any]]) -> float | None:
    return round(sum(c["right"] for c in checks) / len(checks), 4) if checks else None


def score_metadata(corpus: Corpus, reports: Mapping[str, Report]) -> dict[str, Any]:
    checks = [c for t in corpus.truth() for c in check_report(t, reports[t["file"]])]
    by_field = {f: rate([c for c in checks if c["field"] == f]) for f in FIELDS}
    kinds = {
        k: {f: rate([c for c in checks if c[k] and c["field"] == f]) for f in FIELDS}
        for k in ("traditional", "truncated", "html")
    }
    return {"checks": len(checks), "accuracy": rate(checks), "by_field": by_field,
            "by_copy_kind": kinds, "rows": checks}  # fmt: skip


def usable(questions: list[dict[str, Any]], texts: dict[str, str], folder: Path) -> list[str]:
    """Write the questions whose quotes the pipeline's reading keeps; return the ids left out
    (a quote the reading of a page lost: furniture or markup taken for text, or text cut)."""
    path = folder / "questions.all.jsonl"
    write_jsonl(path, questions)
    kept, _ = read_questions(path, texts)
    ok = {q.id for q in kept}
    write_jsonl(folder / "questions.jsonl", [q for q in questions if q["id"] in ok])
    return [q["id"] for q in questions if q["id"] not in ok]


def other_place_or_year(
    questions: list[dict[str, Any]], predictions: list[dict[str, Any]], truth: Mapping[str, Any]
) -> tuple[int, list[dict[str, Any]]]:
    """Answers (not abstentions) to a question naming a place or year that cite a report whose
    truth is another place or year; and every question's outcome."""
    asked = {q["id"]: q for q in questions}
    outcomes = []
    wrong = 0
    for p in predictions:
        q = asked[p["id"]]
        places = {tuple(x) for x in q["asked"]["places"]}
        years = set(q["asked"]["years"])
        cited = sorted({c["source"] for c in p["citations"]})
        bad = []
        for source in cited if not p["abstained"] else []:
            t = truth.get(source)
            if t is None:
                continue
            if (places and (t["chain"][2], t["chain"][3]) not in places) or (
                years and t["year"] not in years
            ):
                bad.append(source)
        wrong += bool(bad)
        outcomes.append(
            {"id": q["id"], "kind": q.get("kind") or q.get("type"), "asked": q["asked"],
             "answerable": q["answerable"], "abstained": p["abstained"], "cited": cited,
             "other_place_or_year": bad}
        )  # fmt: skip
    return wrong, outcomes


def run(seed: int, out: Path, copies: int, limit: int | None) -> dict[str, Any]:
    corpus = generate(seed, copies, limit)
    out.mkdir(parents=True, exist_ok=True)
    truth = {t["file"]: t for t in corpus.truth()}
    write_jsonl(out / "truth.jsonl", truth.values())
    with tempfile.TemporaryDirectory(prefix="rag-metamorphic-") as tmp:
        folder = Path(tmp) / "reports"
        paths = corpus.write(folder)
        corpus.write(out / "reports")
        reports = {p.name: read_report(p) for p in paths}
        meta = score_metadata(corpus, reports)
        write_jsonl(out / "metadata_checks.jsonl", meta.pop("rows"))
        lost = usable(corpus.questions, {n: r.text for n, r in reports.items()}, out)
        folders: dict[str, Any] = {"reports_dir": folder, "index_dir": Path(tmp) / "index"}
        settings = Settings(**folders)
        summary, _ = build(settings)
        print(f"indexed {summary.reports} reports ({summary.chunks} chunks)")
        run_eval(settings, out / "questions.jsonl", out / "answers", 5, "hybrid", False, False)
    answers = json.loads((out / "answers" / "metrics.json").read_text(encoding="utf-8"))
    lines = (out / "answers" / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    predictions = [json.loads(line) for line in lines if line.strip()]
    kept = [q for q in corpus.questions if q["id"] not in set(lost)]
    wrong, outcomes = other_place_or_year(kept, predictions, truth)
    write_jsonl(out / "outcomes.jsonl", outcomes)
    overall = answers["overall"]
    metrics = {
        "seed": seed, "copies": copies, "reports": len(corpus.copies),
        "year_shifts": corpus.deltas, "questions": len(kept),
        "questions_left_out": {**corpus.dropped, "quote lost in the pipeline's reading": len(lost)},
        "metadata": meta,
        "answers": {k: overall.get(k) for k in (
            "key_fact_accuracy", "false_abstention_rate", "abstention_accuracy",
            "wrong_report_answers", "recall@5", "mrr")},
        "by_unanswerable_kind": {
            kind: {"questions": m["questions"], "abstention_accuracy": m["abstention_accuracy"]}
            for kind, m in answers.get("by_unanswerable_kind", {}).items()},
        "answers_about_another_place_or_year": wrong,
    }  # fmt: skip
    (out / "metrics.json").write_text(
        json.dumps(metrics, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return metrics


def summary_lines(m: dict[str, Any]) -> list[str]:
    meta, ans = m["metadata"], m["answers"]
    lines = [f"seed {m['seed']}: {m['reports']} reports, {m['questions']} questions"]
    lines += [f"metadata {f}: {meta['by_field'][f]}" for f in FIELDS]
    lines += [f"{k}: {v}" for k, v in ans.items()]
    lines.append(f"answers about another place or year: {m['answers_about_another_place_or_year']}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="at most this many questions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    out = args.out or PROJECT_ROOT / "eval" / "results" / f"metamorphic-{args.seed}"
    for line in summary_lines(run(args.seed, out, args.copies, args.limit)):
        print(line)


if __name__ == "__main__":
    main()
