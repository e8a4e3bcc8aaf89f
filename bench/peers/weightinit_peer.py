"""weightinit itself: every initializer the cases name, threads via WEIGHTINIT_NUM_THREADS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _cases import vs_args

REQUIRES = "weightinit"
THREADS = (1, 2)
TRACED = True

_PRESET_CLASSES = {
    "glorot_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal",
    "he_uniform": "HeUniform",
    "he_normal": "HeNormal",
    "lecun_uniform": "LecunUniform",
    "lecun_normal": "LecunNormal",
}


def env(threads: int) -> dict[str, str]:
    # OPENBLAS_NUM_THREADS: Orthogonal's matrix products run in numpy's BLAS
    return {"WEIGHTINIT_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}


def setup(threads: int) -> None:
    import weightinit  # noqa: F401


def _initializer(ident: str) -> Any:
    import weightinit as wi

    if ident == "uniform":
        return wi.RandomUniform(-1.0, 1.0, seed=0)
    if ident == "normal":
        return wi.RandomNormal(0.0, 1.0, seed=0)
    if ident == "truncated_normal":
        return wi.TruncatedNormal(0.0, 1.0, seed=0)
    if ident == "orthogonal":
        return wi.Orthogonal(seed=0)
    if ident in _PRESET_CLASSES:
        return getattr(wi, _PRESET_CLASSES[ident])(seed=0)
    if ident.startswith("vs_"):
        mode, distribution = vs_args(ident)
        return wi.VarianceScaling(2.0, mode, distribution, seed=0)
    return None


def build(case: dict[str, Any]) -> Callable[[], Any] | None:
    init = _initializer(case["id"])
    if init is None:
        return None
    shape, dtype = tuple(case["shape"]), case["dtype"]
    if case["rows"] is None:
        return lambda: init(shape, dtype)
    index = (slice(0, case["rows"]),)
    return lambda: init(shape, dtype, index=index)


def sync(result: Any) -> Any:
    return result


def info() -> dict[str, Any]:
    import weightinit
    from weightinit._engine import _kernel

    return {
        "version": weightinit.__version__ if hasattr(weightinit, "__version__") else "?",
        "kernel": "compiled" if _kernel.available() else "numpy reference",
        "threads": _kernel.num_threads(),
    }
