"""VarianceScaling and its six presets (Glorot, He, LeCun; normal and uniform)."""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ._errors import InvalidArgumentError, InvalidTypeError, short_int, short_repr
from ._fans import fans_of
from ._random import RandomInitializer
from ._validation import Region, Shape, check_axes, check_choice, check_real

__all__ = [
    "TRUNCATED_STD",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "VarianceScaling",
    "variance_scaling_params",
]

Mode = Literal["fan_in", "fan_out", "fan_avg"]
Distribution = Literal["truncated_normal", "untruncated_normal", "uniform"]
MODES = ("fan_avg", "fan_in", "fan_out")
DISTRIBUTIONS = ("truncated_normal", "uniform", "untruncated_normal")
#: standard deviation of a standard normal truncated to [-2, 2]
TRUNCATED_STD = 0.87962566103423978


def variance_scaling_params(
    scale: float, mode: str, distribution: str, fan_in: int, fan_out: int, owner: str = "VarianceScaling"
) -> tuple[str, float]:
    """``(engine kind, parameter)``: the pre-truncation std, the std, or the uniform limit."""
    if max(fan_in, fan_out) > 2**1000:  # explicit axes may name one axis many times: past a float
        raise InvalidArgumentError(
            f"{owner}: the fans of this shape (fan_in={short_int(fan_in)}, "
            f"fan_out={short_int(fan_out)}) are too large to scale by; check `input_axes` / `output_axes`."
        )
    fan = fan_in if mode == "fan_in" else fan_out if mode == "fan_out" else (fan_in + fan_out) / 2.0
    s = scale / max(1.0, fan)
    if distribution == "truncated_normal":
        return "truncated_normal", math.sqrt(s) / TRUNCATED_STD
    if distribution == "untruncated_normal":
        return "normal", math.sqrt(s)
    return "uniform", math.sqrt(3.0 * s)


@functools.lru_cache(maxsize=256)
def _keras_fans(shape: Shape) -> tuple[int, int]:
    """Keras's fans of ``shape`` (a tuple), remembered: a model has few distinct shapes."""
    return fans_of(shape)


@functools.lru_cache(maxsize=256, typed=True)  # a model has few distinct fans
def _draw_args(
    scale: float, mode: str, distribution: str, fan_in: int, fan_out: int, owner: str
) -> tuple[str, float, float, str]:
    """``(kind, a, b, what)`` for ``RandomInitializer._draw``: the engine's distribution and
    parameters for these fans, and their description for its overflow error."""
    kind, param = variance_scaling_params(scale, mode, distribution, fan_in, fan_out, owner)
    what = f"scale={scale} (mode={mode}, fan_in={fan_in}, fan_out={fan_out})"
    return (kind, -param, param, what) if kind == "uniform" else (kind, 0.0, param, what)


class VarianceScaling(RandomInitializer):
    r"""Scale the spread to the weight's fans: :math:`s = \text{scale} / n`.

    ``n`` is ``fan_in``, ``fan_out`` or their mean (``mode``), at least 1. Then

    * ``truncated_normal``: truncated at 2 std, pre-truncation std
      :math:`\sqrt{s} / 0.8796\ldots` so the values' std is :math:`\sqrt{s}`;
    * ``untruncated_normal``: std :math:`\sqrt{s}`;
    * ``uniform``: :math:`U[-L, L)`, :math:`L = \sqrt{3 s}`.

    ``distribution`` is case-insensitive and ``"normal"`` means
    ``"truncated_normal"`` (Keras); ``mode`` is case-sensitive.

    Args:
        scale: positive finite float.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: int in [0, 2**64), None, or a ``SeedGenerator``.
        input_axes, output_axes: explicit fan axes (used only when both are given).

    Example:
        >>> import weightinit as wi
        >>> w = wi.VarianceScaling(2.0, "fan_in", "untruncated_normal", seed=0)((512, 256))
        >>> round(float(w.std()), 3)   # sqrt(2 / 512) = 0.0625
        0.062
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: Mode = "fan_in",
        distribution: Distribution | Literal["normal"] = "truncated_normal",
        seed: Any = None,
        input_axes: list[int] | tuple[int, ...] | None = None,
        output_axes: list[int] | tuple[int, ...] | None = None,
    ) -> None:
        owner = type(self).__name__
        self.scale = check_real(scale, "scale", owner, positive=True)
        self.mode = check_choice(mode, "mode", MODES, owner)
        if not isinstance(distribution, str):
            raise InvalidTypeError(
                f"{owner}: Argument `distribution` must be a str. "
                f"Received: distribution={short_repr(distribution)}"
            )
        lowered = distribution.lower()
        if lowered == "normal":
            lowered = "truncated_normal"
        self.distribution = check_choice(lowered, "distribution", DISTRIBUTIONS, owner)
        super().__init__(seed)
        self.input_axes = check_axes(input_axes, "input_axes", owner)
        self.output_axes = check_axes(output_axes, "output_axes", owner)

    def fans(self, shape: Shape) -> tuple[int, int]:
        """``(fan_in, fan_out)`` this initializer uses for ``shape``."""
        if self.input_axes is None and self.output_axes is None:
            return _keras_fans(tuple(shape))
        return fans_of(shape, self.input_axes, self.output_axes)

    def _check_shape(self, shape: Shape) -> None:
        self.fans(shape)  # out-of-range explicit axes fail before any work

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        fan_in, fan_out = self.fans(shape)
        owner = type(self).__name__
        kind, a, b, what = _draw_args(self.scale, self.mode, self.distribution, fan_in, fan_out, owner)
        return self._draw(kind, shape, region, dtype, whole, a, b, what)

    def get_config(self) -> dict[str, Any]:
        return {
            **self._seed_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _Preset(VarianceScaling):
    """A VarianceScaling with fixed scale, mode and distribution."""

    _scale: float
    _mode: Mode
    _distribution: Distribution

    def __init__(
        self,
        seed: Any = None,
        input_axes: list[int] | tuple[int, ...] | None = None,
        output_axes: list[int] | tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(
            scale=self._scale,
            mode=self._mode,
            distribution=self._distribution,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_Preset):
    r"""Glorot (Xavier) uniform: :math:`U[-L, L)`, :math:`L = \sqrt{6 / (n_\text{in} + n_\text{out})}`."""

    _scale, _mode, _distribution = 1.0, "fan_avg", "uniform"


class GlorotNormal(_Preset):
    r"""Glorot (Xavier) normal: truncated normal, std :math:`\sqrt{2 / (n_\text{in} + n_\text{out})}`."""

    _scale, _mode, _distribution = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_Preset):
    r"""He (Kaiming) uniform: :math:`U[-L, L)`, :math:`L = \sqrt{6 / \text{fan\_in}}`."""

    _scale, _mode, _distribution = 2.0, "fan_in", "uniform"


class HeNormal(_Preset):
    r"""He (Kaiming) normal: truncated normal with std :math:`\sqrt{2 / \text{fan\_in}}`."""

    _scale, _mode, _distribution = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_Preset):
    r"""LeCun uniform: :math:`U[-L, L)`, :math:`L = \sqrt{3 / \text{fan\_in}}`."""

    _scale, _mode, _distribution = 1.0, "fan_in", "uniform"


class LecunNormal(_Preset):
    r"""LeCun normal: truncated normal with std :math:`\sqrt{1 / \text{fan\_in}}`."""

    _scale, _mode, _distribution = 1.0, "fan_in", "truncated_normal"
