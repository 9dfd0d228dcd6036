"""Counter-based random draws keyed by (seed, topic, id).

The city-wide catalogue is drawn once from ``numpy.random.default_rng(seed)``, but the
attributes of a parcel must not depend on which chunk it is generated in. Hashing the
parcel's slot id (splitmix64) gives every slot its own reproducible numbers, so any
slice of the portfolio can be generated on its own, in any order, with identical results.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB


def _splitmix_int(x: int) -> int:
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * _MUL1) & _MASK
    x = ((x ^ (x >> 27)) * _MUL2) & _MASK
    return x ^ (x >> 31)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """Vectorised splitmix64 finaliser; uint64 array arithmetic wraps silently by design."""
    x = x + np.uint64(_GOLDEN)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(_MUL1)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(_MUL2)
    return x ^ (x >> np.uint64(31))


class Stream:
    """Reproducible uniform numbers for arbitrary subsets of integer ids."""

    def __init__(self, seed: int) -> None:
        self._key = _splitmix_int(seed & _MASK)

    def uniform(
        self, ids: np.ndarray, topic: str, low: float = 0.0, high: float = 1.0
    ) -> np.ndarray:
        """Floats in [low, high): one per id, the same whenever (seed, topic, id) repeat."""
        key = np.uint64(_splitmix_int(self._key ^ zlib.crc32(topic.encode())))
        h = _splitmix(_splitmix(np.asarray(ids).astype(np.uint64) ^ key))
        unit = (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
        return low + (high - low) * unit

    def integers(self, ids: np.ndarray, topic: str, low: int, high: int) -> np.ndarray:
        """Integers in [low, high]."""
        u = self.uniform(ids, topic)
        return (low + np.floor(u * (high - low + 1))).astype(np.int64)

    def choice(
        self, ids: np.ndarray, topic: str, weights: Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """Index into ``weights`` drawn with probability proportional to each weight."""
        cum = np.cumsum(np.asarray(weights, dtype=np.float64))
        u = self.uniform(ids, topic) * cum[-1]
        return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)

    def chance(self, ids: np.ndarray, topic: str, p: float | np.ndarray) -> np.ndarray:
        """Boolean mask, True with probability ``p``."""
        return self.uniform(ids, topic) < p
