"""What an initializer should produce for a shape, from its formula alone (never from samples).

Every catalog initializer maps to one of five distributions of a single weight:
normal, truncated normal, uniform, the marginal of an orthogonal matrix's entry
(a coordinate of a random unit vector, times ``gain``), or a finite set of
exact values (Zeros, Ones, Constant, Identity, STFT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._constant import Constant, Ones, Zeros
from .._fans import compute_fans
from .._identity import Identity
from .._orthogonal import Orthogonal
from .._random import RandomNormal, RandomUniform, TruncatedNormal
from .._stft import STFT
from .._variance_scaling import VarianceScaling, variance_scaling_params
from ._special import ndtr, normal_pdf

__all__ = [
    "Discrete",
    "Distribution",
    "Normal",
    "SphereMarginal",
    "Theory",
    "TruncatedNormalDist",
    "Uniform",
    "matrix_dims",
    "theory_of",
    "tight_bounds",
]

FloatArray = NDArray[np.float64]


class Distribution:
    """The law of one weight: moments, support, CDF and (when continuous) density."""

    kind = "distribution"
    continuous = True
    mean = 0.0
    std = 0.0
    lower = -math.inf
    upper = math.inf

    def cdf(self, x: FloatArray) -> FloatArray:
        raise NotImplementedError

    def pdf(self, x: FloatArray) -> FloatArray:
        raise NotImplementedError

    def beyond(self, k: float = 2.0) -> float:
        """``P(|X - mean| > k * std)``."""
        width = k * self.std
        inside = self.cdf(np.array([self.mean + width]))[0] - self.cdf(np.array([self.mean - width]))[0]
        return max(0.0, 1.0 - float(inside))

    def describe(self) -> str:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {}


class Normal(Distribution):
    kind = "normal"

    def __init__(self, mean: float, sigma: float) -> None:
        self.mean, self.std, self.sigma = mean, sigma, sigma

    def cdf(self, x: FloatArray) -> FloatArray:
        return ndtr((x - self.mean) / self.sigma)

    def pdf(self, x: FloatArray) -> FloatArray:
        return normal_pdf((x - self.mean) / self.sigma) / self.sigma

    def beyond(self, k: float = 2.0) -> float:
        return math.erfc(k / math.sqrt(2.0))

    def describe(self) -> str:
        return f"normal, mean {self.mean:.4g}, std {self.sigma:.4g}"

    def params(self) -> dict[str, Any]:
        return {"mean": self.mean, "sigma": self.sigma}


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


class TruncatedNormalDist(Distribution):
    """``N(mu, sigma^2)`` conditioned on ``mu - 2 sigma <= x <= mu + 2 sigma``."""

    kind = "truncated_normal"
    CUT = 2.0

    def __init__(self, mean: float, sigma: float) -> None:
        cut = self.CUT
        self.mean, self.sigma = mean, sigma
        self._mass = _phi(cut) - _phi(-cut)
        density_at_cut = math.exp(-0.5 * cut * cut) / math.sqrt(2.0 * math.pi)
        self.std = sigma * math.sqrt(1.0 - 2.0 * cut * density_at_cut / self._mass)
        self.lower, self.upper = mean - cut * sigma, mean + cut * sigma

    def cdf(self, x: FloatArray) -> FloatArray:
        z = np.clip((x - self.mean) / self.sigma, -self.CUT, self.CUT)
        return np.clip((ndtr(z) - _phi(-self.CUT)) / self._mass, 0.0, 1.0)

    def pdf(self, x: FloatArray) -> FloatArray:
        z = (x - self.mean) / self.sigma
        inside = np.abs(z) <= self.CUT
        return np.where(inside, normal_pdf(z) / (self.sigma * self._mass), 0.0)

    def beyond(self, k: float = 2.0) -> float:
        t = k * self.std / self.sigma
        if t >= self.CUT:
            return 0.0
        return 2.0 * (_phi(self.CUT) - _phi(t)) / self._mass

    def describe(self) -> str:
        return (
            f"truncated normal, mean {self.mean:.4g}, cut at +-2 sigma with sigma {self.sigma:.4g} "
            "before truncation"
        )

    def params(self) -> dict[str, Any]:
        return {"mean": self.mean, "sigma_before_truncation": self.sigma, "cut_sigmas": self.CUT}


class Uniform(Distribution):
    """``U[low, high)``."""

    kind = "uniform"

    def __init__(self, low: float, high: float) -> None:
        self.lower, self.upper = low, high
        self.mean = 0.5 * (low + high)
        self.std = (high - low) / math.sqrt(12.0)

    def cdf(self, x: FloatArray) -> FloatArray:
        return np.clip((x - self.lower) / (self.upper - self.lower), 0.0, 1.0)

    def pdf(self, x: FloatArray) -> FloatArray:
        inside = (x >= self.lower) & (x <= self.upper)
        return np.where(inside, 1.0 / (self.upper - self.lower), 0.0)

    def beyond(self, k: float = 2.0) -> float:
        # the std of U[a, b] is half its width / sqrt(3): no division by a width that may underflow
        return max(0.0, 1.0 - k / math.sqrt(3.0))

    def describe(self) -> str:
        return f"uniform on [{self.lower:.4g}, {self.upper:.4g})"

    def params(self) -> dict[str, Any]:
        return {"low": self.lower, "high": self.upper}


class SphereMarginal(Distribution):
    r"""``gain * u_1`` for ``u`` uniform on the unit sphere of :math:`\mathbb R^n` (``n >= 2``).

    The density is :math:`\propto (1 - (x/g)^2)^{(n-3)/2}` on ``[-|g|, |g|]``;
    the variance is :math:`g^2 / n`. The CDF is integrated numerically in
    :math:`\theta = \arcsin(x/|g|)`, where the integrand :math:`\cos^{n-2}\theta`
    is smooth, so the trapezoid rule is accurate to many digits.
    """

    kind = "orthogonal_entry"
    _GRID = 8193

    def __init__(self, n: int, gain: float) -> None:
        self.n, self.gain = n, abs(gain)
        self.mean = 0.0
        self.std = self.gain / math.sqrt(n)
        self.lower, self.upper = -self.gain, self.gain
        reach = math.pi / 2 if n <= 2 else min(math.pi / 2, 14.0 / math.sqrt(n - 2))
        theta = np.linspace(-reach, reach, self._GRID)
        weight = np.cos(theta) ** (n - 2)
        steps = 0.5 * (weight[1:] + weight[:-1]) * np.diff(theta)
        cumulative = np.concatenate(([0.0], np.cumsum(steps)))
        self._theta, self._cum = theta, cumulative / cumulative[-1]
        half = 0.5 * (n - 1)
        self._log_norm = math.lgamma(0.5) + math.lgamma(half) - math.lgamma(0.5 * n)

    def cdf(self, x: FloatArray) -> FloatArray:
        u = np.clip(x / self.gain, -1.0, 1.0)
        return np.asarray(np.interp(np.arcsin(u), self._theta, self._cum), dtype=np.float64)

    def pdf(self, x: FloatArray) -> FloatArray:
        u = x / self.gain
        inside = np.abs(u) < 1.0
        safe = np.where(inside, u, 0.0)
        with np.errstate(divide="ignore", over="ignore"):
            log_density = 0.5 * (self.n - 3) * np.log1p(-safe * safe) - self._log_norm
            density = np.exp(log_density) / self.gain
        return np.where(inside, density, 0.0)

    def describe(self) -> str:
        return (
            f"entry of a random orthogonal matrix: gain * (coordinate of a random unit vector in "
            f"R^{self.n}), on [{self.lower:.4g}, {self.upper:.4g}], close to normal for large n"
        )

    def params(self) -> dict[str, Any]:
        return {"n": self.n, "gain": self.gain}


class Discrete(Distribution):
    """A finite set of exact values with their frequencies (deterministic initializers)."""

    kind = "deterministic"
    continuous = False

    def __init__(self, points: FloatArray, weights: FloatArray) -> None:
        order = np.argsort(points)
        points, weights = np.asarray(points, float)[order], np.asarray(weights, float)[order]
        keep = weights > 0
        self.points, self.weights = points[keep], weights[keep] / weights[keep].sum()
        if self.points.size == 0:  # an empty tensor
            self.points, self.weights = np.zeros(1), np.ones(1)
        self.mean = float(np.dot(self.points, self.weights))
        self.std = float(math.sqrt(max(0.0, float(np.dot((self.points - self.mean) ** 2, self.weights)))))
        self.lower, self.upper = float(self.points[0]), float(self.points[-1])
        self._cum = np.cumsum(self.weights)

    def cdf(self, x: FloatArray) -> FloatArray:
        index = np.searchsorted(self.points, x, side="right")
        padded = np.concatenate(([0.0], self._cum))
        return np.asarray(padded[index], dtype=np.float64)

    def pdf(self, x: FloatArray) -> FloatArray:
        return np.full(np.shape(x), np.nan)

    def beyond(self, k: float = 2.0) -> float:
        far = np.abs(self.points - self.mean) > k * self.std
        return float(self.weights[far].sum())

    def describe(self) -> str:
        if self.points.size == 1:
            return f"constant {self.points[0]:.6g}"
        if self.points.size <= 3:
            pairs = zip(self.points, self.weights, strict=True)
            parts = ", ".join(f"{p:.6g} ({100 * w:.3g}%)" for p, w in pairs)
            return f"deterministic: {parts}"
        return f"deterministic: {self.points.size} distinct values in [{self.lower:.4g}, {self.upper:.4g}]"

    def params(self) -> dict[str, Any]:
        if self.points.size > 16:
            return {"distinct_values": int(self.points.size)}
        return {"values": self.points.tolist(), "frequencies": self.weights.tolist()}


@dataclass
class Theory:
    """Everything the formula says about a tensor of this shape."""

    fan_in: int
    fan_out: int
    fans_used: bool
    distribution: Distribution | None
    formula: str
    derivation: list[str] = field(default_factory=list)
    singular_value: float | None = None  # the value every singular value takes (Orthogonal, Identity)
    singular_count: int = 0
    needs_whole: bool = False  # values depend on the whole tensor: never sample a slice


def tight_bounds(dist: Distribution) -> bool:
    """Whether the bounds are near the mass (uniform, truncated normal; not Orthogonal's +-gain)."""
    return (
        dist.continuous
        and math.isfinite(dist.lower)
        and math.isfinite(dist.upper)
        and dist.upper - dist.lower <= 8.0 * dist.std
    )


def matrix_dims(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(rows, cols)`` of the matrix Orthogonal works on: leading axes fold into rows."""
    return math.prod(shape[:-1]), shape[-1]


def _point(value: float) -> Discrete:
    return Discrete(np.array([value]), np.array([1.0]))


def _exact_scalar(value: Any, dtype: np.dtype[Any]) -> float:
    """``value`` as the dtype stores it (Constant(2.5) in int32 is 2)."""
    arr = np.asarray(value)
    if dtype.kind in "iu":
        arr = np.trunc(arr.astype(np.float64))
    return float(np.asarray(arr).astype(dtype).real.astype(np.float64))


def _variance_scaling(init: VarianceScaling, fans: tuple[int, int]) -> tuple[Distribution, str, list[str]]:
    fan_in, fan_out = fans
    kind, param = variance_scaling_params(init.scale, init.mode, init.distribution, fan_in, fan_out)
    if init.mode == "fan_in":
        n_text, n = f"fan_in = {fan_in}", max(1.0, fan_in)
    elif init.mode == "fan_out":
        n_text, n = f"fan_out = {fan_out}", max(1.0, fan_out)
    else:
        n_text, n = f"(fan_in + fan_out) / 2 = {(fan_in + fan_out) / 2:g}", max(1.0, (fan_in + fan_out) / 2)
    s = init.scale / n
    if not n_text.endswith(f"= {n:g}"):
        n_text += ", at least 1"
    derivation = [f"s = scale / n = {init.scale:g} / {n:g} = {s:.6g}   (n = {n_text})"]
    if kind == "uniform":
        formula = "U(-L, L), L = sqrt(3 s)"
        derivation.append(f"L = sqrt(3 s) = {param:.6g}; std = L / sqrt(3) = sqrt(s) = {math.sqrt(s):.6g}")
        return Uniform(-param, param), formula, derivation
    if kind == "normal":
        formula = "normal, std = sqrt(s)"
        derivation.append(f"std = sqrt(s) = {param:.6g}")
        return Normal(0.0, param), formula, derivation
    formula = "truncated normal at +-2 sigma, sigma = sqrt(s) / 0.8796 (so that std = sqrt(s))"
    derivation.append(f"std = sqrt(s) = {math.sqrt(s):.6g}; sigma before truncation = {param:.6g}")
    return TruncatedNormalDist(0.0, param), formula, derivation


_PRESET_FORMULAS = {
    "GlorotUniform": "L = sqrt(6 / (fan_in + fan_out))",
    "GlorotNormal": "std = sqrt(2 / (fan_in + fan_out))",
    "HeUniform": "L = sqrt(6 / fan_in)",
    "HeNormal": "std = sqrt(2 / fan_in)",
    "LecunUniform": "L = sqrt(3 / fan_in)",
    "LecunNormal": "std = sqrt(1 / fan_in)",
}


def theory_of(init: Any, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Theory:
    """The :class:`Theory` of a catalog initializer for ``shape`` and ``dtype``.

    Shapes the initializer rejects should be checked (by calling it) before this.
    """
    from ._frameworks import framework_theory  # imports this module

    framework = framework_theory(init, shape, dtype)
    if framework is not None:
        return framework
    fans = compute_fans(shape)
    dist: Distribution | None
    if isinstance(init, VarianceScaling):
        fans = init.fans(shape)
        dist, formula, derivation = _variance_scaling(init, fans)
        preset = _PRESET_FORMULAS.get(type(init).__name__)
        if preset is not None:
            kind = "U(-L, L)" if preset.startswith("L") else "truncated normal"
            formula = f"{kind}, {preset}"
        return Theory(*fans, True, dist, formula, derivation)
    if isinstance(init, RandomNormal):
        if init.stddev == 0:
            return Theory(*fans, False, _point(init.mean), "N(mean, stddev^2) with stddev 0")
        return Theory(*fans, False, Normal(init.mean, init.stddev), "N(mean, stddev^2)")
    if isinstance(init, TruncatedNormal):
        if init.stddev == 0:
            return Theory(*fans, False, _point(init.mean), "truncated normal with stddev 0")
        dist = TruncatedNormalDist(init.mean, init.stddev)
        derivation = [f"std after truncation = 0.8796 * stddev = {dist.std:.6g}"]
        return Theory(*fans, False, dist, "N(mean, stddev^2) cut at mean +- 2 stddev", derivation)
    if isinstance(init, RandomUniform):
        if init.minval == init.maxval:
            return Theory(*fans, False, _point(init.minval), "U[minval, maxval) with minval == maxval")
        return Theory(*fans, False, Uniform(init.minval, init.maxval), "U[minval, maxval)")
    if isinstance(init, Orthogonal):
        rows, cols = matrix_dims(shape)
        big, small = max(rows, cols), min(rows, cols)
        gain = init.gain
        derivation = [
            f"matrix {rows} x {cols} (leading axes folded into rows): {small} orthonormal "
            f"{'columns' if rows >= cols else 'rows'} of length {big}",
            f"every singular value = |gain| = {abs(gain):g}; entry std = |gain| / sqrt({big}) = "
            f"{abs(gain) / math.sqrt(max(big, 1)):.6g}",
        ]
        if big * small == 0:
            dist = None
        elif gain == 0:
            dist = _point(0.0)
        elif big == 1:
            dist = Discrete(np.array([-abs(gain), abs(gain)]), np.array([0.5, 0.5]))
        else:
            dist = SphereMarginal(big, gain)
        return Theory(
            *fans,
            False,
            dist,
            "W = gain * Q, Q Haar-random with orthonormal rows or columns",
            derivation,
            singular_value=abs(gain),
            singular_count=small,
            needs_whole=True,
        )
    if isinstance(init, Identity):
        rows, cols = shape
        size, ones = rows * cols, min(rows, cols)
        gain = _exact_scalar(init.gain, dtype)
        dist = None if size == 0 else Discrete(np.array([0.0, gain]), np.array([size - ones, ones], float))
        return Theory(
            *fans,
            False,
            dist,
            "W[i, i] = gain, 0 elsewhere",
            [f"{ones} of {size} entries equal gain = {gain:g}"],
            singular_value=abs(gain),
            singular_count=ones,
        )
    if isinstance(init, (Constant, Zeros, Ones)):
        value = np.asarray(init.value)
        if value.ndim == 0:
            return Theory(*fans, False, _point(_exact_scalar(value, dtype)), "W = value")
        exact = np.broadcast_to(value, shape).astype(dtype).astype(np.float64)
        points, counts = np.unique(exact, return_counts=True)
        return Theory(*fans, False, Discrete(points, counts.astype(float)), "W = value (broadcast)")
    if isinstance(init, STFT):
        exact = np.asarray(init(shape, dtype="float64"), dtype=np.float64)
        dist = None
        if exact.size:
            points, counts = np.unique(exact, return_counts=True)
            dist = Discrete(points, counts.astype(float))
        return Theory(
            *fans,
            False,
            dist,
            "windowed Fourier basis: cos or sin(-2 pi t f / N) * w[t] / S",
            needs_whole=True,
        )
    return Theory(*fans, False, None, "unknown (not a catalog initializer)")
