"""Prompt templates loaded from prompts/*.toml and checked before use."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError


@dataclass(frozen=True)
class PromptSpec:
    name: str
    variables: tuple[str, ...]
    system: str
    user: str
    completion: str
    # the line an answer begins with when the sources do not hold it (answer prompts): the
    # templates ask for it word for word, and rag.answer.decide reads it as the model's refusal
    abstain: str | None = None

    def render_completion(self, **values: str) -> str:
        return self.completion.format(**values)


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def load_prompt(folder: Path, name: str) -> PromptSpec:
    """Read prompts/<name>.toml; every declared variable must appear in every template, and no
    template may use an undeclared one (a typo would otherwise reach the model as literal text)."""
    path = folder / f"{name}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"提示词文件 {path} 不存在") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"提示词文件 {path} 不是有效的 TOML：{e}") from e
    variables = data.get("variables")
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise ConfigError(f"{path}：'variables' 须是变量名的列表")
    templates = {}
    for key in ("system", "user", "completion"):
        text = data.get(key)
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{path}：模板 '{key}' 缺失或为空")
        try:
            used = _fields(text)
        except ValueError as e:
            raise ConfigError(f"{path}：模板 '{key}' 格式有误：{e}") from e
        templates[key] = text
        unknown = used - set(variables)
        if unknown:
            raise ConfigError(f"{path}：模板 '{key}' 用了未声明的变量 {sorted(unknown)}")
    for v in variables:
        if v not in _fields(templates["user"] + templates["system"]):
            raise ConfigError(f"{path}：声明了变量 {{{v}}}，但对话模板（system/user）没有用到")
        if v not in _fields(templates["completion"]):
            raise ConfigError(f"{path}：模板 'completion' 缺少变量 {{{v}}}")
    abstain = data.get("abstain")
    if abstain is not None:
        if not isinstance(abstain, str) or not abstain.strip():
            raise ConfigError(f"{path}：'abstain' 须是拒答开头的那一行（不能为空）")
        for key, text in (("system/user", templates["system"] + templates["user"]),
                          ("completion", templates["completion"])):  # fmt: skip
            if abstain not in text:
                raise ConfigError(
                    f"{path}：模板 '{key}' 没有逐字要求拒答行 {abstain!r}，模型的拒答将无法识别"
                )
    return PromptSpec(
        name, tuple(variables), templates["system"], templates["user"], templates["completion"],
        abstain,
    )  # fmt: skip
