"""docs/architecture.md, "How to add a phrasing", followed for an answer phrase: the line of
rag/lang/data/answer.toml edited (the template and its example), nothing else touched. In a copy
of the library, `rag ask` then writes the new phrase, and the reader built from the same line
reads it back: the per-report label is still taken off before each claim is checked, so every
claim stays 有依据 with its citation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "哪些镇设立了调解室？"
ASK = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from rag.config import Settings\n"
    "from rag.factory import open_pipeline\n"
    "p = open_pipeline(Settings(embed_model='none', llm_backend='none'), Path(sys.argv[1]))\n"
    "print(json.dumps(p.ask(sys.argv[2]).to_dict(), ensure_ascii=False))\n"
)


def _ask(library: Path, index: Path) -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONPATH": str(library), "HF_HUB_OFFLINE": "1", "RAG_USE_SERVER": "0"}
    out = subprocess.run(
        [sys.executable, "-c", ASK, str(index), QUESTION],
        cwd=library, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.integration
def test_an_edited_answer_phrase_is_written_and_read_back(
    lexical_index_dir: Path, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    shutil.copytree(ROOT / "rag", library / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "prompts", library / "prompts")
    data = library / "rag" / "lang" / "data" / "answer.toml"
    text = data.read_text(encoding="utf-8")
    # the one documented step: the template's line, with its examples
    text = _edited(
        text,
        '"{place}（{year}年）" = { name = "report_label", examples = ["水口镇（2024年）", '
        '"江华瑶族自治县水口镇（2024年）"] }',
        '"{place}·{year}年度" = { name = "report_label", examples = ["水口镇·2024年度", '
        '"江华瑶族自治县水口镇·2024年度"] }',
    )
    text = _edited(
        text,
        '"未找到相关内容的报告：{reports}" = { name = "missing", examples = '
        '["未找到相关内容的报告：瓦屋镇（2023年）、三墩镇（2024年）"] }',
        '"以下报告未载此事：{reports}" = { name = "missing", examples = '
        '["以下报告未载此事：瓦屋镇·2023年度、三墩镇·2024年度"] }',
    )
    data.write_text(text, encoding="utf-8")

    before, after = _ask(ROOT, lexical_index_dir), _ask(library, lexical_index_dir)
    assert (
        "- 水口镇（2024年）：" in before["answer"] and "未找到相关内容的报告：" in before["answer"]
    )
    assert "- 水口镇·2024年度：" in after["answer"] and "（2024年）" not in after["answer"]
    assert "以下报告未载此事：" in after["answer"] and "峡口镇·2024年度" in after["answer"]
    assert len(after["citations"]) == len(before["citations"]) >= 2
    verdicts = [c["verdict"] for c in after["claims"]]
    assert verdicts == [c["verdict"] for c in before["claims"]]
    assert verdicts and set(verdicts) == {"supported"}
    assert [c["overlap"] for c in after["claims"]] == [c["overlap"] for c in before["claims"]]
