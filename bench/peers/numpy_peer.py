"""numpy: PCG64 draws, and the write-bandwidth floor (``fill`` of an existing array, ``empty`` + fill)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REQUIRES = "numpy"
THREADS = ()  # numpy's Generator is single-threaded
TRACED = True


def env(threads: int) -> dict[str, str]:
    return {}


def setup(threads: int) -> None:
    import numpy  # noqa: F401


def build(case: dict[str, Any]) -> Callable[[], Any] | None:
    import numpy as np

    if case["rows"] is not None:
        return None
    shape, dtype = tuple(case["shape"]), case["dtype"]
    rng = np.random.Generator(np.random.PCG64(0))
    ident = case["id"]
    if ident == "fill":  # the floor: writing every byte of an existing, resident array
        existing = np.zeros(shape, dtype=dtype)
        return lambda: existing.fill(1.0)
    if ident == "empty_fill":  # the floor for a fresh output: page faults included

        def empty_fill() -> Any:
            out = np.empty(shape, dtype=dtype)
            out.fill(1.0)
            return out

        return empty_fill
    if dtype not in ("float32", "float64"):
        return None
    if ident == "uniform":
        return lambda: rng.random(shape, dtype=dtype)
    if ident == "normal":
        return lambda: rng.standard_normal(shape, dtype=dtype)
    return None


def sync(result: Any) -> Any:
    return result


def info() -> dict[str, Any]:
    import numpy as np

    return {"version": np.__version__, "bit_generator": "PCG64"}
