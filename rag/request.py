"""One request model for every front end (`rag ask/check/search`, the UI's tabs, /v1, the MCP
tools): filters read from plain values by one set of rules, the limits of a question and of a
text to check, relative years (去年) read against the reports, report names checked. Errors are
`ConfigError`s in Chinese that name the field.

The front ends only translate their protocol to `parse_filters` and back; each then calls
`resolve` with the pipeline (or the CLI, before a model loads, `check_report_names` against the
index's manifest).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from rag.errors import ConfigError
from rag.pipeline import AskOptions, Pipeline
from rag.retrieve.scope import (
    RELATIVE_YEARS,
    check_reports,
    read_relative,
    report_years,
    resolve_scope,
)

MODES = ("hybrid", "bm25", "dense")
YEARS = (1949, 2100)  # a year filter outside these is a mistake, not a report's year
CHECK_MAX_CHARS = 20000  # a draft longer than this is checked in parts
SEARCH_MAX_K = 50

Values = str | int | Sequence[str | int] | None


class FilterError(ConfigError):
    """A filter value that cannot be read; `field` names it as the front end calls it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Asked:
    """The filters of one request as given: the options, and the relative year words (去年)
    still to be read against the years of the reports the other filters leave."""

    options: AskOptions = AskOptions()
    relative: tuple[str, ...] = ()


def _items(value: Values, field: str) -> list[str | int]:
    if value is None or value == "":
        return []
    if isinstance(value, bool):
        raise FilterError(field, f"{field}：应为文字或数字，不是 {value!r}")
    if isinstance(value, (str, int)):
        return [value]
    if isinstance(value, Sequence) and all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        return list(value)
    raise FilterError(field, f"{field}：应为文字、数字或它们的列表，不是 {value!r}")


def _names(value: Values, field: str) -> tuple[str, ...]:
    """Names given one by one or comma-separated (水口镇，峡口镇)."""
    out: list[str] = []
    for item in _items(value, field):
        if not isinstance(item, str):
            raise FilterError(field, f"{field}：应为名称文字，不是 {item!r}")
        out += [p.strip() for p in item.replace("，", ",").split(",") if p.strip()]
    return tuple(dict.fromkeys(out))


def _files(value: Values, field: str) -> list[str]:
    out = []
    for item in _items(value, field):
        if not isinstance(item, str):
            raise FilterError(field, f"{field}：应为报告的文件名，不是 {item!r}")
        if item.strip():
            out.append(item.strip())
    return out


def _years(value: Values, field: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    years: list[int] = []
    relative: list[str] = []
    for item in _items(value, field):
        text = str(item) if isinstance(item, int) else item.strip()
        if text in ("", "0"):  # 0: any year (the UI's and the APIs' empty value)
            continue
        digits = text.removesuffix("年").removesuffix("度").removesuffix("年")
        if (
            digits.isascii()
            and digits.isdigit()
            and len(digits) == 4
            and YEARS[0] <= int(digits) <= YEARS[1]
        ):
            years.append(int(digits))
        elif text in RELATIVE_YEARS.set:
            relative.append(text)
        else:
            raise FilterError(
                field,
                f"{field} {item!r}：应为四位年份（2023、2023年）或 "
                + "、".join(RELATIVE_YEARS.words),
            )
    return tuple(dict.fromkeys(years)), tuple(dict.fromkeys(relative))


def parse_filters(
    places: Values = None,
    years: Values = None,
    reports: Values = None,
    mode: str = "hybrid",
    k: int | None = None,
    names: tuple[str, str, str, str, str] = ("place", "year", "report", "mode", "k"),
) -> Asked:
    """The filters of a request from plain values: places (one, a list, or comma-separated),
    years (2023, "2023年", 0 for any, or 去年/今年/前年), report file names; `names` are the
    fields as the front end calls them (the CLI's --place), for the errors (`FilterError`)."""
    if mode not in MODES:
        raise FilterError(names[3], f"{names[3]} 只能是 {'、'.join(MODES)}，不是 {mode!r}")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise FilterError(names[4], f"{names[4]} 应为正整数，不是 {k!r}")
    absolute, relative = _years(years, names[1])
    files = tuple(dict.fromkeys(_files(reports, names[2])))  # a file name may hold a comma
    options = AskOptions(_names(places, names[0]), absolute, files, mode, k)
    return Asked(options, relative)


def check_report_names(asked: Asked, known: Collection[str]) -> None:
    """A FilterError (field `report`) naming the report files the index does not hold."""
    try:
        check_reports(asked.options.reports, known)
    except ConfigError as e:
        raise FilterError("report", str(e)) from e


def resolve(pipeline: Pipeline, asked: Asked) -> tuple[AskOptions, tuple[str, ...]]:
    """The options with the report names checked and the relative years read against the
    years of the reports the other filters leave, and how each was read (“去年”按最近一份报告
    （2023年）回答), to say to the user."""
    opts = asked.options
    check_report_names(asked, pipeline.reports)
    if not asked.relative:
        return opts, ()
    scope = resolve_scope(
        "", pipeline.reports, pipeline.options(places=opts.places, reports=opts.reports),
        pipeline.retriever.places,
    )  # fmt: skip
    sources = scope.reports if scope.reports is not None else tuple(pipeline.reports)
    years = report_years(pipeline.reports, sources)
    if not years:
        raise FilterError(
            "year", "这些筛选条件下没有标明年份的报告，无法推算年份 " + "、".join(asked.relative)
        )
    resolved = list(opts.years)
    said: list[str] = []
    for word in asked.relative:
        year, how = read_relative(word, years)
        resolved.append(year)
        said.append(f"年份“{word}”{how}")
    return replace(opts, years=tuple(dict.fromkeys(resolved))), tuple(said)


def check_text(text: str, limit: int = CHECK_MAX_CHARS) -> None:
    """A text to check (核稿) that is empty or over the limit is refused before any work."""
    if not text.strip():
        raise ConfigError("要核对的文字为空")
    if len(text) > limit:
        raise ConfigError(f"文字有 {len(text)} 个字符，上限是 {limit} 个：请分段核对")


def check_search(query: str, k: int) -> None:
    """A search that is empty or asks for too many passages is refused before any work."""
    if not query.strip():
        raise ConfigError("检索词为空")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= SEARCH_MAX_K:
        raise ConfigError(f"k 必须在 1 到 {SEARCH_MAX_K} 之间，收到 {k!r}")
