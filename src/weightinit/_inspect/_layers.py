"""What each Keras layer creates, which config key initializes it, and the layer's default.

Defaults are Keras 3.15.1's (spec section 10.1); Keras 2 / tf.keras use the
same ones. Weights are listed in creation order (the order of ``layer.weights``
and of a Keras 3 ``.weights.h5``'s ``vars/0, vars/1, ...``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULTS", "LAYERS", "RNN_CELL_NAMES", "WeightSpec", "einsum_axes", "weights_of"]

#: default initializer per name: (class name, the config values that matter)
DEFAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "glorot_uniform": ("GlorotUniform", {}),
    "orthogonal": ("Orthogonal", {"gain": 1.0}),
    "zeros": ("Zeros", {}),
    "ones": ("Ones", {}),
    "embedding": ("RandomUniform", {"minval": -0.05, "maxval": 0.05}),
}


@dataclass(frozen=True)
class WeightSpec:
    """One weight of a layer: its name(s), config key, default, and when it exists."""

    name: str
    key: str | None  # "kernel_initializer"; None: not configurable
    default: str  # a key of DEFAULTS
    present: Callable[[dict[str, Any]], bool] = lambda cfg: True
    aliases: tuple[str, ...] = ()  # names other versions give the same weight


def _flag(name: str, default: bool = True) -> Callable[[dict[str, Any]], bool]:
    return lambda cfg: bool(cfg.get(name, default))


_KERNEL = WeightSpec("kernel", "kernel_initializer", "glorot_uniform")
_BIAS = WeightSpec("bias", "bias_initializer", "zeros", _flag("use_bias"))
_RECURRENT = WeightSpec("recurrent_kernel", "recurrent_initializer", "orthogonal")
_GAMMA = WeightSpec("gamma", "gamma_initializer", "ones", _flag("scale"))
_BETA = WeightSpec("beta", "beta_initializer", "zeros", _flag("center"))

_DENSE = (_KERNEL, _BIAS)
_RNN = (_KERNEL, _RECURRENT, _BIAS)
_DEPTHWISE = (
    WeightSpec("kernel", "depthwise_initializer", "glorot_uniform", aliases=("depthwise_kernel",)),
    _BIAS,
)
_SEPARABLE = (
    WeightSpec("depthwise_kernel", "depthwise_initializer", "glorot_uniform"),
    WeightSpec("pointwise_kernel", "pointwise_initializer", "glorot_uniform"),
    _BIAS,
)
_NORM = (_GAMMA, _BETA)
_BATCH_NORM = (
    _GAMMA,
    _BETA,
    WeightSpec("moving_mean", "moving_mean_initializer", "zeros"),
    WeightSpec("moving_variance", "moving_variance_initializer", "ones"),
)

LAYERS: dict[str, tuple[WeightSpec, ...]] = {
    "Dense": _DENSE,
    "EinsumDense": (_KERNEL, WeightSpec("bias", "bias_initializer", "zeros", _flag("bias_axes", False))),
    "Embedding": (WeightSpec("embeddings", "embeddings_initializer", "embedding"),),
    "PReLU": (WeightSpec("alpha", "alpha_initializer", "zeros"),),
    "BatchNormalization": _BATCH_NORM,
    "SyncBatchNormalization": _BATCH_NORM,
    "LayerNormalization": _NORM,
    "GroupNormalization": _NORM,
    "SeparableConv1D": _SEPARABLE,
    "SeparableConv2D": _SEPARABLE,
    "SeparableConvolution1D": _SEPARABLE,
    "SeparableConvolution2D": _SEPARABLE,
    "DepthwiseConv1D": _DEPTHWISE,
    "DepthwiseConv2D": _DEPTHWISE,
}
for _name in (
    "Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose Convolution1D Convolution2D "
    "Convolution3D Convolution1DTranspose Convolution2DTranspose Convolution3DTranspose Deconvolution2D "
    "Deconvolution3D LocallyConnected1D LocallyConnected2D"
).split():
    LAYERS[_name] = _DENSE
for _name in (
    "SimpleRNN LSTM GRU SimpleRNNCell LSTMCell GRUCell CuDNNLSTM CuDNNGRU ConvLSTM1D ConvLSTM2D ConvLSTM3D "
    "ConvLSTM1DCell ConvLSTM2DCell ConvLSTM3DCell ConvLSTMCell"
).split():
    LAYERS[_name] = _RNN

#: the cell a recurrent layer creates (its weights sit under this name); None: any name
RNN_CELL_NAMES: dict[str, str | None] = {
    "SimpleRNN": "simple_rnn_cell",
    "LSTM": "lstm_cell",
    "GRU": "gru_cell",
    "ConvLSTM1D": None,
    "ConvLSTM2D": None,
    "ConvLSTM3D": None,
}

#: MultiHeadAttention's projections: sub-layer name and (input_axes, output_axes) of its kernel
MHA_PROJECTIONS: tuple[tuple[str, tuple[tuple[int, ...], tuple[int, ...]]], ...] = (
    ("query", ((0,), (1, 2))),
    ("key", ((0,), (1, 2))),
    ("value", ((0,), (1, 2))),
    ("attention_output", ((0, 1), (2,))),
)


def weights_of(class_name: str, config: dict[str, Any]) -> tuple[WeightSpec, ...] | None:
    """The weights a known layer creates with this config, or None for an unknown layer."""
    specs = LAYERS.get(class_name)
    if specs is None:
        return None
    return tuple(s for s in specs if s.present(config))


def einsum_axes(equation: object) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Kernel ``(input_axes, output_axes)`` of an EinsumDense equation (Keras 3 fans).

    >>> einsum_axes("abc,cde->abde")
    ((0,), (1, 2))
    >>> einsum_axes("...b,bc->...c")
    ((0,), (1,))
    """
    if not isinstance(equation, str) or "->" not in equation or "," not in equation:
        return None
    left, output = equation.replace(" ", "").split("->", 1)
    parts = left.split(",")
    if len(parts) != 2:
        return None
    inputs, kernel = (p.replace(".", "") for p in parts)
    output = output.replace(".", "")
    inp = tuple(i for i, ch in enumerate(kernel) if ch in inputs and ch not in output)
    out = tuple(i for i, ch in enumerate(kernel) if ch in output)
    if not inp or not out:
        return None
    return inp, out
