"""The perturbation benchmark of 核稿 (rag/check.py): true claims made from the reports' own
sentences, and false ones made from them (another figure, another unit, another town,
another year, the negation flipped, the figure of another sentence of the same report,
another report's sentence, an invented sentence).

    python -m eval.claims [--out eval/results/claims.json] [--per-report 25]

For each kind: how many false claims were caught (contradicted or not_found), and how many
true claims were not supported (false alarms). Targets (issue 24): caught >= 0.95 of false
claims, false alarms <= 0.03 of true claims.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from rag.check import ClaimChecker, not_a_claim
from rag.config import PROJECT_ROOT, Settings
from rag.factory import open_pipeline, with_chat_model
from rag.text.numbers import is_year, quantities
from rag.text.textmatch import sentences
from rag.types import Report

# a unit and one that never counts the same thing (15次 is not 15人)
OTHER_UNIT = {"次": "人", "场": "名", "人": "次", "名": "场", "件": "人", "起": "名", "宗": "人",
              "个": "次", "份": "人", "%": "个", "万元": "人", "元": "次", "家": "次", "项": "人",
              "期": "人", "余次": "人"}  # fmt: skip
NEGATABLE = re.compile(r"(严格|全面|认真|积极|按时|依法|按照|实现|完成|建立|开展)")
INVENTED = (
    "建成了全省第一个智慧法治无人机基地",
    "全年没有发生一起行政复议案件",
    "聘请了12名外国律师担任法律顾问",
    "在全县率先实现了执法人员100%持有博士学位",
    "投入3000万元建设法治主题乐园",
)
CAUGHT = ("contradicted", "not_found")


@dataclass(frozen=True)
class Claim:
    kind: str  # "true" or the perturbation
    text: str
    source: str
    base: str = ""  # the report sentence it was made from ("": none, another report's, invented)


def _label(report: Report) -> str:
    place = report.meta.places.town or report.meta.places.county or ""
    return f"{place}{report.meta.year}年" if report.meta.year else place


def _digit_figures(s: str) -> list:  # type: ignore[type-arg]
    """Figures written in digits with a unit (四个平台 is a name, not a figure to change)."""
    return [q for q in quantities(s) if not is_year(q) and q.unit and re.search(r"\d", q.text)]


def _names_a_place(s: str, reports: dict[str, Report]) -> bool:
    """Whether a sentence names a place itself (金湖县…, 重庆市南岸区…): moving it to another
    town does not make it false."""
    return any(n in s for r in reports.values() for n in r.meta.places.names())


def _figure_sentences(report: Report) -> list[str]:
    out = []
    for a, b in sentences(report.text):
        s = report.text[a:b].strip()
        figures = _digit_figures(s)
        if figures and 12 <= len(s) <= 120 and not not_a_claim(s):
            out.append(s)
    return out


def _stitched(report: Report, label: str, rng: random.Random, limit: int = 8) -> list[Claim]:
    """A sentence given the figure of another sentence of the same report in the same unit
    (开展法治宣传活动8场次 -> 15场次 of a sentence on 培训): each piece is in the report, the
    fact is not."""
    picked = _figure_sentences(report)
    out: list[Claim] = []
    for s in picked:
        q = _digit_figures(s)[0]
        donors = [
            f for d in picked if d != s for f in _digit_figures(d)
            if f.unit == q.unit and f.value != q.value and f.text not in s
        ]  # fmt: skip
        if donors:
            f = rng.choice(donors)
            out.append(Claim("stitched", f"{label}，{s.replace(q.text, f.text, 1)}",
                             report.source, s))  # fmt: skip
    rng.shuffle(out)
    return out[:limit]


def make_claims(reports: dict[str, Report], per_report: int, seed: int = 7) -> list[Claim]:
    rng = random.Random(seed)
    out: list[Claim] = []
    sources = sorted(reports)
    for source in sources:
        r = reports[source]
        label = _label(r)
        others = [reports[s] for s in sources if s != source]
        picked = _figure_sentences(r)
        rng.shuffle(picked)
        for s in picked[:per_report]:
            out.append(Claim("true", f"{label}，{s}", source, s))
            q = _digit_figures(s)[0]
            bumped = q.value * 2 + 3 if q.value < 1000 else q.value + 1000
            number = str(int(bumped)) if bumped == int(bumped) else f"{bumped:.1f}"
            changed = re.sub(r"[\d.]+", number, q.text, count=1)
            out.append(Claim("figure", f"{label}，{s.replace(q.text, changed, 1)}", source, s))
            if q.value >= 2:  # and a smaller one (a figure rounded down, a digit dropped)
                less = q.value // 2 if q.value >= 10 else q.value - 1
                smaller = re.sub(r"[\d.]+", str(int(less)), q.text, count=1)
                out.append(Claim("figure", f"{label}，{s.replace(q.text, smaller, 1)}", source, s))
            if q.unit in OTHER_UNIT:
                swapped = q.text[: len(q.text) - len(q.unit)] + OTHER_UNIT[q.unit]
                out.append(Claim("unit", f"{label}，{s.replace(q.text, swapped, 1)}", source, s))
            other = rng.choice(others)
            town = _label(other).replace(str(other.meta.year) + "年", f"{r.meta.year}年")
            if not _names_a_place(s, reports):
                out.append(Claim("town", f"{town}，{s}", source, s))
            if r.meta.year:
                out.append(
                    Claim(
                        "year",
                        f"{label.replace(str(r.meta.year), str(r.meta.year - 3))}，{s}",
                        source,
                        s,
                    )
                )
            if m := NEGATABLE.search(s):
                flipped = s[: m.start()] + "未" + s[m.start() :]
                out.append(Claim("negation", f"{label}，{flipped}", source, s))
        out += _stitched(r, label, rng)
        for o in others[:2]:
            for s in [x for x in _figure_sentences(o) if not _names_a_place(x, reports)][:3]:
                out.append(Claim("other report", f"{label}，{s}", source))
        for sentence in INVENTED:
            out.append(Claim("invented", f"{label}{sentence}。", source))
    return out


def run(per_report: int, out: Path) -> dict[str, object]:
    pipeline = open_pipeline(Settings(llm_backend="none"))
    checker = ClaimChecker(pipeline)
    claims = make_claims(pipeline.reports, per_report)
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    misses: list[dict[str, str]] = []
    t0 = time.perf_counter()
    for c in claims:
        result = checker.check(c.text)
        # the claim is one sentence; a label-only piece before it would be not_a_claim
        verdict = next(
            (x.verdict for x in result.claims if x.verdict != "not_a_claim"), "not_a_claim"
        )
        verdicts[c.kind][verdict] += 1
        wrong = verdict != "supported" if c.kind == "true" else verdict not in CAUGHT
        if wrong and len(misses) < 60:
            misses.append({"kind": c.kind, "claim": c.text, "verdict": verdict})
    seconds = time.perf_counter() - t0
    by_kind = {}
    for kind, counts in sorted(verdicts.items()):
        n = sum(counts.values())
        if kind == "true":
            by_kind[kind] = {"claims": n, "false_alarms": round(1 - counts["supported"] / n, 4)}
        else:
            by_kind[kind] = {"claims": n, "caught": round(sum(counts[v] for v in CAUGHT) / n, 4)}
        by_kind[kind]["verdicts"] = dict(counts)
    false = [k for k in verdicts if k != "true"]
    n_false = sum(sum(verdicts[k].values()) for k in false)
    caught = sum(verdicts[k][v] for k in false for v in CAUGHT)
    summary = {
        "claims": len(claims),
        "true": sum(verdicts["true"].values()),
        "false": n_false,
        "caught": round(caught / n_false, 4) if n_false else None,
        "false_alarms": by_kind.get("true", {}).get("false_alarms"),
        "seconds": round(seconds, 1),
        "by_kind": by_kind,
        "misses": misses,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return summary


_SOURCE = re.compile(r"^\[(\d+)\] ", re.M)


def cited_number(prompt: str, base: str) -> int:
    """The number of the prompt's source passage holding `base` (the sentence a claim was
    made from), as a careful model cites; 1 when none does (another report's, invented)."""
    starts = [(m.start(), int(m.group(1))) for m in _SOURCE.finditer(prompt)]
    for i, (start, n) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(prompt)
        if base and base in prompt[start:end]:
            return n
    return 1


def run_llm(per_report: int) -> dict[str, object]:
    """The same claims as answers of a scripted chat model, asked as questions: the model
    states the claim and cites the source passage holding the sentence it was made from
    (`cited_number`). Does the answer's own claim check flag the false ones (anything but
    supported, or the question refused) and pass the true ones?"""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class CitingChat(BaseChatModel):
        claim: str
        base: str

        @property
        def _llm_type(self) -> str:
            return "scripted-citing"

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: object = None,
            run_manager: object = None,
            **kw: object,
        ) -> ChatResult:
            prompt = "\n".join(str(m.content) for m in messages)
            reply = f"{self.claim}[{cited_number(prompt, self.base)}]"
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])

    settings = Settings(llm_backend="none")
    pipeline = open_pipeline(settings)
    flagged: dict[str, Counter[str]] = defaultdict(Counter)
    for c in make_claims(pipeline.reports, per_report):
        model = CitingChat(claim=c.text, base=c.base)
        answer = with_chat_model(settings, pipeline, model).ask(c.text)
        verdict = "refused" if answer.abstained or not answer.claims else answer.claims[0].verdict
        flagged[c.kind][verdict] += 1
    out: dict[str, object] = {}
    for kind, counts in sorted(flagged.items()):
        n = sum(counts.values())
        share = 1 - counts["supported"] / n
        key = "false_alarms" if kind == "true" else "flagged"
        out[kind] = {"claims": n, key: round(share, 4), "verdicts": dict(counts)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval/results/claims.json")
    parser.add_argument("--per-report", type=int, default=30)
    parser.add_argument("--llm", action="store_true", help="also the scripted-LLM answer path")
    args = parser.parse_args()
    s = run(args.per_report, args.out)
    if args.llm:
        s["llm_path"] = run_llm(args.per_report)
        args.out.write_text(json.dumps(s, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        for kind, row in s["llm_path"].items():  # type: ignore[attr-defined]
            print(f"  llm {kind:10} {row}")
    print(f"{s['claims']} claims ({s['true']} true, {s['false']} false) in {s['seconds']} s: "
          f"caught {s['caught']} of false claims, false alarms {s['false_alarms']} of true ones")  # fmt: skip
    for kind, row in s["by_kind"].items():  # type: ignore[attr-defined]
        print(f"  {kind:14} {row}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
