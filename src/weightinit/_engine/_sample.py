"""The sampling driver: fill (a region of) a tensor from a key, in bounded memory.

``sample`` validates nothing: callers pass a checked shape, region and dtype.
Work is done in chunks of ``CHUNK`` elements, so the extra memory is a few
megabytes whatever the output size; when the compiled kernel is available it
fills the output directly (see ``_kernel``), otherwise the numpy reference
transforms run chunk by chunk. Both give the same bits.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._dtypes import is_bfloat16
from . import _kernel
from ._bits import words_gather, words_range
from ._keys import derive_key
from ._layout import box_tiles, runs_of
from ._target import take_target
from ._transforms import normal_from_bits, uniform_from_bits

__all__ = ["KINDS", "sample"]

KINDS = ("normal", "truncated_normal", "uniform")
CHUNK = 1 << 16
# Runs shorter than this are generated through flat-index gathers, several at a time.
SHORT_RUN = 4096


def work_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """float64 outputs are generated in float64, everything narrower in float32."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _prev_below(x: Any, dtype: np.dtype[Any]) -> Any:
    """The largest value of ``dtype`` strictly below ``x``."""
    if is_bfloat16(dtype):
        bits = int(np.asarray(x, dtype=dtype).view(np.uint16))
        if bits & 0x7FFF == 0:
            bits = 0x8001
        elif bits & 0x8000:
            bits += 1
        else:
            bits -= 1
        return np.asarray(bits, dtype=np.uint16).view(dtype)[()]
    return np.nextafter(dtype.type(x), dtype.type(-np.inf))


class _Transform:
    """Turns words into values of the output dtype for one (kind, params, dtype)."""

    def __init__(self, kind: str, a: float, b: float, dtype: np.dtype[Any]) -> None:
        self.kind = kind
        self.dtype = dtype
        self.work = work_dtype(dtype)
        wtype = self.work.type
        self.wide = self.work == np.float64
        if kind == "uniform":
            self.p0 = wtype(a)
            self.p1 = wtype(b - a)  # width, rounded once to the work precision
            low_t = np.asarray(self.p0, dtype=dtype)[()]
            high_t = np.asarray(wtype(b), dtype=dtype)[()]
            self.constant = None if low_t < high_t else low_t
            self.below_high: Any = _prev_below(high_t, dtype) if self.constant is None else None
        else:
            self.p0 = wtype(a)  # mean
            self.p1 = wtype(b)  # std
            self.constant = None

    def __call__(self, bits: tuple[NDArray[np.uint32], ...], out: NDArray[Any]) -> None:
        if self.kind == "uniform":
            if self.constant is not None:
                out[...] = self.constant
                return
            values = uniform_from_bits(bits, self.p0, self.p1)
            out[...] = values  # casts (round to nearest even) when narrower
            np.minimum(out, self.below_high, out=out)
        else:
            out[...] = normal_from_bits(bits, self.p0, self.p1, self.kind == "truncated_normal")


@functools.lru_cache(maxsize=256)
def _transform_for(
    kind: str, a: float, b: float, signs: tuple[float, float], dtype: np.dtype[Any]
) -> _Transform:
    """A shared ``_Transform`` (read-only once built); ``signs`` keeps 0.0 and -0.0 apart."""
    return _Transform(kind, a, b, dtype)


def sample(
    kind: str,
    seed: int,
    call: int,
    shape: tuple[int, ...],
    region: tuple[tuple[int, int], ...],
    dtype: np.dtype[Any],
    a: float,
    b: float,
    *,
    backend: str | None = None,
    out: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """Values of ``region`` of the ``shape`` tensor drawn from ``kind``.

    ``(a, b)`` is ``(low, high)`` for "uniform" and ``(mean, std)`` otherwise.
    ``backend`` forces "reference" or "kernel" (tests); None picks the fastest.
    ``out``: a writable array of the region's shape and ``dtype`` (any
    non-negative strides, no overlapping elements) to write into and return;
    None takes the array of an enclosing ``writing_into`` when it matches (with
    ``defer=True``: the fill is only prepared, and the array returned unfilled),
    else allocates. The bits are the same in every case.
    """
    out_shape = tuple(stop - start for start, stop in region)
    target = None
    if out is None:
        target = take_target(out_shape, dtype)
        if target is not None:
            out = target.array
    elif out.shape != out_shape or out.dtype != dtype or not out.flags.writeable:
        raise ValueError(f"out must be a writable {dtype} array of shape {out_shape}")
    if out is None:
        out = np.empty(out_shape, dtype=dtype)
    if out.size == 0:
        return out
    job = _Fill(kind, seed, call, shape, region, dtype, a, b, backend, out)
    if target is not None and target.defer:
        target.job = job
    else:
        job()
    return out


class _Fill:
    """Filling ``out`` with ``region`` of the stream: set up when made (down to the kernel's
    arguments), done when called. (With the kernel bound, only ``bound`` is set.)"""

    __slots__ = (
        "a",
        "b",
        "backend",
        "bound",
        "call",
        "dtype",
        "key",
        "kind",
        "out",
        "region",
        "runs",
        "seed",
        "shape",
        "transform",
    )

    def __init__(
        self,
        kind: str,
        seed: int,
        call: int,
        shape: tuple[int, ...],
        region: tuple[tuple[int, int], ...],
        dtype: np.dtype[Any],
        a: float,
        b: float,
        backend: str | None,
        out: NDArray[Any],
    ) -> None:
        key = derive_key(seed, call, kind)
        transform = _transform_for(kind, a, b, (math.copysign(1.0, a), math.copysign(1.0, b)), dtype)
        runs = runs_of(shape, region)
        self.bound: Any = None  # the kernel call, ready (it holds what it needs)
        if _kernel.available() if backend is None else backend == "kernel":
            if out.flags.c_contiguous:
                self.bound = _kernel.bind_runs(kind, key, runs, out.reshape(-1), transform)
            else:
                self.bound = _kernel.bind_strided(kind, key, runs, out, transform)
        if self.bound is None:  # the reference's arguments
            self.kind, self.seed, self.call, self.shape, self.region = kind, seed, call, shape, region
            self.dtype, self.a, self.b, self.backend, self.out = dtype, a, b, backend, out
            self.key, self.transform, self.runs = key, transform, runs

    def __call__(self) -> None:
        if self.bound is not None:
            self.bound()
            return
        if self.backend == "kernel":
            raise RuntimeError("the compiled kernel is not available")
        kind, key, runs, out, transform = self.kind, self.key, self.runs, self.out, self.transform
        if not out.flags.c_contiguous:
            _fill_by_tiles(
                kind, self.seed, self.call, self.shape, self.region, self.dtype, self.a, self.b, out
            )
            return
        flat = out.reshape(-1)
        pos = 0
        if runs.length >= SHORT_RUN:
            for first, stop in runs.batches(1):
                for start in runs.starts(first, stop).tolist():
                    for s in range(start, start + runs.length, CHUNK):
                        e = min(s + CHUNK, start + runs.length)
                        transform(words_range(key, s, e, transform.wide), flat[pos : pos + e - s])
                        pos += e - s
        else:
            offsets = np.arange(runs.length, dtype=np.int64)
            for first, stop in runs.batches(CHUNK):
                idx = (runs.starts(first, stop)[:, None] + offsets[None, :]).reshape(-1)
                transform(words_gather(key, idx, transform.wide), flat[pos : pos + idx.size])
                pos += idx.size
        assert pos == flat.size == math.prod(out.shape)


def _fill_by_tiles(
    kind: str,
    seed: int,
    call: int,
    shape: tuple[int, ...],
    region: tuple[tuple[int, int], ...],
    dtype: np.dtype[Any],
    a: float,
    b: float,
    out: NDArray[Any],
) -> None:
    """Reference path of a strided ``out``: contiguous tiles of the region, copied into place."""
    for tile in box_tiles(region, 4 * CHUNK):
        values = sample(
            kind,
            seed,
            call,
            shape,
            tile,
            dtype,
            a,
            b,
            backend="reference",
            out=np.empty(tuple(e - s for s, e in tile), dtype=dtype),
        )
        out[tuple(slice(s - r0, e - r0) for (s, e), (r0, _) in zip(tile, region, strict=True))] = values
