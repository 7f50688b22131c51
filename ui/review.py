"""The review desk: supervisors' decisions on the claims of any answer of a conversation,
their history, and conversation exports. Every refusal is decided here, on the server."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from rag.check import CheckResult
from rag.errors import RagError
from rag.export import FORMATS as EXPORT_FORMATS
from rag.export import export_answers, export_check, export_table
from rag.table import Table
from rag.types import Answer, Report
from ui import audit
from ui.guard import Access
from ui.render import answer_markdown, claim_rows, decisions_for, review_lines
from ui.users import User

CLAIM_HEADERS = ["#", "陈述", "核查结果", "未找到的数字", "理由", "引用原文"]
HISTORY_HEADERS = ["时间（北京时间）", "核查人", "决定", "问题", "陈述", "意见"]
READ_ONLY = (
    "未记录：本服务未开启登录，为只读（上传和审核需以 rag serve --users 开启登录，"
    "或以 --allow-anonymous-edits 明确允许匿名修改）"
)


def claims_frame(answer: Answer) -> Any:
    """The claims table's value, with its headers (Gradio re-renders a frame reliably)."""
    import pandas as pd

    return pd.DataFrame(claim_rows(answer), columns=CLAIM_HEADERS)


def answer_choices(answers: list[Answer]) -> list[tuple[str, int]]:
    return [(f"第{i + 1}问：{a.question[:40]}", i) for i, a in enumerate(answers)]


@dataclass
class ReviewDesk:
    """The event handlers of the 核查 tab (`users`: None without login)."""

    audit_path: Path
    users: dict[str, User] | None
    anonymous_edits: bool
    access: Access

    def _reviewer(self, reviewer: str, request: gr.Request | None) -> tuple[str, str]:
        """(the reviewer's name, "") or ("", why the decision is refused)."""
        if self.users is not None:  # logged in: the reviewer is the user, and needs the right role
            user = self.users.get(getattr(request, "username", None) or "")
            if user is None or not user.can("review"):
                return "", "未记录：只有督查员（supervisor）或管理员可以审核"
            return user.name, ""
        if not self.anonymous_edits:
            return "", READ_ONLY
        return reviewer, ""

    def decide(
        self,
        decision: str,
        answers: list[Answer],
        pick: int | None,
        claim: float | None,
        reviewer: str,
        comment: str,
        request: gr.Request | None,
    ) -> str:
        reviewer, refused = self._reviewer(reviewer, request)
        if refused:
            return refused
        if not answers:
            return "还没有可核查的回答"
        index = len(answers) - 1 if pick is None else int(pick)
        if not 0 <= index < len(answers):
            return f"未记录：第{index + 1}个回答不存在"
        n = int(claim or 1)
        try:
            entry = audit.record(
                self.audit_path, answers[index], n - 1, decision, reviewer, comment
            )
        except ValueError as e:
            return f"未记录：{e}"
        return (
            f"已记录：{entry['reviewer']} {audit.DECISION_ZH[decision]} 第{index + 1}问第{n}句"
            f"（{audit.beijing(entry['time'])} 北京时间）"
        )

    def decide_check(
        self,
        decision: str,
        checked: dict[str, Any] | None,
        claim: float | None,
        reviewer: str,
        comment: str,
        request: gr.Request | None,
    ) -> str:
        """A reviewer agrees (approve) or disagrees (reject) with a 核稿 verdict."""
        reviewer, refused = self._reviewer(reviewer, request)
        if refused:
            return refused
        if not checked or not checked.get("claims"):
            return "还没有核稿结果"
        n = int(claim or 1)
        try:
            entry = audit.record_check(self.audit_path, checked, n - 1, decision, reviewer, comment)
        except ValueError as e:
            return f"未记录：{e}"
        return (
            f"已记录：{entry['reviewer']} {audit.DECISION_ZH[decision]} 核稿第{n}句的结论"
            f"（{audit.beijing(entry['time'])} 北京时间）"
        )

    def approve_check(
        self,
        checked: dict[str, Any] | None,
        claim: float | None,
        reviewer: str,
        comment: str,
        request: gr.Request,
    ) -> str:
        return self.decide_check("approve", checked, claim, reviewer, comment, request)

    def reject_check(
        self,
        checked: dict[str, Any] | None,
        claim: float | None,
        reviewer: str,
        comment: str,
        request: gr.Request,
    ) -> str:
        return self.decide_check("reject", checked, claim, reviewer, comment, request)

    def approve_claim(
        self,
        answers: list[Answer],
        pick: int | None,
        claim: float | None,
        reviewer: str,
        comment: str,
        request: gr.Request,
    ) -> str:
        return self.decide("approve", answers, pick, claim, reviewer, comment, request)

    def reject_claim(
        self,
        answers: list[Answer],
        pick: int | None,
        claim: float | None,
        reviewer: str,
        comment: str,
        request: gr.Request,
    ) -> str:
        return self.decide("reject", answers, pick, claim, reviewer, comment, request)

    def show_answer(self, answers: list[Answer], pick: int | None):  # type: ignore[no-untyped-def]
        if pick is None or not 0 <= int(pick) < len(answers):
            return [], "", 1
        answer = answers[int(pick)]
        return claims_frame(answer), answer.question, 1

    def select_claim(self, evt: gr.SelectData) -> int:
        return int(evt.index[0]) + 1  # the clicked row's claim, numbered from 1

    def past_decisions(self, reviewer_: str, decision_: str, report_: str) -> list[list[Any]]:
        rows = []
        for e in reversed(audit.read(self.audit_path)):
            if audit.matches(e, reviewer_, decision_, report_):
                rows.append(
                    [
                        audit.beijing(e["time"]),
                        e["reviewer"],
                        audit.DECISION_ZH.get(e["decision"], e["decision"]),
                        e["question"],
                        e["claim"]["text"],
                        e.get("comment", ""),
                    ]
                )
        return rows

    def _export_path(self, kind: str, suffix: str, request: gr.Request | None) -> Path:
        """An unguessable name per export; with login, only its maker may fetch it
        (ui/guard.py)."""
        folder = self.audit_path.parent / "exports"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # reviewers' decisions: private
        path = folder / f"{kind}-{uuid.uuid4().hex}{suffix}"
        path.touch(mode=0o600)
        user = getattr(request, "username", None)
        if user:
            self.access.exports.register(path.name, user)
        return path

    def export_check(
        self,
        checked: dict[str, Any] | None,
        fmt: str,
        reports: Mapping[str, Report],
        request: gr.Request | None,
    ) -> str | None:
        """A 核稿 result to .docx (a comment per sentence quoting its evidence) or .xlsx."""
        if not checked or not checked.get("claims"):
            return None
        suffix = fmt if fmt in EXPORT_FORMATS else ".docx"
        path = self._export_path("check", suffix, request)
        export_check(CheckResult.from_dict(checked), reports, path)
        return str(path)

    def export_table(
        self,
        table: Table | None,
        fmt: str,
        reports: Mapping[str, Report],
        request: gr.Request | None,
    ) -> str | None:
        """An indicator table to .xlsx (the table, each figure's sentence and offsets, the
        totals) or .docx (a Word table, each figure's proof a comment)."""
        if table is None:
            return None
        suffix = fmt if fmt in EXPORT_FORMATS else ".xlsx"
        path = self._export_path("table", suffix, request)
        try:
            export_table(table, reports, path)
        except RagError as e:  # a report changed since the table was made: made again first
            path.unlink(missing_ok=True)
            raise gr.Error(str(e)) from e
        return str(path)

    def export(
        self,
        answers: list[Answer],
        fmt: str,
        request: gr.Request | None,
    ) -> str | None:
        """The conversation as a file: .md with the review log, or .docx/.xlsx with each
        sentence's proof (rag.export: the report sentences quoted with file and offsets)."""
        if not answers:
            return None
        suffix = fmt if fmt in (".md", *EXPORT_FORMATS) else ".md"
        path = self._export_path("conversation", suffix, request)
        if suffix == ".md":
            entries = audit.read(self.audit_path)
            path.write_text(
                "\n".join(answer_markdown(a, decisions_for(a, entries)) for a in answers),
                encoding="utf-8",
            )
        else:
            entries = audit.read(self.audit_path)
            reviews = [review_lines(a, decisions_for(a, entries)) for a in answers]
            export_answers(answers, path, reviews)
        return str(path)
