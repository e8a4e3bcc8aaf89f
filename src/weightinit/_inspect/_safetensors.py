"""``.safetensors``: an 8-byte little-endian header length, a JSON header, raw little-endian buffers.

Read by hand (no safetensors or torch needed): every entry's dtype, shape and
byte range are checked against the file before any tensor is sampled.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Mapping
from typing import Any

import ml_dtypes
import numpy as np

from ._assemble import FileWeight
from ._common import MAX_HEADER_BYTES, MAX_TENSOR_RANK, MAX_TENSORS, InspectError
from ._jsonread import load_json
from ._tensor import RawTensor

__all__ = ["DTYPES", "read_safetensors"]

DTYPES: dict[str, np.dtype[Any]] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype(ml_dtypes.bfloat16),
    "F8_E4M3": np.dtype(ml_dtypes.float8_e4m3fn),
    "F8_E5M2": np.dtype(ml_dtypes.float8_e5m2),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


def split_name(name: str) -> tuple[tuple[str, ...], str]:
    """``"encoder.fc.weight"`` -> ``(("encoder.fc",), "weight")``."""
    layer, _, last = name.rpartition(".")
    if "/" in name and not layer:
        layer, _, last = name.rpartition("/")
    return ((layer,) if layer else ()), last


def read_safetensors(path: str | os.PathLike[str]) -> tuple[list[FileWeight], dict[str, Any]]:
    """Weights and ``__metadata__`` of a safetensors file."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) != 8:
            raise InspectError("the safetensors file is truncated (no header length).")
        (length,) = struct.unpack("<Q", head)
        if length > MAX_HEADER_BYTES or 8 + length > size:
            raise InspectError(
                f"the safetensors header claims {length} bytes "
                f"(file: {size} bytes; limit {MAX_HEADER_BYTES})."
            )
        header = load_json(handle.read(length), "the safetensors header", max_bytes=MAX_HEADER_BYTES)
    if not isinstance(header, Mapping):
        raise InspectError("the safetensors header is not a JSON object.")
    if len(header) > MAX_TENSORS:
        raise InspectError(f"the safetensors header lists more than {MAX_TENSORS} tensors.")
    base = 8 + length
    metadata = header.get("__metadata__")
    out: list[FileWeight] = []
    for i, (name, entry) in enumerate(header.items()):
        if name == "__metadata__":
            continue
        if not isinstance(entry, Mapping):
            raise InspectError(f"safetensors entry {name[:80]!r} is not an object.")
        dtype = DTYPES.get(str(entry.get("dtype")))
        shape = entry.get("shape")
        offsets = entry.get("data_offsets")
        if dtype is None:
            raise InspectError(
                f"safetensors entry {name[:80]!r} has an unknown dtype {str(entry.get('dtype'))[:20]!r}."
            )
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_TENSOR_RANK
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        ):
            raise InspectError(f"safetensors entry {name[:80]!r} has a bad shape.")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)
        ):
            raise InspectError(f"safetensors entry {name[:80]!r} has bad data_offsets.")
        begin, end = offsets
        nbytes = math.prod(shape) * dtype.itemsize
        if not 0 <= begin <= end or end - begin != nbytes or base + end > size:
            raise InspectError(
                f"safetensors entry {name[:80]!r}: shape {tuple(shape)[:8]} needs {nbytes} bytes but its "
                f"data_offsets give {end - begin} (file {size} bytes): corrupt, truncated or hostile."
            )
        chain, last = split_name(str(name))
        shape_t = tuple(shape)
        out.append(
            FileWeight(chain, last, i, shape_t, dtype.name, RawTensor(path, base + begin, shape_t, dtype))
        )
    facts = {"metadata": metadata if isinstance(metadata, Mapping) else None, "tensors": len(out)}
    return out, facts
