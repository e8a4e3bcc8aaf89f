"""torch tensors seen as numpy arrays, dtypes, DTensor shards and version counters."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from .._dtypes import resolve_dtype
from .._errors import InvalidArgumentError, InvalidTypeError

__all__ = ["as_numpy", "Shards", "from_numpy", "local_part", "numpy_dtype", "touched"]

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
    t = tensor.detach()
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


def local_part(
    tensor: torch.Tensor, offsets: dict[Any, tuple[Any, Any]] | None = None
) -> tuple[torch.Tensor, tuple[int, ...], bool]:
    """``(local tensor, its offset in the global tensor, is_dtensor)``.

    For a DTensor (any mesh; Shard(d) / Replicate placements, uneven shards
    included) the local shard and where it sits, as torch's own chunking puts
    it; for a plain tensor the tensor itself at offset 0. ``offsets``
    remembers torch's answer per (global shape, mesh, placements).
    """
    if not _is_dtensor(tensor):
        return tensor, (0,) * tensor.dim(), False
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    mesh, placements = tensor.device_mesh, tuple(tensor.placements)  # type: ignore[attr-defined]
    for placement in placements:
        if type(placement) not in (Shard, Replicate):  # not Partial, nor a strided shard
            raise InvalidArgumentError(
                f"Cannot initialize a DTensor with placement {placement!r}: weightinit fills "
                "Shard(d) and Replicate placements (a Partial tensor has no values of its own)."
            )
    local = tensor.to_local()  # type: ignore[attr-defined]
    key = (tuple(tensor.shape), mesh, placements)
    found = None if offsets is None else offsets.get(key)
    if found is None:
        found = compute_local_shape_and_global_offset(tensor.shape, mesh, placements)
        if offsets is not None:
            offsets[key] = found
    shape, offset = found
    if tuple(local.shape) != tuple(shape):  # pragma: no cover - torch's own invariant
        raise InvalidArgumentError(
            f"DTensor local shard has shape {tuple(local.shape)}, expected {tuple(shape)} at {tuple(offset)}."
        )
    return local, tuple(int(o) for o in offset), True


class Shards:
    """Each tensor's :func:`local_part`, found once per pass over a model (whose tensors stay
    alive and unchanged meanwhile); tensors of one shape on one mesh share torch's answer."""

    def __init__(self) -> None:
        self._parts: dict[int, tuple[torch.Tensor, tuple[int, ...], bool]] = {}
        self._offsets: dict[Any, tuple[Any, Any]] = {}

    def local_part(self, tensor: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...], bool]:
        found = self._parts.get(id(tensor))
        if found is None:
            found = self._parts[id(tensor)] = local_part(tensor, self._offsets)
        return found


def check_writable(local: torch.Tensor, what: str) -> None:
    """Refuse tensors that cannot be filled in place (meta, overlapping memory)."""
    if local.is_meta:
        raise InvalidArgumentError(
            f"Cannot initialize {what} on the meta device: it has no memory. Allocate it first, "
            "e.g. module.to_empty(device='cpu'), then initialize."
        )
    if local.numel() > 1 and torch._debug_has_internal_overlap(local) == 1:
        raise InvalidArgumentError(
            f"Cannot initialize {what} in place: several of its elements share memory (an expanded view)."
        )


def touched(local: torch.Tensor) -> None:
    """Tell autograd the tensor changed in place (numpy writes do not bump its version)."""
    torch.autograd.graph.increment_version(local)
