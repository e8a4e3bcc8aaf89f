"""The kernel's entry points refuse what its loops may not meet: misaligned items and buffers
that overlap (its loops use ``restrict`` pointers and whole-item loads). The Python glue
declines misaligned outputs (the numpy reference writes them, same bits)."""

from __future__ import annotations

import numpy as np
import pytest

import weightinit as wi
from weightinit._engine import _kernel
from weightinit._engine._sample import sample

fast = _kernel._fast
needs_fast = pytest.mark.skipif(fast is None, reason="the compiled kernel is not built")


@needs_fast
def test_transform_refuses_misaligned_and_overlapping_buffers() -> None:
    raw = np.zeros(260, np.uint8)
    words = np.arange(64, dtype=np.uint32)
    with pytest.raises(ValueError, match="out is not aligned to 4 bytes"):
        fast.transform(0, 0, words.tobytes(), raw[1:257], 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="words is not aligned to 4 bytes"):
        fast.transform(0, 0, memoryview(raw[1:257]), np.zeros(64, np.float32), 0.0, 1.0, 1.0)
    shared = np.zeros(64, np.uint32)
    with pytest.raises(ValueError, match="overlap"):
        fast.transform(0, 0, memoryview(shared), shared.view(np.float32), 0.0, 1.0, 1.0)


@needs_fast
def test_fill_strided_refuses_self_overlapping_and_misaligned_destinations() -> None:
    base = np.zeros(64, np.float32)
    runs_args = (1, 0, (4,), (0,), (1,), -1.0, 1.0, 1.0, 1, -1)  # 4 runs of 1
    scratch = np.empty(64, np.uint8)
    address = base.__array_interface__["data"][0]
    with pytest.raises(ValueError, match="overlapping elements"):  # 4 elements at one address
        fast.fill_strided(0, 0, 1, 2, scratch, address, (4,), (0,), *runs_args)
    with pytest.raises(ValueError, match="overlapping elements"):  # rows overlapping columns
        fast.fill_strided(0, 0, 1, 2, scratch, address, (2, 2), (4, 4), *runs_args)
    with pytest.raises(ValueError, match="not aligned"):
        fast.fill_strided(0, 0, 1, 2, scratch, address + 1, (4,), (4,), *runs_args)
    with pytest.raises(ValueError, match="multiples of the item size"):
        fast.fill_strided(0, 0, 1, 2, scratch, address, (4,), (6,), *runs_args)
    with pytest.raises(ValueError, match="overlap"):  # scratch inside the destination
        fast.fill_strided(0, 0, 1, 2, base.view(np.uint8)[:16], address, (4,), (4,), *runs_args)
    # a valid transposed destination passes (the same call, disjoint buffers)
    fast.fill_strided(0, 0, 1, 2, scratch, address, (2, 2), (4, 8), *runs_args)
    assert np.count_nonzero(base[:4]) == 4


def test_a_misaligned_output_falls_back_to_the_reference_with_the_same_bits() -> None:
    raw = np.zeros(4 * 1000 + 1, np.uint8)
    flat = raw[1:].view(np.float32)  # a float32 view that starts at an odd address
    assert not flat.flags.aligned
    expected = wi.RandomNormal(seed=9)((1000,))
    region = ((0, 1000),)
    out = sample("normal", 9, 0, (1000,), region, np.dtype(np.float32), 0.0, 0.05, out=flat)
    np.testing.assert_array_equal(np.asarray(out), expected)
    np.testing.assert_array_equal(flat, expected)
