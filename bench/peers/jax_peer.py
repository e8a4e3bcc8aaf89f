"""jax.random, jitted, on the CPU; results blocked until ready. Threads: XLA's default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REQUIRES = "jax"
THREADS = ()  # XLA's CPU thread pool has no per-call setting
TRACED = False

DTYPES = ("float32", "float16", "bfloat16")  # float64 would need jax_enable_x64


def env(threads: int) -> dict[str, str]:
    return {"JAX_PLATFORMS": "cpu"}


def setup(threads: int) -> None:
    import jax  # noqa: F401


def build(case: dict[str, Any]) -> Callable[[], Any] | None:
    import jax
    import jax.numpy as jnp

    if case["dtype"] not in DTYPES or case["rows"] is not None:
        return None
    shape, dtype = tuple(case["shape"]), getattr(jnp, case["dtype"])
    draws = {
        "uniform": lambda k: jax.random.uniform(k, shape, dtype, -1.0, 1.0),
        "normal": lambda k: jax.random.normal(k, shape, dtype),
        "truncated_normal": lambda k: jax.random.truncated_normal(k, -2.0, 2.0, shape, dtype),
    }
    if case["id"] not in draws:
        return None
    jitted = jax.jit(draws[case["id"]])
    key = jax.random.key(0)
    return lambda: jitted(key)


def sync(result: Any) -> Any:
    return result.block_until_ready()


def info() -> dict[str, Any]:
    import jax

    return {"version": jax.__version__, "devices": [str(d) for d in jax.devices()]}
