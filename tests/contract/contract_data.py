"""Data shared by the contract tests (every backend of a Protocol passes the same tests)."""

from __future__ import annotations

import random

import numpy as np

from rag.types import Chunk

REPORTS = ("a.txt", "b.txt", "c.txt")
PER_REPORT = 40
WORDS = (
    "执法 培训 普法 宣传 调解 纠纷 行政 复议 诉讼 合同 审查 法律 顾问 信访 矛盾 村居 "
    "公示 规范 决策 听证 备案 清单 权责 监督 考核 督察 整改 问题 计划 安全 生产 消防 "
    "环境 保护 食品 药品 市场 监管 社区 网格 律师 援助 公证 仲裁 证明 事项 政务 公开"
).split()


def make_chunks() -> list[Chunk]:
    rng = random.Random(5)
    out = []
    for source in REPORTS:
        pos = 0
        for i in range(PER_REPORT):
            text = "".join(rng.sample(WORDS, 8)) + f"第{i}段。"
            out.append(Chunk(source, pos, pos + len(text), text, ("一、总体",), text))
            pos += len(text) + 1
    return out


def make_vectors(n: int, dim: int = 32) -> np.ndarray:
    v = np.random.default_rng(3).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)
