"""TorchDefault: what a torch layer's ``reset_parameters`` gives each of its parameters."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._dirac import check_count
from ._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._gain import calculate_gain
from ._random import RandomInitializer
from ._torch_fans import torch_fans
from ._validation import Region, Shape, check_choice, region_shape

__all__ = ["LAYER_PARAMETERS", "TorchDefault"]

#: the parameters (and buffers) of each layer family, torch's names
LAYER_PARAMETERS: dict[str, tuple[str, ...]] = {
    "linear": ("weight", "bias"),
    "conv": ("weight", "bias"),
    "bilinear": ("weight", "bias"),
    "embedding": ("weight",),
    "rnn": ("weight", "bias"),
    "norm": ("weight", "bias", "running_mean", "running_var"),
}
#: the negative slope torch's Linear / ConvNd pass to kaiming_uniform_
SQRT5 = math.sqrt(5)


def _optional_count(value: object, name: str, owner: str, minimum: int) -> int | None:
    return None if value is None else check_count(value, name, owner, minimum)


class TorchDefault(RandomInitializer):
    r"""The stock initialization of a torch layer's parameter (its ``reset_parameters``).

    ==========  ==============================  ==============================================
    layer       torch classes                   parameter: law
    ==========  ==============================  ==============================================
    linear      Linear, LazyLinear              weight: ``kaiming_uniform_(a=sqrt(5))``, i.e.
                                                :math:`U(\pm 1/\sqrt{\text{fan\_in}})`;
                                                bias: :math:`U(\pm 1/\sqrt{\text{fan\_in}})`
                                                (0 when ``fan_in`` is 0)
    conv        Conv1-3d, ConvTranspose1-3d     as linear (torch's fans of the weight)
    bilinear    Bilinear                        weight, bias: :math:`U(\pm 1/\sqrt{\text{in1}})`
    embedding   Embedding                       weight: :math:`\mathcal N(0, 1)`, row
                                                ``padding_idx`` zero
    rnn         RNN, LSTM, GRU and their cells  every weight and bias:
                                                :math:`U(\pm 1/\sqrt{\text{hidden\_size}})`
    norm        BatchNorm, LayerNorm,           weight 1, bias 0; buffers running_mean 0,
                GroupNorm, InstanceNorm         running_var 1
    ==========  ==============================  ==============================================

    A weight's ``fan_in`` comes from its Keras-order shape ``(*k, in, out)``
    (torch's ``_calculate_fan_in_and_fan_out`` of the torch tensor: for a
    ConvTranspose weight that is ``out / groups * prod(k)``, as in torch), or
    from ``fan_in`` when given. A bias does not know its layer's fan, so
    ``fan_in`` is required for linear / conv biases (the weight's fan_in) and
    for bilinear (``in1_features``); ``hidden_size`` for rnn. ``padding_idx``
    is a row of the shape's first axis (Embedding's ``(num_embeddings, dim)``
    in both torch and Keras), negative values counting from the end.

    Args:
        layer: one of ``"bilinear"``, ``"conv"``, ``"embedding"``, ``"linear"``, ``"norm"``, ``"rnn"``.
        parameter: one of the layer's names in :data:`LAYER_PARAMETERS`.
        fan_in: int >= 0 or None (see above).
        hidden_size: int >= 0 or None; required for ``layer="rnn"``.
        padding_idx: int or None; ``layer="embedding"`` only.
        seed: int in [0, 2**64), None, or a ``SeedGenerator``.

    Example:
        >>> import weightinit as wi
        >>> b = wi.TorchDefault("linear", "bias", fan_in=64, seed=0)((10,))
        >>> bool(abs(b).max() <= 1 / 8)
        True
        >>> wi.TorchDefault("norm", "running_var")((3,)).tolist()
        [1.0, 1.0, 1.0]
    """

    def __init__(
        self,
        layer: str = "linear",
        parameter: str = "weight",
        fan_in: int | None = None,
        hidden_size: int | None = None,
        padding_idx: int | None = None,
        seed: Any = None,
    ) -> None:
        owner = type(self).__name__
        self.layer = check_choice(layer, "layer", tuple(LAYER_PARAMETERS), owner)
        self.parameter = check_choice(parameter, "parameter", LAYER_PARAMETERS[self.layer], owner)
        self.fan_in = _optional_count(fan_in, "fan_in", owner, 0)
        self.hidden_size = _optional_count(hidden_size, "hidden_size", owner, 0)
        if padding_idx is not None and (
            isinstance(padding_idx, (bool, np.bool_)) or not isinstance(padding_idx, (int, np.integer))
        ):
            raise InvalidTypeError(
                f"{owner}: Argument `padding_idx` must be None or an int. Received: {short_repr(padding_idx)}"
            )
        self.padding_idx = None if padding_idx is None else int(padding_idx)
        needs_fan = self.layer == "bilinear" or (
            self.layer in ("linear", "conv") and self.parameter == "bias"
        )
        if needs_fan and self.fan_in is None:
            raise InvalidArgumentError(
                f"{owner}: layer={self.layer!r}, parameter={self.parameter!r} needs `fan_in` (the layer's "
                "weight fan_in; in1_features for bilinear)."
            )
        if self.layer == "bilinear" and self.fan_in == 0:
            raise InvalidArgumentError(f"{owner}: bilinear needs fan_in >= 1 (torch divides by it).")
        if self.layer == "rnn" and self.hidden_size is None:
            raise InvalidArgumentError(f"{owner}: layer='rnn' needs `hidden_size`.")
        if self.hidden_size is not None and self.layer != "rnn":
            raise InvalidArgumentError(f"{owner}: `hidden_size` applies to layer='rnn' only.")
        if self.padding_idx is not None and self.layer != "embedding":
            raise InvalidArgumentError(f"{owner}: `padding_idx` applies to layer='embedding' only.")
        super().__init__(seed)

    def _check_shape(self, shape: Shape) -> None:
        if self.layer in ("linear", "conv") and self.parameter == "weight" and self.fan_in is None:
            torch_fans(shape, owner=type(self).__name__)
        if self.padding_idx is not None:
            rows = shape[0] if shape else 0
            if not -rows <= self.padding_idx < rows:
                raise InvalidArgumentError(
                    f"TorchDefault: padding_idx={self.padding_idx} is outside the first axis of "
                    f"shape={shape}."
                )

    def law(self, shape: Shape) -> tuple[str, float, float]:
        """``(kind, a, b)``: ``("uniform", low, high)``, ``("normal", mean, std)``, ``("constant", v, v)``."""
        if self.layer == "norm":
            value = 1.0 if self.parameter in ("weight", "running_var") else 0.0
            return "constant", value, value
        if self.layer == "embedding":
            return "normal", 0.0, 1.0
        if self.layer == "rnn":
            assert self.hidden_size is not None
            bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
            return "uniform", -bound, bound
        if self.layer == "bilinear":
            assert self.fan_in is not None
            bound = 1 / math.sqrt(self.fan_in)
            return "uniform", -bound, bound
        if self.parameter == "bias":
            assert self.fan_in is not None
            bound = 1 / math.sqrt(self.fan_in) if self.fan_in > 0 else 0.0
            return "uniform", -bound, bound
        fan = self.fan_in if self.fan_in is not None else torch_fans(shape)[0]
        # kaiming_uniform_(a=sqrt(5)), in torch's arithmetic
        bound = math.sqrt(3.0) * (calculate_gain("leaky_relu", SQRT5) / math.sqrt(fan)) if fan > 0 else 0.0
        return "uniform", -bound, bound

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        kind, a, b = self.law(shape)
        if kind == "constant":
            return np.full(region_shape(region), a, dtype=dtype)
        out = self._draw(kind, shape, region, dtype, whole, a, b)
        if self.padding_idx is not None:
            row = self.padding_idx % shape[0]
            (r0, r1) = region[0]
            if r0 <= row < r1:
                out[row - r0] = 0
        return out

    def get_config(self) -> dict[str, Any]:
        return {
            **self._seed_config(),
            "layer": self.layer,
            "parameter": self.parameter,
            "fan_in": self.fan_in,
            "hidden_size": self.hidden_size,
            "padding_idx": self.padding_idx,
        }
