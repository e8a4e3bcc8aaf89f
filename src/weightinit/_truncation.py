r"""A normal truncated to any interval, by the exact inverse CDF over the engine's uniforms.

``mean + std * Z`` with ``Z`` standard normal conditioned on
``lower <= Z <= upper`` (bounds in standard deviations). Three paths, each
exact in distribution and elementwise (so ``index=`` slices are bitwise equal
to the whole):

* bounds exactly ``(-2, 2)``: the engine's truncated normal (the stream of
  ``TruncatedNormal(mean, std)``, values equal to it);
* both bounds beyond what the engine's normal can reach (5.5 std for float32
  work, 8.3 for float64): the engine's normal (the stream of
  ``RandomNormal(mean, std)``); the truncation cannot bind;
* otherwise :math:`Z = \Phi^{-1}(\Phi(\alpha) + (u + h)(\Phi(\beta) - \Phi(\alpha)))`
  with ``u`` the engine's uniform (the stream of ``RandomUniform(0, 1)``),
  ``h`` half its spacing, :math:`\Phi(\alpha)`, :math:`\Phi(\beta)` from
  :func:`~weightinit._normal_cdf.phi_decimal` and the quantile from
  :func:`~weightinit._normal_cdf.ndtri_p`; an interval in the upper tail is
  mirrored to the lower one, where probabilities keep their relative precision.

Every value is then clamped to the absolute bounds rounded inwards to the
output dtype, so none ever leaves them (torch 2.13's ``trunc_normal_``
keeps values in the bounds rounded to nearest, which can lie outside; timm's
clamps the ``erfinv`` of ``2 Phi - 1``, which loses the tails).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._dtypes import is_bfloat16
from ._engine import sample, work_dtype
from ._engine._kernel import num_threads
from ._errors import InvalidArgumentError
from ._normal_cdf import FAR, ndtri_p, phi_decimal
from ._random import refuse_overflow
from ._validation import Region, Shape, region_shape

__all__ = ["inner_bounds", "sample_truncated"]

_CHUNK = 1 << 15
_REACH = {np.dtype(np.float32): 5.5, np.dtype(np.float64): 8.3}
F64 = np.dtype(np.float64)


def _step(x: Any, dtype: np.dtype[Any], up: bool) -> Any:
    """The neighbour of the finite value ``x`` of ``dtype`` towards +inf (``up``) or -inf."""
    size = dtype.itemsize
    uint = np.dtype(f"u{size}")
    bits = int(np.asarray(x, dtype=dtype).view(uint))
    sign = 1 << (8 * size - 1)
    if bits & ~sign == 0:  # +0 or -0
        bits = 1 if up else sign | 1
    elif (bits & sign == 0) == up:
        bits += 1
    else:
        bits -= 1
    return np.asarray(bits, dtype=uint).view(dtype)[()]


def inner_bounds(a: float, b: float, dtype: np.dtype[Any]) -> tuple[Any, Any]:
    """The smallest value of ``dtype`` >= ``a`` and the largest <= ``b`` (finite ``a <= b``)."""
    lo = np.asarray(a, dtype=dtype)[()]
    if float(lo) < a:
        lo = _step(lo, dtype, True)
    hi = np.asarray(b, dtype=dtype)[()]
    if float(hi) > b:
        hi = _step(hi, dtype, False)
    return lo, hi


def _clamp(out: NDArray[Any], a: float, b: float, owner: str) -> None:
    lo, hi = inner_bounds(a, b, out.dtype)
    if not float(lo) <= float(hi):
        name = "bfloat16" if is_bfloat16(out.dtype) else out.dtype.name
        raise InvalidArgumentError(
            f"{owner}: no {name} value lies in [{a}, {b}]; use a wider dtype or wider bounds."
        )
    np.clip(out, lo, hi, out=out)


def sample_truncated(
    owner: str,
    seed: int,
    call: int,
    shape: Shape,
    region: Region,
    dtype: np.dtype[Any],
    mean: float,
    std: float,
    lower: float,
    upper: float,
    clamp: tuple[float, float],
) -> NDArray[Any]:
    """``mean + std * Z``, ``Z ~ N(0, 1)`` on ``[lower, upper]``, clamped to ``clamp`` (absolute)."""
    work = work_dtype(dtype)
    a, b = clamp
    largest = max(abs(a), abs(b), abs(mean) + std * min(max(abs(lower), abs(upper)), 8.3))
    refuse_overflow(owner, f"mean={mean}, std={std}, bounds [{a}, {b}]", largest, dtype, work)
    reach = _REACH[work]
    if lower == -2.0 and upper == 2.0:
        out = sample("truncated_normal", seed, call, shape, region, dtype, mean, std)
    elif lower <= -reach and upper >= reach:
        out = sample("normal", seed, call, shape, region, dtype, mean, std)
        if _within(mean, std, reach, a, b, dtype, work):
            return out  # the clamp could not move a value (torch's default trunc_normal_(std=.02))
    else:
        out = _inverse_cdf(owner, seed, call, shape, region, dtype, mean, std, lower, upper)
    if out.size:
        _clamp(out, a, b, owner)
    return out


def _within(mean: float, std: float, z: float, a: float, b: float, dtype: np.dtype[Any], work: Any) -> bool:
    """Whether every ``mean + std * Z`` with ``|Z| <= z``, made in ``work`` precision and rounded
    to ``dtype``, lies in ``[a, b]`` rounded inwards, with room for every rounding on the way
    (the parameters' to ``work``, the product's, the sum's, the cast's) many times over."""
    lo, hi = inner_bounds(a, b, dtype)
    one = np.asarray(1.0, dtype=dtype)[()]
    eps = float(np.finfo(work).eps) + (float(_step(one, dtype, True)) - 1.0)
    slack = 8.0 * eps * (abs(mean) + std * z)
    return float(lo) <= mean - std * z - slack and mean + std * z + slack <= float(hi)


def _inverse_cdf(
    owner: str,
    seed: int,
    call: int,
    shape: Shape,
    region: Region,
    dtype: np.dtype[Any],
    mean: float,
    std: float,
    lower: float,
    upper: float,
) -> NDArray[Any]:
    sign = 1.0
    if lower + upper > 0:  # sample the mirrored interval, in the lower tail
        lower, upper, sign = -upper, -lower, -1.0
    p_low = phi_decimal(lower) if lower >= -FAR else Decimal(0)
    p_high = phi_decimal(min(upper, FAR)) if upper >= -FAR else Decimal(0)
    if not float(p_high) > 1e-280:
        raise InvalidArgumentError(
            f"{owner}: the bounds lie more than 37 standard deviations from the mean, on the same "
            "side: the normal has no probability there that float64 can represent."
        )
    work = work_dtype(dtype)
    if work != F64 and float(p_high) < 1e-30:
        work = F64  # float32 cannot hold these probabilities
    ftype = work.type
    width = ftype(float(p_high - p_low))
    start = ftype(float(p_low))
    half = ftype(2.0**-25 if work != F64 else 2.0**-54)
    p_min = max(start, ftype(np.finfo(work).tiny))
    p_max = min(ftype(float(p_high)), np.nextafter(ftype(1), ftype(0)))
    scale = ftype(sign * std)
    shift = ftype(mean)
    u = sample("uniform", seed, call, shape, region, work, 0.0, 1.0)  # may be an adapter's strided array
    buf = u if u.flags.c_contiguous else np.ascontiguousarray(u)
    out = buf if work == dtype else np.empty(region_shape(region), dtype=dtype)
    src, dst = buf.reshape(-1), out.reshape(-1)

    def transform(s: int) -> None:
        p = src[s : s + _CHUNK]
        p += half
        p *= width
        p += start
        np.clip(p, p_min, p_max, out=p)
        z = ndtri_p(p)
        z *= scale
        z += shift
        dst[s : s + _CHUNK] = z

    starts = range(0, src.size, _CHUNK)
    threads = min(num_threads(), len(starts) // 8)  # numpy releases the GIL in each operation
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor  # only for large draws (12 ms to import)

        with ThreadPoolExecutor(threads) as pool:
            for _ in pool.map(transform, starts):
                pass
    else:
        for s in starts:
            transform(s)
    if work == dtype and buf is not u:
        u[...] = buf
        return u
    return out


def truncated_std(lower: float, upper: float) -> float:
    """The standard deviation of a standard normal truncated to ``[lower, upper]`` (for tests and docs)."""
    pa = float(phi_decimal(max(lower, -FAR)))
    pb = float(phi_decimal(min(upper, FAR)))
    mass = pb - pa

    def density(x: float) -> float:
        return 0.0 if abs(x) > FAR else math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    mu = (density(lower) - density(upper)) / mass
    second = 1.0 + (_times(lower, density(lower)) - _times(upper, density(upper))) / mass
    return math.sqrt(max(0.0, second - mu * mu))


def _times(x: float, d: float) -> float:
    return 0.0 if d == 0.0 else x * d
