"""PyTorch checkpoints (``torch.save`` zip format): a pickle of containers and tensor stubs, and raw storages.

The pickle is read by a *restricted* unpickler that knows a closed list of
globals (``OrderedDict``, torch's tensor-rebuild functions and storage types)
and maps each to a harmless stand-in defined here: torch is never imported
and no other global is ever resolved, so a pickle that names ``os.system``,
``builtins.eval`` or a pickled ``nn.Module`` is refused with
:class:`UnsafeModelError` before anything runs. This reader is used whether
or not torch is installed (it is never weaker than ``torch.load``'s
``weights_only=True`` and never falls back to an unsafe load).
"""

from __future__ import annotations

import collections
import io
import math
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np

from ._assemble import FileWeight
from ._common import MAX_TENSOR_RANK, MAX_TENSORS, InspectError, UnsafeModelError
from ._tensor import RawTensor
from ._zipread import SafeZip

__all__ = ["read_torch_zip"]

_STORAGES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("f4"),
    "DoubleStorage": np.dtype("f8"),
    "HalfStorage": np.dtype("f2"),
    "BFloat16Storage": np.dtype(ml_dtypes.bfloat16),
    "LongStorage": np.dtype("i8"),
    "IntStorage": np.dtype("i4"),
    "ShortStorage": np.dtype("i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
    "ComplexFloatStorage": np.dtype("c8"),
    "ComplexDoubleStorage": np.dtype("c16"),
}


@dataclass(frozen=True)
class _StorageType:
    dtype: np.dtype[Any]


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: np.dtype[Any]
    numel: int


@dataclass(frozen=True)
class _Tensor:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple) or len(value) > MAX_TENSOR_RANK:
        raise InspectError(f"the checkpoint has a malformed tensor {what}.")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value):
        raise InspectError(f"the checkpoint has a malformed tensor {what}.")
    return value


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> _Tensor:
    if not isinstance(storage, _Storage) or not isinstance(offset, int) or offset < 0:
        raise InspectError("the checkpoint has a malformed tensor record.")
    return _Tensor(storage, offset, _ints(size, "shape"), _ints(stride, "stride"))


def _rebuild_parameter(data: Any, *rest: Any) -> Any:
    return data


def _ordered_dict(*args: Any) -> collections.OrderedDict[Any, Any]:
    return (
        collections.OrderedDict(*args)
        if args and isinstance(args[0], (list, dict))
        else collections.OrderedDict()
    )


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}
_ALLOWED.update({("torch", name): _StorageType(dtype) for name, dtype in _STORAGES.items()})


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        target = _ALLOWED.get((module, name))
        if target is None:
            raise UnsafeModelError(
                f"the checkpoint's pickle references {module[:60]}.{name[:60]}: refused (only tensors and "
                "plain containers are read; a pickled object or model would run code when loaded)."
            )
        return target

    def persistent_load(self, pid: Any) -> Any:
        if (
            not isinstance(pid, tuple)
            or len(pid) != 5
            or pid[0] != "storage"
            or not isinstance(pid[1], _StorageType)
            or not isinstance(pid[2], str)
            or not isinstance(pid[4], int)
        ):
            raise InspectError("the checkpoint has a malformed storage reference.")
        return _Storage(pid[2], pid[1].dtype, pid[4])


def _tensors(value: Any, prefix: str, out: list[tuple[str, _Tensor]], depth: int = 0) -> None:
    if depth > 64:
        raise InspectError("the checkpoint nests containers deeper than 64 levels.")
    if isinstance(value, _Tensor):
        out.append((prefix, value))
        if len(out) > MAX_TENSORS:
            raise InspectError(f"the checkpoint holds more than {MAX_TENSORS} tensors.")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _tensors(item, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _tensors(item, f"{prefix}.{i}" if prefix else str(i), out, depth + 1)


def read_torch_zip(path: str | os.PathLike[str]) -> tuple[list[FileWeight], dict[str, Any]]:
    """Every tensor of a ``torch.save`` zip checkpoint (a state_dict or nested dicts of them)."""
    from ._safetensors import split_name

    with SafeZip(path, "the PyTorch checkpoint") as archive:
        pickles = [n for n in archive.names() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise InspectError("the zip archive has no single data.pkl: not a PyTorch checkpoint.")
        root = pickles[0][: -len("data.pkl")]
        order = "little"
        if root + "byteorder" in archive.infos:
            order = archive.read(root + "byteorder", 16).decode("ascii", "replace").strip() or "little"
        try:
            obj = _RestrictedUnpickler(io.BytesIO(archive.read(pickles[0]))).load()
        except (UnsafeModelError, InspectError):
            raise
        except Exception as exc:  # any malformed pickle: one line, never a traceback
            raise InspectError(f"the checkpoint's pickle is malformed ({type(exc).__name__}).") from None
        found: list[tuple[str, _Tensor]] = []
        _tensors(obj, "", found)
        out: list[FileWeight] = []
        for i, (name, t) in enumerate(found):
            member = f"{root}data/{t.storage.key}"
            if member not in archive.infos:
                raise InspectError(
                    f"the checkpoint's storage {t.storage.key[:40]!r} is missing (truncated archive)."
                )
            info = archive.infos[member]
            dtype = t.storage.dtype.newbyteorder("<" if order == "little" else ">")
            if info.file_size < t.storage.numel * dtype.itemsize:
                raise InspectError(
                    f"the checkpoint's storage {t.storage.key[:40]!r} is shorter than it declares."
                )
            chain, last = split_name(name)
            tensor = None
            contiguous = _row_major(t.shape)
            extent = t.offset + (math.prod(t.shape) if t.shape else 1)
            if extent > t.storage.numel and math.prod(t.shape) > 0:
                raise InspectError(f"tensor {name[:80]!r} reaches past its storage (corrupt checkpoint).")
            offset = archive.stored_offset(member)
            if offset is not None and t.stride in (
                contiguous,
                tuple(reversed(_row_major(tuple(reversed(t.shape))))),
            ):
                fortran = t.stride != contiguous and len(t.shape) > 1
                tensor = RawTensor(path, offset + t.offset * dtype.itemsize, t.shape, dtype, fortran=fortran)
            out.append(FileWeight(chain, last, i, t.shape, t.storage.dtype.name, tensor))
        return out, {"tensors": len(out)}


def _row_major(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides = []
    step = 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))
