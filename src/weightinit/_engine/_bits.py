"""Random words for flat element indices (numpy reference).

float32 work precision: element ``i`` takes word ``i % 2`` of block ``i // 2``.
float64 work precision: element ``i`` takes both words of block ``i``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._threefry import threefry2x32

__all__ = ["words_gather", "words_range"]

U32 = np.uint32
U64 = np.uint64


def _blocks(
    key: tuple[int, int], blocks: NDArray[np.uint64]
) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    lo = (blocks & U64(0xFFFFFFFF)).astype(U32)
    hi = (blocks >> U64(32)).astype(U32)
    return threefry2x32(key, lo, hi)


def words_range(key: tuple[int, int], start: int, stop: int, wide: bool) -> tuple[NDArray[np.uint32], ...]:
    """Words for the consecutive flat indices ``start .. stop - 1``."""
    if wide:
        return _blocks(key, np.arange(start, stop, dtype=U64))
    first, last = start >> 1, (stop - 1) >> 1
    x0, x1 = _blocks(key, np.arange(first, last + 1, dtype=U64))
    words = np.empty(2 * (last - first + 1), dtype=U32)
    words[0::2] = x0
    words[1::2] = x1
    offset = start - 2 * first
    return (words[offset : offset + (stop - start)],)


def words_gather(
    key: tuple[int, int], index: NDArray[np.int64], wide: bool
) -> tuple[NDArray[np.uint32], ...]:
    """Words for arbitrary flat indices."""
    idx = index.astype(U64)
    if wide:
        return _blocks(key, idx)
    x0, x1 = _blocks(key, idx >> U64(1))
    return (np.where((idx & U64(1)).astype(bool), x1, x0),)
