"""Statistics of a real draw, and the one-sample Kolmogorov-Smirnov test (no scipy)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._special import ks_pvalue

__all__ = ["FitResult", "SampleStats", "as_float64", "ks_test", "sample_stats"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SampleStats:
    """Summary of the drawn values (NaN where there are none)."""

    n: int
    mean: float
    std: float
    min: float
    max: float
    beyond_2std: float  # fraction with |x - center| > 2 * scale


@dataclass(frozen=True)
class FitResult:
    """One-sample KS test of the draw against the theoretical CDF."""

    statistic: float
    p_value: float
    n: int

    @property
    def verdict(self) -> str:
        if self.p_value >= 0.01:
            return "consistent with the formula"
        if self.p_value >= 1e-4:
            return "borderline"
        return "NOT consistent with the formula"


def as_float64(values: NDArray[np.generic]) -> FloatArray:
    """The values as a flat float64 array (bfloat16, ints and bools included)."""
    flat = np.asarray(values).reshape(-1)
    if flat.dtype.kind == "c":
        flat = flat.real
    return np.asarray(flat.astype(np.float64), dtype=np.float64)


def _mean_std(values: FloatArray) -> tuple[float, float]:
    """Mean and population std that do not overflow for values near the float64 limit
    (the sum of 1e308s would): values that large are scaled by a power of two first (exact)."""
    peak = float(np.max(np.abs(values)))
    if not peak > 2.0**500:  # also NaN: let numpy say what it says
        return float(values.mean()), float(values.std())
    exponent = math.frexp(peak)[1]
    scaled = values * 2.0**-exponent
    return math.ldexp(float(scaled.mean()), exponent), math.ldexp(float(scaled.std()), exponent)


def sample_stats(values: FloatArray, center: float | None = None, scale: float | None = None) -> SampleStats:
    """Mean, std (population), min, max and the fraction beyond ``center +- 2 scale``.

    ``center``/``scale`` default to the sample's own mean and std; the command
    passes the expected ones so that the fraction compares with the formula's.
    """
    n = int(values.size)
    if n == 0:
        nan = math.nan
        return SampleStats(0, nan, nan, nan, nan, nan)
    mean, std = _mean_std(values)
    c = mean if center is None or not math.isfinite(center) else center
    s = std if scale is None or not math.isfinite(scale) else scale
    beyond = float(np.count_nonzero(np.abs(values - c) > 2.0 * s)) / n
    return SampleStats(n, mean, std, float(values.min()), float(values.max()), beyond)


def ks_test(values: FloatArray, cdf: Callable[[FloatArray], FloatArray]) -> FitResult:
    r"""Kolmogorov-Smirnov statistic :math:`D = \sup |F_n - F|` and its p-value.

    ``values`` need not be sorted; ``cdf`` maps an array to probabilities.
    """
    n = int(values.size)
    if n == 0:
        return FitResult(math.nan, math.nan, 0)
    ordered = np.sort(values)
    probs = np.clip(cdf(ordered), 0.0, 1.0)
    ranks = np.arange(1, n + 1, dtype=np.float64)
    d_plus = float(np.max(ranks / n - probs))
    d_minus = float(np.max(probs - (ranks - 1.0) / n))
    statistic = max(d_plus, d_minus, 0.0)
    return FitResult(statistic, ks_pvalue(statistic, n), n)
