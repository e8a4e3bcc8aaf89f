"""KaimingUniform and KaimingNormal: torch.nn.init.kaiming_uniform_ / kaiming_normal_."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from ._gain import NONLINEARITIES, calculate_gain
from ._random import RandomInitializer
from ._torch_fans import torch_fans
from ._validation import Region, Shape, check_axes, check_choice, check_real

__all__ = ["KaimingNormal", "KaimingUniform", "TorchFanInitializer"]

TorchMode = Literal["fan_in", "fan_out"]


class TorchFanInitializer(RandomInitializer):
    """A random initializer whose spread depends on torch's fans of the shape."""

    def __init__(
        self,
        seed: Any = None,
        input_axes: list[int] | tuple[int, ...] | None = None,
        output_axes: list[int] | tuple[int, ...] | None = None,
    ) -> None:
        owner = type(self).__name__
        super().__init__(seed)
        self.input_axes = check_axes(input_axes, "input_axes", owner)
        self.output_axes = check_axes(output_axes, "output_axes", owner)

    def fans(self, shape: Shape) -> tuple[int, int]:
        """``(fan_in, fan_out)`` torch computes for the torch tensor of this Keras-order shape."""
        return torch_fans(shape, self.input_axes, self.output_axes, type(self).__name__)

    def _check_shape(self, shape: Shape) -> None:
        self.fans(shape)

    def _axes_config(self) -> dict[str, Any]:
        return {"input_axes": self.input_axes, "output_axes": self.output_axes}


class _Kaiming(TorchFanInitializer):
    _kind: ClassVar[str]

    def __init__(
        self,
        a: float = 0.0,
        mode: TorchMode = "fan_in",
        nonlinearity: str = "leaky_relu",
        seed: Any = None,
        input_axes: list[int] | tuple[int, ...] | None = None,
        output_axes: list[int] | tuple[int, ...] | None = None,
    ) -> None:
        owner = type(self).__name__
        self.a = check_real(a, "a", owner)
        self.mode = check_choice(mode, "mode", ("fan_in", "fan_out"), owner)
        self.nonlinearity = check_choice(nonlinearity, "nonlinearity", NONLINEARITIES, owner)
        super().__init__(seed, input_axes, output_axes)

    def std(self, shape: Shape) -> float:
        """The standard deviation torch uses: ``gain / sqrt(fan)``."""
        fan_in, fan_out = self.fans(shape)
        fan = fan_in if self.mode == "fan_in" else fan_out
        return calculate_gain(self.nonlinearity, self.a) / math.sqrt(fan)

    def get_config(self) -> dict[str, Any]:
        return {
            **self._seed_config(),
            "a": self.a,
            "mode": self.mode,
            "nonlinearity": self.nonlinearity,
            **self._axes_config(),
        }


class KaimingUniform(_Kaiming):
    r"""torch's ``kaiming_uniform_``: :math:`U(-L, L)`, :math:`L = \sqrt 3\,\text{gain} / \sqrt{\text{fan}}`.

    ``gain = calculate_gain(nonlinearity, a)`` (``a``: leaky_relu's negative
    slope, used by that nonlinearity only) and ``fan`` is torch's ``fan_in`` or
    ``fan_out`` (``mode``) of the torch tensor whose Keras-order shape is given.
    torch's defaults (``a=0``, ``"leaky_relu"``) give :math:`\sqrt{6 / \text{fan\_in}}`,
    Keras's HeUniform. Rank 0 and 1 shapes are refused, as in torch.

    Example:
        >>> import weightinit as wi
        >>> init = wi.KaimingUniform(a=5 ** 0.5, seed=0)   # torch's Linear default
        >>> w = init((256, 128))                            # torch weight (128, 256)
        >>> bool(abs(w).max() <= 1 / 256 ** 0.5)
        True
    """

    def bound(self, shape: Shape) -> float:
        """torch's ``bound = sqrt(3) * std``."""
        return math.sqrt(3.0) * self.std(shape)

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        if 0 in shape:
            return np.empty(tuple(b - a for a, b in region), dtype=dtype)
        bound = self.bound(shape)
        return self._draw("uniform", shape, region, dtype, whole, -bound, bound)


class KaimingNormal(_Kaiming):
    r"""torch's ``kaiming_normal_``: untruncated :math:`\mathcal N(0, s^2)`, ``s = gain / sqrt(fan)``.

    Keras's HeNormal is a *truncated* normal (at 2 std, rescaled); this one is
    not. Arguments as :class:`KaimingUniform`.

    Example:
        >>> import weightinit as wi
        >>> w = wi.KaimingNormal(nonlinearity="relu", seed=0)((512, 256))
        >>> round(float(w.std()), 3)   # sqrt(2 / 512) = 0.0625
        0.062
    """

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        if 0 in shape:
            return np.empty(tuple(b - a for a, b in region), dtype=dtype)
        return self._draw("normal", shape, region, dtype, whole, 0.0, self.std(shape))
