"""Activation functions and their derivatives, in numpy, for ``propagate`` and ``advise``.

Names follow ``keras.activations``; ``leaky_relu`` takes the negative slope
(Keras's default 0.2).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from .._laws._special import ndtr, normal_pdf

__all__ = ["ACTIVATIONS", "SELU_ALPHA", "SELU_SCALE", "activation", "second_moment"]

FloatArray = NDArray[np.float64]
Pair = tuple[Callable[[FloatArray], FloatArray], Callable[[FloatArray], FloatArray]]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
ACTIVATIONS = ("elu", "gelu", "leaky_relu", "linear", "relu", "selu", "sigmoid", "silu", "swish", "tanh")


def _sigmoid(x: FloatArray) -> FloatArray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _elu(x: FloatArray, alpha: float = 1.0) -> FloatArray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _elu_grad(x: FloatArray, alpha: float = 1.0) -> FloatArray:
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def activation(name: str, negative_slope: float = 0.2) -> Pair:
    """``(f, f')`` for an activation name of :data:`ACTIVATIONS`."""
    if name == "linear":
        return (lambda x: x), (lambda x: np.ones_like(x))
    if name == "relu":
        return (lambda x: np.maximum(x, 0.0)), (lambda x: (x > 0).astype(x.dtype))
    if name == "leaky_relu":
        a = negative_slope
        return (lambda x: np.where(x > 0, x, a * x)), (lambda x: np.where(x > 0, 1.0, a))
    if name == "elu":
        return _elu, _elu_grad
    if name == "selu":
        return (
            (lambda x: SELU_SCALE * _elu(x, SELU_ALPHA)),
            (lambda x: SELU_SCALE * _elu_grad(x, SELU_ALPHA)),
        )
    if name == "gelu":  # exact (erf) form, Keras's default approximate=False
        return (lambda x: x * ndtr(x)), (lambda x: ndtr(x) + x * normal_pdf(x))
    if name in ("swish", "silu"):

        def swish_grad(x: FloatArray) -> FloatArray:
            s = _sigmoid(x)
            return s * (1.0 + x * (1.0 - s))

        return (lambda x: x * _sigmoid(x)), swish_grad
    if name == "tanh":
        return np.tanh, (lambda x: 1.0 - np.tanh(x) ** 2)
    if name == "sigmoid":
        return _sigmoid, (lambda x: _sigmoid(x) * (1.0 - _sigmoid(x)))
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


def second_moment(name: str, negative_slope: float = 0.2, points: int = 80) -> float:
    r""":math:`E[f(Z)^2]` for :math:`Z \sim N(0, 1)`, by Gauss-Hermite quadrature.

    ``1 / E[f(Z)^2]`` is the scale that keeps unit pre-activation variance
    from one layer to the next (2 for ReLU: He's rule).
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    f, _ = activation(name, negative_slope)
    return float(np.dot(weights, f(nodes) ** 2) / math.sqrt(2.0 * math.pi))
