"""One page of the metamorphic corpus: a report re-skinned to another place and year, with the
furniture of a real government page (eval/metamorphic_data.toml [furniture]), its title kept,
cut from the place or moved into the furniture, sometimes cut short or in 繁體, and its truth.
"""

from __future__ import annotations

import datetime as dt
import html
import random
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eval.metamorphic_places import Chain
from eval.metamorphic_vocab import Group, Rewrite, Source, Vocab, make_rewrite, map_offset, role_key

TRADITIONAL = ("s2t", "s2tw", "s2hk")  # OpenCC configurations that keep every length


def fill(
    template: str,
    fields: dict[str, str],
    dates: dict[str, dt.datetime] | None = None,
    vocab: Vocab | None = None,
) -> str:
    """A template with its {field} and {date:format} places filled."""

    def one(m: re.Match[str]) -> str:
        name, fmt = m[1], m[2]
        if dates and vocab and name in dates:
            formats = vocab["furniture"]["dates"]
            d = dates[name]
            parts = dict(y=d.year, m=d.month, d=d.day, mm=f"{d.month:02}", dd=f"{d.day:02}",
                         HH=f"{d.hour:02}", MM=f"{d.minute:02}", SS=f"{d.second:02}")  # fmt: skip
            return str(formats[fmt or "iso"].format(**parts))
        return fields[name]

    return re.sub(r"\{(\w+)(?::(\w+))?\}", one, template)


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def code_fields(rng: random.Random, chain: Chain, pub: dt.datetime, vocab: Vocab) -> dict[str, str]:
    names = vocab.names
    abbr = vocab["names"]["province_abbr"].get(names.short(chain.province, "province"), "")
    codes = {
        "code9": digits(rng, 9), "code18": "11" + digits(rng, 15) + rng.choice("0123456789X"),
        "date8": pub.strftime("%Y%m%d"), "year": str(pub.year), "n1": str(rng.randint(1, 9)),
        "n2": str(rng.randint(10, 60)), "n4": digits(rng, 4), "n5": digits(rng, 5),
        "n6": digits(rng, 6), "n7": digits(rng, 7), "n8": digits(rng, 8), "n14": digits(rng, 14),
        "n16": digits(rng, 16), "hex8": f"{rng.getrandbits(32):08x}",
        "hex24": f"{rng.getrandbits(96):024x}", "hex32": f"{rng.getrandbits(128):032x}",
        "abbr": abbr, "abbr1": names.short(chain.county, "county")[:1],
        "site_code": chain.code[:4] + digits(rng, 6), "views": str(rng.randint(12, 4800)),
    }  # fmt: skip
    return codes


@dataclass
class Copy:
    """One generated report: its file, text and truth, and how an original quote maps into it."""

    file: str
    text: str
    source: Source
    copy: int
    chain: Chain
    rewrite: Rewrite
    body: str  # the rewritten report text, before titles, furniture, cuts and 繁體
    spans: list[tuple[int, int, int, int]]
    truth: dict[str, Any] = field(default_factory=dict)
    traditional: str = ""  # the OpenCC configuration of a 繁體 copy

    def quote(self, quote: str) -> str | None:
        """The copy's form of a quote of the original report, or None when it is gone."""
        start = self.source.text.find(quote)
        if start < 0:
            return None
        ns = map_offset(self.spans, start, end=False)
        ne = map_offset(self.spans, start + len(quote), end=True)
        new = self.convert(self.body[ns:ne])
        return new if new and new in self.text else None

    def convert(self, s: str) -> str:
        return convert(s, self.traditional) if self.traditional else s


@cache
def converter(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


def convert(s: str, config: str) -> str:
    """简体 -> 繁體 (or back with t2s) by OpenCC, keeping every offset."""
    out = str(converter(config).convert(s))
    if len(out) != len(s):
        raise ValueError(f"OpenCC {config} changed the length of {s[:20]!r}")
    return out


def find_title(body: str, title: str) -> tuple[int, int] | None:
    """Where the title stands in the text, on one line or split over two."""
    at = body.find(title)
    if at >= 0:
        return at, at + len(title)
    for i in range(2, len(title) - 1):
        two = title[:i] + "\n" + title[i:]
        at = body.find(two)
        if at >= 0:
            return at, at + len(two)
    return None


def placeless(title: str, year: int, vocab: Vocab) -> str | None:
    """The title without the place before it (关于2023年… / 2023年…)."""
    cuts = [title.find(s) for s in vocab["titles"]["placeless_starts"]] + [title.find(str(year))]
    cuts = [c for c in cuts if c > 0]
    return title[min(cuts) :] if cuts else None


def pick(rng: random.Random, options: list[str], p: float) -> str | None:
    return rng.choice(options) if rng.random() < p else None


def issuer_forms(source: Source, chain: Chain, vocab: Vocab) -> list[str]:
    """The names of the issuing body a page may give (longest first)."""
    if source.issuer == "none":
        return []
    if source.issuer == "zone":
        return [chain.county + z for z in vocab["issuer"]["zone"]]
    city = chain.city or chain.province
    if chain.town:
        body = vocab["roles"]["town"][role_key(vocab, chain.town, "town")]["body"]
        gov = vocab["issuer"]["county_gov"]
        forms = [city + chain.county + chain.town + body, chain.county + chain.town + body]
        forms += [
            city + chain.county + gov + chain.town + body,
            chain.county + gov + chain.town + body,
        ]
        forms.append(chain.town + body)
        return forms + ([chain.town] if source.issuer_bare else [])
    gov = vocab["issuer"]["county_gov"]
    extra = [chain.county + e for e in source.issuer_extra]
    return [city + chain.county + gov, chain.county + gov, *extra]


def shift_date(iso: str, delta: int) -> str:
    d = dt.date.fromisoformat(iso)
    return dt.date(d.year + delta, d.month, min(d.day, 28) if d.month == 2 else d.day).isoformat()


def dates_of(
    rng: random.Random, source: Source, delta: int
) -> tuple[dt.datetime | None, dt.datetime, dt.datetime]:
    """(the report's own published date shifted, a 成文 date, a publication date after it)."""
    own = None
    if source.published:
        d = dt.date.fromisoformat(source.published)
        own = dt.datetime(d.year + delta, d.month, min(d.day, 28), rng.randint(8, 17),
                          rng.randint(0, 59), rng.randint(0, 59))  # fmt: skip
    made = own or dt.datetime(source.year + delta + 1, rng.randint(1, 3), rng.randint(1, 28), 9)
    pub = made + dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8),
                              minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))  # fmt: skip
    return own, made, pub


def furniture(
    rng: random.Random,
    source: Source,
    chain: Chain,
    title: str | None,
    delta: int,
    vocab: Vocab,
    title_only: bool = False,
    footer: bool = True,
) -> tuple[list[str], list[str], dict[str, Any]]:
    """Lines above and below the report, and what they state (published date, title). With
    `title_only` the title goes into an index table (the page's body has none)."""
    f = vocab["furniture"]
    own, made, pub = dates_of(rng, source, delta)
    anchor = own or pub
    if rng.random() < 0.2:  # a banner older than the page, as 静海区's 2019 one on a 2024 page
        today = anchor - dt.timedelta(days=rng.randint(90, 1500))
    else:
        today = min(anchor + dt.timedelta(days=rng.randint(5, 900)), dt.datetime(2026, 12, 7))
    forms = {**code_fields(rng, chain, pub, vocab)}
    issuers = issuer_forms(source, chain, vocab) or [chain.county + vocab["issuer"]["county_gov"]]
    city = "" if not chain.city else chain.city
    fields = {
        **forms, "county": chain.county, "city": city, "province": chain.province,
        "place": chain.place, "issuer": rng.choice(issuers),
        "weekday": vocab["years"]["weekdays"][today.weekday()], "title": title or "",
        "topic": rng.choice(f["topics"]),
    }  # fmt: skip
    fields["site"] = fill(rng.choice(f["sites"]), fields, {}, vocab)
    for key, table in (("crumb", "crumbs"), ("source", "sources"), ("publisher", "publishers")):
        fields[key] = fill(rng.choice(f[table]), fields, {}, vocab)
    codes = f["codes"]
    fields["index_no"] = fill(rng.choice(codes["index_nos"]), fields, {}, vocab)
    fields["doc_no"] = fill(rng.choice(codes["doc_nos"]), fields, {}, vocab)
    dates = {"today": today, "pub": pub, "made": made}
    head: list[str | None] = [pick(rng, f["banners"], 0.5), pick(rng, f["bars"], 0.35)]
    states: dict[str, Any] = {"published": None, "title": None, "forms": [], "site": fields["site"]}
    if not source.has_page:
        head.append(pick(rng, f["breadcrumbs"], 0.6))
        wants_title = title is not None and (title_only or rng.random() < 0.3)
        tables = [t for t in f["tables"] if ("{title}" in t) == wants_title] or f["tables"]
        block = 0.0 if title_only else rng.random()
        chosen = (
            rng.choice(tables) if block < 0.45 else rng.choice(f["lines"]) if block < 0.9 else None
        )
        if chosen:
            head.append(chosen)
            states["published"] = (pub if "{pub" in chosen else made).date().isoformat()
            if "{made" in chosen and any(label in chosen for label in f["issued_labels"]):
                states["published_also"] = made.date().isoformat()
            states["title"] = title if "{title}" in chosen else None
        head.append(pick(rng, f["tools"], 0.4))
    foot = [pick(rng, f["shares"], 0.3), pick(rng, f["footers"], 0.45)] if footer else []
    states["forms"] = [t for t in head + foot if t]
    # a page may name the issuer by the place alone (发布机构: 三墩镇)
    states["bare_issuer"] = any(
        f"{{{key}}}" in t and fields[key] == chain.place
        for t in states["forms"]
        for key in ("publisher", "source")
    )
    render = [fill(t, fields, dates, vocab) for t in head + foot if t]
    n_head = len([t for t in head if t])
    return render[:n_head], render[n_head:], states


def html_page(head: list[str], body: str, foot: list[str], site: str) -> str:
    esc = html.escape
    parts = ['<!DOCTYPE html><html><head><meta charset="utf-8">', f"<title>{esc(site)}</title>"]
    parts.append("</head><body>")
    parts += [f'<div class="top">{esc(line)}</div>' for line in head]
    parts += [f"<p>{esc(line)}</p>" for line in body.split("\n") if line.strip()]
    parts += [f'<div class="foot">{esc(line)}</div>' for line in foot]
    return "\n".join(parts + ["</body></html>"])


def build_copy(
    rng: random.Random, source: Source, group: Group, chain: Chain, delta: int, k: int,
    vocab: Vocab, traditional: str = "", truncate: bool = False,
) -> Copy:  # fmt: skip
    """One report re-skinned to `chain` and shifted by `delta` years, as a page."""
    rw = make_rewrite(vocab, group, chain, delta)
    body, spans = rw.apply(source.text)
    year = source.year + delta
    title = rw.text(source.title) if source.title else None
    page = body
    is_html = source.file.endswith(".html")
    where = find_title(body, title) if title else None
    variant, body_title, title_only = "kept", title, False
    furniture_title = title
    draw = rng.random()
    if where and not is_html and draw < 0.2 and (pl := placeless(title or "", year, vocab)):
        page, body_title, variant = page[: where[0]] + pl + page[where[1] :], pl, "placeless"
    elif where and not is_html and not source.has_page and draw < 0.45:
        page, body_title, variant = page[: where[0]] + page[where[1] :], None, "furniture"
        title_only = True
    elif not title:
        fields = {
            "place": chain.place,
            "county": chain.county if chain.town else "",
            "year": str(year),
            "issuer": (issuer_forms(source, chain, vocab) or [""])[-1],
        }
        table = vocab["titles"]["with_place" if rng.random() < 0.6 else "placeless"]
        furniture_title = fill(rng.choice(table), fields, {}, vocab)  # fmt: skip
        variant = "none"
    if truncate:
        page = page[: int(len(page) * rng.uniform(0.6, 0.8))]
    head, foot, states = furniture(
        rng, source, chain, furniture_title, delta, vocab, title_only, footer=not truncate
    )
    site = states["site"]
    if is_html:
        top = "".join(f'<div class="top">{html.escape(h)}</div>' for h in head)
        end = "".join(f'<div class="foot">{html.escape(h)}</div>' for h in foot)
        text = page.replace("<body>", "<body>" + top, 1).replace("</body>", end + "</body>", 1)
    elif rng.random() < 0.15:
        is_html = True
        text = html_page(head, page, foot, site)
    else:
        text = "\n".join([*head, page, *foot])
    if traditional:
        text = convert(text, traditional)
    c = Copy("", text, source, k, chain, rw, body, spans, traditional=traditional)
    published = states["published"]
    if published is None and source.published and source.published_from != "none":
        cut = truncate and source.published_from == "signature"
        published = None if cut else shift_date(source.published, delta)
    forms = issuer_forms(source, chain, vocab)
    if forms and states["bare_issuer"] and chain.place not in forms:
        forms.append(chain.place)
    stated = [f for f in forms if c.convert(f) in text]
    c.truth = {
        "source": source.file, "copy": k, "group": group.id,
        "chain": [chain.province, chain.city, chain.county, chain.town],
        "place": chain.place, "year": year, "published": published,
        "published_ok": [published, *([states["published_also"]] if "published_also" in states else [])],
        "title": body_title or states["title"], "issuer": forms if stated else None,
        "traditional": traditional, "truncated": truncate, "html": is_html,
        "title_variant": variant, "furniture": states["forms"],
    }  # fmt: skip
    return c
