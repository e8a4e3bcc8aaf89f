r"""From random words to values, in numpy (the reference transforms).

Each element gets a fixed number of bits, and no sampler loops:

* float32 work precision (float32, float16, bfloat16 outputs): one 32-bit word
  ``w``; its top 24 bits ``m = w >> 8`` give

  - uniform: :math:`u = m \cdot 2^{-24} \in [0, 1)`, value ``low + width * u``;
  - normal: :math:`q = (2m - 2^{24} + 1) \cdot 2^{-25}`, an exact float32 in
    :math:`(-1/2, 1/2)`, then :math:`z = \Phi^{-1}(1/2 + q)`;
  - truncated normal at :math:`\pm 2`: the same ``q`` scaled by
    :math:`\Phi(2) - \Phi(-2) = \operatorname{erf}(\sqrt 2)`, so ``z`` is the inverse CDF
    restricted to [-2, 2]
    (clamped to exactly [-2, 2] against the approximation's last ulp).

* float64 work precision: both words of a block, :math:`m_{53}` (uniform) or
  :math:`m_{52}` (normal) bits, with the same formulas scaled to 53 bits.

Then ``mean + std * z`` (two correctly rounded operations, in this order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._special import ndtri_q

__all__ = ["TRUNC_MASS", "normal_from_bits", "uniform_from_bits"]

# Phi(2) - Phi(-2) = erf(sqrt(2)): the probability mass of a standard normal in [-2, 2].
TRUNC_MASS = 0.95449973610364158
U32 = np.uint32
U64 = np.uint64


def _q_f32(w: NDArray[np.uint32]) -> NDArray[Any]:
    m = (w >> U32(8)).astype(np.int32)
    odd: NDArray[Any] = (m * np.int32(2) - np.int32(2**24 - 1)).astype(np.float32)  # exact
    odd *= np.float32(2.0**-25)  # exact
    return odd


def _q_f64(x0: NDArray[np.uint32], x1: NDArray[np.uint32]) -> NDArray[Any]:
    m = (x0.astype(U64) << U64(20)) | (x1 >> U32(12)).astype(U64)
    odd: NDArray[Any] = (m.astype(np.int64) * np.int64(2) - np.int64(2**52 - 1)).astype(np.float64)
    odd *= np.float64(2.0**-53)
    return odd


def _u_f32(w: NDArray[np.uint32]) -> NDArray[Any]:
    u: NDArray[Any] = (w >> U32(8)).astype(np.float32)
    u *= np.float32(2.0**-24)
    return u


def _u_f64(x0: NDArray[np.uint32], x1: NDArray[np.uint32]) -> NDArray[Any]:
    m = (x0.astype(U64) << U64(21)) | (x1 >> U32(11)).astype(U64)
    u: NDArray[Any] = m.astype(np.float64)
    u *= np.float64(2.0**-53)
    return u


def uniform_from_bits(bits: tuple[NDArray[np.uint32], ...], low: Any, width: Any) -> NDArray[Any]:
    """``low + width * u`` in the precision of ``low`` (np.float32 or np.float64)."""
    u = _u_f32(bits[0]) if len(bits) == 1 else _u_f64(bits[0], bits[1])
    u *= width
    u += low
    return u


def normal_from_bits(
    bits: tuple[NDArray[np.uint32], ...], mean: Any, std: Any, truncated: bool
) -> NDArray[Any]:
    """``mean + std * z``; ``z`` standard normal, or truncated to [-2, 2]."""
    q = _q_f32(bits[0]) if len(bits) == 1 else _q_f64(bits[0], bits[1])
    ftype = q.dtype.type
    if truncated:
        q *= ftype(TRUNC_MASS)
    z = ndtri_q(q)
    if truncated:
        np.clip(z, ftype(-2), ftype(2), out=z)
    z *= std
    z += mean
    return z
