"""What each peer runs for each benchmark case; imported inside the peer's own process.

A case names a distribution the way weightinit does (``uniform``, ``normal``,
``truncated_normal``, ``he_normal``, ``glorot_uniform``, ``lecun_normal``,
``variance_scaling_untruncated``, ``orthogonal``, ``fill``). Each ``build_*``
returns ``(function, sync)`` or None when the peer has no equivalent.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

Built = tuple[Callable[[], Any], Callable[[Any], Any]] | None


def _identity(x: Any) -> Any:
    return x


def build_weightinit(case: dict[str, Any], threads: int) -> Built:
    os.environ["WEIGHTINIT_NUM_THREADS"] = str(threads)
    import weightinit as wi

    makers = {
        "uniform": lambda: wi.RandomUniform(-1.0, 1.0, seed=0),
        "normal": lambda: wi.RandomNormal(stddev=1.0, seed=0),
        "truncated_normal": lambda: wi.TruncatedNormal(stddev=1.0, seed=0),
        "he_normal": lambda: wi.HeNormal(seed=0),
        "glorot_uniform": lambda: wi.GlorotUniform(seed=0),
        "lecun_normal": lambda: wi.LecunNormal(seed=0),
        "variance_scaling_untruncated": lambda: wi.VarianceScaling(distribution="untruncated_normal", seed=0),
        "orthogonal": lambda: wi.Orthogonal(seed=0),
    }
    if case["dist"] not in makers:
        return None
    init = makers[case["dist"]]()
    shape = tuple(case["shape"])
    dtype = case["dtype"]
    if case.get("rows_fraction"):
        rows = shape[0] // case["rows_fraction"]
        index = (slice(0, rows),)
        return (lambda: init(shape, dtype, index=index)), _identity
    return (lambda: init(shape, dtype)), _identity


def build_torch(case: dict[str, Any], threads: int) -> Built:
    import torch

    torch.set_num_threads(threads)
    if case["dtype"] not in ("float32", "float16", "bfloat16", "float64") or case.get("rows_fraction"):
        return None
    dtype = getattr(torch, case["dtype"])
    shape = tuple(case["shape"])
    nn_init = torch.nn.init
    ops: dict[str, Callable[[Any], Any]] = {
        "uniform": lambda t: nn_init.uniform_(t, -1.0, 1.0),
        "normal": lambda t: nn_init.normal_(t),
        # Keras semantics: bounds at +-2 std (torch's default bounds are absolute -2, 2)
        "truncated_normal": lambda t: nn_init.trunc_normal_(t, std=1.0, a=-2.0, b=2.0),
        "he_normal": lambda t: nn_init.kaiming_normal_(t),
        "glorot_uniform": lambda t: nn_init.xavier_uniform_(t),
        "orthogonal": lambda t: nn_init.orthogonal_(t),
    }
    if case["dist"] not in ops:
        return None
    op = ops[case["dist"]]
    torch.manual_seed(0)
    return (lambda: op(torch.empty(shape, dtype=dtype))), _identity


def build_jax(case: dict[str, Any], threads: int) -> Built:
    import jax
    import jax.numpy as jnp

    if case["dtype"] not in ("float32", "float16", "bfloat16") or case.get("rows_fraction"):
        return None
    dtype = getattr(jnp, case["dtype"])
    shape = tuple(case["shape"])
    fns = {
        "uniform": lambda k: jax.random.uniform(k, shape, dtype, -1.0, 1.0),
        "normal": lambda k: jax.random.normal(k, shape, dtype),
        "truncated_normal": lambda k: jax.random.truncated_normal(k, -2.0, 2.0, shape, dtype),
        "he_normal": lambda k: jax.nn.initializers.he_normal()(k, shape, dtype),
        "glorot_uniform": lambda k: jax.nn.initializers.glorot_uniform()(k, shape, dtype),
        "lecun_normal": lambda k: jax.nn.initializers.lecun_normal()(k, shape, dtype),
        "orthogonal": lambda k: jax.nn.initializers.orthogonal()(k, shape, dtype),
    }
    if case["dist"] not in fns:
        return None
    jitted = jax.jit(fns[case["dist"]])
    key = jax.random.key(0)
    return (lambda: jitted(key)), (lambda x: x.block_until_ready())


def build_numpy(case: dict[str, Any], threads: int) -> Built:
    import numpy as np

    if case["dtype"] not in ("float32", "float64") or case.get("rows_fraction"):
        return None
    rng = np.random.default_rng(0)
    shape = tuple(case["shape"])
    dtype = case["dtype"]
    if case["dist"] == "uniform":
        return (lambda: rng.random(shape, dtype=dtype)), _identity
    if case["dist"] == "normal":
        return (lambda: rng.standard_normal(shape, dtype=dtype)), _identity
    if case["dist"] == "fill":
        existing = np.empty(shape, dtype=dtype)
        existing.fill(0.0)
        return (lambda: existing.fill(1.0)), _identity
    if case["dist"] == "empty_fill":

        def empty_fill() -> Any:
            out = np.empty(shape, dtype=dtype)
            out.fill(1.0)
            return out

        return empty_fill, _identity
    return None


def build_keras(case: dict[str, Any], threads: int) -> Built:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    if case["dtype"] not in ("float32", "float16", "bfloat16") or case.get("rows_fraction"):
        return None
    makers = {
        "uniform": lambda: keras.initializers.RandomUniform(-1.0, 1.0, seed=0),
        "normal": lambda: keras.initializers.RandomNormal(stddev=1.0, seed=0),
        "truncated_normal": lambda: keras.initializers.TruncatedNormal(stddev=1.0, seed=0),
        "he_normal": lambda: keras.initializers.HeNormal(seed=0),
        "glorot_uniform": lambda: keras.initializers.GlorotUniform(seed=0),
        "lecun_normal": lambda: keras.initializers.LecunNormal(seed=0),
        "variance_scaling_untruncated": lambda: keras.initializers.VarianceScaling(
            distribution="untruncated_normal", seed=0
        ),
        "orthogonal": lambda: keras.initializers.Orthogonal(seed=0),
    }
    if case["dist"] not in makers:
        return None
    init = makers[case["dist"]]()
    shape = tuple(case["shape"])
    dtype = case["dtype"]
    return (lambda: init(shape, dtype)), (
        lambda x: x.block_until_ready() if hasattr(x, "block_until_ready") else x
    )


def build_tensorflow(case: dict[str, Any], threads: int) -> Built:
    import tensorflow as tf

    if case["dtype"] not in ("float32", "float16", "bfloat16") or case.get("rows_fraction"):
        return None
    shape = tuple(case["shape"])
    dtype = getattr(tf, case["dtype"])
    seed = tf.constant([0, 0], dtype=tf.int32)
    fns = {
        "uniform": lambda: tf.random.stateless_uniform(shape, seed, -1.0, 1.0, dtype),
        "normal": lambda: tf.random.stateless_normal(shape, seed, dtype=dtype),
        "truncated_normal": lambda: tf.random.stateless_truncated_normal(shape, seed, dtype=dtype),
    }
    if case["dist"] not in fns:
        return None
    return fns[case["dist"]], (lambda x: x.numpy())


PEERS = {
    "weightinit": build_weightinit,
    "torch": build_torch,
    "jax": build_jax,
    "numpy": build_numpy,
    "keras-jax": build_keras,
    "tensorflow": build_tensorflow,
}
#: the module each peer needs; a missing one skips the peer with a note
REQUIRES = {
    "weightinit": "weightinit",
    "torch": "torch",
    "jax": "jax",
    "numpy": "numpy",
    "keras-jax": "keras",
    "tensorflow": "tensorflow",
}
