"""``-log`` and the normal quantile of ``weightinit._engine._special``, in ``jax.numpy``.

The same algorithm (AS 241: PPND7 in float32, PPND16 in float64), the same
constants rounded the same way and the same order of operations; every product
that feeds an addition goes through :func:`._exact.rounded`, so XLA evaluates
exactly the reference's sequence of correctly rounded operations.

The reference picks one of two (float64: three) rational functions per element.
A vectorized program evaluates what every lane needs, so :func:`ndtri_q`
evaluates one rational function per element whose variable and coefficients are
selected per element: the selected polynomial is the reference's, term for term,
so the results are its bits, at the cost of one numerator, one denominator and
one division instead of two (three) of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from .._engine._special import _LN2, _LOG_TERMS, _SQRT_HALF, _TABLES
from ._exact import rounded

__all__ = ["frexp_normal", "log_neg", "ndtri_q"]


def _const(value: float, dtype: Any) -> Any:
    return np.dtype(dtype).type(value)


def _horner(coeffs: Sequence[float], x: Array, zero: Array) -> Array:
    """``sum(coeffs[k] * x**k)`` by Horner's rule from the highest power, no FMA."""
    dt = x.dtype
    acc = jnp.full_like(x, _const(coeffs[-1], dt))
    for c in reversed(coeffs[:-1]):
        acc = rounded(acc * x, zero) + _const(c, dt)
    return acc


def frexp_normal(r: Array) -> tuple[Array, Array]:
    """``(m, e)`` with ``r = m * 2**e``, ``0.5 <= m < 1``, for positive normal ``r`` (exact)."""
    if r.dtype == jnp.float64:
        bits = lax.bitcast_convert_type(r, jnp.uint64)
        mant = (bits & np.uint64(0x800FFFFFFFFFFFFF)) | np.uint64(0x3FE0000000000000)
        e = (lax.shift_right_logical(bits, np.uint64(52)) & np.uint64(0x7FF)).astype(jnp.int32) - 1022
        return lax.bitcast_convert_type(mant, jnp.float64), e
    bits32 = lax.bitcast_convert_type(r, jnp.uint32)
    mant32 = (bits32 & np.uint32(0x807FFFFF)) | np.uint32(0x3F000000)
    e32 = (lax.shift_right_logical(bits32, np.uint32(23)) & np.uint32(0xFF)).astype(jnp.int32) - 126
    return lax.bitcast_convert_type(mant32, jnp.float32), e32


def log_neg(r: Array, zero: Array, fused: bool = True) -> Array:
    """``-log(r)`` for normal ``0 < r <= 1``, as ``weightinit._engine._special.log_neg``.

    ``fused`` writes it so that XLA fuses it with what follows (see ``_random.draw``).
    """
    dt = r.dtype
    ftype = np.dtype(dt).type
    m, e = frexp_normal(r)
    small = m < _const(_SQRT_HALF, dt)
    m = jnp.where(small, m * _const(2, dt), m)
    e = e - small.astype(e.dtype)
    f = m - _const(1, dt)
    if fused:
        # the division has one user (XLA keeps a division with several users out of its users'
        # fusion, materializing it): s * s is (2s * 2s) / 4 exactly, s^2 >= 2**-108 being normal
        two_s = f / (f + _const(2, dt))
        two_s = two_s + two_s
        s2 = two_s * two_s * _const(0.25, dt)
    else:
        s = f / (f + _const(2, dt))
        s2 = s * s
        two_s = s + s
    poly = _horner([1.0 / (2 * k + 1) for k in range(1, _LOG_TERMS[ftype] + 1)], s2, zero)
    log_m = two_s + rounded(two_s * (s2 * poly), zero)
    ef = e.astype(dt)
    ln2_hi, ln2_lo = _LN2[ftype]
    inner = rounded(ef * _const(ln2_lo, dt), zero) + log_m
    result: Array = -(rounded(ef * _const(ln2_hi, dt), zero) + inner)
    return result


def _select(choices: Sequence[tuple[Array, Any]]) -> Any:
    """The value of the first ``(mask, value)`` whose mask holds (the last one's mask is ignored)."""
    out: Any = choices[-1][1]
    for mask, value in reversed(choices[:-1]):
        if isinstance(value, np.generic) and isinstance(out, np.generic):
            if value.tobytes() == out.tobytes():
                continue  # the same constant (bit for bit) either way: no select
        out = jnp.where(mask, value, out)
    return out


def _horner_selected(tables: Sequence[tuple[Array, Sequence[float]]], x: Array, zero: Array) -> Array:
    """:func:`_horner` with coefficients chosen per element from ``(mask, coeffs)`` pairs.

    Shorter coefficient lists are padded with leading zeros: ``0 * x + c`` is
    exactly ``c`` for finite ``x``, so a padded polynomial has the unpadded one's bits.
    """
    dt = x.dtype
    n = max(len(coeffs) for _, coeffs in tables)
    padded = [(mask, (0.0,) * (n - len(coeffs)) + tuple(reversed(coeffs))) for mask, coeffs in tables]

    def coeff(k: int) -> Any:
        return _select([(mask, _const(c[k], dt)) for mask, c in padded])

    acc = jnp.broadcast_to(coeff(0), x.shape)
    for k in range(1, n):
        acc = rounded(acc * x, zero) + coeff(k)
    return acc


def ndtri_q(q: Array, zero: Array, far: bool, fused: bool = True) -> Array:
    """The standard normal quantile of ``1/2 + q`` (``-1/2 < q < 1/2``), as ``_engine.ndtri_q``.

    ``far=False`` leaves out the branch for ``sqrt(-log(1/2 - |q|)) > 5``, which
    inputs with fewer than 37 bits below 1/2 (float32 work, truncation) never reach;
    ``fused`` is :func:`log_neg`'s. The reference's ``q * A(r) / B(r)`` (centre)
    and ``±C(t) / D(t)`` (tails) are one quotient here: ``(q * A(r)) / B(r)`` or
    ``(±C(t)) / D(t)`` (negating the numerator or the quotient gives the same bits).
    """
    dt = q.dtype
    tab = _TABLES[np.dtype(dt).type]
    aq = jnp.abs(q)
    central = aq <= _const(0.425, dt)
    r = _const(0.180625, dt) - rounded(q * q, zero)
    rt = jnp.sqrt(log_neg(_const(0.5, dt) - aq, zero, fused))
    if far:
        near = rt <= _const(5, dt)
        x = _select([(central, r), (near, rt - _const(1.6, dt)), (near, rt - _const(5, dt))])
        nums = [(central, tab["a"]), (near, tab["c"]), (near, tab["e"])]
        dens = [(central, tab["b"]), (near, tab["d"]), (near, tab["f"])]
    else:
        x = jnp.where(central, r, rt - _const(1.6, dt))
        nums = [(central, tab["a"]), (central, tab["c"])]
        dens = [(central, tab["b"]), (central, tab["d"])]
    num = _horner_selected(nums, x, zero)
    den = _horner_selected(dens, x, zero)
    num = jnp.where(central, q * num, jnp.where(q < 0, -num, num))
    result: Array = num / den
    return result
