"""Quantities in Chinese text: 十五次 = 15次, 1.2万 = 12000, 百分之百 = 100%, 九成五 = 95%, 余/多/近.

Chinese numerals are converted with cn2an; this module decides *which* runs are numbers
(a Chinese numeral counts only before a measure word, so 一是 and 统一 stay words).
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass

import cn2an

from rag.lang import alternation, lexicon

_CN = "零〇一二两三四五六七八九十百千万亿"
_LEX = lexicon()
# units after a number, longest first (个百分点 before 个): rag/lang/data/units.toml
UNITS = alternation(_LEX["units"].where("parse", True))
POST_WORDS = alternation(_LEX["number_suffix"].words)
_PRE = rf"(?P<pre>{alternation(_LEX['number_prefix'].words)})?"
_NUM_CN = rf"[{_CN}]+(?:点[{_CN}]+)?"
QUANTITY = re.compile(
    rf"{_PRE}(?:百分之(?P<pct>{_NUM_CN}|\d+(?:\.\d+)?)"
    rf"|(?P<arabic>\d+(?:,\d{{3}})*(?:\.\d+)?)\s*(?P<amag>[万亿])?\s*(?P<apost>{POST_WORDS})?"
    rf"\s*(?P<aunit>{UNITS})?"
    rf"|(?P<tenths>[一二两三四五六七八九])成(?P<hundredths>[一二三四五六七八九])?"
    r"(?P<tpost>多|左右|以上)?(?![立为功效果绩员本熟长就交都型年人分批套片不])"
    rf"|(?P<chinese>{_NUM_CN})(?P<cmag>[万亿])?(?P<cpost>{POST_WORDS})?(?P<cunit>{UNITS}))"
)
_APPROX = set(_LEX["number_prefix"].where("approx", True)) | _LEX["number_suffix"].set


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # "" when none; "%" for percentages
    approx: bool  # 余/多/近/约/左右/以上...
    text: str  # as written

    def label(self) -> str:
        return f"{'≈' if self.approx else ''}{_digits(self.value)}{self.unit}"


def to_number(run: str) -> float | None:
    """A numeral (十五, 二〇二五, 1.2万) as a number, or None (cn2an, smart mode)."""
    if run == "百":  # 百分之百
        return 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(cn2an.cn2an(run, "smart"))
        except (ValueError, KeyError, TypeError):
            return None


def _parts(m: re.Match[str]) -> tuple[float | None, str, str, str]:
    """value, magnitude, qualifier after the number, unit of one QUANTITY match."""
    g = m.groupdict()
    if g["pct"] is not None:
        pct = g["pct"]
        return (float(pct) if pct[0].isdigit() else to_number(pct)), "", "", "%"
    if g["tenths"] is not None:  # 九成五 = 95%
        tenths, rest = to_number(g["tenths"]), to_number(g["hundredths"] or "零")
        share = None if tenths is None or rest is None else tenths * 10 + rest
        return share, "", g["tpost"] or "", "%"
    if g["arabic"] is not None:
        value: float | None = float(g["arabic"].replace(",", ""))
        mag, post, unit = g["amag"] or "", g["apost"] or "", g["aunit"] or ""
    else:
        value = to_number(g["chinese"])
        mag, post, unit = g["cmag"] or "", g["cpost"] or "", g["cunit"] or ""
    if value is not None and mag:
        value *= 10_000 if mag == "万" else 100_000_000
    return value, mag, post, unit


def quantities(text: str) -> list[Quantity]:
    """Every quantity in `text`, in order of appearance."""
    out: list[Quantity] = []
    for m in QUANTITY.finditer(unicodedata.normalize("NFKC", text)):
        value, _, post, unit = _parts(m)
        if value is None:
            continue
        approx = m.group("pre") in _APPROX or post in _APPROX
        out.append(Quantity(value, unit, approx, m.group(0)))
    return out


# Units that count the same thing in different words (15次 = 15场, 20人 = 20名); any other
# two different units are different things (12起 of cases is not 12人): units.toml's strict.
_SAME_UNIT = tuple(_LEX["units"].groups("strict").values())


def compatible_units(a: str, b: str) -> bool:
    """Whether two units may name the same quantity; a bare number fits any unit."""
    if a == b or not a or not b:
        return True
    return any(a in group and b in group for group in _SAME_UNIT)


def is_year(q: Quantity) -> bool:
    return q.unit in ("年", "年度") and 1900 <= q.value <= 2100


def same_quantity(a: Quantity, b: Quantity, tolerance: float = 0.1) -> bool:
    """Equal values with compatible units (19起 is not 19人); when either side is
    approximate, values within `tolerance` of each other."""
    if not compatible_units(a.unit, b.unit):
        return False
    if a.value == b.value:
        return True
    if a.approx or b.approx:
        top = max(abs(a.value), abs(b.value))
        return top > 0 and abs(a.value - b.value) / top <= tolerance
    return False


def _digits(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def normalize(text: str) -> str:
    """Width folded, whitespace removed, numbers in Arabic digits: for comparing texts."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))

    def repl(m: re.Match[str]) -> str:
        value, _, post, unit = _parts(m)
        if value is None:
            return m.group(0)
        if m.group("tenths"):  # 八成以上 -> 80%以上, as reports write it
            return f"{m.group('pre') or ''}{_digits(value)}{unit}{post}"
        return f"{m.group('pre') or ''}{_digits(value)}{post}{unit}"

    return QUANTITY.sub(repl, text)
