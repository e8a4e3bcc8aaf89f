"""The counter-based random engine: Threefry-2x32-20 bits, loop-free transforms."""

from ._keys import STREAM_VERSION, derive_key
from ._sample import KINDS, sample, work_dtype
from ._target import writing_into

__all__ = ["KINDS", "STREAM_VERSION", "derive_key", "sample", "work_dtype", "writing_into"]
