"""XavierUniform and XavierNormal: torch.nn.init.xavier_uniform_ / xavier_normal_ (with ``gain``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._kaiming import TorchFanInitializer
from ._validation import Region, Shape, check_real

__all__ = ["XavierNormal", "XavierUniform"]


class _Xavier(TorchFanInitializer):
    def __init__(
        self,
        gain: float = 1.0,
        seed: Any = None,
        input_axes: list[int] | tuple[int, ...] | None = None,
        output_axes: list[int] | tuple[int, ...] | None = None,
    ) -> None:
        self.gain = check_real(gain, "gain", type(self).__name__)
        super().__init__(seed, input_axes, output_axes)

    def std(self, shape: Shape) -> float:
        """torch's ``gain * sqrt(2 / (fan_in + fan_out))``."""
        fan_in, fan_out = self.fans(shape)
        return self.gain * math.sqrt(2.0 / float(fan_in + fan_out))

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "gain": self.gain, **self._axes_config()}


class XavierUniform(_Xavier):
    r"""torch's ``xavier_uniform_``: :math:`U(-L, L)`, :math:`L = \text{gain}\sqrt{6 / (n_i + n_o)}`.

    With ``gain=1`` the law of Keras's GlorotUniform; ``gain`` (e.g.
    ``calculate_gain("tanh")``) is torch's addition. Rank 0 and 1 shapes are
    refused, as in torch.

    Example:
        >>> import weightinit as wi
        >>> w = wi.XavierUniform(gain=wi.calculate_gain("tanh"), seed=0)((100, 200))
        >>> bool(abs(w).max() <= 5 / 3 * (6 / 300) ** 0.5)
        True
    """

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        if 0 in shape:
            return np.empty(tuple(b - a for a, b in region), dtype=dtype)
        bound = math.sqrt(3.0) * self.std(shape)
        return self._draw("uniform", shape, region, dtype, whole, -abs(bound), abs(bound))


class XavierNormal(_Xavier):
    r"""torch's ``xavier_normal_``: untruncated normal, std :math:`\text{gain}\sqrt{2 / (n_i + n_o)}`.

    Keras's GlorotNormal is truncated at 2 std (and rescaled); this one is not.

    Example:
        >>> import weightinit as wi
        >>> w = wi.XavierNormal(seed=0)((400, 400))
        >>> round(float(w.std()), 2)   # sqrt(2 / 800)
        0.05
    """

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        if 0 in shape:
            return np.empty(tuple(b - a for a, b in region), dtype=dtype)
        return self._draw("normal", shape, region, dtype, whole, 0.0, abs(self.std(shape)))
