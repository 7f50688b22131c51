"""Word (.docx) files: paragraphs and tables in reading order, each table row a sentence that
keeps its header (`row_lines`, also used for a PDF's ruled tables, rag/ingest/pdf.py)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from rag.errors import IngestError

# A .docx is a zip: its parts together may inflate to at most this many bytes (checked from
# the zip's directory before any part is read). A 640 KB file inflating to 300 MB had taken
# the reader past 4 GB of memory; a real report's parts are a few MB (photos are JPEG inside).
MAX_UNZIPPED = 100 * 1024 * 1024


def _grid(row: Any) -> list[tuple[Any, str]]:
    """A table row by grid column: (the cell, its text); a merged cell fills its columns."""
    return [(cell._tc, " ".join(cell.text.split())) for cell in row.cells]


def _once(cells: list[tuple[Any, str]]) -> list[str]:
    """The texts of a row with a cell merged across columns once."""
    return [t for i, (tc, t) in enumerate(cells) if i == 0 or tc is not cells[i - 1][0]]


def _table_lines(table: Any) -> list[str]:
    """A .docx table where it stands, one line per row (`row_lines`)."""
    return row_lines([_grid(row) for row in table.rows])


def row_lines(grid: list[list[tuple[Any, str]]]) -> list[str]:
    """A table's rows by grid column, each cell (its identity, its text): a cell merged across
    columns is the same identity in each. The first row is the header, kept as a line of its
    own; each other row is a sentence that names its columns, so a figure in a cell is found,
    cited and checked with what it counts: 行政复议案件：2023年 5件，2024年 7件。 A table of one row
    or one column stays as it is. Cells are apart by tabs, never "|" (a "|" row is a web
    page's index table: is_noise_line)."""
    rows = [r for r in grid if any(t for _, t in r)]
    if len(rows) < 2 or max(len(_once(r)) for r in rows) < 2:
        return ["\t".join(_once(r)) for r in rows]
    header, out = rows[0], ["\t".join(_once(rows[0]))]
    for row in rows[1:]:
        parts = [
            f"{header[j][1] if j < len(header) else ''} {t}".strip()
            for j, (tc, t) in enumerate(row)
            if j > 0 and t and tc is not row[j - 1][0]
        ]
        label = row[0][1]
        out.append(
            f"{label}：{'，'.join(parts)}。" if parts else "\t".join(x for x in _once(row) if x)
        )
    return out


def docx_text(data: bytes, name: str) -> str:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            inflated = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, ValueError) as e:
        raise IngestError(name, f"不是可读的 .docx 文件（{e}）") from e
    if inflated > MAX_UNZIPPED:
        raise IngestError(
            name,
            f"解压后有 {inflated / 2**20:.0f} MB，超过 {MAX_UNZIPPED / 2**20:.0f} MB 的上限"
            "（像是压缩炸弹）",
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise IngestError(name, f"不是可读的 .docx 文件（{e}）") from e
    from docx.table import Table

    lines: list[str] = []
    for block in document.iter_inner_content():  # paragraphs and tables in reading order
        lines += _table_lines(block) if isinstance(block, Table) else [block.text]
    return "\n".join(lines)
