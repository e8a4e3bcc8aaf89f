"""torch.nn.init (torch 2.13 CPU) on a freshly allocated tensor, threads via torch.set_num_threads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REQUIRES = "torch"
THREADS = (1, 2)
TRACED = False  # torch's allocator is invisible to tracemalloc

# id -> (torch.nn.init call, dtypes it is run at); each is the same distribution as weightinit's id
_OPS: dict[str, tuple[Callable[[Any], Any], tuple[str, ...]]] = {}
ALL = ("float32", "float16", "bfloat16", "float64")


def env(threads: int) -> dict[str, str]:
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def setup(threads: int) -> None:
    import torch
    from torch.nn import init

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    _OPS.update(
        {
            "uniform": (lambda t: init.uniform_(t, -1.0, 1.0), ALL),
            "normal": (lambda t: init.normal_(t, 0.0, 1.0), ALL),
            # Keras semantics: bounds at +-2 std
            "truncated_normal": (lambda t: init.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0), ("float32",)),
            "glorot_uniform": (init.xavier_uniform_, ("float32",)),
            # U(+-sqrt(6 / fan_in)) and N(0, 2 / fan_in): Keras HeUniform and VarianceScaling(2, fan_in)
            "he_uniform": (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), ("float32",)),
            "vs_fan_in_untruncated_normal": (
                lambda t: init.kaiming_normal_(t, nonlinearity="relu"),
                ("float32",),
            ),
            "orthogonal": (init.orthogonal_, ("float32",)),
        }
    )


def build(case: dict[str, Any]) -> Callable[[], Any] | None:
    import torch

    op, dtypes = _OPS.get(case["id"], (None, ()))
    if op is None or case["dtype"] not in dtypes or case["rows"] is not None:
        return None
    shape, dtype = tuple(case["shape"]), getattr(torch, case["dtype"])
    return lambda: op(torch.empty(shape, dtype=dtype))


def sync(result: Any) -> Any:
    return result


def info() -> dict[str, Any]:
    import torch

    config = torch.__config__.show()
    build_line = next((line for line in config.splitlines() if "BLAS_INFO" in line), "")
    blas = [part.strip() for part in build_line.split(",") if "BLAS_INFO" in part or "LAPACK_INFO" in part]
    return {
        "version": torch.__version__,
        "blas": blas,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
    }
