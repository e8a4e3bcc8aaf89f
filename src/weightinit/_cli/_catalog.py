"""The catalog as people read it: names, aliases, one-line descriptions, formulas, arguments."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from .._registry import BUILTIN_CLASSES, BUILTIN_KEYS, FRAMEWORK_CLASSES, registered_name_of
from .._variance_scaling import VarianceScaling

__all__ = ["ENTRIES", "Entry", "aliases_of", "arguments_of", "entries", "is_random"]

# (description, formula), keyed by class name. A test checks that every catalog class has one.
ENTRIES: dict[str, tuple[str, str]] = {
    "Constant": ("every weight equals `value` (a number, or an array broadcast to the shape)", "W = value"),
    "Zeros": ("all zeros (biases, gates that start closed)", "W = 0"),
    "Ones": ("all ones (normalization scales, gates that start open)", "W = 1"),
    "Identity": ("identity matrix times `gain` (2-D only); IRNN recurrent kernels", "W[i, i] = gain, else 0"),
    "RandomNormal": ("normal with a fixed mean and stddev, whatever the shape", "N(mean, stddev^2)"),
    "RandomUniform": (
        "uniform with fixed bounds, whatever the shape; Keras's Embedding default",
        "U[minval, maxval)",
    ),
    "TruncatedNormal": (
        "normal cut at 2 stddev around the mean (stddev is before the cut)",
        "N(mean, stddev^2) on mean +- 2 stddev; std = 0.8796 stddev",
    ),
    "VarianceScaling": (
        "spread scaled to the fans: the rule behind Glorot, He and LeCun",
        "s = scale / n, n = fan_in | fan_out | (fan_in + fan_out) / 2; "
        "truncated normal with std sqrt(s), normal with std sqrt(s), or U(-sqrt(3 s), sqrt(3 s))",
    ),
    "GlorotNormal": (
        "Glorot/Xavier normal: variance kept in both directions (tanh, sigmoid, linear)",
        "truncated normal, std = sqrt(2 / (fan_in + fan_out))",
    ),
    "GlorotUniform": (
        "Glorot/Xavier uniform: Keras's default kernel initializer (tanh, sigmoid, linear)",
        "U(-L, L), L = sqrt(6 / (fan_in + fan_out))",
    ),
    "HeNormal": (
        "He/Kaiming normal: for ReLU-family activations",
        "truncated normal, std = sqrt(2 / fan_in)",
    ),
    "HeUniform": ("He/Kaiming uniform: for ReLU-family activations", "U(-L, L), L = sqrt(6 / fan_in)"),
    "LecunNormal": (
        "LeCun normal: for SELU (self-normalizing networks)",
        "truncated normal, std = sqrt(1 / fan_in)",
    ),
    "LecunUniform": ("LeCun uniform: variance 1 / fan_in", "U(-L, L), L = sqrt(3 / fan_in)"),
    "Orthogonal": (
        "random orthogonal matrix times `gain`: Keras's recurrent-kernel default",
        "W = gain * Q, Q Haar-random with orthonormal rows or columns (leading axes fold into rows)",
    ),
    "STFT": (
        "fixed windowed Fourier basis for STFT convolution kernels of shape (T, C, F)",
        "cos or sin(-2 pi t f / N) * w[t] / S, N = 2 (F - 1), w the window, S its scaling",
    ),
}

# the framework initializers (docs/frameworks.md): configs name them "weightinit>ClassName"
ENTRIES.update(
    {
        "KaimingUniform": (
            "torch's kaiming_uniform_ (a, mode, nonlinearity); torch's Linear/Conv weight with a=sqrt(5)",
            "U(-L, L), L = sqrt(3) gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)",
        ),
        "KaimingNormal": (
            "torch's kaiming_normal_: untruncated, unlike Keras's HeNormal",
            "N(0, std^2), std = gain / sqrt(fan)",
        ),
        "XavierUniform": (
            "torch's xavier_uniform_ (with gain)",
            "U(-L, L), L = gain sqrt(6 / (fan_in + fan_out))",
        ),
        "XavierNormal": (
            "torch's xavier_normal_: untruncated, unlike Keras's GlorotNormal",
            "N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out))",
        ),
        "TorchTruncNormal": (
            "torch's trunc_normal_: absolute bounds a, b; exact, never outside [a, b]",
            "N(mean, std^2) conditioned on a <= x <= b",
        ),
        "Dirac": (
            "torch's dirac_: identity convolution per group (3-5-D kernels)",
            "1 at [k // 2, d, g n + d]",
        ),
        "Eye": ("torch's eye_: identity matrix (2-D)", "W[i, i] = 1, else 0"),
        "Sparse": (
            "torch's sparse_: normal with exactly ceil(sparsity * out) zeros per input row",
            "N(0, std^2), then ceil(sparsity * out) zeros per row",
        ),
        "TorchOrthogonal": (
            "torch's orthogonal_: orthogonal on torch's flattening (out, in * prod(k))",
            "W = gain * Q on torch's view",
        ),
        "TorchDefault": (
            "a torch layer's stock reset_parameters (linear, conv, bilinear, embedding, rnn, norm)",
            "e.g. Linear weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)); Embedding N(0, 1)",
        ),
        "JaxVarianceScaling": (
            "jax's variance_scaling: fan_geo_avg, in/out/batch axes, complex; 'normal' is untruncated",
            "s = scale / n, n = fan_in | fan_out | (fan_in + fan_out) / 2 | sqrt(fan_in fan_out)",
        ),
        "JaxTruncatedNormal": (
            "jax's truncated_normal: bounds in std units, stddev before truncation",
            "stddev * Z, Z ~ N(0, 1) on [lower, upper]",
        ),
        "JaxUniform": ("jax's uniform: on [0, scale), not symmetric", "U[0, scale)"),
        "JaxOrthogonal": ("jax's orthogonal: Keras's Orthogonal with a column_axis", "W = scale * Q"),
        "DeltaOrthogonal": (
            "jax's delta_orthogonal: orthogonal matrix at the centre tap (3-5-D, in <= out)",
            "W[(k - 1) // 2, ...] = scale * Q, else 0",
        ),
        "TimmTruncNormalTF": (
            "timm's trunc_normal_tf_: bounds in std units, then scaled and shifted",
            "mean + std * Z, Z ~ N(0, 1) on [a, b]",
        ),
    }
)
_FANS_FRAMEWORK = {"KaimingUniform", "KaimingNormal", "XavierUniform", "XavierNormal", "JaxVarianceScaling"}

FANS_NOTE = (
    "fans (Keras): shape (in, out) gives fan_in = in, fan_out = out; a kernel (k1, ..., in, out) "
    "multiplies both by k1 * ... (the receptive field)"
)


@dataclass(frozen=True)
class Entry:
    name: str
    aliases: tuple[str, ...]
    description: str
    formula: str
    arguments: dict[str, Any]
    random: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "class_name": self.name,
            "aliases": list(self.aliases),
            "description": self.description,
            "formula": self.formula,
            "arguments": self.arguments,
            "random": self.random,
            "uses_fans": self.name == "VarianceScaling"
            or self.name in _PRESETS
            or self.name in _FANS_FRAMEWORK,
        }


_PRESETS = {cls.__name__ for cls in BUILTIN_CLASSES if issubclass(cls, VarianceScaling)} - {"VarianceScaling"}


def aliases_of(cls: type) -> tuple[str, ...]:
    """Every other key that names ``cls``, snake_case first."""
    others = [key for key, value in BUILTIN_KEYS.items() if value is cls and key != cls.__name__]
    registered = registered_name_of(cls)
    if registered is not None and cls in FRAMEWORK_CLASSES:
        others.append(registered)
    return tuple(sorted(others, key=lambda k: (not k.islower(), k)))


def arguments_of(cls: type) -> dict[str, Any]:
    """Constructor arguments and their defaults, in signature order."""
    params = inspect.signature(cls).parameters
    return {
        name: (None if p.default is inspect.Parameter.empty else p.default)
        for name, p in params.items()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def is_random(cls: type) -> bool:
    return "seed" in inspect.signature(cls).parameters


def entries() -> list[Entry]:
    """One entry per concrete catalog class (the abstract ``Initializer`` base is left out)."""
    result = []
    for cls in (*BUILTIN_CLASSES, *FRAMEWORK_CLASSES):
        if cls.__name__ == "Initializer":
            continue
        description, formula = ENTRIES[cls.__name__]
        result.append(
            Entry(cls.__name__, aliases_of(cls), description, formula, arguments_of(cls), is_random(cls))
        )
    return result
