"""Zip archives read defensively: member counts, sizes and compression ratios are capped.

Used for ``.keras`` files, PyTorch checkpoints and ``.npz``. A member parsed
whole (a config, a pickle) is read with a hard byte limit even if its header
lies about its size; tensors are never read whole (see ``_tensor``).
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from typing import IO

from ._common import MAX_ARCHIVE_MEMBERS, MAX_COMPRESSION_RATIO, MAX_MEMBER_BYTES, InspectError

__all__ = ["GuardedStream", "SafeZip", "open_member"]

#: what zipfile raises on a corrupt member (bad headers, CRC, deflate stream, encryption, method)
CORRUPT_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


class GuardedStream:
    """A member's stream whose reads turn a corrupt archive's errors into one InspectError."""

    def __init__(self, stream: IO[bytes], what: str, name: str) -> None:
        self.stream, self.what, self.name = stream, what, name

    def read(self, size: int = -1) -> bytes:
        try:
            return self.stream.read(size)
        except CORRUPT_ZIP as exc:
            raise InspectError(
                f"{self.what}: member {self.name[:80]!r} is corrupt ({type(exc).__name__}: {str(exc)[:120]})."
            ) from None

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> GuardedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> GuardedStream:
    """``zf.open(info)`` with a corrupt local header or stream reported as an InspectError."""
    try:
        stream = zf.open(info)
    except CORRUPT_ZIP as exc:
        raise InspectError(
            f"{what}: cannot open member {info.filename[:80]!r} ({type(exc).__name__}: {str(exc)[:120]})."
        ) from None
    return GuardedStream(stream, what, info.filename)


class SafeZip:
    """A zip file opened for bounded reads (use as a context manager)."""

    def __init__(self, path: str | os.PathLike[str], what: str = "archive") -> None:
        self.path, self.what = path, what
        try:
            self.zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise InspectError(f"{what} is not a valid zip archive (corrupt or truncated).") from None
        except (OSError, ValueError, EOFError, NotImplementedError, RuntimeError, zlib.error) as exc:
            raise InspectError(f"cannot open {what}: {str(exc)[:200]}") from None
        infos = self.zf.infolist()
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            self.zf.close()
            raise InspectError(f"{what} lists {len(infos)} members; the limit is {MAX_ARCHIVE_MEMBERS}.")
        self.infos = {info.filename: info for info in infos}

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zf.close()

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
        """The whole member ``name``, refusing more than ``limit`` bytes or a zip-bomb ratio."""
        info = self.infos[name]
        if info.file_size > limit:
            raise InspectError(
                f"{self.what}: member {name!r} is {info.file_size} bytes; the limit is {limit}."
            )
        ratio_cap = max(1 << 20, info.compress_size * MAX_COMPRESSION_RATIO)
        cap = min(limit, ratio_cap)
        try:
            with self.zf.open(info) as stream:
                data = stream.read(cap + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
            raise InspectError(f"{self.what}: cannot read member {name!r} ({str(exc)[:160]}).") from None
        except Exception as exc:  # zlib.error and friends: a corrupt stream
            raise InspectError(f"{self.what}: member {name!r} is corrupt ({type(exc).__name__}).") from None
        if len(data) > cap:
            raise InspectError(
                f"{self.what}: member {name!r} expands beyond {cap} bytes (declared {info.file_size}): "
                "refusing a possible zip bomb."
            )
        return data

    def open(self, name: str) -> GuardedStream:
        """A stream over member ``name`` (for forward reads of compressed tensors)."""
        return open_member(self.zf, self.infos[name], self.what)

    def stored_offset(self, name: str) -> int | None:
        """Byte offset of an *uncompressed* member's data in the file, else None."""
        info = self.infos[name]
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            return None
        with open(self.path, "rb") as handle:
            handle.seek(info.header_offset)
            header = handle.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise InspectError(f"{self.what}: bad local header for member {name!r} (corrupt archive).")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        offset = int(info.header_offset) + 30 + int(name_len) + int(extra_len)
        if offset + info.file_size > os.path.getsize(self.path):
            raise InspectError(f"{self.what}: member {name!r} runs past the end of the file (truncated).")
        return offset
