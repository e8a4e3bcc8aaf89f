r"""The standard normal CDF of a bound, exactly, and the normal quantile of ``p``, reproducibly.

Truncated normals on arbitrary bounds need :math:`\Phi(\alpha)` and
:math:`\Phi(\beta)` once per call, and :math:`\Phi^{-1}(p)` per element.

* :func:`phi_decimal` sums the Taylor series of :math:`\Phi` in
  :mod:`decimal` arithmetic with enough digits that the float it rounds to is
  correct, even deep in a tail (:math:`\Phi(-37) \approx 6 \cdot 10^{-300}`):
  a pure-software computation, so the bounds (and with them every value) are
  the same on every platform, which libm's ``erf`` does not promise.
* :func:`ndtri_p` is Wichura's AS 241 from :math:`p` itself (not from
  :math:`p - 1/2`, as the engine's ``ndtri_q``), with the engine's
  coefficient tables and its reproducible logarithm, so lower-tail
  probabilities keep their full relative precision.
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal, getcontext, localcontext
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._engine._special import _TABLES, _horner, log_neg

__all__ = ["FAR", "ndtri_p", "phi_decimal"]

#: beyond this many standard deviations, Phi is 0 (or 1) in float64
FAR = 39.0


def _atan_inverse(n: int) -> Decimal:
    """``atan(1 / n)`` in the current decimal context (Taylor series)."""
    x = Decimal(1) / n
    x2 = x * x
    term, total, k = x, x, 1
    while True:
        term *= -x2
        step = term / (2 * k + 1)
        if step == 0 or abs(step) < Decimal(10) ** (-getcontext().prec - 2):
            return total
        total += step
        k += 1


@functools.lru_cache(maxsize=1024)
def phi_decimal(x: float) -> Decimal:
    r""":math:`\Phi(x)` for a float ``x`` (``|x| <= FAR``), correct to about 30 significant digits.

    >>> float(phi_decimal(0.0)), float(phi_decimal(-2.0))
    (0.5, 0.02275013194817921)
    """
    if not -FAR <= x <= FAR:
        raise ValueError(f"phi_decimal: |x| must be at most {FAR}; got {x}")
    # terms grow to about exp(x^2 / 2) and the result can be as small as exp(-x^2 / 2)
    digits = int(x * x / 2.0 / math.log(10.0)) + 1
    with localcontext() as ctx:
        ctx.prec = 2 * digits + 40
        pi = 16 * _atan_inverse(5) - 4 * _atan_inverse(239)
        xd = Decimal(x)  # exact
        x2 = xd * xd / 2
        term = xd  # x^(2n+1) / (2^n n!)
        total = xd
        tiny = Decimal(10) ** (-(digits + 35))
        n = 0
        while True:
            n += 1
            term = -term * x2 / n
            step = term / (2 * n + 1)
            total += step
            if n > x * x and abs(step) < tiny:
                break
        result: Decimal = Decimal("0.5") + total / (2 * pi).sqrt()
    return result


def ndtri_p(p: NDArray[Any]) -> NDArray[Any]:
    """The standard normal quantile of ``p`` (``0 < p < 1``), in the dtype of ``p`` (float32 / float64).

    >>> import numpy as np
    >>> ndtri_p(np.array([0.5, 0.975, 1e-300])).round(6).tolist()
    [0.0, 1.959964, -37.047096]
    """
    ftype = p.dtype.type
    tab = _TABLES[ftype]
    q = p - ftype(0.5)
    tail = np.abs(q) > ftype(0.425)
    every = bool(tail.all())
    out: NDArray[Any] = p
    if not every:
        # the central formula on every element (no gather / scatter of the majority), then the
        # tails overwritten; the central rational may overflow where it does not apply
        with np.errstate(all="ignore"):
            r = ftype(0.180625) - q * q
            out = q * _horner(tab["a"], r, ftype)
            out /= _horner(tab["b"], r, ftype)
        if not tail.any():
            return out
    pt = p if every else p[tail]
    low = pt < ftype(0.5)
    side = np.where(low, pt, ftype(1) - pt)  # 1 - p is exact for p >= 1/2
    r = np.sqrt(log_neg(side))
    near = r <= ftype(5)
    if near.all():
        rn = r - ftype(1.6)
        z = _horner(tab["c"], rn, ftype) / _horner(tab["d"], rn, ftype)
    else:
        z = np.empty_like(r)
        rn = r[near] - ftype(1.6)
        z[near] = _horner(tab["c"], rn, ftype) / _horner(tab["d"], rn, ftype)
        rf = r[~near] - ftype(5)
        z[~near] = _horner(tab["e"], rf, ftype) / _horner(tab["f"], rf, ftype)
    signed: NDArray[Any] = np.where(low, -z, z)
    if every:
        return signed
    out[tail] = signed
    return out
