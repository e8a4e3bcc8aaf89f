"""Keras layer defaults as Flax initializers (``weightinit.jax.keras_initializers``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from .._base import Initializer
from .._constant import Ones, Zeros
from .._errors import InvalidArgumentError, InvalidTypeError, short_repr
from .._orthogonal import Orthogonal
from .._random import RandomInitializer, RandomUniform
from .._serialization import get
from .._variance_scaling import GlorotUniform

__all__ = ["LAYERS", "keras_defaults"]

#: Keras layer -> (Keras argument, Flax argument, default factory taking the seed)
LAYERS: dict[str, tuple[tuple[str, str, Callable[[int], Initializer]], ...]] = {
    "Dense": (
        ("kernel_initializer", "kernel_init", lambda s: GlorotUniform(seed=s)),
        ("bias_initializer", "bias_init", lambda s: Zeros()),
    ),
    "Conv": (
        ("kernel_initializer", "kernel_init", lambda s: GlorotUniform(seed=s)),
        ("bias_initializer", "bias_init", lambda s: Zeros()),
    ),
    "Embedding": (("embeddings_initializer", "embedding_init", lambda s: RandomUniform(seed=s)),),
    "LayerNormalization": (
        ("gamma_initializer", "scale_init", lambda s: Ones()),
        ("beta_initializer", "bias_init", lambda s: Zeros()),
    ),
    "BatchNormalization": (
        ("gamma_initializer", "scale_init", lambda s: Ones()),
        ("beta_initializer", "bias_init", lambda s: Zeros()),
    ),
    "LSTM": (
        ("kernel_initializer", "kernel_init", lambda s: GlorotUniform(seed=s)),
        ("recurrent_initializer", "recurrent_kernel_init", lambda s: Orthogonal(seed=s)),
        ("bias_initializer", "bias_init", lambda s: Zeros()),
    ),
}
ALIASES = {
    "Conv1D": "Conv",
    "Conv2D": "Conv",
    "Conv3D": "Conv",
    "Embed": "Embedding",
    "LayerNorm": "LayerNormalization",
}


def _seeded(identifier: object, seed: int, owner: str) -> Initializer:
    init = get(identifier)
    if not isinstance(init, Initializer):
        raise InvalidTypeError(f"{owner}: expected an initializer. Received: {short_repr(identifier)}")
    if isinstance(identifier, (str, dict)) and isinstance(init, RandomInitializer):
        init = type(init).from_config({**init.get_config(), "seed": seed})
    return init


def keras_defaults(
    layer: str, seed: int, make: Callable[[Initializer], Any], overrides: dict[str, Any]
) -> dict[str, Any]:
    """Flax keyword arguments holding Keras's default initializers of ``layer`` (see the public doc)."""
    owner = "keras_initializers"
    name = ALIASES.get(layer, layer)
    if name not in LAYERS:
        raise InvalidArgumentError(
            f"{owner}: unknown layer {short_repr(layer)}. Known: {', '.join(sorted({*LAYERS, *ALIASES}))}."
        )
    rows = LAYERS[name]
    extra = dict(overrides)
    unit_forget_bias = bool(extra.pop("unit_forget_bias", True)) if name == "LSTM" else False
    allowed = {keras for keras, _, _ in rows}
    unknown = sorted(set(extra) - allowed)
    if unknown:
        raise InvalidArgumentError(
            f"{owner}: {name} has no argument(s) {unknown}. Accepted: "
            f"{', '.join(sorted(allowed | ({'unit_forget_bias'} if name == 'LSTM' else set())))}."
        )
    out: dict[str, Any] = {}
    for keras_arg, flax_arg, default in rows:
        init = _seeded(extra[keras_arg], seed, owner) if keras_arg in extra else default(seed)
        fn = make(init)
        if name == "LSTM" and keras_arg == "bias_initializer" and unit_forget_bias:
            fn = _forget_bias(fn)
        out[flax_arg] = fn
    return out


def _forget_bias(inner: Callable[..., Any]) -> Callable[..., Any]:
    """Keras's ``unit_forget_bias``: ``[b(units), ones(units), b(2 * units)]``."""

    def bias_init(key: Any, shape: Any, dtype: Any = jnp.float32) -> Any:
        (total,) = tuple(shape)
        units = total // 4
        return jnp.concatenate(
            [inner(key, (units,), dtype), jnp.ones((units,), dtype), inner(key, (2 * units,), dtype)]
        )

    return bias_init
