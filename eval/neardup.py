"""A near-duplicate test corpus: copies of the sample reports as other towns of other counties,
in other years, with other figures (the boilerplate stays). Eval and tests use it to measure
the wrong-town trap: a question about 水口镇 must not be answered from 青山镇's copy.

    python -m eval.neardup [--out data/neardup] [--copies 3] [--seed 11]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from eval.synth import _substitute
from rag.config import PROJECT_ROOT, Settings
from rag.factory import read_report

# two-character stems; none is a place the held-out questions ask about as unknown
STEMS = (
    "青山 白沙 金溪 银河 玉泉 龙潭 凤鸣 云岭 松柏 桃李 梅林 兰亭 竹园 东湖 西岭 南坪 北川 "
    "安平 和顺 兴隆 昌盛 福寿 康宁 新华 光明 长乐 永丰 广德 泰和 嘉禾"
).split()


def near_duplicates(reports_dir: Path, out: Path, copies: int = 3, seed: int = 11) -> list[Path]:
    rng = random.Random(seed)
    stems = iter(rng.sample(STEMS, len(STEMS)))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(p for p in reports_dir.iterdir() if p.is_file()):
        report = read_report(path)
        places = report.meta.places
        for i in range(copies):
            names = {}
            for old in (places.town, places.county):
                if old:
                    suffix = "镇" if old.endswith("镇") else old[-1]
                    new = next(stems) + suffix
                    names[old] = new
                    stem = old[: -len(suffix)] if old.endswith(suffix) else old
                    names[stem] = new[: -len(suffix)]
            ordered = dict(sorted(names.items(), key=lambda kv: -len(kv[0])))
            year = rng.choice([y for y in range(2019, 2026) if y != report.meta.year])
            text = _substitute(report.text, ordered, year, rng)
            target = out / f"dup{i}_{path.stem}.txt"
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "neardup")
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    written = near_duplicates(Settings().reports_dir, args.out, args.copies, args.seed)
    print(f"wrote {len(written)} near-duplicate reports to {args.out}")


if __name__ == "__main__":
    main()
