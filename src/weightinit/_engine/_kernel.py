"""Hook for the compiled kernel (``weightinit._engine._fast``), if it was built.

The kernel implements exactly the reference transforms of ``_transforms`` and
``_bits``; tests compare the two bit for bit. When it is missing (a platform
without a C compiler at install time) or disabled with the environment variable
``WEIGHTINIT_DISABLE_KERNEL=1``, everything runs on the numpy reference.

Threads: ``WEIGHTINIT_NUM_THREADS`` (read at every call) caps the number of
threads; the default is the number of CPUs this process may run on. The values
never depend on it: every element is a function of its flat index only.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from .._dtypes import dtype_name

_fast: Any
try:  # pragma: no cover - depends on the build
    _fast = importlib.import_module("._fast", __package__)
except ImportError:  # pragma: no cover
    _fast = None

__all__ = ["available", "bind_runs", "bind_strided", "getenv", "num_threads"]

KIND_CODES = {"uniform": 0, "normal": 1, "truncated_normal": 2}
# by dtype name, so that bfloat16 needs no import of ml_dtypes here
DTYPE_CODES = {"float32": 0, "float64": 1, "float16": 2, "bfloat16": 3}
MAX_OUTER_DIMS = 64
# Instruction set of the compiled loops: -1 is the best this CPU supports; tests
# set an index of ``_fast.isas()`` to check every variant against the reference.
isa = -1


getenv: Any
"""``getenv(name)``: ``os.environ.get(name)``, read at every call.

On POSIX with the kernel built, C ``getenv`` (os.environ sets and unsets through
``putenv`` / ``unsetenv``, so both see the same): os.environ's own lookup raises
and catches a KeyError for every unset name, about 40 us per read with cold
caches, when a whole small call took 180 us.
"""
if _fast is not None and os.name == "posix":
    getenv = _fast.getenv
else:  # pragma: no cover - Windows, or no kernel
    getenv = os.environ.get


def available() -> bool:
    """The extension was built and imported, and ``WEIGHTINIT_DISABLE_KERNEL`` is not set."""
    return _fast is not None and (getenv("WEIGHTINIT_DISABLE_KERNEL") or "") in ("", "0")


def _affinity_count() -> int:
    return len(os.sched_getaffinity(0))


# the CPUs this process may run on, asked at every call (affinity can change)
_cpus: Any
if hasattr(os, "process_cpu_count"):  # pragma: no cover - Python >= 3.13
    _cpus = os.process_cpu_count
elif hasattr(os, "sched_getaffinity"):
    _cpus = _affinity_count
else:  # pragma: no cover
    _cpus = os.cpu_count


def _cpu_count() -> int:
    return max(1, _cpus() or 1)


def num_threads() -> int:
    """Threads per call: the CPU count, capped by ``WEIGHTINIT_NUM_THREADS`` when set."""
    env = (getenv("WEIGHTINIT_NUM_THREADS") or "").strip()
    if env:
        try:
            cap = int(env)
        except ValueError:
            cap = 0
        if cap == 1:  # (asking for the CPUs is a system call)
            return 1
        if cap > 1:
            return min(_cpu_count(), cap)
    return _cpu_count()


@functools.lru_cache(maxsize=256)
def _runs_args(runs: Any) -> tuple[Any, ...]:
    """The kernel's arguments for the element runs (``Runs`` are immutable and shared)."""
    return (
        int(runs.length),
        int(runs.base) & 0xFFFFFFFFFFFFFFFF,
        tuple(map(int, runs.outer_sizes)),
        tuple(map(int, runs.outer_offsets)),
        tuple(map(int, runs.outer_strides)),
    )


@functools.lru_cache(maxsize=256)  # (transforms are shared and read-only)
def _transform_args(kind: str, transform: Any) -> tuple[float, float, float]:
    """The kernel's transform parameters ``(p0, p1, below_high)``."""
    bh = float(transform.below_high) if kind == "uniform" else 0.0
    return float(transform.p0), float(transform.p1), bh


def _usable(kind: str, out: Any, runs: Any) -> int | None:
    """The kernel's dtype code for writing ``runs`` into ``out``, or None if it cannot."""
    code = DTYPE_CODES.get(dtype_name(out.dtype))
    flags = out.flags
    if (
        code is None
        or kind not in KIND_CODES
        or not flags.writeable
        or not flags.aligned  # the kernel refuses misaligned items: the reference writes them
        or len(runs.outer_sizes) > MAX_OUTER_DIMS
        or (out.size and out.size != runs.count * runs.length)
    ):
        return None
    return code


def _nothing() -> None:
    """The fill of an empty output."""


def _assign(out: Any, value: Any) -> None:
    out[...] = value


def bind_runs(
    kind: str, key: tuple[int, int], runs: Any, flat: Any, transform: Any
) -> Callable[[], None] | None:
    """The kernel's fill of ``flat`` with the values of ``runs``, made ready: a function of no
    arguments (every argument checked and converted now), or None if the kernel cannot.

    ``runs`` is a ``_layout.Runs``, ``flat`` the contiguous 1-D output (its
    elements in run order) and ``transform`` the ``_sample._Transform`` whose
    parameters (already rounded to the work precision) the kernel uses.
    The caller decides whether to use the kernel (``available``).
    """
    if _fast is None:
        return None
    code = _usable(kind, flat, runs)
    if code is None or flat.ndim != 1 or not flat.flags.c_contiguous:
        return None
    if flat.size == 0:
        return _nothing
    if transform.constant is not None:
        return functools.partial(_assign, flat, transform.constant)  # exactly what the reference writes
    return functools.partial(
        _fast.fill,
        KIND_CODES[kind],
        code,
        int(key[0]) & 0xFFFFFFFF,
        int(key[1]) & 0xFFFFFFFF,
        flat.view(np.uint8),
        *_runs_args(runs),
        *_transform_args(kind, transform),
        # one chunk of work runs on the calling thread anyway: skip asking for the CPUs
        num_threads() if flat.size > _fast.CHUNK else 1,
        isa,
    )


def bind_strided(
    kind: str, key: tuple[int, int], runs: Any, out: Any, transform: Any
) -> Callable[[], None] | None:
    """Like :func:`bind_runs` for a strided ``out`` (the region's shape, non-negative strides,
    no overlapping elements, writable); the scratch is allocated when the function runs."""
    if _fast is None or not hasattr(_fast, "fill_strided"):
        return None
    code = _usable(kind, out, runs)
    if code is None or out.ndim > MAX_OUTER_DIMS or min(out.strides, default=0) < 0:
        return None
    if out.size == 0:
        return _nothing
    if transform.constant is not None:
        return functools.partial(_assign, out, transform.constant)
    isz = out.dtype.itemsize
    chunk = _scatter_chunk(out.shape[-1] if out.ndim else 1, isz)
    return functools.partial(
        _strided,
        chunk * isz,  # the calling thread's scratch
        (
            KIND_CODES[kind],
            code,
            int(key[0]) & 0xFFFFFFFF,
            int(key[1]) & 0xFFFFFFFF,
        ),
        (
            out.ctypes.data,
            out.shape,
            out.strides,
            *_runs_args(runs),
            *_transform_args(kind, transform),
            num_threads() if out.size > chunk else 1,
            isa,
        ),
        out,  # kept alive until the fill is done
    )


@functools.lru_cache(maxsize=256)
def _scatter_chunk(last: int, isz: int) -> int:
    """Elements per chunk of a strided fill whose last axis has ``last`` elements of ``isz``
    bytes: whole rows of the last axis, a multiple of a cache line of them, about
    SCATTER_CHUNK elements when rows are short. Every chunk of a transposing destination (a
    Keras (in, out) matrix into torch's (out, in) memory) then starts on a line boundary and
    writes whole lines, which the kernel streams."""
    line = 64 // isz
    if last <= (1 << 20):
        return int(last * max(line, _fast.SCATTER_CHUNK // last // line * line))
    return int(_fast.SCATTER_CHUNK)


def _strided(scratch_bytes: int, head: tuple[Any, ...], tail: tuple[Any, ...], out: Any) -> None:
    _fast.fill_strided(*head, np.empty(scratch_bytes, dtype=np.uint8), *tail)
