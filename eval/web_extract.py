"""Main-text extraction of web pages compared: our reader's rules (BeautifulSoup, furniture
lines kept as noise spans for the metadata) against trafilatura and readability-lxml, on the
generated web pages of metamorphic seeds (copies of the real pages of eval/corpus-other, re-skinned
with other places, years and site furniture), whose truth the generator knows: the quotes its
questions are asked on, the page's publication date and place.

    python -m eval.web_extract --seeds 7777,4096,1234 [--out eval/results/web-extract.json]

Per extractor: the share of the questions' quotes kept whole (the content an answer needs), the
lines left that hold no quote and no sentence (furniture, and the metadata lines a reader needs),
and the publication date and town read from its text by our metadata reader."""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.metamorphic_gen import generate
from rag.factory import read_report
from rag.lang.script import simplified

_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub("", simplified(text))


def ours(path: Path) -> str:
    return read_report(path).text


def trafilatura_text(path: Path) -> str:
    import trafilatura

    html = path.read_text(encoding="utf-8")
    return trafilatura.extract(html, include_tables=True, include_comments=False) or ""


def readability_text(path: Path) -> str:
    from bs4 import BeautifulSoup
    from readability import Document

    summary = Document(path.read_text(encoding="utf-8")).summary()
    raw = BeautifulSoup(summary, "html.parser").get_text("\n")
    return "\n".join(line.strip() for line in raw.splitlines() if line.strip())


EXTRACTORS: dict[str, Callable[[Path], str]] = {
    "ours": ours,
    "trafilatura": trafilatura_text,
    "readability-lxml": readability_text,
}


def _meta(text: str, tmp: Path) -> tuple[str | None, str | None]:
    path = tmp / "page.txt"
    path.write_text(text or "空", encoding="utf-8")
    try:
        meta = read_report(path).meta
    except Exception:  # nothing left that reads as a report
        return None, None
    return meta.published, meta.places.town


def score(seeds: list[int]) -> dict[str, Any]:
    totals: dict[str, dict[str, float]] = {
        n: {"pages": 0, "quotes": 0, "kept": 0, "other_lines": 0, "dates": 0, "towns": 0}
        for n in EXTRACTORS
    }
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for seed in seeds:
            corpus = generate(seed)
            quotes: dict[str, set[str]] = {}
            for q in corpus.questions:
                for ev in q.get("evidence", []):
                    quotes.setdefault(ev["doc"], set()).add(_norm(ev["quote"]))
            for c in corpus.copies:
                if not c.file.endswith(".html"):
                    continue
                page = tmp / c.file
                page.write_text(c.text, encoding="utf-8")
                wanted = quotes.get(c.file, set())
                for name, extract in EXTRACTORS.items():
                    text = extract(page)
                    flat = _norm(text)
                    t = totals[name]
                    t["pages"] += 1
                    t["quotes"] += len(wanted)
                    t["kept"] += sum(q in flat for q in wanted)
                    t["other_lines"] += sum(
                        1
                        for line in text.splitlines()
                        if _norm(line)
                        and not any(q in _norm(line) for q in wanted)
                        and "。" not in line
                    )
                    published, town = _meta(text, tmp)
                    t["dates"] += published in c.truth.get("published_ok", [])
                    t["towns"] += town == c.truth.get("place")
    return {
        name: {
            "pages": int(t["pages"]),
            "quotes_kept": round(t["kept"] / max(t["quotes"], 1), 4),
            "quotes": int(t["quotes"]),
            "lines_without_a_sentence_per_page": round(t["other_lines"] / max(t["pages"], 1), 2),
            "publication_date_right": round(t["dates"] / max(t["pages"], 1), 4),
            "town_right": round(t["towns"] / max(t["pages"], 1), 4),
        }
        for name, t in totals.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="7777,4096,1234")
    ap.add_argument("--out", type=Path, default=Path("eval/results/web-extract.json"))
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    result = {"seeds": seeds, "extractors": score(seeds)}
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
