"""`rag eval` end to end on a three-question dataset, and the dataset validator."""

import json
from pathlib import Path

from typer.testing import CliRunner

from rag.cli import app

SHUIKOU = "000_4e493ef760f0cb20.txt"
ROWS = [
    {
        "id": "q1",
        "question": "水口镇2024年对执法人员进行了多少次执法培训？",
        "answer": "15次",
        "key_facts": ["十五次"],
        "evidence": [{"doc": SHUIKOU, "quote": "对执法人员共进行执法培训15次"}],
        "answerable": True,
        "type": "numeric",
        "note": "unknown fields are ignored",
    },
    {
        "id": "q2",
        "question": "水口镇设立了哪些调解室？",
        "answer": "",
        "key_facts": ["劳资纠纷调解室", "不存在的调解室"],
        "evidence": [
            {"doc": SHUIKOU, "quote": "设立人民调解工作室、劳资纠纷调解室和“政法五老”调解室"}
        ],
        "answerable": True,
        "type": "list",
    },
    {
        "id": "q3",
        "question": "水口镇的财政预算是多少？",
        "answerable": False,
        "type": "unanswerable",
    },
]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def test_eval_writes_predictions_metrics_and_report(
    lexical_index_dir: Path, tmp_path: Path
) -> None:
    rows = [dict(ROWS[0]), dict(ROWS[1], key_facts=["劳资纠纷调解室"]), ROWS[2]]
    data = _write(tmp_path / "three.jsonl", rows)
    out = tmp_path / "out"
    env = {"RAG_EMBED_MODEL": "none", "RAG_LLM_BACKEND": "none"}
    args = ["eval", "--dataset", str(data), "--out", str(out), "-k", "3", "--no-ablations"]
    result = CliRunner().invoke(app, [*args, "--index", str(lexical_index_dir)], env=env)
    assert result.exit_code == 0, result.output

    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in preds] == ["q1", "q2", "q3"]
    p1 = preds[0]
    assert set(p1) >= {
        "id",
        "question",
        "answer",
        "mode",
        "abstained",
        "citations",
        "contexts",
        "latency_ms",
    }
    assert set(p1["latency_ms"]) == {"retrieve", "answer", "total"}
    assert set(p1["citations"][0]) >= {"n", "source", "start", "end", "text"}
    assert set(p1["contexts"][0]) >= {"rank", "source", "start", "end", "text", "score"}
    assert preds[2]["abstained"] is True

    metrics = json.loads((out / "metrics.json").read_text())
    overall = metrics["overall"]
    assert overall["questions"] == 3 and overall["recall@3"] == 1.0
    assert overall["key_fact_accuracy"] == 1.0  # 十五次 == 15次 after normalisation
    assert overall["abstention_accuracy"] == 1.0 and overall["false_abstention_rate"] == 0.0
    assert set(metrics["by_type"]) == {"numeric", "list", "unanswerable"}
    report = (out / "report.md").read_text()
    assert "| **overall** | 3 |" in report and "![latency](latency.png)" in report
    assert (out / "by_type.png").stat().st_size > 1000 and (
        out / "latency.png"
    ).stat().st_size > 1000


def test_check_dataset_names_every_problem(lexical_index_dir: Path, tmp_path: Path) -> None:
    bad = [
        ROWS[0],
        ROWS[1],  # a key fact that is not in the quote
        dict(ROWS[0], id="q1"),  # duplicate id
        {"id": "q4", "question": "?", "answerable": "yes"},
        dict(ROWS[0], id="q5", evidence=[{"doc": SHUIKOU, "quote": "没有这句话"}]),
        dict(ROWS[0], id="q6", evidence=[{"doc": "nope.txt", "quote": "x"}]),
    ]
    data = _write(tmp_path / "bad.jsonl", bad)
    with data.open("a", encoding="utf-8") as f:
        f.write("{not json\n")
    result = CliRunner().invoke(
        app, ["check-dataset", str(data), "--index", str(lexical_index_dir)]
    )
    assert result.exit_code == 1
    out = result.output
    assert "bad.jsonl:2: key_facts: '不存在的调解室' is not in the evidence quotes" in out
    assert "bad.jsonl:3: id: duplicate 'q1'" in out
    assert "bad.jsonl:4: answerable: must be bool, got 'yes'" in out
    assert "bad.jsonl:5: evidence[0].quote: not found in" in out
    assert "bad.jsonl:6: evidence[0].doc: unknown report 'nope.txt'" in out
    assert "bad.jsonl:7: not JSON" in out
    assert "1 valid question(s), 6 problem(s)" in out

    result = CliRunner().invoke(
        app, ["check-dataset", "eval/dev.jsonl", "--index", str(lexical_index_dir)]
    )
    shipped = len(Path("eval/dev.jsonl").read_text(encoding="utf-8").splitlines())
    assert result.exit_code == 0 and f"{shipped} valid question(s), 0 problem(s)" in result.output
