"""torch tensors seen as numpy arrays, dtypes, DTensor shards and version counters."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from .._dtypes import resolve_dtype
from .._errors import InvalidArgumentError, InvalidTypeError

__all__ = ["as_numpy", "Shards", "from_numpy", "local_part", "numpy_dtype", "shard_box", "touched"]

_NAMES = {
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.float32: "float32",
    torch.float64: "float64",
}


_NUMPY: dict[torch.dtype, np.dtype[Any]] = {}


def numpy_dtype(tensor: torch.Tensor, what: str = "tensor") -> np.dtype[Any]:
    """The numpy dtype weightinit generates for a floating torch tensor; errors for the rest."""
    found = _NUMPY.get(tensor.dtype)
    if found is not None:
        return found
    name = _NAMES.get(tensor.dtype)
    if name is None:
        raise InvalidTypeError(
            f"Cannot initialize {what} of dtype {tensor.dtype}: weightinit fills floating tensors "
            "(torch.float16, torch.bfloat16, torch.float32, torch.float64) only."
        )
    found = _NUMPY[tensor.dtype] = resolve_dtype(name, (name,), "weightinit.torch")
    return found


def as_numpy(tensor: torch.Tensor) -> NDArray[Any]:
    """A writable numpy view of a CPU tensor's memory (same strides; bfloat16 through ml_dtypes)."""
    t = tensor.detach() if tensor.requires_grad else tensor  # (a DTensor's local needs no detach)
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(numpy_dtype(t))
    return t.numpy()


def from_numpy(array: NDArray[Any]) -> torch.Tensor:
    """A CPU tensor sharing ``array``'s memory (bfloat16 through its bits)."""
    if array.dtype.name == "bfloat16":
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(array)


def _is_dtensor(tensor: torch.Tensor) -> bool:
    module = sys.modules.get("torch.distributed.tensor")
    return module is not None and isinstance(tensor, module.DTensor)


@functools.cache
def _dtensor_api() -> tuple[type[Any], type[Any]]:
    """``(Shard, Replicate)``, imported once."""
    from torch.distributed.tensor import Replicate, Shard

    return Shard, Replicate


def shard_box(
    shape: tuple[int, ...], mesh_shape: tuple[int, ...], coordinate: Sequence[int], placements: Sequence[Any]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(local shape, global offset)`` of the shard at ``coordinate`` of a tensor of ``shape``
    placed on a mesh of ``mesh_shape`` with Shard(d) / Replicate ``placements``.

    Mesh dimensions shard from left to right, each chunking the current extent
    of its tensor dimension as ``torch.chunk`` does (chunks of ``ceil(n /
    chunks)``, the last ones shorter or empty; torch's
    ``Shard.local_shard_size_and_offset``); an empty shard sits at the end of
    the dimension, where torch puts it. Tests hold it equal to torch's
    ``compute_local_shape_and_global_offset``, which computes with tensors and
    takes about 100 us a call.
    """
    shard, _ = _dtensor_api()
    size, offset = list(shape), [0] * len(shape)
    for placement, chunks, index in zip(placements, mesh_shape, coordinate, strict=True):
        if type(placement) is shard:
            d = placement.dim
            full = -(-size[d] // chunks)
            start = min(size[d], full * index)
            n = min(size[d], start + full) - start
            offset[d] = offset[d] + start if n else shape[d]
            size[d] = n
    return tuple(size), tuple(offset)


def local_part(
    tensor: torch.Tensor, meshes: dict[Any, Any] | None = None
) -> tuple[torch.Tensor, tuple[int, ...], bool]:
    """``(local tensor, its offset in the global tensor, is_dtensor)``.

    For a DTensor (any mesh; Shard(d) / Replicate placements, uneven shards
    included) the local shard and where it sits, as torch's own chunking puts
    it; for a plain tensor the tensor itself at offset 0. ``meshes`` keeps,
    for one pass over a model (``Shards``), each mesh's shape and this rank's
    coordinate and the shard boxes found so far.
    """
    if not _is_dtensor(tensor):
        return tensor, (0,) * tensor.dim(), False
    return (*_dtensor_part(tensor, meshes), True)


def _dtensor_part(tensor: Any, meshes: dict[Any, Any] | None) -> tuple[torch.Tensor, tuple[int, ...]]:
    """:func:`local_part` of a DTensor: ``(local tensor, offset)``."""
    mesh, placements = tensor.device_mesh, tensor.placements
    # under no_grad, to_local is the DTensor's own local tensor (read here without the
    # Parameter wrapper to_local adds for parameters: only its memory is written)
    local = None if torch.is_grad_enabled() else getattr(tensor, "_local_tensor", None)
    if local is None:
        local = tensor.to_local()
    key = (id(mesh), placements, tensor.shape)  # (the shard's box depends on nothing else)
    found = None if meshes is None else meshes.get(key)
    if found is None:
        found = _shard_of(tensor, mesh, placements, meshes)
        if meshes is not None:
            meshes[key] = found
    shape, offset = found
    if shape is not None and local.shape != shape:  # pragma: no cover - torch's own invariant
        raise InvalidArgumentError(
            f"DTensor local shard has shape {tuple(local.shape)}, expected {shape} at {offset}."
        )
    return local, offset


def _shard_of(
    tensor: torch.Tensor, mesh: Any, placements: Sequence[Any], meshes: dict[Any, Any] | None
) -> tuple[tuple[int, ...] | None, tuple[int, ...]]:
    """``(local shape, offset)`` of this rank's shard of a DTensor (see :func:`local_part`);
    the shape is None on a rank outside the mesh (its local tensor is empty, of any shape)."""
    kinds = _dtensor_api()
    for placement in placements:
        if type(placement) not in kinds:  # not Partial, nor a strided shard
            raise InvalidArgumentError(
                f"Cannot initialize a DTensor with placement {placement!r}: weightinit fills "
                "Shard(d) and Replicate placements (a Partial tensor has no values of its own)."
            )
    found = None if meshes is None else meshes.get(id(mesh))
    if found is None:
        found = (tuple(mesh.shape), mesh.get_coordinate())
        if meshes is not None:
            meshes[id(mesh)] = found
    mesh_shape, coordinate = found
    if coordinate is None:  # a sub-mesh without this rank: it holds nothing (an empty local)
        return None, (0,) * tensor.dim()
    return shard_box(tuple(tensor.shape), mesh_shape, coordinate, placements)


class Shards:
    """Each tensor's :func:`local_part`, found and checked once per pass over a model (whose
    tensors and meshes stay alive and unchanged meanwhile)."""

    __slots__ = ("_dtensor", "_meshes", "_parts")

    def __init__(self) -> None:
        self._parts: dict[int, tuple[torch.Tensor, tuple[int, ...], np.dtype[Any]]] = {}
        self._meshes: dict[Any, Any] = {}
        module = sys.modules.get("torch.distributed.tensor")  # (no DTensor exists before it)
        self._dtensor: type[Any] | None = None if module is None else module.DTensor

    def local_part(
        self, tensor: torch.Tensor, what: str = "the tensor"
    ) -> tuple[torch.Tensor, tuple[int, ...], np.dtype[Any]]:
        """``(local tensor, offset, numpy dtype)``: :func:`local_part` and :func:`numpy_dtype`,
        after checking on the local tensor that it can be written in place (``what`` names the
        tensor in the errors)."""
        found = self._parts.get(id(tensor))
        if found is None:
            dtype = numpy_dtype(tensor, what)
            if self._dtensor is not None and isinstance(tensor, self._dtensor):
                local, offset = _dtensor_part(tensor, self._meshes)
            else:
                local, offset = tensor, (0,) * tensor.dim()
            check_writable(local, what)
            found = self._parts[id(tensor)] = (local, offset, dtype)
        return found


def check_writable(local: torch.Tensor, what: str) -> None:
    """Refuse tensors that cannot be filled in place (meta, overlapping memory)."""
    if local.is_meta:
        raise InvalidArgumentError(
            f"Cannot initialize {what} on the meta device: it has no memory. Allocate it first, "
            "e.g. module.to_empty(device='cpu'), then initialize."
        )
    if local.numel() > 1 and not local.is_contiguous() and torch._debug_has_internal_overlap(local) == 1:
        raise InvalidArgumentError(
            f"Cannot initialize {what} in place: several of its elements share memory (an expanded view)."
        )


def touched(locals_: Sequence[torch.Tensor]) -> None:
    """Tell autograd these tensors changed in place (numpy writes do not bump their versions)."""
    if locals_:
        torch.autograd.graph.increment_version(locals_)
