"""Random draws of a region, in JAX: the counterpart of ``weightinit._engine.sample``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import Array

from .._engine._keys import DOMAINS, STREAM_VERSION
from .._engine._sample import _transform_for
from ._counters import Offset, region_words
from ._threefry import threefry2x32
from ._transforms import normal_from_words, uniform_from_words

__all__ = ["stream_key", "draw"]

U32 = np.uint32
#: from this many elements on, a normal draw compiles to one XLA:CPU fusion (see ``draw``)
FUSE_MIN = 2**21


def stream_key(stream: Array, kind: str) -> tuple[Array, Array]:
    """The Threefry key of ``_engine.derive_key(seed, call, kind)``.

    ``stream`` is uint32[4]: ``(seed_lo, seed_hi, call_lo, call_hi)`` (may be traced).
    """
    family = threefry2x32(
        (stream[0], stream[1]), jnp.asarray(U32(DOMAINS[kind])), jnp.asarray(U32(STREAM_VERSION))
    )
    return threefry2x32(family, stream[2], stream[3])


def transform_of(kind: str, a: float, b: float, dtype: np.dtype[Any]) -> Any:
    """The reference's ``_Transform`` (parameters rounded to the work precision on the host)."""
    return _transform_for(kind, a, b, (math.copysign(1.0, a), math.copysign(1.0, b)), dtype)


def draw(
    kind: str,
    a: float,
    b: float,
    stream: Array,
    shape: Sequence[int],
    offsets: Sequence[Offset],
    sizes: Sequence[int],
    dtype: np.dtype[Any],
) -> Array:
    """The region ``offsets``/``sizes`` of ``sample(kind, seed, call, shape, ..., dtype, a, b)``."""
    transform = transform_of(kind, a, b, dtype)
    jdtype = jnp.dtype(dtype)
    if math.prod(sizes) == 0:
        return jnp.zeros(tuple(sizes), jdtype)
    if kind == "uniform" and transform.constant is not None:
        return jnp.full(tuple(sizes), transform.constant, dtype=jdtype)
    # How XLA:CPU fuses the program (the values are the same either way). The uniform transform
    # is small: words and transform make one vectorized loop. The normal quantile is long: as one
    # loop (``fused``) it writes only the output, but spills registers; as three (the words, then
    # the transform in two parts) it computes faster but writes and reads three intermediate
    # arrays. One core, ns per value of a truncated normal (jax 0.10.2, AMD EPYC): 2**20 values
    # 4.5 fused / 3.5 split, 2**22 4.5 / 5.0, 2**24 6.4 / 7.1, 2**26 6.5 / 7.1.
    fused = math.prod(sizes) >= FUSE_MIN
    words = region_words(
        stream_key(stream, kind), shape, offsets, sizes, transform.wide, select=fused or kind == "uniform"
    )
    if kind == "uniform":
        return uniform_from_words(words, transform, jdtype)
    return normal_from_words(words, transform, jdtype, kind == "truncated_normal", fused)
