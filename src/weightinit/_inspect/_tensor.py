"""Stored tensors, read lazily, and the fixed sample ``--stats`` reads from each.

A :class:`TensorRef` knows a tensor's shape and dtype and reads *blocks*:
index tuples that always select one contiguous run of the row-major layout
(so a raw file needs one seek and one read per block, and HDF5 one hyperslab).

The sample (:func:`sample_plan`): a tensor of at most :data:`SAMPLE_SIZE`
values is read whole. A larger one is read in at most :data:`SAMPLE_BLOCKS`
blocks spread evenly over its first axis (for a vector: evenly spaced runs),
each the leading part of its row, ``SAMPLE_SIZE`` values in all. Memory and
time are therefore bounded per tensor whatever the model's size.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ._common import SAMPLE_BLOCKS, SAMPLE_SIZE, InspectError

__all__ = [
    "H5Tensor",
    "Index",
    "RawTensor",
    "TensorRef",
    "ZipStreamTensor",
    "block_bounds",
    "folded_rows_index",
    "read_sample",
    "sample_plan",
]

Index = tuple[slice, ...]


class Readable(Protocol):
    """A forward-only byte stream (a zip member's, guarded against corrupt archives)."""

    def read(self, size: int = -1) -> bytes: ...


def _prefix(shape: tuple[int, ...], budget: int) -> Index:
    """Leading block of ``shape`` (row-major) with at most ``budget`` (>= 1) elements."""
    index: list[slice] = []
    for axis in range(len(shape)):
        inner = math.prod(shape[axis + 1 :])
        if inner <= budget:
            index.append(slice(0, max(1, min(shape[axis], budget // max(inner, 1)))))
            index.extend(slice(0, n) for n in shape[axis + 1 :])
            return tuple(index)
        index.append(slice(0, 1))
    return tuple(index)


def sample_plan(
    shape: tuple[int, ...], sample_size: int = SAMPLE_SIZE, blocks: int = SAMPLE_BLOCKS
) -> list[Index]:
    """The blocks ``--stats`` reads from a tensor of ``shape`` (see the module docstring).

    >>> sample_plan((4, 3))
    [(slice(0, 4, None), slice(0, 3, None))]
    >>> plan = sample_plan((1000, 1000))
    >>> len(plan), plan[1]
    (64, (slice(16, 17, None), slice(0, 1000, None)))
    """
    size = math.prod(shape)
    if size <= sample_size or not shape:
        return [tuple(slice(0, n) for n in shape)]
    if len(shape) == 1:
        n = shape[0]
        run = max(1, sample_size // blocks)
        starts = sorted({round(k * (n - run) / (blocks - 1)) for k in range(blocks)})
        return [(slice(s, s + run),) for s in starts]
    rows, row_size = shape[0], math.prod(shape[1:])
    per_block = max(1, sample_size // blocks)
    full = tuple(slice(0, n) for n in shape[1:])
    if row_size <= per_block:  # blocks of whole consecutive rows
        group = max(1, per_block // max(row_size, 1))
        count = min(blocks, -(-rows // group))
        starts = sorted({round(k * (rows - group) / max(count - 1, 1)) for k in range(count)})
        return [(slice(r, r + group), *full) for r in starts]
    count = min(blocks, rows)
    picked = sorted({round(k * (rows - 1) / max(count - 1, 1)) for k in range(count)})
    rest = _prefix(shape[1:], max(1, sample_size // len(picked)))
    return [(slice(r, r + 1), *rest) for r in picked]


def folded_rows_index(shape: tuple[int, ...], max_values: int) -> Index:
    """Leading whole rows of the ``(prod(shape[:-1]), shape[-1])`` matrix, at most ``max_values`` values."""
    return _prefix(shape, max(shape[-1], max_values))


def block_bounds(shape: tuple[int, ...], index: Index) -> tuple[int, int]:
    """``(flat start, count)`` of a block (a contiguous run by construction)."""
    start = 0
    stride = 1
    for n, s in zip(reversed(shape), reversed(index), strict=True):
        start += (s.start or 0) * stride
        stride *= n
    count = math.prod((s.stop or 0) - (s.start or 0) for s in index)
    return start, count


class TensorRef:
    """A stored tensor: ``shape``, ``dtype`` (numpy) and block reads."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any]

    def read(self, index: Index) -> NDArray[Any]:
        raise NotImplementedError

    def read_blocks(self, indices: Sequence[Index]) -> list[NDArray[Any]]:
        return [self.read(index) for index in indices]

    @property
    def size(self) -> int:
        return math.prod(self.shape)


class RawTensor(TensorRef):
    """A tensor stored as raw bytes at ``offset`` of a file (safetensors, stored zip members, .npy)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        offset: int,
        shape: tuple[int, ...],
        dtype: np.dtype[Any],
        fortran: bool = False,
    ) -> None:
        self.path, self.offset, self.shape, self.dtype, self.fortran = path, offset, shape, dtype, fortran

    def _layout_shape(self) -> tuple[int, ...]:
        return tuple(reversed(self.shape)) if self.fortran else self.shape

    def read(self, index: Index) -> NDArray[Any]:
        if self.fortran:  # read the block of the transposed (row-major) layout, then transpose back
            index = tuple(reversed(index))
        start, count = block_bounds(self._layout_shape(), index)
        width = self.dtype.itemsize
        with open(self.path, "rb") as handle:
            handle.seek(self.offset + start * width)
            data = handle.read(count * width)
        if len(data) != count * width:
            raise InspectError("the file is truncated: a tensor's data ends early.")
        block = np.frombuffer(data, dtype=self.dtype).reshape(
            tuple((s.stop or 0) - (s.start or 0) for s in index)
        )
        return block.T if self.fortran else block


class ZipStreamTensor(TensorRef):
    """A tensor inside a *compressed* zip member (``savez_compressed``): read in one forward pass."""

    def __init__(
        self,
        opener: Callable[[], AbstractContextManager[Readable]],
        offset: int,
        shape: tuple[int, ...],
        dtype: np.dtype[Any],
        fortran: bool = False,
    ) -> None:
        self.opener, self.offset, self.shape, self.dtype, self.fortran = opener, offset, shape, dtype, fortran

    def read(self, index: Index) -> NDArray[Any]:
        return self.read_blocks([index])[0]

    def read_blocks(self, indices: Sequence[Index]) -> list[NDArray[Any]]:
        layout = tuple(reversed(self.shape)) if self.fortran else self.shape
        wanted = [tuple(reversed(i)) if self.fortran else i for i in indices]
        width = self.dtype.itemsize
        spans = [block_bounds(layout, index) for index in wanted]
        order = sorted(range(len(spans)), key=lambda k: spans[k][0])
        out: list[NDArray[Any] | None] = [None] * len(spans)
        with self.opener() as stream:
            position = 0
            for k in order:
                start, count = spans[k]
                target = self.offset + start * width
                while position < target:  # skip forward in bounded chunks
                    step = stream.read(min(1 << 20, target - position))
                    if not step:
                        raise InspectError("the archive is truncated: a tensor's data ends early.")
                    position += len(step)
                data = stream.read(count * width)
                if len(data) != count * width:
                    raise InspectError("the archive is truncated: a tensor's data ends early.")
                position += len(data)
                block = np.frombuffer(data, dtype=self.dtype).reshape(
                    tuple((s.stop or 0) - (s.start or 0) for s in wanted[k])
                )
                out[k] = block.T if self.fortran else block
        return [b for b in out if b is not None]


class H5Tensor(TensorRef):
    """An HDF5 dataset: every block is one hyperslab read (never the whole dataset)."""

    def __init__(self, dataset: Any, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.dataset, self.shape, self.dtype = dataset, shape, dtype

    def read(self, index: Index) -> NDArray[Any]:
        try:
            return np.asarray(self.dataset[index] if index else self.dataset[()])
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            raise InspectError(f"cannot read an HDF5 dataset: {str(exc)[:200]}") from None


def read_sample(tensor: TensorRef, plan: Sequence[Index] | None = None) -> NDArray[np.float64]:
    """The planned blocks of ``tensor`` as one flat float64 array (complex -> real part)."""
    blocks = tensor.read_blocks(list(plan if plan is not None else sample_plan(tensor.shape)))
    if not blocks:
        return np.zeros(0)
    flat = [np.asarray(b).reshape(-1) for b in blocks]
    values = np.concatenate(flat) if len(flat) > 1 else flat[0]
    if values.dtype.kind == "c":
        values = values.real
    return np.asarray(values.astype(np.float64), dtype=np.float64)
