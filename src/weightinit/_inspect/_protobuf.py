"""A minimal protobuf wire-format reader, for ``keras_metadata.pb`` (no TensorFlow, no protobuf package).

Only what that file uses: varints, length-delimited fields, fixed 32/64-bit
fields; groups (deprecated) are refused. Every length is checked against the
buffer, so a truncated or hostile file raises :class:`InspectError`.

``keras_metadata.pb`` is ``SavedMetadata { repeated SavedObject nodes = 1; }``
with ``SavedObject { int32 node_id = 2; string node_path = 3;
string identifier = 4; string metadata = 5; VersionDef version = 6; }``;
``metadata`` is the layer's JSON (class name, config, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ._common import MAX_LAYERS, InspectError

__all__ = ["SavedObject", "iter_fields", "read_saved_metadata"]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise InspectError("keras_metadata.pb is truncated (a varint runs past the end).")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise InspectError("keras_metadata.pb is corrupt (a varint longer than 10 bytes).")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` for each field of one message."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise InspectError("keras_metadata.pb is corrupt (field number 0).")
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, value
        elif wire == 1 or wire == 5:
            width = 8 if wire == 1 else 4
            if pos + width > len(data):
                raise InspectError("keras_metadata.pb is truncated (a fixed-width field).")
            yield number, wire, int.from_bytes(data[pos : pos + width], "little")
            pos += width
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise InspectError("keras_metadata.pb is truncated (a field runs past the end).")
            yield number, wire, data[pos : pos + length]
            pos += length
        else:
            raise InspectError(f"keras_metadata.pb is corrupt or not a protobuf (wire type {wire}).")


@dataclass(frozen=True)
class SavedObject:
    node_id: int
    node_path: str
    identifier: str
    metadata: str


def _string(value: int | bytes, what: str) -> str:
    if not isinstance(value, bytes):
        raise InspectError(f"keras_metadata.pb is corrupt ({what} is not a string).")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise InspectError(f"keras_metadata.pb is corrupt ({what} is not UTF-8).") from None


def read_saved_metadata(data: bytes) -> list[SavedObject]:
    """The nodes of a ``keras_metadata.pb``."""
    nodes: list[SavedObject] = []
    for number, wire, value in iter_fields(data):
        if number != 1 or wire != 2 or not isinstance(value, bytes):
            continue
        node_id, path, identifier, metadata = 0, "", "", ""
        for n, w, v in iter_fields(value):
            if n == 2 and w == 0 and isinstance(v, int):
                node_id = v
            elif n == 3 and w == 2:
                path = _string(v, "node_path")
            elif n == 4 and w == 2:
                identifier = _string(v, "identifier")
            elif n == 5 and w == 2:
                metadata = _string(v, "metadata")
        nodes.append(SavedObject(node_id, path, identifier, metadata))
        if len(nodes) > MAX_LAYERS:
            raise InspectError(f"keras_metadata.pb lists more than {MAX_LAYERS} objects.")
    return nodes
