"""The compiled kernel (``weightinit._engine._fast``) against the numpy reference, bit for bit.

The kernel is an optional extension: where it was not built, the tests that
need it skip and the fallback tests still run. Every compiled instruction-set
variant this CPU supports ("default", "avx2", "avx512") is checked, not only
the one picked at run time.

- ``sample(..., backend="kernel")`` equals ``backend="reference"`` for every
  kind, dtype and many regions (odd starts, runs of one element, zero-size,
  counters beyond 2**32, regions straddling a change of the high counter word);
- the transforms equal ``_transforms.py`` on all 2**24 float32-precision inputs
  (normal, truncated normal, uniform, and the float16/bfloat16 casts), and on
  millions of random plus edge word pairs in float64 (far tails included);
- the values do not depend on the number of threads;
- without the kernel (or with ``WEIGHTINIT_DISABLE_KERNEL=1``) the reference runs.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import weightinit as wi
from weightinit._engine import _kernel, _sample
from weightinit._engine._threefry import threefry2x32
from weightinit._engine._transforms import TRUNC_MASS, normal_from_bits, uniform_from_bits

FAST = _kernel._fast
needs_fast = pytest.mark.skipif(FAST is None, reason="the compiled kernel is not built")


@pytest.fixture(autouse=True)
def _kernel_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests exercise the kernel itself: a caller's WEIGHTINIT_DISABLE_KERNEL does not apply."""
    monkeypatch.delenv("WEIGHTINIT_DISABLE_KERNEL", raising=False)


U32 = np.uint32
BF16 = np.dtype(ml_dtypes.bfloat16)
DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16), BF16)
DTYPE_CODE = {dt: _kernel.DTYPE_CODES[dt.name] for dt in DTYPES}
KINDS = ("uniform", "normal", "truncated_normal")
KIND_CODE = _kernel.KIND_CODES
PARAMS = {"uniform": (-0.75, 1.25), "normal": (0.5, 2.0), "truncated_normal": (-1.0, 0.3)}


def _isas() -> list[int]:
    return [i for i, name in enumerate(FAST.isas()) if name is not None] if FAST is not None else []


ISAS = _isas()


@pytest.fixture(autouse=True)
def _default_isa_and_quiet_floats(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Best instruction set; overflow to inf is part of what is compared, not a warning."""
    monkeypatch.setattr(_kernel, "isa", -1)
    with np.errstate(all="ignore"):
        yield


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def _assert_same_bits(ref: np.ndarray, got: np.ndarray, what: Any) -> None:
    assert ref.dtype == got.dtype and ref.shape == got.shape, what
    if _bits(ref) != _bits(got):
        r = ref.reshape(-1)
        g = got.reshape(-1)
        width = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[ref.dtype.itemsize]
        bad = np.nonzero(r.view(width) != g.view(width))[0]
        raise AssertionError(
            f"{what}: {bad.size} of {r.size} elements differ, first at {bad[:5].tolist()}: "
            f"reference {r[bad[:3]].tolist()} kernel {g[bad[:3]].tolist()}"
        )


def _sample_both(
    kind: str,
    shape: tuple[int, ...],
    region: Any,
    dtype: np.dtype,
    a: float,
    b: float,
    seed: int = 11,
    call: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    ref = _sample.sample(kind, seed, call, shape, region, dtype, a, b, backend="reference")
    got = _sample.sample(kind, seed, call, shape, region, dtype, a, b, backend="kernel")
    return ref, got


# --------------------------------------------------------------------------- availability


def test_without_the_kernel_the_reference_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    shape, region = (6, 7), ((1, 5), (2, 7))
    expected = _sample.sample(
        "normal", 1, 0, shape, region, np.dtype(np.float32), 0.0, 1.0, backend="reference"
    )

    def boom(*args: Any) -> bool:
        raise AssertionError("the kernel must not be called")

    monkeypatch.setattr(_kernel, "_fast", None)
    assert not _kernel.available()
    assert _kernel.bind_runs("normal", (1, 2), None, np.empty(1, np.float32), None) is None
    got = _sample.sample("normal", 1, 0, shape, region, np.dtype(np.float32), 0.0, 1.0)
    _assert_same_bits(expected, got, "fallback")
    with pytest.raises(RuntimeError, match="not available"):
        _sample.sample("normal", 1, 0, shape, region, np.dtype(np.float32), 0.0, 1.0, backend="kernel")
    monkeypatch.setattr(_kernel, "bind_runs", boom)
    monkeypatch.setattr(_kernel, "bind_strided", boom)
    _sample.sample("normal", 1, 0, shape, region, np.dtype(np.float32), 0.0, 1.0)


@needs_fast
def test_environment_variable_disables_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _kernel.available()
    monkeypatch.setenv("WEIGHTINIT_DISABLE_KERNEL", "1")
    assert not _kernel.available()

    def boom(*args: Any) -> bool:
        raise AssertionError("the kernel must not be called")

    monkeypatch.setattr(_kernel, "bind_runs", boom)
    monkeypatch.setattr(_kernel, "bind_strided", boom)
    _sample.sample("uniform", 1, 0, (5, 5), ((0, 5), (0, 5)), np.dtype(np.float32), 0.0, 1.0)
    monkeypatch.setenv("WEIGHTINIT_DISABLE_KERNEL", "0")
    assert _kernel.available()


def test_kernel_is_built_where_required() -> None:
    # CI sets WEIGHTINIT_REQUIRE_KERNEL=1 so that a broken build fails instead of skipping
    if os.environ.get("WEIGHTINIT_REQUIRE_KERNEL", "") == "1":
        assert FAST is not None, "weightinit._engine._fast was not built"
        assert _kernel.available()


def test_thread_count_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEIGHTINIT_NUM_THREADS", raising=False)
    default = _kernel.num_threads()
    assert 1 <= default <= (os.cpu_count() or 1)
    monkeypatch.setenv("WEIGHTINIT_NUM_THREADS", "1")
    assert _kernel.num_threads() == 1
    monkeypatch.setenv("WEIGHTINIT_NUM_THREADS", "100000")
    assert _kernel.num_threads() == default
    for junk in ("0", "-3", "many", ""):
        monkeypatch.setenv("WEIGHTINIT_NUM_THREADS", junk)
        assert _kernel.num_threads() == default


def test_getenv_reads_what_os_environ_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "WEIGHTINIT_TEST_GETENV"
    monkeypatch.delenv(name, raising=False)
    assert _kernel.getenv(name) is None
    for value in ("", "0", " 3 ", "héllo wörld", "a=b"):
        monkeypatch.setenv(name, value)
        assert _kernel.getenv(name) == os.environ.get(name) == value
    monkeypatch.delenv(name)
    assert _kernel.getenv(name) is None
    # the variables weightinit reads at every call follow the environment as it changes
    monkeypatch.setenv("WEIGHTINIT_DISABLE_KERNEL", "1")
    assert not _kernel.available()
    monkeypatch.setenv("WEIGHTINIT_MAX_BYTES", "1234")
    assert wi.get_max_bytes() == 1234
    monkeypatch.delenv("WEIGHTINIT_MAX_BYTES")
    assert wi.get_max_bytes() == 16 * 2**30


@needs_fast
def test_thread_count_is_asked_only_for_more_than_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    # one chunk runs on the calling thread anyway; asking for the CPUs (an environment read and
    # a system call) is most of the fixed cost of a small call
    asked: list[int] = []
    real = _kernel.num_threads
    monkeypatch.setattr(_kernel, "num_threads", lambda: asked.append(1) or real())
    small = _sample.sample("normal", 3, 0, (FAST.CHUNK,), ((0, FAST.CHUNK),), np.dtype(np.float32), 0.0, 1.0)
    assert asked == []
    n = FAST.CHUNK + 1
    large = _sample.sample("normal", 3, 0, (n,), ((0, n),), np.dtype(np.float32), 0.0, 1.0)
    assert asked == [1]
    assert np.array_equal(small.view(np.uint32), large[: FAST.CHUNK].view(np.uint32))


@needs_fast
def test_instruction_sets_reported() -> None:
    names = FAST.isas()
    assert names[0] == "default"
    assert names[FAST.best_isa()] is not None
    assert FAST.best_isa() == max(ISAS)


@needs_fast
def test_bind_runs_declines_what_it_does_not_handle() -> None:
    from weightinit._engine._layout import runs_of

    runs = runs_of((8,), ((0, 8),))
    transform = _sample._Transform("normal", 0.0, 1.0, np.dtype(np.float32))
    strided = np.empty(16, np.float32)[::2]
    assert _kernel.bind_runs("normal", (1, 2), runs, strided, transform) is None
    ints = np.empty(8, np.int32)
    assert _kernel.bind_runs("normal", (1, 2), runs, ints, transform) is None
    assert _kernel.bind_runs("poisson", (1, 2), runs, np.empty(8, np.float32), transform) is None


@needs_fast
def test_fill_rejects_inconsistent_arguments() -> None:
    out = np.empty(12, np.float32).view(np.uint8)
    ok = (0, 0, 1, 2, out, 4, 0, (3,), (0,), (4,), 0.0, 1.0, 0.0, 1, -1)
    FAST.fill(*ok)
    bad = [
        (9, *ok[1:]),  # kind
        (0, 7, *ok[2:]),  # dtype
        (*ok[:5], 5, *ok[6:]),  # 12 elements are not runs of 5
        (*ok[:7], (4,), *ok[8:]),  # 4 runs of 4 != 12 elements
        (*ok[:7], (3,), (0, 1), *ok[9:]),  # lengths differ
        (*ok[:14], 99),  # instruction set
    ]
    for args in bad:
        with pytest.raises(ValueError):
            FAST.fill(*args)
    with pytest.raises((TypeError, ValueError, BufferError)):
        FAST.fill(*ok[:4], np.empty(12, np.float32)[::2], *ok[5:])
    with pytest.raises(ValueError):
        FAST.fill(*ok[:7], (-3,), *ok[8:])
    # the transform entry point checks the sizes of words and output
    with pytest.raises(ValueError):
        FAST.transform(1, 1, np.zeros(3, U32), np.empty(2, np.float64), 0.0, 1.0, 0.0)


# --------------------------------------------------------------------------- threefry


@needs_fast
@pytest.mark.parametrize("isa", ISAS)
def test_threefry_lanes_equal_the_reference(isa: int) -> None:
    rng = np.random.default_rng(7)
    for _ in range(4):
        key = tuple(int(k) for k in rng.integers(0, 2**32, size=2))
        n = int(rng.integers(1, 10_000))
        x0 = rng.integers(0, 2**32, size=n, dtype=U32)
        x1 = rng.integers(0, 2**32, size=n, dtype=U32)
        y0, y1 = threefry2x32(key, x0, x1)
        FAST.threefry(key[0], key[1], x0, x1, isa)
        np.testing.assert_array_equal(x0, y0)
        np.testing.assert_array_equal(x1, y1)


# --------------------------------------------------------------------------- sample: kernel == reference

# (shape, region) pairs: whole tensors, odd starts, runs of 1..3 elements (gathers),
# runs just below/above the kernel's gather threshold, many outer axes, empty ones.
REGIONS: list[tuple[tuple[int, ...], tuple[tuple[int, int], ...]]] = [
    ((), ()),
    ((1,), ((0, 1),)),
    ((7,), ((1, 6),)),
    ((2, 3), ((0, 2), (0, 3))),
    ((1000, 37), ((0, 1000), (0, 37))),
    ((1000, 37), ((3, 998), (5, 6))),
    ((300, 9), ((1, 299), (2, 5))),
    ((5, 7, 300), ((1, 4), (2, 5), (3, 299))),
    ((3, 4097), ((0, 3), (1, 4096))),
    ((3, 4097), ((1, 2), (0, 4097))),
    ((130, 65), ((0, 130), (1, 64))),
    ((130, 65), ((0, 130), (0, 63))),
    ((2, 3, 4, 5, 6, 7), ((1, 2), (0, 3), (1, 3), (0, 5), (2, 5), (1, 6))),
    ((2, 3, 4, 5, 6, 7), ((0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (3, 4))),
    ((70_001,), ((1, 70_000),)),
    ((4, 0, 5), ((0, 4), (0, 0), (0, 5))),
    ((4, 6), ((2, 2), (0, 6))),
    ((4, 6), ((0, 4), (3, 3))),
]


@needs_fast
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_kernel_equals_reference_on_many_regions(
    kind: str, dtype: np.dtype, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = PARAMS[kind]
    for shape, region in REGIONS:
        ref = _sample.sample(kind, 21, 5, shape, region, dtype, a, b, backend="reference")
        for isa in ISAS:
            monkeypatch.setattr(_kernel, "isa", isa)
            got = _sample.sample(kind, 21, 5, shape, region, dtype, a, b, backend="kernel")
            _assert_same_bits(ref, got, (kind, dtype, shape, region, FAST.isas()[isa]))


@needs_fast
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_kernel_equals_reference_beyond_2_to_32_counters(dtype: np.dtype) -> None:
    # float32 work: block i // 2 changes its high word at i = 2**33; float64: at i = 2**32.
    edge = 2**32 if dtype == np.float64 else 2**33
    cases = [
        ((2**35,), ((edge - 700, edge + 701),)),  # straddles the high-word change
        ((2**35,), ((edge - 1, edge + 1),)),
        ((2**35,), ((2**35 - 999, 2**35),)),  # the last elements
        ((2**20, 2**15), ((2**20 - 3, 2**20), (5, 2**15 - 7))),  # long runs, high counters
        ((2**24, 2**12), ((edge // 2**12 - 2, edge // 2**12 + 2), (0, 5))),  # gathers across it
    ]
    for kind in KINDS:
        a, b = PARAMS[kind]
        for shape, region in cases:
            ref, got = _sample_both(kind, shape, region, dtype, a, b)
            _assert_same_bits(ref, got, (kind, dtype, shape, region))


@needs_fast
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_kernel_equals_reference_for_many_parameters(dtype: np.dtype) -> None:
    shape, region = (64, 33), ((0, 64), (0, 33))
    uniform = [
        (-1.0, 1.0),
        (0.0, 1e-30),
        (1.0, 1.0 + 2**-10),
        (1.0, 1.01),
        (-1e5, 1e5),
        (2.0, 2.0),
        (3.0, -3.0),
        (-7.5, -7.25),
        (0.0, 3.4e38),
        (1e-45, 3e-45),
        (65504.0, 65520.0),
        # float64 widths around 2**-969, below which width * 2**-53 is not exact
        (0.0, 1e-290),
        (0.0, 1e-300),
        (1e-310, 3e-310),
        (-5e-324, 5e-324),
        (-1e308, 1e308),
    ]
    normal = [
        (0.0, 1.0),
        (0.0, 0.0),
        (-3.0, 1e-6),
        (1e4, 3e4),
        (0.0, 1e-40),
        (5.0, 1e38),
        (-0.0, 2.5),
        (0.0, -1.0),
    ]
    for a, b in uniform:
        ref, got = _sample_both("uniform", shape, region, dtype, a, b)
        _assert_same_bits(ref, got, ("uniform", a, b))
    for kind in ("normal", "truncated_normal"):
        for a, b in normal:
            ref, got = _sample_both(kind, shape, region, dtype, a, b)
            _assert_same_bits(ref, got, (kind, a, b))


@needs_fast
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernel_equals_reference_on_random_regions(data: st.DataObject) -> None:
    ndim = data.draw(st.integers(1, 4))
    shape = tuple(data.draw(st.lists(st.integers(0, 40), min_size=ndim, max_size=ndim)))
    region = []
    for dim in shape:
        start = data.draw(st.integers(0, dim))
        stop = data.draw(st.integers(start, dim))
        region.append((start, stop))
    kind = data.draw(st.sampled_from(KINDS))
    dtype = data.draw(st.sampled_from(DTYPES))
    seed = data.draw(st.integers(0, 2**64 - 1))
    call = data.draw(st.integers(0, 2**64 - 1))
    a, b = PARAMS[kind]
    ref, got = _sample_both(kind, shape, tuple(region), dtype, a, b, seed=seed, call=call)
    _assert_same_bits(ref, got, (kind, dtype, shape, region, seed, call))


# --------------------------------------------------------------------------- transforms, exhaustive


@functools.cache
def _all_f32_words() -> np.ndarray:
    """A word for each of the 2**24 float32-precision inputs; low (unused) bits vary."""
    low = np.random.default_rng(5).integers(0, 256, size=2**24, dtype=U32)
    words = (np.arange(2**24, dtype=U32) << U32(8)) | low
    words.flags.writeable = False
    return words


def _kernel_transform(
    kind: str, dtype: np.dtype, words: np.ndarray, p0: float, p1: float, bh: float, isa: int
) -> np.ndarray:
    n = words.size // (2 if dtype == np.float64 else 1)
    out = np.empty(n, dtype=dtype)
    FAST.transform(KIND_CODE[kind], DTYPE_CODE[dtype], words, out.view(np.uint8), p0, p1, bh, 2, isa)
    return out


def _narrow_cases(dtype: np.dtype, values: np.ndarray, bh: Any = None) -> np.ndarray:
    """What ``_Transform`` stores: the cast to ``dtype``, then (uniform) ``np.minimum``."""
    out = values.astype(dtype)
    if bh is not None:
        np.minimum(out, bh, out=out)
    return out


@needs_fast
@pytest.mark.parametrize("truncated", [False, True], ids=["normal", "truncated_normal"])
def test_float32_normal_transform_on_every_input(truncated: bool) -> None:
    kind = "truncated_normal" if truncated else "normal"
    words = _all_f32_words()
    z = normal_from_bits((words,), np.float32(0.0), np.float32(1.0), truncated)
    for mean, std in [(0.0, 1.0), (0.25, 1.7), (-3.0, 1e-3), (0.0, 3e4), (1.0, 1e-6)]:
        ref = z * np.float32(std)
        ref += np.float32(mean)  # normal_from_bits: z *= std; z += mean
        if (mean, std) == (0.25, 1.7):
            direct = normal_from_bits((words,), np.float32(mean), np.float32(std), truncated)
            _assert_same_bits(direct, ref, "reference decomposition")
        for isa in ISAS:
            for dtype in (np.dtype(np.float32), np.dtype(np.float16), BF16):
                got = _kernel_transform(
                    kind, dtype, words, float(np.float32(mean)), float(np.float32(std)), 0.0, isa
                )
                _assert_same_bits(_narrow_cases(dtype, ref), got, (kind, mean, std, dtype, isa))


@needs_fast
def test_float32_uniform_transform_on_every_input() -> None:
    words = _all_f32_words()
    cases = [(0.0, 1.0), (-1.0, 1.0), (-0.05, 0.05), (1.0, 1.0009765625), (1.0, 1.0625), (-7e4, 7e4)]
    for low, high in cases:
        for dtype in (np.dtype(np.float32), np.dtype(np.float16), BF16):
            t = _sample._Transform("uniform", low, high, dtype)
            if t.constant is not None:  # bfloat16 has no value between 1 and 1 + 2**-10
                continue
            values = uniform_from_bits((words,), t.p0, t.p1)
            ref = _narrow_cases(dtype, values, t.below_high)
            for isa in ISAS:
                got = _kernel_transform(
                    "uniform", dtype, words, float(t.p0), float(t.p1), float(t.below_high), isa
                )
                _assert_same_bits(ref, got, (low, high, dtype, isa))


@needs_fast
@pytest.mark.parametrize("dtype", [np.dtype(np.float16), BF16], ids=str)
def test_narrowing_casts_at_every_binade(dtype: np.dtype) -> None:
    # uniform with low = 0 and width = +-2**k gives m * 2**(k - 24) exactly: all 2**24
    # mantissas at every scale from below the smallest subnormal to beyond the largest value.
    # Each width covers 24 binades, so steps of 8 (float16) / 16 (bfloat16) overlap.
    words = _all_f32_words()
    exponents = range(-27, 19, 8) if dtype == np.float16 else range(-150, 129, 16)
    for k in exponents:
        for width in (np.float32(2.0**k), np.float32(-(2.0**k))):
            values = uniform_from_bits((words,), np.float32(0.0), width)
            ref = values.astype(dtype)
            for isa in ISAS:
                got = _kernel_transform("uniform", dtype, words, 0.0, float(width), np.inf, isa)
                _assert_same_bits(ref, got, (dtype, k, float(width), isa))


@functools.cache
def _f64_word_pairs() -> np.ndarray:
    """Random word pairs plus edges: extreme tails (far branch), the central boundary, zero."""
    rng = np.random.default_rng(9)
    rand = rng.integers(0, 2**32, size=(1 << 21, 2), dtype=U32)
    m = []
    for centre in (0, 2**52 - 1, 2**51, 2**51 - 1):  # extremes and the middle
        m.append(np.clip(np.arange(-3000, 3001, dtype=np.int64) + centre, 0, 2**52 - 1))
    for p in (0.075, 0.925):  # |q| = 0.425 (central/tail boundary), with and without truncation
        for scale in (1.0, TRUNC_MASS):
            c = round((0.5 + (p - 0.5) / scale) * 2**52)
            m.append(np.arange(c - 3000, c + 3001, dtype=np.int64))
    for r in (5.0,):  # r = sqrt(-log(1/2 - |q|)) = 5: the near/far boundary
        tail = float(np.exp(-(r**2)))
        for c in (int(tail * 2**52), 2**52 - int(tail * 2**52)):
            m.append(np.arange(c - 3000, c + 3001, dtype=np.int64))
    mm = np.concatenate(m).astype(np.uint64)
    low_bits = rng.integers(0, 2**12, size=mm.size, dtype=np.uint64)
    x0 = (mm >> np.uint64(20)).astype(U32)
    x1 = (((mm & np.uint64(2**20 - 1)) << np.uint64(12)) | low_bits).astype(U32)
    edges = np.array(
        [[0, 0], [0xFFFFFFFF, 0xFFFFFFFF], [0, 0xFFFFFFFF], [0xFFFFFFFF, 0], [0x80000000, 0]], dtype=U32
    )
    pairs = np.concatenate([rand, np.stack([x0, x1], axis=1), edges])
    pairs.flags.writeable = False
    return pairs


@needs_fast
@pytest.mark.parametrize("kind", KINDS)
def test_float64_transforms_on_random_and_edge_words(kind: str) -> None:
    pairs = _f64_word_pairs()
    bits = (np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]))
    dtype = np.dtype(np.float64)
    if kind == "uniform":
        settings_ = [(0.0, 1.0), (-2.5, 3.5), (1.0, 1.0 + 2**-40)]
    else:
        settings_ = [(0.0, 1.0), (0.5, 2.0), (-1e3, 1e-9)]
    for a, b in settings_:
        t = _sample._Transform(kind, a, b, dtype)
        if kind == "uniform":
            ref = _narrow_cases(dtype, uniform_from_bits(bits, t.p0, t.p1), t.below_high)
            bh = float(t.below_high)
        else:
            ref = normal_from_bits(bits, t.p0, t.p1, kind == "truncated_normal")
            bh = 0.0
        for isa in ISAS:
            got = _kernel_transform(kind, dtype, pairs.reshape(-1), float(t.p0), float(t.p1), bh, isa)
            _assert_same_bits(ref, got, (kind, a, b, isa))


# --------------------------------------------------------------------------- threads and memory


@needs_fast
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_values_do_not_depend_on_the_thread_count(dtype: np.dtype) -> None:
    # enough chunks (CHUNK elements each) for several threads, runs not aligned to chunks:
    # long runs (generated in blocks of consecutive counters) and runs of 3 (gathers)
    from weightinit._engine._layout import runs_of

    for shape, region in [((1031, 777), ((2, 1030), (1, 776))), ((300_001, 10), ((1, 300_000), (2, 5)))]:
        size = int(np.prod([e - s for s, e in region]))
        assert size > 8 * FAST.CHUNK
        runs = runs_of(shape, region)
        for kind in KINDS:
            results = []
            for threads in (1, 2, 3, 8):
                out = np.empty(size, dtype=dtype)
                p0, p1 = (-1.0, 2.0) if kind == "uniform" else (0.0, 1.0)
                FAST.fill(
                    KIND_CODE[kind],
                    DTYPE_CODE[dtype],
                    12345,
                    678,
                    out.view(np.uint8),
                    runs.length,
                    runs.base,
                    runs.outer_sizes,
                    runs.outer_offsets,
                    runs.outer_strides,
                    p0,
                    p1,
                    0.9,
                    threads,
                    -1,
                )
                results.append(_bits(out))
            assert all(r == results[0] for r in results), (kind, shape, region)


_DIGEST_SCRIPT = """
import hashlib, numpy as np
from weightinit._dtypes import bfloat16
from weightinit._engine import _kernel, _sample
assert _kernel.available()
h = hashlib.sha256()
for kind, a, b in [("uniform", -1.0, 1.0), ("normal", 0.0, 1.0), ("truncated_normal", 0.0, 1.0)]:
    for dt in ("float32", "float64", "float16", "bfloat16"):
        dtype = bfloat16() if dt == "bfloat16" else np.dtype(dt)
        for region in (((0, 600), (0, 1000)), ((7, 590), (3, 997)), ((0, 600), (5, 6))):
            out = _sample.sample(kind, 99, 1, (600, 1000), region, dtype, a, b)
            h.update(out.tobytes())
print(h.hexdigest())
"""


@needs_fast
def test_values_do_not_depend_on_the_thread_count_environment() -> None:
    digests = []
    src = str(Path(_sample.__file__).resolve().parents[2])
    for threads in ("1", "2", "5"):
        env = {**os.environ, "WEIGHTINIT_NUM_THREADS": threads, "PYTHONPATH": src}
        env.pop("WEIGHTINIT_DISABLE_KERNEL", None)
        run = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        digests.append(run.stdout.strip())
    env = {**os.environ, "WEIGHTINIT_DISABLE_KERNEL": "1", "PYTHONPATH": src}
    script = _DIGEST_SCRIPT.replace("assert _kernel.available()", "assert not _kernel.available()")
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    digests.append(run.stdout.strip())
    assert len(set(digests)) == 1 and len(digests[0]) == 64, digests


@needs_fast
def test_a_call_allocates_little_beyond_its_output() -> None:
    shape = (1024, 2048)
    for dtype in DTYPES:
        for kind in KINDS:
            a, b = PARAMS[kind]
            tracemalloc.start()
            try:
                out = _sample.sample(kind, 1, 0, shape, ((0, 1024), (0, 2048)), dtype, a, b)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert peak - out.nbytes < 1 << 20, (kind, dtype, peak, out.nbytes)
