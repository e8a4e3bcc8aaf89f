"""Slice and shard invariance: ``init(shape, dtype, index=idx)`` is bitwise ``init(shape, dtype)[idx]``.

Property tests (Hypothesis, derandomized so every run checks the same
examples) over random shapes, index tuples, every initializer class and dtype;
shards along any axis and on a 2-D mesh reassemble bitwise into the whole; and
a slice costs generator work proportional to the slice, not to the tensor.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import weightinit as wi
from conftest import RANDOM_CLASS_NAMES, make
from weightinit._engine import _bits, _kernel

FLOATS = ("float16", "bfloat16", "float32", "float64")
OTHER = ("int32", "bool", "complex64")  # deterministic initializers only


def _settings(n: int) -> settings:
    return settings(
        derandomize=True,
        max_examples=n,
        deadline=None,
        database=None,
        # the `counter` fixture is reset by the test body itself for every example
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


#: name -> (factory, rank rule, deterministic)
FACTORIES: dict[str, tuple[Callable[[], wi.Initializer], str, bool]] = {
    "RandomNormal": (lambda: wi.RandomNormal(0.25, 1.5, seed=3), "any", False),
    "RandomUniform": (lambda: wi.RandomUniform(-1.0, 2.0, seed=2**64 - 1), "any", False),
    "TruncatedNormal": (lambda: wi.TruncatedNormal(-0.5, 0.3, seed=0), "any", False),
    "VarianceScaling-fan_in-truncated": (lambda: wi.VarianceScaling(2.0, "fan_in", seed=4), "any", False),
    "VarianceScaling-fan_out-untruncated": (
        lambda: wi.VarianceScaling(0.5, "fan_out", "untruncated_normal", seed=5),
        "any",
        False,
    ),
    "VarianceScaling-fan_avg-uniform": (
        lambda: wi.VarianceScaling(3.0, "fan_avg", "uniform", seed=6),
        "any",
        False,
    ),
    "GlorotNormal": (lambda: wi.GlorotNormal(seed=7), "any", False),
    "GlorotUniform": (lambda: wi.GlorotUniform(seed=8), "any", False),
    "HeNormal": (lambda: wi.HeNormal(seed=9), "any", False),
    "HeUniform": (lambda: wi.HeUniform(seed=10), "any", False),
    "LecunNormal": (lambda: wi.LecunNormal(seed=11), "any", False),
    "LecunUniform": (lambda: wi.LecunUniform(seed=12), "any", False),
    "Orthogonal": (lambda: wi.Orthogonal(1.3, seed=13), "rank>=2", False),
    "Identity": (lambda: wi.Identity(2.5), "rank2", True),
    "Zeros": (wi.Zeros, "any", True),
    "Ones": (wi.Ones, "any", True),
    "Constant": (lambda: wi.Constant(-1.75), "any", True),
    "STFT": (lambda: wi.STFT(side="imag", window="hamming", scaling="spectrum", periodic=True), "stft", True),
    "STFT-nowindow": (lambda: wi.STFT(window=None), "stft", True),
}
NAMES = sorted(FACTORIES)
RANDOM_NAMES = [n for n in NAMES if not FACTORIES[n][2]]

small_dims = st.integers(0, 9)
large_dims = st.sampled_from([0, 1, 2, 17, 100, 1023, 2049, 4096, 5000])


@st.composite
def shapes_for(draw: Any, rule: str) -> tuple[int, ...]:
    if rule == "rank2":
        return tuple(draw(st.lists(small_dims, min_size=2, max_size=2)))
    if rule == "stft":
        return (draw(st.integers(1, 9)), draw(st.integers(0, 4)), draw(st.integers(2, 9)))
    min_rank = 2 if rule == "rank>=2" else 0
    if draw(st.integers(0, 9)) == 0:  # now and then a larger shape (long runs, chunk boundaries)
        dims = draw(st.lists(st.one_of(small_dims, large_dims), min_size=max(1, min_rank), max_size=3))
        if math.prod(dims) > 120_000:
            dims = [min(d, 9) for d in dims]
        return tuple(dims)
    return tuple(draw(st.lists(small_dims, min_size=min_rank, max_size=5)))


@st.composite
def bounds(draw: Any, dim: int) -> slice:
    """A slice of ``range(dim)`` as the API allows: step None or 1, bounds None or in range."""
    start = draw(st.integers(0, dim))
    stop = draw(st.integers(start, dim))
    if draw(st.integers(0, 9)) == 0:
        stop = start  # empty
    start_b = None if start == 0 and draw(st.booleans()) else start
    stop_b = None if stop == dim and draw(st.booleans()) else stop
    step = draw(st.sampled_from([None, None, 1]))
    return slice(start_b, stop_b, step)


@st.composite
def indexes(draw: Any, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """A prefix of per-axis slices (missing trailing axes are whole)."""
    count = draw(st.one_of(st.just(len(shape)), st.integers(0, len(shape))))
    return tuple(draw(bounds(shape[axis])) for axis in range(count))


@st.composite
def problems(draw: Any, names: list[str] = NAMES) -> tuple[str, tuple[int, ...], str, tuple[slice, ...]]:
    name = draw(st.sampled_from(names))
    _, rule, deterministic = FACTORIES[name]
    shape = draw(shapes_for(rule))
    dtype = draw(st.sampled_from(FLOATS + OTHER if deterministic and not name.startswith("STFT") else FLOATS))
    return name, shape, dtype, draw(indexes(shape))


def _assert_bitwise_equal(part: np.ndarray, expected: np.ndarray) -> None:
    assert part.dtype == expected.dtype
    assert part.shape == expected.shape
    assert part.tobytes() == expected.tobytes()  # C-order bytes, so a strided view compares too


# --------------------------------------------------------------------------- index == slice


@_settings(400)
@given(problems())
@example(("RandomNormal", (3, 5000), "float32", (slice(1, 3),)))  # long runs: the range path
@example(("HeUniform", (2, 70_000), "bfloat16", (slice(1, 2), slice(3, 69_999))))  # beyond one chunk
@example(("TruncatedNormal", (2, 3, 4097), "float64", (slice(0, 2), slice(1, 3))))
@example(("RandomUniform", (), "float16", ()))
@example(("Orthogonal", (4, 3, 5), "bfloat16", (slice(1, 3), slice(None), slice(2, 2))))
@example(("Identity", (7, 4), "int32", (slice(2, 6), slice(1, None))))
@example(("STFT", (9, 2, 5), "float32", (slice(3, 8), slice(1, 2), slice(1, 4))))
def test_index_result_is_bitwise_the_slice_of_the_whole(problem):
    name, shape, dtype, index = problem
    init = FACTORIES[name][0]()
    whole = init(shape, dtype)
    part = init(shape, dtype, index=index)
    _assert_bitwise_equal(part, whole[index])


@_settings(60)
@given(problems(RANDOM_NAMES))
def test_index_with_a_seed_generator_equals_the_same_draw_of_the_whole(problem):
    name, shape, dtype, index = problem
    factory = FACTORIES[name][0]
    generator = {"module": "keras.random", "class_name": "SeedGenerator", "config": {"seed": 77}}
    config = {**factory().get_config(), "seed": generator}
    init_whole = type(factory()).from_config(config)
    init_part = type(factory()).from_config(config)  # its own generator, also at draw 0
    for _ in range(2):  # the second draw (k = 1) as well as the first
        whole = init_whole(shape, dtype)
        part = init_part(shape, dtype, index=index)
        _assert_bitwise_equal(part, whole[index])


def test_numpy_integer_bounds_and_full_index_are_accepted():
    init = wi.HeNormal(seed=1)
    whole = init((6, 8))
    _assert_bitwise_equal(init((6, 8), index=(slice(np.int64(1), np.int32(4)),)), whole[1:4])
    _assert_bitwise_equal(init((6, 8), index=()), whole)
    _assert_bitwise_equal(init((6, 8), index=(slice(None), slice(None))), whole)
    _assert_bitwise_equal(init((6, 8), index=(slice(0, 6, 1), slice(8, 8))), whole[:, 8:8])


# --------------------------------------------------------------------------- shards


@st.composite
def cuts(draw: Any, dim: int) -> list[int]:
    """Sorted cut points 0 = c0 <= c1 <= ... <= dim (empty shards allowed)."""
    inner = draw(st.lists(st.integers(0, dim), max_size=4))
    return [0, *sorted(inner), dim]


@st.composite
def shard_problems(draw: Any, min_rank: int) -> tuple[str, tuple[int, ...], str]:
    name = draw(st.sampled_from(NAMES))
    _, rule, _ = FACTORIES[name]
    shape = draw(shapes_for(rule).filter(lambda s: len(s) >= min_rank))
    return name, shape, draw(st.sampled_from(FLOATS))


@_settings(150)
@given(shard_problems(1), st.data())
def test_shards_along_any_axis_reassemble_bitwise(problem, data):
    name, shape, dtype = problem
    axis = data.draw(st.integers(0, len(shape) - 1))
    points = data.draw(cuts(shape[axis]))
    init = FACTORIES[name][0]()
    lead = (slice(None),) * axis
    shards = [init(shape, dtype, index=(*lead, slice(a, b))) for a, b in itertools.pairwise(points)]
    _assert_bitwise_equal(np.concatenate(shards, axis=axis), init(shape, dtype))


@_settings(80)
@given(shard_problems(2), st.data())
def test_a_2d_mesh_of_shards_reassembles_bitwise(problem, data):
    name, shape, dtype = problem
    ax0 = data.draw(st.integers(0, len(shape) - 2))
    ax1 = data.draw(st.integers(ax0 + 1, len(shape) - 1))
    rows, cols = data.draw(cuts(shape[ax0])), data.draw(cuts(shape[ax1]))
    init = FACTORIES[name][0]()
    whole = init(shape, dtype)
    out = np.empty_like(whole)
    for r0, r1 in itertools.pairwise(rows):
        for c0, c1 in itertools.pairwise(cols):
            index = [slice(None)] * (ax1 + 1)
            index[ax0], index[ax1] = slice(r0, r1), slice(c0, c1)
            out[tuple(index)] = init(shape, dtype, index=tuple(index))
    _assert_bitwise_equal(out, whole)


# --------------------------------------------------------------------------- cost of a slice


class _BlockCounter:
    """Wraps the engine's Threefry call and counts the counter blocks it encrypts."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.blocks = 0

    def __call__(self, key: Any, x0: np.ndarray, x1: np.ndarray) -> Any:
        self.blocks += int(x0.size)
        return self.real(key, x0, x1)


@pytest.fixture
def counter(monkeypatch):
    """Count generated blocks on the numpy reference path (the compiled kernel bypasses it)."""
    monkeypatch.setattr(_kernel, "available", lambda: False)
    spy = _BlockCounter(_bits.threefry2x32)
    monkeypatch.setattr(_bits, "threefry2x32", spy)
    return spy


def _runs(shape: tuple[int, ...], index: tuple[slice, ...]) -> tuple[int, int]:
    """(number of elements, number of contiguous runs of flat indices) of a region."""
    region = [s.indices(d)[:2] for s, d in zip(index, shape, strict=False)]
    region += [(0, d) for d in shape[len(index) :]]
    sizes = [b - a for a, b in region]
    k = len(shape) - 1
    while k >= 0 and region[k] == (0, shape[k]):
        k -= 1
    return math.prod(sizes), math.prod(sizes[:k]) if k > 0 else 1


@_settings(60)
@given(problems(sorted(set(RANDOM_NAMES) - {"Orthogonal"})))
def test_a_slice_generates_only_its_own_elements(counter, problem):
    name, shape, dtype, index = problem
    init = FACTORIES[name][0]()
    counter.blocks = 0
    part = init(shape, dtype, index=index)
    n, runs = _runs(shape, index)
    assert part.size == n
    if n == 0:
        assert counter.blocks == 0
        return
    # float32 precision: two elements per block, plus at most one partial block at each end
    # of a run; float64: one block per element
    low = n if dtype == "float64" else (n + 1) // 2
    assert low <= counter.blocks <= n + runs


def test_slice_cost_is_proportional_to_the_slice_not_the_tensor(counter):
    shape = (64, 64, 64)
    for name in sorted(set(RANDOM_NAMES) - {"Orthogonal"}):
        init = FACTORIES[name][0]()
        for dtype in ("float32", "float64"):
            counter.blocks = 0
            init(shape, dtype)
            whole = counter.blocks
            counter.blocks = 0
            init(shape, dtype, index=(slice(10, 12), slice(5, 40), slice(3, 9)))
            part = counter.blocks
            assert whole >= 64**3 // 2
            assert part <= 2 * 35 * 6 + 2 * 35  # 420 elements in 70 runs
            assert part * 300 < whole


def test_orthogonal_index_computes_the_whole_matrix_and_slices_it(counter):
    # Orthogonal needs the whole matrix: its index form generates everything
    init = wi.Orthogonal(seed=1)
    counter.blocks = 0
    init((40, 30), "float32", index=(slice(0, 1), slice(0, 1)))
    assert counter.blocks == 40 * 30  # the float64 input stream: one block per element


@pytest.mark.parametrize("name", RANDOM_CLASS_NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_call_region_is_the_index_call(name: str, dtype: str) -> None:
    # the adapters' entry (weightinit.torch): a checked shape, a numpy dtype and a region
    init = make(name, seed=11)
    shape = (3, 8, 8) if name == "DeltaOrthogonal" else (9, 8)
    resolved = init((1,) * len(shape) if name != "DeltaOrthogonal" else (1, 2, 2), dtype).dtype
    for region in (tuple((0, n) for n in shape), ((2, 3), *((1, n) for n in shape[1:]))):
        index = tuple(slice(lo, hi) for lo, hi in region)
        got = init._call_region(shape, resolved, region)
        want = init(shape, dtype, index=index)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), region
    with pytest.raises(wi.InvalidTypeError, match="unsupported dtype"):
        init._call_region(shape, np.dtype(np.int32), tuple((0, n) for n in shape))


def test_call_region_names_the_slice_when_over_the_cap() -> None:
    # the adapters' entry builds its error label only when it raises, and says what it made
    init = wi.GlorotUniform(seed=1)
    f32 = np.dtype(np.float32)
    wi.set_max_bytes(1 << 20)
    try:
        sliced = r"index= slice of \(1024, 1024\), of shape \(512, 1024\)"
        with pytest.raises(wi.ResourceLimitError, match=sliced):
            init._call_region((1024, 1024), f32, ((0, 512), (0, 1024)))
        with pytest.raises(wi.ResourceLimitError, match=r"GlorotUniform of shape \(1024, 1024\)"):
            init._call_region((1024, 1024), f32, ((0, 1024), (0, 1024)))
        assert init._call_region((1024, 1024), f32, ((0, 4), (0, 1024))).shape == (4, 1024)
    finally:
        wi.set_max_bytes(None)
