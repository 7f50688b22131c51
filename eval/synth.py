"""Synthetic corpora for benchmarks, grown from the sample reports.

Each synthetic report is a copy of a sample report under a new town and county name, another
year and other numbers, so its chunks differ from the originals but keep their shape. To reach
a million chunks without running jieba a million times, a synthetic chunk's BM25 tokens are the
tokens of its original chunk with the same substitutions applied (names, years, digits).
Vectors are derived, not encoded: see `derived_vectors` and `derived_sentence_vectors`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

import numpy as np

from rag.factory import LoadedIndex
from rag.index.sentvec import SentenceVectors, chunk_sentences, digest
from rag.ingest.chunk import context_header
from rag.retrieve.places import place_aliases
from rag.types import Chunk, Places, Report

_SYLLABLES = (
    "青白石金银玉龙凤云山水河湖江海松柏桃李梅兰竹菊东西南北中安平和顺兴隆昌盛福寿康宁新华光明"
    "长乐永丰广德泰嘉仁义礼智信忠孝宝泉溪林峰岭川阳春秋"
)


@dataclass
class SynthCorpus:
    reports: dict[str, Report]
    chunks: list[Chunk]
    tokens: list[list[str]]  # BM25 tokens per chunk
    base: np.ndarray  # index of the original chunk each chunk was grown from
    names: list[str]  # place names to add to the tokenizer's dictionary


def _names(rng: random.Random, count: int) -> list[str]:
    out: set[str] = set()
    while len(out) < count:
        out.add("".join(rng.choice(_SYLLABLES) for _ in range(3 if count > 2000 else 2)))
    return sorted(out)


def _renamed(report: Report, town: str, county: str, year: int, source: str) -> Report:
    p = report.meta.places
    places = Places(
        province=p.province,
        city=p.city,
        county=(county + p.county[-1]) if p.county else None,
        town=(town + p.town[-1]) if p.town else None,
    )
    if places.town is None and places.county is None:
        places = replace(places, county=county + "县")
    title = report.meta.title
    for old, new in _name_map(report, places).items():
        title = title.replace(old, new)
    title = re.sub(r"(?:19|20)\d{2}", str(year), title)
    meta = replace(report.meta, places=places, year=year, title=title)
    return Report(source=source, text="", meta=meta, encoding="synthetic")


def _name_map(report: Report, places: Places) -> dict[str, str]:
    """Old place name (and stem) -> new one, longest first."""
    old, new = report.meta.places, places
    pairs: dict[str, str] = {}
    for level in ("province", "city", "county", "town"):
        a, b = getattr(old, level), getattr(new, level)
        if a and b and a != b:
            pairs[a] = b
            if len(a) > 2 and len(b) > 2:
                pairs[a[:-1]] = b[:-1]
    return dict(sorted(pairs.items(), key=lambda kv: -len(kv[0])))


def _substitute(text: str, names: dict[str, str], year: int, rng: random.Random) -> str:
    for a, b in names.items():
        text = text.replace(a, b)
    text = re.sub(r"(?:19|20)\d{2}(?=年)", str(year), text)
    return re.sub(
        r"(?<![\d.])\d{1,4}(?![\d年])",
        lambda m: str(rng.randint(1, 10 ** len(m.group(0)) - 1)),
        text,
    )


def _sub_tokens(
    tokens: list[str], names: dict[str, str], year: int, rng: random.Random
) -> list[str]:
    out = []
    for t in tokens:
        if t in names:
            t = names[t]
        elif len(t) >= 2 and (old := next((a for a in names if t in a), None)):
            t = names[old]  # a jieba sub-word of an old place name (江华 of 江华瑶族自治县)
        elif re.fullmatch(r"(?:19|20)\d{2}", t):
            t = str(year)
        elif t.isdigit():
            t = str(rng.randint(1, 10 ** len(t) - 1))
        out.append(t)
    return out


def grow(index: LoadedIndex, n_chunks: int, seed: int = 7) -> SynthCorpus:
    """The sample reports plus synthetic copies, `n_chunks` chunks in all."""
    rng = random.Random(seed)
    tokenize = index.lexical.tokenizer
    originals = list(index.reports.values())
    by_report: dict[str, list[int]] = {}
    for i, c in enumerate(index.chunks):
        by_report.setdefault(c.source, []).append(i)
    base_tokens = [tokenize(c.index_text) for c in index.chunks]
    reports = dict(index.reports)
    chunks = list(index.chunks)
    tokens = list(base_tokens)
    base = list(range(len(chunks)))
    per_report = len(chunks) / len(originals)
    needed = max(0, int(np.ceil((n_chunks - len(chunks)) / per_report)) + 1)
    town_names = _names(rng, needed)
    county_names = _names(random.Random(seed + 1), needed)
    new_names: list[str] = []
    j = 0
    while len(chunks) < n_chunks:
        original = originals[j % len(originals)]
        year = rng.randint(2018, 2025)
        report = _renamed(original, town_names[j], county_names[j], year, f"synthetic_{j:06d}.txt")
        names = _name_map(original, report.meta.places)
        new_names += sorted(place_aliases(report))
        reports[report.source] = report
        for i in by_report[original.source]:
            if len(chunks) >= n_chunks:
                break
            c = index.chunks[i]
            text = _substitute(c.text, names, year, rng)
            chunks.append(
                Chunk(
                    report.source,
                    c.start,
                    c.start + len(text),
                    text,
                    c.section,
                    index_text=f"{context_header(report, c.section)}\n{text}",
                )
            )
            tokens.append(_sub_tokens(base_tokens[i], names, year, rng))
            base.append(i)
        j += 1
    return SynthCorpus(reports, chunks, tokens, np.array(base, dtype=np.int64), new_names)


def derived_vectors(real: np.ndarray, base: np.ndarray, seed: int = 7) -> np.ndarray:
    """Vectors for grown chunks: 0.6 x the real embedding of the chunk each was grown from,
    0.4 x a random mix of two other real chunk embeddings, plus a little noise, renormalised.
    The originals keep their real vectors. Encoding a million chunks on this machine's CPU is
    not practical (the packaged model encodes about 23 chunks/s)."""
    rng = np.random.default_rng(seed)
    n, dim = len(base), real.shape[1]
    weights = rng.dirichlet([1.0, 1.0], n).astype(np.float32)
    others = rng.integers(0, len(real), (n, 2))
    out = 0.6 * real[base] + 0.4 * (
        weights[:, :1] * real[others[:, 0]] + weights[:, 1:] * real[others[:, 1]]
    )
    out += rng.standard_normal((n, dim), dtype=np.float32) * (0.5 / np.sqrt(dim))
    out[: len(real)] = real  # the sample chunks themselves
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def derived_sentence_vectors(
    corpus: SynthCorpus, index: LoadedIndex, real: dict[str, np.ndarray], seed: int = 7
) -> SentenceVectors:
    """The index-time sentence vectors of a grown corpus, derived as `derived_vectors` derives
    the chunks': a grown chunk's j-th sentence gets 0.8 x the real vector of its original
    chunk's j-th sentence (`real`: text -> vector, encoded for real) plus noise, renormalised;
    the sample chunks keep their real ones. Keyed by the grown text, as a build keys them."""
    rng = np.random.default_rng(seed)
    originals = [[real[t] for t in chunk_sentences(c)] for c in index.chunks]
    keys: dict[int, int] = {}
    rows: list[np.ndarray] = []
    for chunk, b in zip(corpus.chunks, corpus.base, strict=True):
        texts = chunk_sentences(chunk)
        sources = originals[int(b)]
        for j, text in enumerate(texts):
            key = digest(text)
            if key in keys or not sources:
                continue
            keys[key] = len(rows)
            rows.append(sources[min(j, len(sources) - 1)])
    matrix = np.stack(rows).astype(np.float32)
    grown = np.ones(len(rows), dtype=bool)
    for text in real:
        if (row := keys.get(digest(text))) is not None:
            grown[row] = False
    noise = rng.standard_normal(matrix.shape, dtype=np.float32) * (0.3 / np.sqrt(matrix.shape[1]))
    matrix[grown] = 0.8 * matrix[grown] + noise[grown]
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return SentenceVectors(
        np.fromiter(keys, dtype=np.uint64, count=len(keys)), [matrix.astype(np.float16)]
    )
