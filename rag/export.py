"""Answers and 核稿 results that leave the tool with their proof: Word (.docx) and Excel (.xlsx).

In Word every sentence is a paragraph; its proof is a Word comment (批注, python-docx) anchored
on it that quotes each report sentence it rests on, as the answer or the check quoted it, with
the file, the character offsets, the page (识别文字 when OCR read it) and the verdict; the
document ends with the list of sources (引用原文), each quote once. A sentence the judge found
supported carries its plain [n]; any other is marked with its verdict (〔部分有依据：…〕), as the
UI shows it. In Excel, one row per sentence and citation, with the same columns. A quote is the
report's text at its offsets (a control character XML refuses shown as a space), so a
supervisor (or tests/test_export.py) can check every one against the report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.check import CheckResult, Evidence
from rag.errors import ConfigError
from rag.table import UNSTATED, Cell, Table, Total
from rag.types import Answer, Report, page_label
from rag.verify.answers import VERDICT_ZH, reason_zh
from rag.verify.judge import VERDICT_ZH as CHECK_VERDICT_ZH

FORMATS = (".docx", ".xlsx")
AUTHOR = "rag 核对"
COLUMNS = ("问题或文字", "句序", "句子", "结论", "理由", "引用号", "报告标题", "报告文件",
           "页码", "起", "止", "原文句子", "审核")  # fmt: skip


@dataclass(frozen=True)
class Proof:
    """One quote a sentence rests on: where it is in which report, and what it says."""

    n: int | None  # the answer's marker ([n]); None for a 核稿 sentence
    source: str
    start: int
    end: int
    quote: str
    title: str
    where: str  # 第3页 / 第2页，识别文字 / ''

    def line(self) -> str:
        """原文（file start-end，第N页）：“quote” — the form the tests parse back."""
        place = f"{self.source} {self.start}-{self.end}" + (f"，{self.where}" if self.where else "")
        marker = f"[{self.n}] " if self.n is not None else ""
        return f"{marker}《{self.title}》原文（{place}）：“{self.quote}”"


@dataclass(frozen=True)
class Sentence:
    text: str
    verdict: str  # in Chinese
    reason: str
    supported: bool
    proofs: tuple[Proof, ...]
    reviews: tuple[str, ...] = ()  # the supervisors' decisions on it (审核：…)


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def shown(text: str) -> str:
    """Text as Word and Excel can hold it: a control character XML refuses (the form feed
    pdftotext leaves between pages) becomes a space, so a quote keeps its length."""
    return _ILLEGAL.sub(" ", text)


def _evidence(e: Evidence, reports: Mapping[str, Report]) -> Proof:
    """A 核稿 evidence sentence as it was judged; its title and page from the report, when the
    report still holds that text at those offsets (an upload since may have replaced it)."""
    report = reports.get(e.source)
    if report is None or report.text[e.start : e.end] != e.text:
        return Proof(None, e.source, e.start, e.end, e.text, e.source, "")
    page = report.page_at(e.start)
    where = page_label(page.number, page.recognized) if page is not None else ""
    return Proof(None, e.source, e.start, e.end, e.text, report.meta.title, where)


def answer_sentences(
    answer: Answer, reviews: Mapping[int, Sequence[str]] | None = None
) -> list[Sentence]:
    out = []
    for i, claim in enumerate(answer.claims):
        proofs = tuple(  # as the answer cited them, whatever the index holds now
            Proof(c.n, c.source, c.support_start, c.support_end, c.support_text, c.title, c.where)
            for c in answer.citations
            if c.claim == i
        )
        out.append(
            Sentence(
                claim.text,
                VERDICT_ZH.get(claim.verdict, claim.verdict),
                reason_zh(claim),
                claim.verdict == "supported",
                proofs,
                tuple((reviews or {}).get(i, ())),
            )
        )
    return out


def check_sentences(result: CheckResult, reports: Mapping[str, Report]) -> list[Sentence]:
    out = []
    for claim in result.claims:
        proofs = tuple(_evidence(e, reports) for e in claim.citations)
        reason = claim.reason + (
            f"（报告原值：{claim.report_value}）" if claim.report_value else ""
        )
        out.append(
            Sentence(
                claim.text,
                CHECK_VERDICT_ZH.get(claim.verdict, claim.verdict),
                reason,
                claim.verdict == "supported",
                proofs,
            )  # fmt: skip
        )
    return out


def _docx(sections: Sequence[tuple[str, str, list[Sentence]]], path: Path) -> None:
    import docx
    from docx.enum.text import WD_COLOR_INDEX

    document = docx.Document()
    sources: dict[tuple[str, int, int], Proof] = {}
    for heading, note, sentences in sections:
        document.add_heading(shown(heading), level=1)
        if note:
            document.add_paragraph(shown(note))
        for s in sentences:
            paragraph = document.add_paragraph()
            run = paragraph.add_run(shown(s.text))
            if not s.supported:
                mark = paragraph.add_run(shown(f"〔{s.verdict}：{s.reason}〕"))
                mark.font.highlight_color = WD_COLOR_INDEX.YELLOW
            lines = [f"核对：{s.verdict}（{s.reason}）", *(p.line() for p in s.proofs), *s.reviews]
            document.add_comment(run, text=shown("\n".join(lines)), author=AUTHOR, initials="R")
            for p in s.proofs:
                sources.setdefault((p.source, p.start, p.end), p)
    document.add_heading("引用原文", level=1)
    for p in sources.values():
        document.add_paragraph(shown(p.line()))
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))


def _xlsx(sections: Sequence[tuple[str, str, list[Sentence]]], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet: Any = book.active
    sheet.title = "核对"
    sheet.append(list(COLUMNS))
    for heading, _, sentences in sections:
        for i, s in enumerate(sentences, 1):
            base = [shown(heading), i, shown(s.text), s.verdict, shown(s.reason)]
            review = shown("\n".join(s.reviews)) or None
            if not s.proofs:
                sheet.append([*base, None, None, None, None, None, None, None, review])
            for p in s.proofs:
                sheet.append([*base, p.n, p.title, p.source, p.where or None, p.start, p.end,
                              shown(p.quote), review])  # fmt: skip
    sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    _save(book, path)


def _save(book: Any, path: Path) -> None:
    """The workbook saved with every text as text: a quote that opens with = is not a formula."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    book.save(str(path))


def _write(sections: Sequence[tuple[str, str, list[Sentence]]], path: Path) -> Path:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"导出文件 {path.name} 的类型须是 {'、'.join(FORMATS)} 之一")
    (_docx if suffix == ".docx" else _xlsx)(sections, path)
    return path


def export_answers(
    answers: Sequence[Answer],
    path: Path,
    reviews: Sequence[Mapping[int, Sequence[str]]] = (),
) -> Path:
    """One answer, or a conversation's answers in order, to .docx or .xlsx with their proof,
    quoted as they were cited; `reviews`: per answer, the supervisors' decisions by sentence
    (0-based)."""
    sections = [
        (f"问：{a.question}", f"（改写为：{a.rewritten}）" if a.rewritten != a.question else "",
         answer_sentences(a, reviews[i] if i < len(reviews) else None))
        for i, a in enumerate(answers)
    ]  # fmt: skip
    return _write(sections, path)


def export_check(result: CheckResult, reports: Mapping[str, Report], path: Path) -> Path:
    """A 核稿 result to .docx or .xlsx, each sentence with its verdict and its evidence."""
    counts = "；".join(
        f"{CHECK_VERDICT_ZH.get(k, k)} {v}" for k, v in result.summary.items() if k != "claims"
    )
    note = f"共 {result.summary['claims']} 句：{counts}"
    return _write([("核稿结果", note, check_sentences(result, reports))], path)


def table_proofs(table: Table, reports: Mapping[str, Report]) -> list[tuple[Cell, Proof]]:
    """Each stated cell of `table` with its proof: the report sentence stating the figure."""
    out = []
    for source, cells in table.rows:
        report = reports.get(source)
        for c in cells:
            if not c.stated:
                continue
            if report is None or report.text[c.start : c.end] != c.sentence:
                raise ConfigError(f"报告 {source} 在生成汇总表之后有改动，请重新生成汇总表再导出")
            page = report.page_at(c.start)
            where = page_label(page.number, page.recognized) if page is not None else ""
            out.append((c, Proof(None, source, c.start, c.end, shown(c.sentence),
                                 report.meta.title, where)))  # fmt: skip
    return out


def export_table(table: Table, reports: Mapping[str, Report], path: Path) -> Path:
    """An indicator table to .docx (a Word table; each figure's proof a comment quoting the
    report sentence with its file and offsets; 未载明 cells say so) or .xlsx (sheet 汇总: the
    table; sheet 引文: one row per figure with its sentence and offsets; sheet 合计: each
    column's sum and the cells it left out)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"导出文件 {path.name} 的类型须是 {'、'.join(FORMATS)} 之一")
    proofs = {(c.source, c.indicator): p for c, p in table_proofs(table, reports)}
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".docx":
        _table_docx(table, proofs, path)
    else:
        _table_xlsx(table, proofs, path)
    return path


def _total_line(t: Total) -> str:
    if t.value is None:
        return "—"
    left = f"（未计入 {len(t.left_out)} 项）" if t.left_out else ""
    return f"{t.value:g}{t.unit}（{len(t.summed)} 项相加）{left}"


def _table_docx(table: Table, proofs: Mapping[tuple[str, str], Proof], path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("指标汇总", level=1)
    names = [i.name for i in table.indicators]
    grid = document.add_table(rows=1, cols=len(names) + 1)
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, ["报告", *names], strict=True):
        cell.text = text
    for source, cells in table.rows:
        row = grid.add_row().cells
        row[0].text = shown(table.labels.get(source, source))
        for out, c in zip(row[1:], cells, strict=True):
            run = out.paragraphs[0].add_run(shown(c.value) if c.value else UNSTATED)
            proof = proofs.get((c.source, c.indicator))
            if proof is not None:
                document.add_comment(run, text=shown(f"{c.indicator}：{c.value}\n{proof.line()}"),
                                     author=AUTHOR, initials="R")  # fmt: skip
    total = grid.add_row().cells
    total[0].text = "合计"
    for out, t in zip(total[1:], table.totals(), strict=True):
        out.text = _total_line(t)
    document.add_paragraph(f"{UNSTATED}：该报告中没有找到这一指标的数字（已检索全文）。")
    document.save(str(path))


def _table_xlsx(table: Table, proofs: Mapping[tuple[str, str], Proof], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet: Any = book.active
    sheet.title = "汇总"
    sheet.append(["报告", "报告文件", *(i.name for i in table.indicators)])
    for source, cells in table.rows:
        sheet.append([shown(table.labels.get(source, source)), source,
                      *(shown(c.value) if c.value else UNSTATED for c in cells)])  # fmt: skip
    sheet.append(["合计", None, *(_total_line(t) for t in table.totals())])
    sheet.freeze_panes = "C2"
    quotes: Any = book.create_sheet("引文")
    quotes.append(["报告", "指标", "数字", "数值", "单位", "报告标题", "报告文件", "页码",
                   "起", "止", "原文句子", "数字起", "数字止"])  # fmt: skip
    for source, cells in table.rows:
        for c in cells:
            p = proofs.get((c.source, c.indicator))
            if p is None:
                continue
            quotes.append([shown(table.labels.get(source, source)), c.indicator, shown(c.value or ""),
                           c.number, c.unit or None, p.title, p.source, p.where or None, p.start,
                           p.end, p.quote, c.figure_start, c.figure_end])  # fmt: skip
    totals: Any = book.create_sheet("合计")
    totals.append(["指标", "合计", "单位", "相加的报告", "未计入（原因）"])
    for t in table.totals():
        totals.append([t.indicator, t.value, t.unit or None, "、".join(t.summed) or None,
                       "；".join(f"{s}：{w}" for s, w in t.left_out) or None])  # fmt: skip
    _save(book, path)
