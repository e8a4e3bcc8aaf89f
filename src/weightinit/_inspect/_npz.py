"""``.npz`` (``numpy.savez`` / ``savez_compressed``): a zip of ``.npy`` files, read without pickles.

Each member's ``.npy`` header is parsed with ``allow_pickle`` off (object
arrays are refused); stored members are sampled in place, compressed members
in one forward pass.
"""

from __future__ import annotations

import ast
import math
import os
import zipfile
from typing import Any

import numpy as np

from ._assemble import FileWeight
from ._common import MAX_COMPRESSION_RATIO, MAX_TENSOR_RANK, InspectError
from ._tensor import RawTensor, TensorRef, ZipStreamTensor
from ._zipread import GuardedStream, SafeZip, open_member

__all__ = ["read_npz"]

NPY_MAGIC = b"\x93NUMPY"


def _header(head: bytes, name: str) -> tuple[np.dtype[Any], tuple[int, ...], bool, int]:
    """``(dtype, shape, fortran_order, data offset)`` of an ``.npy`` header."""
    if not head.startswith(NPY_MAGIC) or len(head) < 10:
        raise InspectError(f"npz member {name[:60]!r} is not an .npy array.")
    major = head[6]
    if major == 1:
        length, start = int.from_bytes(head[8:10], "little"), 10
    elif major in (2, 3):
        length, start = int.from_bytes(head[8:12], "little"), 12
    else:
        raise InspectError(f"npz member {name[:60]!r}: unknown .npy version {major}.")
    if start + length > len(head):
        raise InspectError(f"npz member {name[:60]!r}: the .npy header is truncated or too long.")
    try:
        meta = ast.literal_eval(head[start : start + length].decode("latin1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise InspectError(f"npz member {name[:60]!r}: malformed .npy header.") from None
    if not isinstance(meta, dict) or not {"descr", "fortran_order", "shape"} <= set(meta):
        raise InspectError(f"npz member {name[:60]!r}: malformed .npy header.")
    descr, shape = meta["descr"], meta["shape"]
    if not isinstance(descr, str):
        raise InspectError(f"npz member {name[:60]!r}: structured dtypes are not read.")
    try:
        dtype = np.dtype(descr)
    except TypeError:
        raise InspectError(f"npz member {name[:60]!r}: unknown dtype {descr[:20]!r}.") from None
    if dtype.hasobject or dtype.kind not in "fiubc":
        raise InspectError(
            f"npz member {name[:60]!r} holds {dtype} data (object arrays need pickles): refused."
        )
    if (
        not isinstance(shape, tuple)
        or len(shape) > MAX_TENSOR_RANK
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
    ):
        raise InspectError(f"npz member {name[:60]!r}: bad shape.")
    return dtype, shape, bool(meta["fortran_order"]), start + length


class _MemberStream:
    """Context manager: one zip member's stream, closing the archive with it."""

    def __init__(self, path: str | os.PathLike[str], member: str) -> None:
        self.path, self.member = path, member

    def __enter__(self) -> GuardedStream:
        self.zf = zipfile.ZipFile(self.path)
        try:
            self.stream = open_member(self.zf, self.zf.getinfo(self.member), "the .npz archive")
        except BaseException:
            self.zf.close()
            raise
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.close()
        self.zf.close()


class _MemberOpener:
    def __init__(self, path: str | os.PathLike[str], member: str) -> None:
        self.path, self.member = path, member

    def __call__(self) -> _MemberStream:
        return _MemberStream(self.path, self.member)


def read_npz(path: str | os.PathLike[str]) -> tuple[list[FileWeight], dict[str, Any]]:
    """Every array of an ``.npz`` file."""
    out: list[FileWeight] = []
    with SafeZip(path, "the .npz archive") as archive:
        names = [n for n in archive.names() if n.endswith(".npy")]
        if not names:
            raise InspectError("the zip archive holds no .npy arrays: not an .npz file.")
        for i, member in enumerate(names):
            info = archive.infos[member]
            with archive.open(member) as stream:
                head = stream.read(1 << 16)
            dtype, shape, fortran, data_start = _header(head, member)
            if data_start + math.prod(shape) * dtype.itemsize > info.file_size:
                raise InspectError(f"npz member {member[:60]!r} is shorter than its shape needs (truncated).")
            offset = archive.stored_offset(member)
            if offset is None and info.file_size > max(64 << 20, info.compress_size * MAX_COMPRESSION_RATIO):
                raise InspectError(
                    f"npz member {member[:60]!r} expands {info.file_size} bytes from {info.compress_size}: "
                    "refusing a possible zip bomb."
                )
            tensor: TensorRef
            if offset is not None:
                tensor = RawTensor(
                    path, offset + data_start, shape, dtype, fortran=fortran and len(shape) > 1
                )
            else:
                tensor = ZipStreamTensor(
                    _MemberOpener(path, member),
                    data_start,
                    shape,
                    dtype,
                    fortran=fortran and len(shape) > 1,
                )
            name = member[: -len(".npy")]
            layer, _, last = name.rpartition("/")
            out.append(FileWeight((layer,) if layer else (), last, i, shape, dtype.name, tensor))
    return out, {"tensors": len(out)}
