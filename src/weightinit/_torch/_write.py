"""Writing (parts of) a Keras-layout weight into torch tensors.

A *Keras weight* is what one Keras initializer call makes: a shape in Keras's
layout and an initializer. It lands in one or more *parts*: a box of the Keras
array that fills a block of rows of a torch tensor, permuted. A Linear weight
is one part (the whole kernel, transposed); a GRU kernel is three (its gate
columns, reordered into torch's gate rows).

For each part only the rows the process holds are generated: a plain tensor
holds all of them, a DTensor its local shard. The Keras box of those rows is
generated with ``index=`` (bitwise the same slice of the whole) and written:

* CPU: straight into the tensor's memory, seen through numpy in Keras axis
  order; the engine writes there itself (``writing_into``), transposing on
  the fly in bounded scratch, so there is no temporary of the tensor's size.
  Zeros, Ones and scalar Constants are filled by torch (any device).
  Initializers that do not go through the engine's sampler (Orthogonal, an
  array Constant, custom callables) return an array, which is copied in.
* other devices: generated on the CPU, then copied to the device once,
  through a small pinned staging buffer for large tensors.

A :class:`Writer` plans all the weights of a call first and writes afterwards
(see its docstring).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from numpy.typing import NDArray

from .._base import BuiltinInitializer
from .._constant import Constant, Ones, Zeros
from .._engine import writing_into
from .._engine._layout import box_tiles
from .._errors import InvalidArgumentError, InvalidTypeError, short_repr
from .._random import RandomInitializer
from ._tensors import Shards, as_numpy, from_numpy, touched

__all__ = ["Part", "Writer", "write_weight"]

Box = tuple[tuple[int, int], ...]

#: copies to a device go through staging buffers of this many bytes
STAGE_BYTES = 8 << 20


class Part(NamedTuple):
    """A box of a Keras weight stored in rows ``rows`` of a torch tensor.

    ``perm[j]`` is the Keras axis of torch axis ``j`` (of the block); Keras
    axes missing from ``perm`` have extent 1 in ``keras_box`` and no torch axis.
    ``rows`` None: the block is the whole tensor. (A named tuple: init_module
    makes one or more for every weight of a model.)
    """

    tensor: torch.Tensor
    keras_box: Box
    perm: tuple[int, ...]
    rows: tuple[int, int] | None = None


def _direct(init: Any) -> bool:
    """Whether ``init`` is one of weightinit's random initializers, whose first ``sample`` call
    makes the output (so the engine may write it into the tensor; see ``_engine._target``)."""
    cls = type(init)
    return (
        isinstance(init, RandomInitializer)
        and cls.__call__ is BuiltinInitializer.__call__
        and cls.__module__.startswith("weightinit.")
    )


#: _direct of each initializer class met so far
_DIRECT: dict[type[Any], bool] = {}


def _fill_value(init: Any, dtype: np.dtype[Any]) -> torch.Tensor:
    """The one value of a constant ``init`` (Zeros, Ones, a scalar Constant) in ``dtype``, as a 0-d
    CPU tensor made by the initializer (range-checked and rounded as it does: a Python float
    would be rounded again by torch)."""
    value = init.value.item() if isinstance(init.value, np.ndarray) else init.value
    return _made_value(type(init).__name__, repr(value), value, dtype)


_FILLS = {"Zeros": Zeros, "Ones": Ones, "Constant": Constant}


@functools.lru_cache(maxsize=64)
def _made_value(name: str, text: str, value: Any, dtype: np.dtype[Any]) -> torch.Tensor:
    """The 0-d tensor ``name(value)`` makes in ``dtype`` (``text``, the value's repr, keeps 1,
    1.0, True, 0.0 and -0.0 apart, which compare equal)."""
    init = Constant(value) if name == "Constant" else _FILLS[name]()
    return from_numpy(np.ascontiguousarray(init((1,), dtype))).reshape(())


def _call(init: Any, shape: tuple[int, ...], dtype: np.dtype[Any], box: Box) -> NDArray[Any]:
    """``init``'s values for ``box`` of ``shape`` as a numpy array of exactly that box."""
    whole = all(lo == 0 and hi == n for (lo, hi), n in zip(box, shape, strict=True))
    index = None if whole else tuple(slice(lo, hi) for lo, hi in box)
    if isinstance(init, BuiltinInitializer):
        values = init(shape, dtype, index=index)
    else:  # any callable(shape, dtype): the whole tensor, then the box
        made = init(shape, dtype=dtype.name)
        if isinstance(made, torch.Tensor):
            made = made.detach().cpu()
            made = made.float().numpy() if made.dtype == torch.bfloat16 else made.numpy()
        values = np.asarray(made)
        if values.shape != shape:
            raise InvalidArgumentError(
                f"The initializer {short_repr(init)} returned shape {values.shape} for shape {shape}."
            )
        if values.dtype.kind not in "fiub":
            raise InvalidTypeError(
                f"The initializer {short_repr(init)} returned dtype {values.dtype}; expected numbers."
            )
        if index is not None:
            values = values[index]
        values = values.astype(dtype, copy=False)
    return np.asarray(values)


@functools.lru_cache(maxsize=256)
def _axes(perm: tuple[int, ...], rank: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(order, missing)``: the torch axes in Keras order, and the Keras axes not in ``perm``."""
    order = tuple(sorted(range(len(perm)), key=lambda j: perm[j]))
    return order, tuple(k for k in range(rank) if k not in perm)


def _keras_view(block: Any, perm: tuple[int, ...], rank: int) -> Any:
    """The block (a numpy view of a tensor's memory, or a tensor) seen in Keras axis order, with
    size-1 axes for Keras axes not in ``perm``."""
    order, missing = _axes(perm, rank)
    if isinstance(block, np.ndarray):
        view = block.transpose(order)
        return np.expand_dims(view, missing) if missing else view
    view = block.permute(order)
    for k in missing:
        view = view.unsqueeze(k)
    return view


def _to_device(values: NDArray[Any], dst: torch.Tensor, stage_bytes: int = STAGE_BYTES) -> None:
    """Copy host ``values`` into ``dst`` (any device, same shape): one copy, staged when large."""
    if values.nbytes <= stage_bytes:
        dst.copy_(from_numpy(np.ascontiguousarray(values)))
        return
    pin = dst.device.type == "cuda" and torch.cuda.is_available()
    per = max(1, stage_bytes // values.itemsize)
    buffers = [torch.empty(per * values.itemsize, dtype=torch.uint8, pin_memory=pin) for _ in range(2)]
    events: list[Any] = [None, None]
    region = tuple((0, n) for n in values.shape)
    for i, tile in enumerate(box_tiles(region, per)):
        slot = i % 2
        if events[slot] is not None:
            events[slot].synchronize()  # the copy that used this buffer is done
        shape = tuple(hi - lo for lo, hi in tile)
        n = math.prod(shape)
        stage = as_numpy(buffers[slot][: n * values.itemsize].view(dst.dtype)).reshape(shape)
        index = tuple(slice(lo, hi) for lo, hi in tile)
        np.copyto(stage, values[index])
        dst[index].copy_(from_numpy(stage), non_blocking=pin)
        if pin:
            events[slot] = torch.cuda.Event()  # type: ignore[no-untyped-call]
            events[slot].record()
    for event in events:
        if event is not None:
            event.synchronize()


#: what _box_of finds for a block this process holds no rows of (compared by identity)
_NOTHING: tuple[Any, Box] = (None, ())


def _box_of(part: Part, offset: tuple[int, ...], held: tuple[int, ...]) -> tuple[Any, Box]:
    """``(index into the local tensor, or None for all of it; the Keras box of those rows)`` of
    ``part`` for a process holding the block ``held`` (its local shape) at ``offset`` of the
    part's tensor; :data:`_NOTHING` if it holds none of the part's rows."""
    if math.prod(held) == 0:  # (also a rank outside the DTensor's mesh, whose local is 1-D)
        return _NOTHING
    keras = list(part.keras_box)
    slices = []
    whole = True
    for j, (n_global, off, n) in enumerate(zip(part.tensor.shape, offset, held, strict=True)):
        blo, bhi = part.rows if j == 0 and part.rows is not None else (0, n_global)
        lo, hi = max(blo, off), min(bhi, off + n)
        if lo >= hi:
            return _NOTHING
        whole = whole and lo == off and hi == off + n
        slices.append(slice(lo - off, hi - off))
        k = part.perm[j]
        start = part.keras_box[k][0]
        keras[k] = (start + lo - blo, start + hi - blo)
    return (None if whole else tuple(slices)), tuple(keras)


def _plan(
    part: Part, local: torch.Tensor, offset: tuple[int, ...], memo: dict[Any, Any]
) -> tuple[Any, Box] | None:
    """``(index of the block in the local tensor or None for all of it, the block's Keras
    box)``: the rows of ``part`` this process holds (``local``, at ``offset`` in the part's
    tensor), or None if it holds none.

    ``memo`` keeps the boxes found in this pass: a model repeats few geometries (every layer
    of a transformer shards alike).
    """
    held = local.shape
    key = (part.keras_box, part.perm, part.rows, part.tensor.shape, offset, held)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _box_of(part, offset, held)
    return None if found is _NOTHING else found


class Writer:
    """Writes Keras weights into their parts in two phases: :meth:`add` plans every weight
    (checks, shards, the engine's set-up: all the Python work), :meth:`run` then does the
    writes back to back.

    Filling hundreds of megabytes sweeps the caches; planning first keeps the Python work of
    a model's hundreds of tensors from running again and again on cold caches, and an error
    found while planning (a bad dtype, an out-of-range initializer) leaves every tensor
    untouched. Runs under ``torch.no_grad()`` (the caller's).
    """

    __slots__ = ("_boxes", "_fills", "_jobs", "_rows", "_shards", "_touched", "_values")

    def __init__(self) -> None:
        #: every tensor's local shard, found and checked (dtype, meta, overlap) once
        self._shards = Shards()
        self._fills: list[tuple[Callable[[Any], Any], Any]] = []  # (fill_, value): run first
        self._jobs: list[Callable[[], Any]] = []
        self._touched: dict[int, torch.Tensor] = {}  # tensors written through numpy
        self._values: dict[tuple[int, np.dtype[Any]], torch.Tensor] = {}  # constants' fill values
        self._boxes: dict[Any, Any] = {}  # _plan's memo
        #: constants over blocks of rows: (id(local), id(value)) -> (local, value, indices)
        self._rows: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor, list[Any]]] = {}

    def add(self, init: Any, shape: tuple[int, ...], parts: Sequence[Part], what: str = "the tensor") -> None:
        """Plan the Keras weight ``init(shape)`` (only the boxes held here) into its parts
        (``what`` names their tensor in errors)."""
        cls = type(init)
        constant = cls is Zeros or cls is Ones or (cls is Constant and np.ndim(init.value) == 0)
        direct = _DIRECT.get(cls)
        if direct is None:
            direct = _DIRECT[cls] = _direct(init)
        for part in parts:
            local, offset, dtype = self._shards.local_part(part.tensor, what)
            if constant and part.rows is None:  # one value over the whole (local) tensor
                index, box = None, part.keras_box
            else:
                found = _plan(part, local, offset, self._boxes)
                if found is None:
                    continue
                index, box = found
            if constant:  # biases and norms: one value, filled by torch on any device
                value = self._values.get((id(init), dtype))
                if value is None:  # (the initializer outlives the plan: its id is its own)
                    value = self._values[id(init), dtype] = _fill_value(init, dtype)
                if index is None:  # (fill_ bumps the tensor's version itself)
                    self._fills.append((local.fill_, value if local.is_cpu else value.to(local.device)))
                else:  # rows of it: merged with the other rows of the same value (see run)
                    self._rows.setdefault((id(local), id(value)), (local, value, []))[2].append(index)
                continue
            self._touched[id(local)] = local
            if not local.is_cpu:
                block = local if index is None else local[index]
                job = functools.partial(_copy_to_device, init, shape, dtype, box, block, part.perm)
                self._jobs.append(job)
                continue
            array = as_numpy(local)
            view = _keras_view(array if index is None else array[index], part.perm, len(shape))
            if direct:
                with writing_into(view, defer=True) as target:
                    values = init._call_region(shape, dtype, box)
                if values is view:  # the engine's fill of the tensor's memory, prepared
                    if target.job is not None:
                        self._jobs.append(target.job)
                    continue
            self._jobs.append(functools.partial(_copy_in, init, shape, dtype, box, view))

    def then(self, action: Callable[[], Any]) -> None:
        """Run ``action`` once everything added so far is written (padding rows, ...)."""
        self._jobs.append(action)

    def run(self) -> None:
        """Do the planned writes: the constants, then the rest in order (no two writes of a
        plan overlap, and the actions of :meth:`then` come after every write).

        The planning state is dropped first, and each write as soon as it is done: freeing
        objects costs least while they are in the caches, which every large write sweeps.
        """
        for local, value, indices in self._rows.values():
            if not local.is_cpu:
                value = value.to(local.device)
            if _all_rows(local.shape, indices):  # (an attention's q, k and v biases on a rank)
                self._fills.append((local.fill_, value))
            else:
                self._fills.extend((local[index].fill_, value) for index in indices)
        self._rows = {}
        fills, jobs, self._fills, self._jobs = self._fills, self._jobs, [], []
        touched(list(self._touched.values()))  # autograd's version counters: numpy's writes do not bump them
        self._touched = {}
        self._shards, self._boxes, self._values = Shards(), {}, {}
        for fill, value in fills:
            fill(value)
        del fills
        jobs.reverse()
        while jobs:
            jobs.pop()()


def _all_rows(shape: tuple[int, ...], indices: list[Any]) -> bool:
    """Whether the blocks ``indices`` (from :func:`_box_of`) are whole rows that tile all of a
    tensor of ``shape``."""
    for index in indices:
        for sl, n in zip(index[1:], shape[1:], strict=True):
            if sl.start != 0 or sl.stop != n:
                return False
    end = 0
    for lo, hi in sorted((index[0].start, index[0].stop) for index in indices):
        if lo != end:
            return False
        end = hi
    return end == shape[0]


def _copy_in(init: Any, shape: tuple[int, ...], dtype: np.dtype[Any], box: Box, view: NDArray[Any]) -> None:
    """Initializers that return an array of their own (Orthogonal, custom callables): made
    now, copied into the tensor's (Keras-order) view."""
    np.copyto(view, _call(init, shape, dtype, box).reshape(view.shape))


def _copy_to_device(
    init: Any,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    box: Box,
    block: torch.Tensor,
    perm: tuple[int, ...],
) -> None:
    """Another device: the values made on the CPU, copied into the block once."""
    values = _call(init, shape, dtype, box)
    _to_device(values.reshape(tuple(hi - lo for lo, hi in box)), _keras_view(block, perm, len(shape)))


def write_weight(init: Any, shape: tuple[int, ...], parts: Sequence[Part]) -> None:
    """Generate the Keras weight ``init(shape)`` (only the boxes held here) into its parts now."""
    writer = Writer()
    writer.add(init, shape, parts)
    writer.run()
