r"""Bit-reproducible special functions: natural log and the normal quantile.

Library ``log`` and ``erfinv`` may differ in the last bit between CPUs, libm
versions and SIMD paths, which would break the promise that a seed gives the
same bits everywhere. These versions use only IEEE-754 operations that are
correctly rounded on every platform (``+ - * /``, ``sqrt``, and the exact
``frexp``), evaluated in a fixed order with no fused multiply-add, in the
working precision of the array (float32 or float64).

The normal quantile is Wichura's algorithm AS 241 (Applied Statistics 37,
1988): a rational approximation in :math:`r = 0.180625 - q^2` for
:math:`|q| \le 0.425` (where :math:`p = 1/2 + q`) and in
:math:`r = \sqrt{-\log(1/2 - |q|)}` in the tails; PPND7 (about 1e-7 relative
error) for float32 and PPND16 (about 1e-16) for float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["log_neg", "ndtri_q"]

Float = np.floating[Any]

# ln 2 split so that e * LN2_HI is exact for |e| < 2**10 (float64) / 2**8 (float32).
_LN2 = {
    np.float64: (6.93147180369123816490e-01, 1.90821492927058770002e-10),
    np.float32: (6.93145751953125e-01, 1.428606765330187045e-06),
}
# atanh series: log(m) = 2s (1 + s^2/3 + s^4/5 + ...), s = (m - 1) / (m + 1), s^2 <= 0.0295
_LOG_TERMS = {np.float64: 10, np.float32: 5}
_SQRT_HALF = 0.70710678118654752440

_PPND7 = {
    "a": (3.3871327179, 50.434271938, 159.29113202, 59.109374720),
    "b": (1.0, 17.895169469, 78.757757664, 67.187563600),
    "c": (1.4234372777, 2.7568153900, 1.3067284816, 0.17023821103),
    "d": (1.0, 0.73700164250, 0.12021132975),
    "e": (6.6579051150, 3.0812263860, 0.42868294337, 0.017337203997),
    "f": (1.0, 0.24197894225, 0.012258202635),
}
_PPND16 = {
    "a": (
        3.3871328727963666080e0,
        1.3314166789178437745e2,
        1.9715909503065514427e3,
        1.3731693765509461125e4,
        4.5921953931549871457e4,
        6.7265770927008700853e4,
        3.3430575583588128105e4,
        2.5090809287301226727e3,
    ),
    "b": (
        1.0,
        4.2313330701600911252e1,
        6.8718700749205790830e2,
        5.3941960214247511077e3,
        2.1213794301586595867e4,
        3.9307895800092710610e4,
        2.8729085735721942674e4,
        5.2264952788528545610e3,
    ),
    "c": (
        1.42343711074968357734e0,
        4.63033784615654529590e0,
        5.76949722146069140550e0,
        3.64784832476320460504e0,
        1.27045825245236838258e0,
        2.41780725177450611770e-1,
        2.27238449892691845833e-2,
        7.74545014278341407640e-4,
    ),
    "d": (
        1.0,
        2.05319162663775882187e0,
        1.67638483018380384940e0,
        6.89767334985100004550e-1,
        1.48103976427480074590e-1,
        1.51986665636164571966e-2,
        5.47593808499534494600e-4,
        1.05075007164441684324e-9,
    ),
    "e": (
        6.65790464350110377720e0,
        5.46378491116411436990e0,
        1.78482653991729133580e0,
        2.96560571828504891230e-1,
        2.65321895265761230930e-2,
        1.24266094738807843860e-3,
        2.71155556874348757815e-5,
        2.01033439929228813265e-7,
    ),
    "f": (
        1.0,
        5.99832206555887937690e-1,
        1.36929880922735805310e-1,
        1.48753612908506148525e-2,
        7.86869131145613259100e-4,
        1.84631831751005468180e-5,
        1.42151175831644588870e-7,
        2.04426310338993978564e-15,
    ),
}
_TABLES: dict[type, dict[str, tuple[float, ...]]] = {np.float32: dict(_PPND7), np.float64: dict(_PPND16)}


def _horner(coeffs: tuple[float, ...], x: NDArray[Float], ftype: type) -> NDArray[Float]:
    """sum(coeffs[k] * x**k), Horner's rule from the highest power, no FMA."""
    acc = np.full_like(x, ftype(coeffs[-1]))
    for c in reversed(coeffs[:-1]):
        acc *= x
        acc += ftype(c)
    return acc


def log_neg(r: NDArray[Float]) -> NDArray[Float]:
    """``-log(r)`` for ``0 < r <= 1`` in the array's precision (float32 or float64)."""
    ftype = r.dtype.type
    m, e = np.frexp(r)  # r = m * 2**e, 0.5 <= m < 1, exact
    small = m < ftype(_SQRT_HALF)
    m = np.where(small, m * ftype(2), m)  # exact
    e = e - small.astype(e.dtype)
    f = m - ftype(1)  # exact (Sterbenz)
    s = f / (f + ftype(2))
    s2 = s * s
    terms = _LOG_TERMS[ftype]
    poly = _horner(tuple(1.0 / (2 * k + 1) for k in range(1, terms + 1)), s2, ftype)
    two_s = s + s
    log_m = two_s + two_s * (s2 * poly)
    ef = e.astype(ftype)
    ln2_hi, ln2_lo = _LN2[ftype]
    # -(e*ln2_hi + (e*ln2_lo + log_m))
    result: NDArray[Float] = -(ef * ftype(ln2_hi) + (ef * ftype(ln2_lo) + log_m))
    return result


def ndtri_q(q: NDArray[Float]) -> NDArray[Float]:
    """The standard normal quantile of ``p = 1/2 + q`` for ``-1/2 < q < 1/2``.

    Taking ``q`` instead of ``p`` keeps full relative precision near the centre,
    and ``1/2 - |q|`` is exact for ``|q| >= 1/4``. Works in the dtype of ``q``.
    """
    ftype = q.dtype.type
    tab = _TABLES[ftype]
    out = np.empty_like(q)
    aq = np.abs(q)
    central = aq <= ftype(0.425)
    qc = q[central]
    r = ftype(0.180625) - qc * qc
    out[central] = qc * _horner(tab["a"], r, ftype) / _horner(tab["b"], r, ftype)
    tail = ~central
    if tail.any():
        qt = q[tail]
        r = np.sqrt(log_neg(ftype(0.5) - np.abs(qt)))
        near = r <= ftype(5)
        z = np.empty_like(r)
        rn = r[near] - ftype(1.6)
        z[near] = _horner(tab["c"], rn, ftype) / _horner(tab["d"], rn, ftype)
        far = ~near
        if far.any():
            rf = r[far] - ftype(5)
            z[far] = _horner(tab["e"], rf, ftype) / _horner(tab["f"], rf, ftype)
        out[tail] = np.where(qt < 0, -z, z)
    return out
