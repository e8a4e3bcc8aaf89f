"""From words to values: ``weightinit._engine._transforms`` and ``_sample._Transform`` in JAX.

Parameters are the reference's, already rounded to the work precision on the
host (``_engine._sample._transform_for``), so the device sees the same
constants; the order of operations is the reference's, each product guarded
by :func:`._exact.rounded`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from .._engine._transforms import TRUNC_MASS
from ._exact import opaque_zero, rounded
from ._special import ndtri_q

__all__ = ["normal_from_words", "uniform_from_words", "uniform_unit", "q_unit"]


def q_unit(words: tuple[Array, ...]) -> Array:
    """``q`` of the reference: an exact odd multiple of 2**-25 (float32) or 2**-53 (float64)."""
    if len(words) == 1:
        m = lax.shift_right_logical(words[0], np.uint32(8)).astype(jnp.int32)
        odd = (m * np.int32(2) - np.int32(2**24 - 1)).astype(jnp.float32)
        narrow: Array = odd * np.float32(2.0**-25)
        return narrow
    x0, x1 = (w.astype(jnp.uint64) for w in words)
    m64 = lax.shift_left(x0, np.uint64(20)) | lax.shift_right_logical(x1, np.uint64(12))
    odd64 = (m64.astype(jnp.int64) * np.int64(2) - np.int64(2**52 - 1)).astype(jnp.float64)
    result: Array = odd64 * np.float64(2.0**-53)
    return result


def uniform_unit(words: tuple[Array, ...]) -> Array:
    """``u`` in [0, 1): 24 (float32) or 53 (float64) random bits."""
    if len(words) == 1:
        u32: Array = lax.shift_right_logical(words[0], np.uint32(8)).astype(jnp.float32) * np.float32(
            2.0**-24
        )
        return u32
    x0, x1 = (w.astype(jnp.uint64) for w in words)
    m = lax.shift_left(x0, np.uint64(21)) | lax.shift_right_logical(x1, np.uint64(11))
    result: Array = m.astype(jnp.float64) * np.float64(2.0**-53)
    return result


def uniform_from_words(words: tuple[Array, ...], transform: Any, dtype: jnp.dtype) -> Array:
    """``min(cast(low + width * u), below_high)`` as ``_sample._Transform`` computes it."""
    if transform.constant is not None:
        return jnp.full(words[0].shape, transform.constant, dtype=dtype)
    zero = opaque_zero(words[0])
    u = uniform_unit(words)
    values = rounded(u * transform.p1, zero) + transform.p0
    return jnp.minimum(values.astype(dtype), jnp.asarray(transform.below_high, dtype=dtype))


def normal_from_words(
    words: tuple[Array, ...], transform: Any, dtype: jnp.dtype, truncated: bool, fused: bool = True
) -> Array:
    """``mean + std * z`` (z standard normal, or truncated to [-2, 2]), cast to ``dtype``.

    ``fused``: see ``_random.draw``.
    """
    zero = opaque_zero(words[0])
    q = q_unit(words)
    ftype = np.dtype(q.dtype).type
    if truncated:
        q = q * ftype(TRUNC_MASS)
    z = ndtri_q(q, zero, far=len(words) == 2 and not truncated, fused=fused)
    if truncated:
        z = jnp.clip(z, ftype(-2), ftype(2))
    result: Array = (rounded(z * transform.p1, zero) + transform.p0).astype(dtype)
    return result
