"""tensorflow's stateless random ops (only when tensorflow is installed). Threads: TF's default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REQUIRES = "tensorflow"
THREADS = ()
TRACED = False

DTYPES = ("float32", "float16", "bfloat16")


def env(threads: int) -> dict[str, str]:
    return {"TF_CPP_MIN_LOG_LEVEL": "2"}


def setup(threads: int) -> None:
    import tensorflow  # noqa: F401


def build(case: dict[str, Any]) -> Callable[[], Any] | None:
    import tensorflow as tf

    if case["dtype"] not in DTYPES or case["rows"] is not None:
        return None
    shape, dtype = tuple(case["shape"]), getattr(tf, case["dtype"])
    seed = tf.constant([0, 0], dtype=tf.int32)
    draws = {
        "uniform": lambda: tf.random.stateless_uniform(shape, seed, -1.0, 1.0, dtype),
        "normal": lambda: tf.random.stateless_normal(shape, seed, dtype=dtype),
        "truncated_normal": lambda: tf.random.stateless_truncated_normal(shape, seed, dtype=dtype),
    }
    return draws.get(case["id"])


def sync(result: Any) -> Any:
    return result  # eager CPU ops have finished when they return


def info() -> dict[str, Any]:
    import tensorflow as tf

    return {"version": tf.__version__}
