"""From (seed, draw counter, distribution) to a Threefry key.

Every random tensor is generated under one 64-bit key derived in two Threefry
steps:

1. ``k1 = threefry((seed_lo, seed_hi), (DOMAIN[kind], STREAM_VERSION))`` gives
   each distribution family its own stream, so ``RandomUniform(seed=1)`` and
   ``RandomNormal(seed=1)`` are not monotone functions of the same bits;
2. ``key = threefry(k1, (call_lo, call_hi))`` where ``call`` is 0 for an int
   seed and the draw number ``k`` of a ``SeedGenerator`` (Keras's ``[seed, k]``).

Element ``i`` of the tensor then takes its bits from counter block ``i // 2``
(float32 and narrower: one 32-bit word each) or ``i`` (float64: both words).
"""

from __future__ import annotations

import functools

from ._threefry import MASK32, threefry2x32_scalar

__all__ = ["DOMAINS", "STREAM_VERSION", "derive_key"]

STREAM_VERSION = 1
DOMAINS = {
    "uniform": 0x756E6966,  # "unif"
    "normal": 0x6E6F726D,  # "norm"
    "truncated_normal": 0x74726E63,  # "trnc"
}


# Both steps are pure functions of small ints, remembered because each costs
# about 15 us in Python (most calls repeat a seed: int seeds always use call 0).
@functools.lru_cache(maxsize=1024)
def _family_key(seed: int, kind: str) -> tuple[int, int]:
    base = (seed & MASK32, (seed >> 32) & MASK32)
    return threefry2x32_scalar(base, (DOMAINS[kind], STREAM_VERSION))


@functools.lru_cache(maxsize=4096)
def derive_key(seed: int, call: int, kind: str) -> tuple[int, int]:
    """The Threefry key for draw ``call`` of ``seed`` in distribution family ``kind``."""
    k1 = _family_key(seed, kind)
    return threefry2x32_scalar(k1, (call & MASK32, (call >> 32) & MASK32))
