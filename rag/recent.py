"""A small thread-safe cache of the most recently used values (query vectors, BM25 score
arrays, sentence vectors): a cross-report answer asks each report the same question."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The last `size` values by key; `get` computes a missing one outside the lock."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        return self.get_many([key], lambda _: [compute()])[0]

    def get_many(self, keys: Sequence[K], compute: Callable[[list[int]], Sequence[V]]) -> list[V]:
        """The values of `keys`; those missing are computed together, outside the lock, by
        `compute(their positions in keys)` (one encoder call for all the texts missing)."""
        found: dict[int, V] = {}
        with self._lock:
            for i, key in enumerate(keys):
                if key in self._items:
                    self._items.move_to_end(key)
                    found[i] = self._items[key]
        missing = [i for i in range(len(keys)) if i not in found]
        if missing:
            fresh = compute(missing)
            with self._lock:
                for i, value in zip(missing, fresh, strict=True):
                    found[i] = self._items[keys[i]] = value
                    self._items.move_to_end(keys[i])
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return [found[i] for i in range(len(keys))]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
