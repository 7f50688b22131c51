from pathlib import Path

import pytest

from rag.answer.prompting import load_prompt
from rag.config import PROJECT_ROOT
from rag.errors import ConfigError

GOOD = """variables = ["question", "sources"]
system = "只根据资料回答。"
user = "资料：{sources}\\n问题：{question}"
completion = "{sources}\\n问题：{question}\\n回答："
"""


def test_shipped_prompts_load() -> None:
    answer = load_prompt(PROJECT_ROOT / "prompts", "answer")
    assert set(answer.variables) == {"sources", "question", "scope"}
    assert "[1]" in answer.system  # tells the model how to cite
    rewrite = load_prompt(PROJECT_ROOT / "prompts", "rewrite")
    assert set(rewrite.variables) == {"history", "question"}
    judge = load_prompt(PROJECT_ROOT / "prompts", "judge")
    assert set(judge.variables) == {"question", "reference", "answer", "sources"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.replace("{question}", "", 1), "声明了变量 {question}，但对话模板"),
        (
            lambda s: s.replace("回答：", "{answer}"),
            "模板 'completion' 用了未声明的变量 ['answer']",
        ),
        (lambda s: s.replace('system = "只根据资料回答。"\n', ""), "模板 'system' 缺失或为空"),
        (
            lambda s: s.replace("{sources}\\n问题", "{sources\\n问题"),
            "模板 'user' 格式有误",
        ),
        (
            lambda s: s.replace('["question", "sources"]', '"question"'),
            "'variables' 须是变量名的列表",
        ),
        (lambda s: s + "oops = [", "不是有效的 TOML"),
    ],
)
def test_bad_prompt_files_are_refused(tmp_path: Path, edit, message: str) -> None:
    (tmp_path / "p.toml").write_text(edit(GOOD), encoding="utf-8")
    with pytest.raises(ConfigError, match="p.toml") as e:
        load_prompt(tmp_path, "p")
    assert message in str(e.value)


def test_missing_prompt_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        load_prompt(tmp_path, "answer")
