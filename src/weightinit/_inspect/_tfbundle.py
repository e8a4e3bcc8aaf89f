"""TensorFlow checkpoints (``variables/variables.index`` + ``.data-*`` shards), read without TensorFlow.

The index is a LevelDB-style table: a 48-byte footer (two block handles and
a magic number) points at an index block whose entries point at data blocks;
block entries are prefix-compressed ``(key, value)`` pairs. Each value is a
``BundleEntryProto`` (dtype, shape, shard, offset, size), the empty key holds
the ``BundleHeaderProto`` (number of shards, endianness). Values are raw
tensors at ``offset`` of the shard file, sampled like any other raw tensor.
Compressed blocks, sliced (partitioned) variables and unknown dtypes are
skipped, never guessed.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np

from ._common import MAX_MEMBER_BYTES, MAX_TENSOR_RANK, MAX_TENSORS, InspectError
from ._protobuf import iter_fields

__all__ = ["GRAPH_KEY", "BundleEntry", "read_bundle", "variable_names"]

MAGIC = 0xDB4775248B80FB57
GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
DTYPES: dict[int, np.dtype[Any]] = {
    1: np.dtype("f4"),
    2: np.dtype("f8"),
    3: np.dtype("i4"),
    4: np.dtype("u1"),
    5: np.dtype("i2"),
    6: np.dtype("i1"),
    8: np.dtype("c8"),
    9: np.dtype("i8"),
    10: np.dtype("?"),
    14: np.dtype(ml_dtypes.bfloat16),
    19: np.dtype("f2"),
}


@dataclass(frozen=True)
class BundleEntry:
    key: str
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise InspectError("the checkpoint index is corrupt (bad varint).")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _block(index: bytes, handle: bytes) -> bytes:
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    if offset + size + 5 > len(index):
        raise InspectError("the checkpoint index is truncated (a block runs past the end).")
    if index[offset + size] != 0:
        raise InspectError("the checkpoint index uses compressed blocks, which are not read.")
    return index[offset : offset + size]


def _entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise InspectError("the checkpoint index is corrupt (short block).")
    (restarts,) = struct.unpack("<I", block[-4:])
    end = len(block) - 4 - 4 * restarts
    if end < 0:
        raise InspectError("the checkpoint index is corrupt (bad restart count).")
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        length, pos = _varint(block, pos)
        if shared > len(key) or pos + unshared + length > end:
            raise InspectError("the checkpoint index is corrupt (bad entry).")
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, block[pos : pos + length]
        pos += length


def _entry(key: str, value: bytes) -> BundleEntry | None:
    dtype_code, shard, offset, size = 0, 0, 0, 0
    shape: list[int] = []
    sliced = False
    for number, _, field in iter_fields(value):
        if number == 1 and isinstance(field, int):
            dtype_code = field
        elif number == 2 and isinstance(field, bytes):
            for n, _, dim in iter_fields(field):
                if n == 2 and isinstance(dim, bytes):
                    size_value = 0
                    for m, _, v in iter_fields(dim):
                        if m == 1 and isinstance(v, int):
                            size_value = v
                    shape.append(size_value)
        elif number == 3 and isinstance(field, int):
            shard = field
        elif number == 4 and isinstance(field, int):
            offset = field
        elif number == 5 and isinstance(field, int):
            size = field
        elif number == 7:
            sliced = True
    if dtype_code == 7 and key == GRAPH_KEY and not shape and not sliced:
        return BundleEntry(key, np.dtype("O"), (), shard, offset, size)
    dtype = DTYPES.get(dtype_code)
    if dtype is None or sliced or len(shape) > MAX_TENSOR_RANK:
        return None
    if any(n >= 1 << 62 for n in shape) or math.prod(shape) * dtype.itemsize != size:
        raise InspectError(
            f"checkpoint entry {key[:80]!r}: shape {tuple(shape)[:8]} does not fit its {size} bytes."
        )
    return BundleEntry(key, dtype, tuple(shape), shard, offset, size)


def read_bundle(prefix: str) -> tuple[list[BundleEntry], list[str]]:
    """Entries of the checkpoint ``prefix`` (``.../variables/variables``) and its shard files."""
    index_path = prefix + ".index"
    size = os.path.getsize(index_path)
    if size > MAX_MEMBER_BYTES or size < 48:
        raise InspectError(f"the checkpoint index is {size} bytes (expected 48 to {MAX_MEMBER_BYTES}).")
    with open(index_path, "rb") as handle:
        index = handle.read()
    (magic,) = struct.unpack("<Q", index[-8:])
    if magic != MAGIC:
        raise InspectError("the checkpoint index has no table magic number (corrupt or truncated).")
    footer = index[-48:-8]
    _, pos = _varint(footer, 0)
    _, pos = _varint(footer, pos)  # the metaindex handle, unused
    index_block = _block(index, footer[pos:])
    shards, order = 1, 0
    entries: list[BundleEntry] = []
    for _, block_handle in _entries(index_block):
        for key_bytes, value in _entries(_block(index, block_handle)):
            key = key_bytes.decode("utf-8", "replace")
            if key == "":
                for number, _, field in iter_fields(value):
                    if number == 1 and isinstance(field, int):
                        shards = max(1, field)
                    elif number == 2 and isinstance(field, int):
                        order = field
                continue
            entry = _entry(key, value)
            if entry is not None:
                entries.append(entry)
            if len(entries) > MAX_TENSORS:
                raise InspectError(f"the checkpoint lists more than {MAX_TENSORS} tensors.")
    if order != 0:
        raise InspectError("the checkpoint is big-endian, which is not read.")
    files = [f"{prefix}.data-{i:05d}-of-{shards:05d}" for i in range(shards)]
    for entry in entries:
        if entry.shard >= shards:
            raise InspectError(f"checkpoint entry {entry.key[:80]!r} names a missing shard.")
    return entries, files


def variable_names(entry: BundleEntry, files: list[str]) -> dict[str, str]:
    """``checkpoint key -> variable name`` from the object graph (``TrackableObjectGraph``).

    The graph is a scalar string tensor: a varint length, a 4-byte checksum,
    then the serialized proto. Each object's ``attributes`` (field 2) are
    ``SerializedTensor {name = 1; full_name = 2; checkpoint_key = 3}``.
    """
    if entry.size > MAX_MEMBER_BYTES:
        raise InspectError("the checkpoint's object graph is too large.")
    with open(files[entry.shard], "rb") as handle:
        handle.seek(entry.offset)
        raw = handle.read(entry.size)
    if len(raw) != entry.size:
        raise InspectError("the checkpoint data file is truncated.")
    length, pos = _varint(raw, 0)
    pos += 4  # crc32c of the lengths
    if pos + length > len(raw):
        raise InspectError("the checkpoint's object graph is truncated.")
    graph = raw[pos : pos + length]
    names: dict[str, str] = {}
    for number, _, node in iter_fields(graph):
        if number != 1 or not isinstance(node, bytes):
            continue
        for field_number, _, attribute in iter_fields(node):
            if field_number != 2 or not isinstance(attribute, bytes):
                continue
            full_name = key = ""
            for n, _, v in iter_fields(attribute):
                if isinstance(v, bytes) and n == 2:
                    full_name = v.decode("utf-8", "replace")
                elif isinstance(v, bytes) and n == 3:
                    key = v.decode("utf-8", "replace")
            if key and full_name:
                names[key] = full_name
    return names
