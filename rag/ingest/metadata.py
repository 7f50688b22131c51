"""Extract report metadata: title, issuer, places, covered year, publication date, numbers."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from rag.lang import lexicon
from rag.lang.divisions import divisions
from rag.lang.lexicon import alternation
from rag.lang.outline import TOP_HEADING
from rag.text.gazetteer import level_of, split_chain
from rag.text.numbers import to_number
from rag.types import Places, ReportMeta, Span

_LEX = lexicon()  # rag/lang/data/metadata.toml
_FIELDS = _LEX["meta_field"]
_FIELD_KEYS = {k: v for k, v in _FIELDS.by_attr("field").items() if v}
_KEY_RE = re.compile(
    "("
    + "|".join(r"\s*".join(k) for k in sorted(_FIELDS.words, key=len, reverse=True))
    + r")\s*[|:：]"
)
# a title label at the start of a line, with or without its colon (名        称 关于…的报告)
_TITLE_LABEL = re.compile(
    "^(?:"
    + "|".join(r"\s*".join(k) for k, f in _FIELD_KEYS.items() if f == "title")
    + r")\s*[|:：]?\s*"
)
_ISSUER_TAIL = f"(?:{_LEX['issuer_tail'].alternation})"
ISSUER_LINE = re.compile(rf"^[\u4e00-\u9fff（）()]{{2,30}}{_ISSUER_TAIL}$")
_DATE_NUM = re.compile(r"(\d{4})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})\s*日?")
_DATE_CN = re.compile(
    r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"
)
_YEAR_IN_TITLE = re.compile(r"(\d{4})\s*年")
_HEAD_YEAR = re.compile(rf"^\s*(?:{TOP_HEADING})\s*(\d{{4}})\s*年度?")  # 一、2024年度…
_TOP = re.compile(f"^(?:{TOP_HEADING})")


def _place_pattern() -> re.Pattern[str]:
    """A place-like name in running text: the stem (as long as its suffix's `stem` allows,
    at least two characters), then a suffix whose stem alone names the place
    (rag/lang/data/places.toml: 江华瑶族自治县, 鲁山县, 瓦屋镇)."""
    suffixes = _LEX["place_suffix"]
    by_stem: dict[int, list[str]] = {}
    for word in suffixes.where("strip", True):
        by_stem.setdefault(int(suffixes.attr(word, "stem")), []).append(word)
    parts = [
        rf"[\u4e00-\u9fff]{{2,{n}}}(?:{alternation(words)})" if n > 2
        else rf"[\u4e00-\u9fff]{{2}}(?:{alternation(words)})"
        for n, words in sorted(by_stem.items(), reverse=True)
    ]  # fmt: skip
    return re.compile("(" + "|".join(parts) + ")")


_PLACE = _place_pattern()
_BANNER = _LEX["date_banner"].pattern  # 今天是：2019年10月31日 星期四 (no publication date)
_ADDRESSEE = [re.compile(e.text, re.M) for e in _LEX["addressee"].entries]
_PLANS = _LEX["heading_plans"].pattern  # rag/lang/data/topics.toml
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TITLE_HEAD = re.compile(rf"^([\u4e00-\u9fff（）()]{{2,30}}?{_ISSUER_TAIL})(?:关于|\d{{4}}\s*年)")
_STEM_STOP = _LEX["place_stem_stop"].set
_STEM_STOP_2 = _LEX["place_stem_stop_word"].set


def _cn_int(s: str) -> int | None:
    """一..九十九 and digit-by-digit years (二〇二五, 二○二五) through cn2an."""
    n = to_number(s.replace("○", "〇"))
    return None if n is None or n != int(n) else int(n)


def _iso(y: int | None, m: int | None, d: int | None) -> str | None:
    if y is None or m is None or d is None:
        return None
    if 1900 < y < 2200 and 1 <= m <= 12 and 1 <= d <= 31:
        return f"{y:04d}-{m:02d}-{d:02d}"
    return None


def parse_date(s: str) -> str | None:
    if m := _DATE_NUM.search(s):
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    if m := _DATE_CN.search(s):
        return _iso(_cn_int(m[1]), _cn_int(m[2]), _cn_int(m[3]))
    return None


def header_fields(text: str, noise: list[Span]) -> dict[str, str]:
    """Key/value pairs of the web-page index table (索引号 | ... or 索引号: ...)."""
    fields: dict[str, str] = {}
    for span in noise:
        line = text[span.start : span.end]
        keys = list(_KEY_RE.finditer(line))
        for i, k in enumerate(keys):
            end = keys[i + 1].start() if i + 1 < len(keys) else len(line)
            value = line[k.end() : end].strip().strip("|:：【】[]").strip()
            if not value and i == len(keys) - 1:  # a list item's label, its value below it
                value = _value_below(text, span.end)
            name = _FIELD_KEYS.get(re.sub(r"\s+", "", k[1]))
            if name and value and name not in fields:
                fields[name] = value
    return fields


VALUE_CHARS = 40  # a value on the line below its label (• 发文日期: / 2022年03月26日 09:00)


def _value_below(text: str, end: int) -> str:
    """The next non-empty line after `end` when it is a short value, not another label."""
    m = re.compile(r"\n\s*([^\n]*\S)").match(text, end)
    if not m or len(m[1]) > VALUE_CHARS or _KEY_RE.search(m[1]):
        return ""
    return m[1].strip()


def content_lines(text: str, noise: Sequence[Span]) -> list[str]:
    """Non-empty lines of the text with every noise span (whole-line or inline) cut out."""
    parts, pos = [], 0
    for span in sorted(noise, key=lambda s: s.start):
        parts.append(text[pos : span.start])
        pos = max(pos, span.end)
    parts.append(text[pos:])
    return [line.strip() for line in "".join(parts).splitlines() if line.strip()]


_LEADS_TITLE = re.compile(r"^(?:关于|\d{4}\s*年)")  # a title line after its issuer's line


MIN_TITLE = 8  # characters: 法治政府建设情况报告 is 10; a column label 工作报告 is 4


TITLE_LINES = 20  # content lines searched for the title: a site's index table can fill 15


def _find_title(lines: list[str], text: str = "") -> tuple[str, int] | None:
    """The title and the index of its line. A title on two lines (宜昌市夷陵区小溪塔街道办事处 /
    2021年法治政府建设情况报告, or … / 关于…的报告) is joined when the two lines follow each
    other in `text` (a site's banner above its breadcrumb is not the title's first line)."""
    for i, raw in enumerate(lines[:TITLE_LINES]):
        if _TOP.match(raw):  # the body's first heading: no title above it
            return None
        line = _TITLE_LABEL.sub("", raw)
        if (
            MIN_TITLE <= len(line) <= 60  # not a site's column label (工作报告)
            and not line.endswith(("。", "：", ":"))
            and re.search(r"报告|总结", line)
        ):
            above = lines[i - 1] if i > 0 else ""
            if _LEADS_TITLE.match(line) and ISSUER_LINE.match(above) and _next(text, above, raw):
                return above + line, i
            return line, i
    return None


def _next(text: str, first: str, second: str) -> bool:
    """Whether line `second` follows line `first` in `text` with nothing between ('' : no
    text to tell, so yes)."""
    if not text:
        return True
    return (
        re.search(re.escape(first) + r"[ \t\u3000]*\r?\n\s*" + re.escape(second), text) is not None
    )


def _labelled_title(found: str | None, labelled: str | None) -> str | None:
    """A site's labelled title (名称：2020年法治政府建设工作报告) names the document; a heading
    that only puts its issuer or place in front of it (马踏镇2020年…) is that same title."""
    if not found or not labelled or len(labelled) < MIN_TITLE:
        return found
    return labelled if found != labelled and found.endswith(labelled) else found


def _find_issuer(lines: list[str], title: str | None, fields: dict[str, str]) -> str | None:
    for j in range(len(lines) - 1, max(len(lines) - 6, -1), -1):  # 落款: issuer line above the date
        if parse_date(lines[j]) and j > 0 and ISSUER_LINE.match(lines[j - 1]):
            return lines[j - 1]
    if title and (m := _TITLE_HEAD.match(title)):  # 岳阳县人民政府关于…, 高新区人民政府2024年…
        return m[1]
    for i, line in enumerate(
        lines[:10]
    ):  # its own line above the title: 眉山市彭山区公义镇人民政府
        if ISSUER_LINE.match(line) and any("报告" in x for x in lines[i + 1 : i + 3]):
            return line
    labelled = fields.get("publisher") or fields.get("source")
    if labelled and _CJK.search(labelled):  # not a site's code (gyz1)
        return labelled
    # a site's 作者 is a body (龙山街道, 司法局) or a person (张三): only a body issues
    author = fields.get("author", "")
    return author if ISSUER_LINE.match(author) or level_of(author) else None


def _own_government(text: str, places: Places) -> str | None:
    """The government body of the report's own place, as its text names it (礼让街街道办事处,
    公义镇人民政府): the issuer of a page that states it nowhere else."""
    for name in reversed(places.names()):  # the lowest place first
        if m := re.search(re.escape(name) + _ISSUER_TAIL, text):
            return m[0]
    return None


def _place_names(text: str) -> list[str]:
    """Place-like names of `text`, each whole when the division dataset knows a longer name
    ending there (四季青街道, not 季青街道)."""
    return [divisions().ending_at(text, m.end(1)) or m[1] for m in _PLACE.finditer(text)]


def _place_counts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name in _place_names(text):
        stem = name[:2]
        if name not in divisions() and (name[0] in _STEM_STOP or stem in _STEM_STOP_2):
            continue  # 全镇, 依法治区; but 新江湾城街道 is a known name
        if level_of(name) != "town" and name not in divisions():
            continue  # 执行市 (严格执行市、区…) ends like a city, the dataset knows none such
        counts[name] += 1
    return counts


def _level(name: str) -> str:
    level = level_of(name)
    if level is None:
        raise ValueError(f"not a place name: {name}")
    return level


def _header_places(part: str) -> list[str]:
    """The place names a title or issuer starts with, whole (平顶山市, 大石桥镇); else the
    place-like names anywhere in it."""
    return split_chain(part.strip()) or _place_names(part)


def _find_places(header: Sequence[str], body: str) -> Places:
    """Named places: all from the title/issuer/publisher, plus body names seen at least twice."""
    found: dict[str, str] = {}
    for name in (n for part in header for n in _header_places(part)):
        found.setdefault(_level(name), name)
    for name, n in _place_counts(body).most_common():
        if n >= 2:
            found.setdefault(_level(name), name)
    return Places(**{k: found.get(k) for k in ("province", "city", "county", "town")})


_SITE_LINE = _LEX["site_line"].pattern
SITE_FOOT = 8  # the page's last lines searched for site lines (版权所有：某县人民政府)
_SITE_SPLIT = re.compile(r"<[^>]*>|[>＞»:：|｜/]+|\s+")


def _site_names(head: Sequence[str]) -> list[str]:
    """The place names of the page's site lines (banner, HTML title, breadcrumb,
    版权所有/主办: rag/lang/data/metadata.toml site_line), each piece read as a chain."""
    out: list[str] = []
    for line in head:
        if _SITE_LINE.fullmatch(line.strip()):
            for piece in _SITE_SPLIT.split(line):
                out += split_chain(piece.strip())
    return out


def _with_site(places: Places, site: Sequence[str]) -> Places:
    """`places` with the levels it leaves empty filled from the page's site lines, where the
    division data does not contradict them: a county's site publishing a town's report names
    the county (通许县人民政府 over 冯庄乡's report). A name the data places under other
    parents than the report's known town or county is left out."""
    found = {k: getattr(places, k) for k in ("province", "city", "county", "town")}
    for name in _site_names(site):
        level = _level(name)
        if found[level] is not None:
            continue
        below = found["town"] or found["county"]
        if (
            level != "town"
            and below
            and below in divisions()
            and name not in divisions().above(below)
        ):
            continue
        if (
            level == "town"
            and found["county"]
            and name in divisions()
            and found["county"] not in divisions().above(name)
        ):
            continue
        found[level] = name
    return Places(**found)


_GOVERNMENT = "(?:委|人民政府|政府)"


def _with_chain(places: Places, body: str) -> Places:
    """A town's county (and city) when the report does not state it in its header or site
    lines: among the counties the division data places a town of that name under, the one
    the body names (在彭水苗族土家族自治县委、县政府的领导下 for 平安镇, which ten counties
    have). None when the body names none of them, or several."""
    town = places.town
    if not town or places.county or town not in divisions():
        return places
    chains = [
        c
        for c in divisions().chains(town)
        if len(c) >= 2 and all(n in c for n in (places.province, places.city) if n)
    ]
    # the county named as a government (彭水苗族土家族自治县委, 云阳县人民政府), not any
    # substring (和县 of 省、市和县; 城区 of 城区管理)
    named = {c[-2]: c for c in chains if re.search(re.escape(c[-2]) + _GOVERNMENT, body)}
    if len(named) != 1:
        return places
    ((county, chain),) = named.items()
    city = places.city or (chain[-3] if len(chain) >= 3 and _level(chain[-3]) == "city" else None)
    return Places(places.province, city, county, town)


def _find_year(title: str | None, lines: list[str]) -> int | None:
    if title and (m := _YEAR_IN_TITLE.search(title)):
        return int(m[1])
    for line in lines:
        if (m := _HEAD_YEAR.match(line)) and not _PLANS.search(line):  # not 三、2025年工作打算
            return int(m[1])
    for line in lines[:6]:
        if len(line) > 60 and (m := re.match(r"^\s*(\d{4})年", line)):
            return int(m[1])
    return _body_year(lines)


def _body_year(lines: list[str]) -> int | None:
    """The year the body writes most often (2024年以来, 2024年度), among years before the
    newest it writes (a report looks ahead to next year's plans): a title without its year."""
    years = Counter(int(y) for line in lines for y in re.findall(r"(?<!\d)(20\d{2})\s*年", line))
    if not years:
        return None
    newest = max(years)
    past = {y: n for y, n in years.items() if y < newest} or dict(years)
    return max(past, key=lambda y: (past[y], y)) if len(years) > 1 else newest


def _find_published(fields: dict[str, str], head: Sequence[str], lines: list[str]) -> str | None:
    """The publication date: the index table's or a labelled line's (发布日期/公开日期, else 发文日期),
    else a date on a line of the page head (寿光市人民政府 www… 2024-02-28), else the 落款's."""
    for label in ("date", "issued"):  # 发布日期 before 发文日期 when a page gives both
        if label in fields and (d := parse_date(fields[label])):
            return d
    for line in head:
        if _BANNER.search(line) or _written_label(line):  # a banner's today, a 成文日期 line
            continue
        if len(line) <= 100 and "。" not in line and (d := parse_date(line)):
            return d
    if "written" in fields:  # the page states when it was signed, not when it was published
        return None
    for line in lines[-6:]:
        if len(line) <= 20 and (d := parse_date(line)):
            return d
    return None


def _written_label(line: str) -> bool:
    keys = (re.sub(r"\s+", "", k[1]) for k in _KEY_RE.finditer(line))
    return any(_FIELD_KEYS.get(k) == "written" for k in keys)


def _find_written(fields: dict[str, str], lines: list[str]) -> str | None:
    """The date the report was signed: a 成文日期 label, else the 落款's date."""
    if "written" in fields and (d := parse_date(fields["written"])):
        return d
    for line in lines[-6:]:
        if len(line) <= 20 and (d := parse_date(line)):
            return d
    return None


def _find_addressee(lines: list[str]) -> str | None:
    """Whom the report is sent to (区人民政府：, 现将…报送县人民政府), when it says."""
    for line in lines[:12]:
        for pattern in _ADDRESSEE:
            if m := pattern.search(line):
                return m[1]
    return None


def _page_head(text: str, lines: list[str], at: int) -> list[str]:
    """The raw non-empty lines of `text` (noise included) from its start to two lines after
    the one holding content line `at`, the title's: the page head."""
    raw = [line.strip() for line in text.splitlines() if line.strip()]
    target = lines[at] if at < len(lines) else ""
    title_at = next((i for i, line in enumerate(raw) if target and target in line), at)
    return raw[: title_at + 3]


def _synthesize_title(issuer: str | None, places: Places, year: int | None, source: str) -> str:
    when = f"{year}年" if year else ""
    if issuer and issuer.endswith("人民政府"):
        return f"{issuer}关于{when}法治政府建设情况的报告"
    who = "".join(n for n in (places.county, places.town) if n) or issuer or ""
    return f"{who}{when}法治政府建设情况的报告"  # never the file name


def extract_meta(text: str, noise: list[Span], source: str, site: Sequence[str] = ()) -> ReportMeta:
    """The report's metadata from its text; `site`: what its web page says of its site
    outside the text (its <title>, its footer), read as site lines too."""
    fields = header_fields(text, noise)
    lines = content_lines(text, noise)
    found = _find_title(lines, text)
    title, at = found if found else (fields.get("title"), 0)
    issuer = _find_issuer(lines, title, fields)
    title = _labelled_title(title, fields.get("title"))
    head = _page_head(text, lines, at)
    foot = [line.strip() for line in text.splitlines()[-SITE_FOOT:] if line.strip()]
    body = "\n".join(lines)
    places = _with_site(
        _find_places([p for p in (title, issuer) if p], body), [*head, *foot, *site]
    )
    places = _with_chain(places, body)
    issuer = issuer or _own_government(body, places)
    if issuer and re.match(r"^[县区市镇乡]", issuer):  # "县政府办": complete with the place name
        level = _level(issuer[0])
        if full := getattr(places, level):
            issuer = full + issuer[1:]
    year = _find_year(title, lines)
    synthesized = title is None
    if title is None:
        title = _synthesize_title(issuer, places, year, source)
    doc_no = fields.get("doc_no")
    return ReportMeta(
        title=title,
        title_synthesized=synthesized,
        issuer=issuer,
        places=places,
        year=year,
        published=_find_published(fields, head, lines),
        index_no=fields.get("index_no"),
        doc_no=doc_no if doc_no and re.search(r"号$|〔\d{4}〕|\[\d{4}\]", doc_no) else None,
        written=_find_written(fields, lines),
        addressee=_find_addressee(lines),
    )
