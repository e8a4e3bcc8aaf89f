"""Random words for a region of a tensor, by the engine's counter layout (``_engine._bits``).

Element ``i`` (row-major flat index of the whole shape) takes word ``i % 2`` of
Threefry block ``i // 2`` in float32 work precision, and both words of block
``i`` in float64. A region (one start and size per axis; the starts may be
traced, as in ``shard_map``) is a set of rows of consecutive flat indices: the
row starts are computed once per row, then each row's blocks are a counter
range, so a float32 row of ``L`` elements costs ``L / 2 + 1`` blocks.

Counters are 64-bit (``lo``, ``hi``) uint32 pairs. Tensors of at most 2**32
elements keep ``hi == 0`` and need plain uint32 arithmetic; larger ones add
with carries (``_add64``, ``_mul64``), which does not need ``jax_enable_x64``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from ._threefry import threefry2x32

__all__ = ["Offset", "region_words"]

U32 = np.uint32
Offset = int | Array  # a static start, or a traced uint32 scalar
Pair = tuple[Array, Array]  # (hi, lo)


def _u32(x: Offset) -> Array:
    return jnp.asarray(x, dtype=jnp.uint32)


def _add64(a: Pair, b: Pair) -> Pair:
    lo = a[1] + b[1]
    carry = (lo < a[1]).astype(jnp.uint32)
    return a[0] + b[0] + carry, lo


def _mul64(a: Array, c: int) -> Pair:
    """``a * c`` modulo 2**64 for a uint32 array ``a`` and a constant ``0 <= c < 2**64``."""
    c_lo, c_hi = c & 0xFFFFFFFF, c >> 32
    a0, a1 = a & U32(0xFFFF), lax.shift_right_logical(a, U32(16))
    b0, b1 = U32(c_lo & 0xFFFF), U32(c_lo >> 16)
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = p01 + p10
    mid_carry = (mid < p01).astype(jnp.uint32)
    lo = p00 + lax.shift_left(mid, U32(16))
    lo_carry = (lo < p00).astype(jnp.uint32)
    hi = p11 + lax.shift_right_logical(mid, U32(16)) + lax.shift_left(mid_carry, U32(16)) + lo_carry
    return hi + a * U32(c_hi), lo


def _shr1(p: Pair) -> Pair:
    hi, lo = p
    return lax.shift_right_logical(hi, U32(1)), lax.shift_right_logical(lo, U32(1)) | lax.shift_left(
        hi, U32(31)
    )


def _row_starts(
    shape: Sequence[int], offsets: Sequence[Offset], sizes: Sequence[int], k: int, big: bool
) -> Pair:
    """Flat index of the first element of each row (shape ``sizes[:k]``), as a (hi, lo) pair."""
    strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    zero = jnp.zeros((), jnp.uint32)
    start: Pair = (zero, zero)
    for j in range(k + 1):
        coord = _u32(offsets[j])
        if j < k:
            axis = [1] * k
            axis[j] = sizes[j]
            coord = (coord + lax.iota(jnp.uint32, sizes[j])).reshape(axis)
        if big:
            start = _add64(start, _mul64(coord, strides[j]))
        else:  # every partial sum is a flat index < 2**32
            start = (zero, start[1] + coord * U32(strides[j]))
    return start


def region_words(
    key: tuple[Array, Array],
    shape: Sequence[int],
    offsets: Sequence[Offset],
    sizes: Sequence[int],
    wide: bool,
    select: bool = True,
) -> tuple[Array, ...]:
    """The words of the region ``[offsets[d], offsets[d] + sizes[d])`` of ``shape``.

    Returns one uint32 array of shape ``sizes`` (float32 work precision) or
    two (``wide``, float64). ``select`` chooses how the float32 words are
    interleaved, which decides how XLA fuses what follows (see ``_random.draw``).
    Axes whose size is the whole axis must have offset 0. Every axis must be
    shorter than 2**32 (callers check).
    """
    nd = len(shape)
    n = math.prod(shape)
    big = n > 2**32
    k = max((d for d in range(nd) if sizes[d] != shape[d]), default=-1)
    if big:
        k = nd - 1  # rows no longer than the last axis, so counters within a row fit 32 bits
    strides = [math.prod(shape[d + 1 :]) for d in range(nd)]
    length = sizes[k] * strides[k] if k >= 0 else n
    rows = tuple(sizes[:k]) if k >= 0 else ()
    start = _row_starts(shape, offsets, sizes, k, big)
    if wide:
        count = length
        first = start
    else:
        static_even = all(strides[j] % 2 == 0 for j in range(k)) and (
            k < 0 or strides[k] % 2 == 0 or (isinstance(offsets[k], int) and offsets[k] % 2 == 0)
        )
        count = (length + 1) // 2 if static_even else length // 2 + 1
        first = _shr1(start)
    expand = (*rows, 1)
    iota = lax.broadcasted_iota(jnp.uint32, (*rows, count), len(rows))
    first_lo = jnp.broadcast_to(first[1], rows).reshape(expand)
    if big:
        first_hi = jnp.broadcast_to(first[0], rows).reshape(expand)
        hi, lo = _add64((first_hi, first_lo), (jnp.zeros((), jnp.uint32), iota))
    else:
        hi, lo = jnp.zeros((), jnp.uint32), first_lo + iota
    x0, x1 = threefry2x32(key, lo, hi)
    if wide:
        return x0.reshape(tuple(sizes)), x1.reshape(tuple(sizes))
    if select:
        # interleaved by a select: branch-free, so the transform that XLA fuses after it stays
        # vectorized (the block is computed once per element, as with a concatenation)
        second = lax.broadcasted_iota(jnp.uint32, (*rows, count, 2), len(rows) + 1) == U32(1)
        words = jnp.where(second, x1[..., None], x0[..., None]).reshape((*rows, 2 * count))
    else:
        # interleaved by a concatenation: XLA:CPU writes it as a separate loop per word, so the
        # words are materialized once, and a transform split into several fusions reads them
        words = jnp.stack(jnp.broadcast_arrays(x0, x1), axis=-1).reshape((*rows, 2 * count))
    if static_even:
        out = words[..., :length]
    else:
        odd = (start[1] & U32(1)).astype(bool)
        odd = jnp.broadcast_to(odd, rows).reshape(expand)
        out = jnp.where(odd, words[..., 1 : length + 1], words[..., :length])
    return (out.reshape(tuple(sizes)),)
