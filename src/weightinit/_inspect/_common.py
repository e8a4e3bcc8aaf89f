"""Errors and limits shared by the model-file readers.

Every reader is bounded: it reads a file's structure (headers, configs, shapes)
and, for ``--stats``, a fixed-size sample of each tensor, never a whole large
tensor; every size a file declares is checked against these caps before
anything is allocated.
"""

from __future__ import annotations

from .._errors import InvalidArgumentError

__all__ = [
    "MAX_ARCHIVE_MEMBERS",
    "MAX_COMPRESSION_RATIO",
    "MAX_HEADER_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_LAYERS",
    "MAX_MEMBER_BYTES",
    "MAX_TENSORS",
    "MAX_TENSOR_RANK",
    "SAMPLE_BLOCKS",
    "SAMPLE_SIZE",
    "InspectError",
    "MissingDependencyError",
    "UnsafeModelError",
]

#: values read from one tensor for ``--stats`` (in at most SAMPLE_BLOCKS blocks spread over it)
SAMPLE_SIZE = 1 << 16
SAMPLE_BLOCKS = 64
#: the most entries an archive (zip, npz, torch checkpoint) may list
MAX_ARCHIVE_MEMBERS = 100_000
#: the most bytes read (after decompression) from one archive member that is parsed whole
#: (config.json, a pickle, a JSON header, keras_metadata.pb)
MAX_MEMBER_BYTES = 256 << 20
#: a member read whole may expand at most this much over its compressed size (zip bombs)
MAX_COMPRESSION_RATIO = 200
#: safetensors / npy header size limit
MAX_HEADER_BYTES = 100 << 20
#: nesting depth allowed in a model's JSON config (nested models nest configs deeply)
MAX_JSON_DEPTH = 512
#: the most tensors / layers one file may describe
MAX_TENSORS = 1_000_000
MAX_LAYERS = 1_000_000
MAX_TENSOR_RANK = 32


class InspectError(InvalidArgumentError):
    """A file (or object) that cannot be inspected: not a model, corrupt, truncated, or too large."""


class UnsafeModelError(InspectError):
    """A file asks for something that would run code (a pickled object, a module); it is refused."""


class MissingDependencyError(InspectError):
    """An optional package the format needs is not installed."""
