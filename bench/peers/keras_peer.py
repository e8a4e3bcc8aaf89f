"""Keras 3 initializers on the jax backend (KERAS_BACKEND=jax in this process only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REQUIRES = "keras"
THREADS = ()  # the jax backend: XLA's default thread pool
TRACED = False

DTYPES = ("float32", "float16", "bfloat16")
_CLASSES = {
    "uniform": ("RandomUniform", {"minval": -1.0, "maxval": 1.0}),
    "normal": ("RandomNormal", {"mean": 0.0, "stddev": 1.0}),
    "truncated_normal": ("TruncatedNormal", {"mean": 0.0, "stddev": 1.0}),
    "he_normal": ("HeNormal", {}),
}


def env(threads: int) -> dict[str, str]:
    return {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}


def setup(threads: int) -> None:
    import keras

    if keras.backend.backend() != "jax":
        raise RuntimeError(f"Keras runs on {keras.backend.backend()}, expected jax")


def build(case: dict[str, Any]) -> Callable[[], Any] | None:
    import keras

    if case["id"] not in _CLASSES or case["dtype"] not in DTYPES or case["rows"] is not None:
        return None
    name, kwargs = _CLASSES[case["id"]]
    init = getattr(keras.initializers, name)(seed=0, **kwargs)
    shape, dtype = tuple(case["shape"]), case["dtype"]
    return lambda: init(shape, dtype)


def sync(result: Any) -> Any:
    return result.block_until_ready()


def info() -> dict[str, Any]:
    import jax
    import keras

    return {"version": keras.__version__, "backend": keras.backend.backend(), "jax": jax.__version__}
