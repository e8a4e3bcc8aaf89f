r"""Orthogonal on the device: the engine's Householder product (``weightinit._haar``) in JAX.

The engine's matrix is ``U = H_0 ... H_{n-1} E D`` where ``H_k`` reflects the
tail ``x_k = B[k:, k]`` of column ``k`` of the seed's float64 standard normal
matrix ``B`` (transposed when wide) onto ``-s_k ||x_k|| e_k``. The same vectors,
scaled so that ``v_k[k] = 1``, and ``tau_k = 1 + |x_kk| / ||x_k||`` are handed to
``jax.lax.linalg.householder_product`` (LAPACK's ``orgqr`` on CPU), which forms
that product.

With ``jax_enable_x64`` the normals are the engine's float64 values bit for bit
and the product is computed in float64 (about 1e-15 from the engine). Without
it the normals are computed in float32 from the same 52 random bits (the
quantile's tail taken from the complement of the bits, so rare large values
keep full relative precision) and the product in float32: about 1e-6 from the
engine for moderate sizes.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from .._engine._special import _TABLES
from ._counters import region_words
from ._random import stream_key, transform_of
from ._transforms import normal_from_words

__all__ = ["normals_f32", "orthogonal"]


def _horner(coeffs: tuple[float, ...], x: Array) -> Array:
    acc = jnp.full_like(x, np.float32(coeffs[-1]))
    for c in reversed(coeffs[:-1]):
        acc = acc * x + np.float32(c)
    return acc


def normals_f32(x0: Array, x1: Array) -> Array:
    """The engine's float64 standard normals from their words, approximated in float32."""
    neg = x0 < np.uint32(2**31)  # u = 1/2 + q < 1/2
    c0 = jnp.where(neg, x0, ~x0)
    c1 = jnp.where(neg, x1, ~x1) >> np.uint32(12)
    # t = 1/2 - |q| = c0 * 2**-32 + (c1 + 1/2) * 2**-52, accurate relative to itself
    t = c0.astype(jnp.float32) * np.float32(2.0**-32) + (
        c1.astype(jnp.float32) + np.float32(0.5)
    ) * np.float32(2.0**-52)
    q = jnp.where(neg, t - np.float32(0.5), np.float32(0.5) - t)
    tab = _TABLES[np.float32]
    r = np.float32(0.180625) - q * q
    central = q * _horner(tab["a"], r) / _horner(tab["b"], r)
    rt = jnp.sqrt(-jnp.log(t))
    near = _horner(tab["c"], rt - np.float32(1.6)) / _horner(tab["d"], rt - np.float32(1.6))
    far = _horner(tab["e"], rt - np.float32(5)) / _horner(tab["f"], rt - np.float32(5))
    z = jnp.where(rt <= np.float32(5), near, far)
    return jnp.where(jnp.abs(q) <= np.float32(0.425), central, jnp.where(neg, -z, z))


def orthogonal(stream: Array, shape: tuple[int, ...], gain: float, dtype: np.dtype[Any]) -> Array:
    """``gain`` times the engine's Haar matrix of ``shape`` (rank >= 2), in ``dtype``."""
    rows, cols = math.prod(shape[:-1]), shape[-1]
    if rows * cols == 0:
        return jnp.zeros(shape, jnp.dtype(dtype))
    x64 = bool(jax.config.jax_enable_x64)  # type: ignore[attr-defined]
    words = region_words(stream_key(stream, "normal"), (rows, cols), (0, 0), (rows, cols), True)
    if x64:
        a = normal_from_words(
            words, transform_of("normal", 0.0, 1.0, np.dtype(np.float64)), jnp.float64, False
        )
    else:
        a = normals_f32(*words)
    b = a if rows >= cols else a.T
    m, n = b.shape
    below = lax.broadcasted_iota(jnp.int32, (m, n), 0) >= lax.broadcasted_iota(jnp.int32, (m, n), 1)
    x = jnp.where(below, b, 0)
    norm = jnp.sqrt(jnp.sum(x * x, axis=0))
    diag = jnp.diagonal(b)
    s = jnp.where(diag < 0, -1.0, 1.0).astype(b.dtype)
    lead = diag + s * norm
    zero = lead == 0
    v = x / jnp.where(zero, 1.0, lead)[None, :]
    tau = jnp.where(zero, 2.0, lead / jnp.where(zero, 1.0, s * norm)).astype(b.dtype)
    u = lax.linalg.householder_product(v, tau)
    u = u * (-s * b.dtype.type(gain))[None, :]
    out = u if rows >= cols else u.T
    result: Array = out.reshape(shape).astype(jnp.dtype(dtype))
    return result
