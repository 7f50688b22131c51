"""Sentence vectors built once at index time, so that the answer's second look (the question's
cosine to each candidate sentence) reads them instead of calling the encoder per question.

Each segment folder holds the vectors of its chunks' sentences (`sentences.npy`, float16,
opened memory-mapped) and one 64-bit digest per row of the exact text encoded
(`sentence_keys.npy`, sorted). A text is the chunk's last heading and the sentence, as the
second look encodes it (`sentence_text`). A sentence found in no segment (an index built
before these files existed, a passage widened past its chunk) is encoded at question time as
before."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.text.textmatch import is_heading, sentences
from rag.types import Chunk

VECTORS = "sentences.npy"
KEYS = "sentence_keys.npy"
BATCH = 64


def sentence_text(section: tuple[str, ...], sentence: str) -> str:
    """The text encoded for a sentence: the last heading of its section path, then it."""
    return f"{section[-1] if section else ''} {sentence}"


def chunk_sentences(chunk: Chunk) -> list[str]:
    """The texts of a chunk's sentences the second look may weigh (headings lend their words
    and are never weighed themselves)."""
    text = chunk.text
    return [
        sentence_text(chunk.section, text[a:b])
        for a, b in sentences(text)
        if not is_heading(text[a:b], chunk.section)
    ]


def digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


class SentenceVectors:
    """The sentence vectors of an index (every segment's), looked up by the text encoded. The
    segments' matrices stay as opened (memory-mapped): a row is read only when looked up."""

    def __init__(self, keys: np.ndarray, parts: Sequence[np.ndarray]) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.rows = order  # sorted position -> row over the parts, in order
        self.parts = list(parts)
        self.starts = np.cumsum([0, *(len(v) for v in self.parts)])[:-1]

    def __len__(self) -> int:
        return len(self.keys)

    def _row(self, row: int) -> np.ndarray:
        part = int(np.searchsorted(self.starts, row, side="right")) - 1
        return np.asarray(self.parts[part][row - self.starts[part]], dtype=np.float32)

    def find(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """Each text's vector (float32), or None when no segment holds it."""
        if not len(self.keys) or not texts:
            return [None] * len(texts)
        wanted = np.array([digest(t) for t in texts], dtype=np.uint64)
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        return [
            self._row(int(self.rows[i])) if self.keys[i] == w else None
            for i, w in zip(at, wanted, strict=True)
        ]

    @classmethod
    def open(cls, segments: Iterable[Path]) -> SentenceVectors | None:
        """The vectors of the segments that have them (None when none has)."""
        keys, vectors = [], []
        for seg in segments:
            if (seg / KEYS).exists() and (seg / VECTORS).exists():
                keys.append(np.load(seg / KEYS, allow_pickle=False))
                vectors.append(np.load(seg / VECTORS, mmap_mode="r", allow_pickle=False))
        return cls(np.concatenate(keys), vectors) if keys else None


def encode_sentences(
    chunks: Sequence[Chunk],
    embed_documents: Callable[[list[str]], Any],
    previous: SentenceVectors | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(keys, float16 vectors, texts encoded) for the sentences of `chunks`: each distinct
    text once (the boilerplate every report repeats is encoded once), and a text the previous
    build holds is read from it, not encoded again."""
    texts = list(dict.fromkeys(t for c in chunks for t in chunk_sentences(c)))
    if not texts:
        return np.empty(0, np.uint64), np.empty((0, 0), np.float16), 0
    known = previous.find(texts) if previous is not None else [None] * len(texts)
    missing = [i for i, v in enumerate(known) if v is None]
    found: dict[int, np.ndarray] = {i: v for i, v in enumerate(known) if v is not None}
    for b in range(0, len(missing), BATCH):
        if progress:
            progress("sentences", b, len(missing))
        ids = missing[b : b + BATCH]
        found.update(zip(ids, np.asarray(embed_documents([texts[i] for i in ids])), strict=True))
    keys = np.array([digest(t) for t in texts], dtype=np.uint64)
    vectors = np.stack([found[i] for i in range(len(texts))]).astype(np.float16)
    return keys, vectors, len(missing)


def write(folder: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
    if len(keys):
        np.save(folder / KEYS, keys, allow_pickle=False)
        np.save(folder / VECTORS, vectors, allow_pickle=False)
