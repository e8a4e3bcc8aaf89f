"""What the framework initializers (torch.nn.init, jax.nn.initializers, timm semantics) should produce.

:func:`framework_theory` gives the :class:`~._theory.Theory` of each class of
``FRAMEWORK_CLASSES`` for ``show`` / ``compare``, from its formula alone; None
for anything else.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._dirac import Dirac, Eye
from .._jax_init import JaxTruncatedNormal, JaxUniform, JaxVarianceScaling
from .._jax_orthogonal import DeltaOrthogonal, JaxOrthogonal
from .._kaiming import KaimingNormal, KaimingUniform
from .._normal_cdf import FAR, phi_decimal
from .._sparse import Sparse
from .._timm_init import TimmTruncNormalTF
from .._torch_default import TorchDefault
from .._torch_fans import torch_fans
from .._torch_orthogonal import TorchOrthogonal
from .._torch_trunc import BoundedNormal, TorchTruncNormal
from .._truncation import truncated_std
from .._variance_scaling import TRUNCATED_STD
from .._xavier import XavierNormal, XavierUniform
from ._special import ndtr, normal_pdf
from ._theory import (
    Discrete,
    Distribution,
    FloatArray,
    Normal,
    SphereMarginal,
    Theory,
    TruncatedNormalDist,
    Uniform,
)

__all__ = ["BoundedNormalDist", "framework_theory"]


def _phi(z: float) -> float:
    return float(phi_decimal(max(-FAR, min(FAR, z))))


class BoundedNormalDist(Distribution):
    """``N(mu, sigma^2)`` conditioned on ``low <= x <= high`` (absolute bounds)."""

    kind = "truncated_normal"

    def __init__(self, mu: float, sigma: float, low: float, high: float) -> None:
        self.mu, self.sigma = mu, sigma
        self.lower, self.upper = low, high
        self._alpha, self._beta = (low - mu) / sigma, (high - mu) / sigma
        self._p_low = _phi(self._alpha)
        self._mass = _phi(self._beta) - self._p_low
        da, db = (float(normal_pdf(np.array([t]))[0]) for t in (self._alpha, self._beta))
        self.mean = mu + sigma * (da - db) / self._mass
        self.std = sigma * truncated_std(self._alpha, self._beta)

    def cdf(self, x: FloatArray) -> FloatArray:
        z = np.clip((x - self.mu) / self.sigma, self._alpha, self._beta)
        return np.clip((ndtr(z) - self._p_low) / self._mass, 0.0, 1.0)

    def pdf(self, x: FloatArray) -> FloatArray:
        z = (x - self.mu) / self.sigma
        inside = (x >= self.lower) & (x <= self.upper)
        return np.where(inside, normal_pdf(z) / (self.sigma * self._mass), 0.0)

    def describe(self) -> str:
        return (
            f"normal N({self.mu:.4g}, {self.sigma:.4g}^2) truncated to [{self.lower:.4g}, {self.upper:.4g}]"
        )

    def params(self) -> dict[str, Any]:
        return {"mu": self.mu, "sigma": self.sigma, "low": self.lower, "high": self.upper}


def _orthogonal(rows: int, cols: int, gain: float, fans: tuple[int, int], formula: str) -> Theory:
    big, small = max(rows, cols), min(rows, cols)
    derivation = [
        f"matrix {rows} x {cols}: {small} orthonormal {'columns' if rows >= cols else 'rows'} "
        f"of length {big}",
        f"every singular value = |gain| = {abs(gain):g}",
    ]
    dist: Distribution | None
    if big * small == 0:
        dist = None
    elif gain == 0:
        dist = Discrete(np.array([0.0]), np.array([1.0]))
    elif big == 1:
        dist = Discrete(np.array([-abs(gain), abs(gain)]), np.array([0.5, 0.5]))
    else:
        dist = SphereMarginal(big, gain)
    return Theory(*fans, False, dist, formula, derivation, abs(gain), small, needs_whole=True)


def _weight_fans(init: TorchDefault, shape: tuple[int, ...]) -> tuple[int, int] | None:
    """torch's fans of a Linear / Conv weight (what its bound uses); None for other parameters."""
    if init.layer not in ("linear", "conv") or init.parameter != "weight" or len(shape) < 2:
        return None
    return torch_fans(shape)


def framework_theory(init: Any, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Theory | None:
    """The :class:`Theory` of a framework initializer for ``shape``; None for other classes."""
    plain = (
        (0, 0) if len(shape) < 2 else (shape[-2] * math.prod(shape[:-2]), shape[-1] * math.prod(shape[:-2]))
    )
    if isinstance(init, (KaimingUniform, KaimingNormal, XavierUniform, XavierNormal)):
        fans = init.fans(shape)
        std = abs(init.std(shape))
        if isinstance(init, (KaimingUniform, XavierUniform)):
            bound = math.sqrt(3.0) * std
            rule = (
                "gain / sqrt(fan)"
                if isinstance(init, KaimingUniform)
                else "gain sqrt(2 / (fan_in + fan_out))"
            )
            return Theory(
                *fans,
                True,
                Uniform(-bound, bound),
                f"U(-L, L), L = sqrt(3) std, std = {rule}",
                [f"std = {std:.6g}; L = {bound:.6g}"],
            )
        rule = "gain / sqrt(fan)" if isinstance(init, KaimingNormal) else "gain sqrt(2 / (fan_in + fan_out))"
        return Theory(
            *fans, True, Normal(0.0, std), f"normal (untruncated), std = {rule}", [f"std = {std:.6g}"]
        )
    if isinstance(init, BoundedNormal):
        mean, std, lower, upper, (a, b) = init._law()
        dist = BoundedNormalDist(mean, std, a, b)
        names = {
            TorchTruncNormal: "bounds absolute",
            TimmTruncNormalTF: "bounds in std units",
            JaxTruncatedNormal: "bounds in std units",
        }
        return Theory(
            *plain,
            False,
            dist,
            f"N(mean, std^2) on [a, b] ({names.get(type(init), '')})",
            [f"standardized bounds [{lower:.6g}, {upper:.6g}]; std after truncation {dist.std:.6g}"],
        )
    if isinstance(init, (Dirac, Eye)):
        out = init(shape, dtype="float64")  # small: a kernel or a matrix
        ones = int(out.sum())
        size = out.size
        dist_d = None if size == 0 else Discrete(np.array([0.0, 1.0]), np.array([size - ones, ones], float))
        return Theory(
            *plain,
            False,
            dist_d,
            "1 on the identity positions (centre tap), 0 elsewhere",
            [f"{ones} of {size} entries equal 1"],
        )
    if isinstance(init, Sparse):
        zeros = init.zeros_per_row(shape)
        return Theory(
            *plain,
            False,
            None,
            f"N(0, std^2) with exactly ceil(sparsity * out) = {zeros} zeros in each row",
            [f"zero fraction {zeros / max(shape[1], 1):.4g}; std of the nonzero values {init.std:g}"],
        )
    if isinstance(init, DeltaOrthogonal):
        return Theory(
            *plain,
            False,
            None,
            "orthogonal (in, out) matrix at the centre tap (k - 1) // 2, 0 elsewhere",
            needs_whole=True,
        )
    if isinstance(init, TorchOrthogonal):
        rows, cols = shape[-1], math.prod(shape[:-1])
        return _orthogonal(rows, cols, init.gain, plain, "W = gain * Q on torch's view (out, in * prod(k))")
    if isinstance(init, JaxOrthogonal):
        cols = shape[init.column_axis]
        rows = math.prod(shape) // cols if cols else 0
        return _orthogonal(rows, cols, init.scale, plain, "W = scale * Q, columns along column_axis")
    if isinstance(init, JaxUniform):
        return Theory(*plain, False, Uniform(0.0, init.scale), "U[0, scale)")
    if isinstance(init, JaxVarianceScaling):
        fan_in, fan_out = init.fans(shape)
        variance = init.variance(shape) if math.prod(shape) else 0.0
        fans = (int(fan_in), int(fan_out))
        derivation = [f"s = scale / n = {variance:.6g} (mode {init.mode})"]
        if dtype.kind == "c" or variance == 0.0:
            return Theory(*fans, True, None, "complex: JAX's laws (see the class docstring)", derivation)
        if init.distribution == "uniform":
            bound = math.sqrt(3 * variance)
            return Theory(*fans, True, Uniform(-bound, bound), "U(-sqrt(3 s), sqrt(3 s))", derivation)
        if init.distribution == "normal":
            return Theory(
                *fans, True, Normal(0.0, math.sqrt(variance)), "normal (untruncated), std sqrt(s)", derivation
            )
        sigma = math.sqrt(variance) / TRUNCATED_STD
        return Theory(
            *fans,
            True,
            TruncatedNormalDist(0.0, sigma),
            "truncated normal at 2 sigma, std sqrt(s)",
            derivation,
        )
    if isinstance(init, TorchDefault):
        kind, a, b = init.law(shape)
        weight_fans = _weight_fans(init, shape)
        formula = f"torch's {init.layer} {init.parameter} default"
        if kind == "constant" or a == b:
            return Theory(*plain, False, Discrete(np.array([a]), np.array([1.0])), formula)
        dist_t: Distribution = Uniform(a, b) if kind == "uniform" else Normal(a, b)
        if init.padding_idx is not None and shape and shape[0]:
            return Theory(*plain, False, None, formula + f" (row {init.padding_idx} zero)")
        return Theory(*(weight_fans or plain), weight_fans is not None, dist_t, formula)
    return None
