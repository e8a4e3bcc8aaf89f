"""The counter-based random engine: Threefry-2x32-20 bits, loop-free transforms."""

from ._keys import STREAM_VERSION, derive_key
from ._sample import KINDS, sample, work_dtype

__all__ = ["KINDS", "STREAM_VERSION", "derive_key", "sample", "work_dtype"]
