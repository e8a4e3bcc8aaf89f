"""The engine's ``out=`` path (used by weightinit.torch to write into tensor memory).

Writing into a given array, contiguous or strided (a transposing view, as a
torch weight seen in Keras order), must give exactly the bits of the normal
call, on the kernel and on the numpy reference, across chunk boundaries.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi
from weightinit._engine import _kernel, sample, writing_into
from weightinit._engine._layout import box_tiles

DTYPES = [np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)]
KINDS = [("uniform", -1.0, 1.0), ("normal", 0.0, 1.0), ("truncated_normal", 0.5, 2.0)]
# (shape, region, permutation of the destination's memory axes)
CASES = [
    ((300, 700), ((0, 300), (0, 700)), (1, 0)),
    ((1000, 700), ((0, 1000), (0, 700)), (1, 0)),  # several scatter chunks, split mid-row
    ((3, 3, 17, 40), ((0, 3), (1, 3), (2, 17), (0, 40)), (3, 2, 0, 1)),
    ((70, 33, 20), ((3, 60), (0, 33), (5, 19)), (2, 0, 1)),
    ((5,), ((1, 4),), (0,)),
    ((40, 2000), ((0, 40), (0, 2000)), (1, 0)),
    ((40000, 20), ((0, 40000), (0, 20)), (1, 0)),  # short rows, many per chunk
    ((20000, 70), ((0, 20000), (0, 70)), (1, 0)),  # the blocked scatter's row bound
    ((30, 40000), ((0, 30), (0, 40000)), (1, 0)),  # wide rows: larger chunks
]
BACKENDS = ["reference", "kernel"] if _kernel.available() else ["reference"]


def _strided_out(ext: tuple[int, ...], perm: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    base = np.full(tuple(ext[p] for p in perm), 7, dtype=dtype)
    return base.transpose(np.argsort(perm))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind,a,b", KINDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_strided_out_is_bitwise_the_normal_call(backend: str, kind: str, a: float, b: float, dtype) -> None:
    for shape, region, perm in CASES:
        if backend == "reference" and np.prod([e - s for s, e in region]) > 300_000:
            continue  # the reference is slow; the small cases cover its tiling
        ref = sample(kind, 7, 0, shape, region, dtype, a, b)
        out = _strided_out(ref.shape, perm, dtype)
        got = sample(kind, 7, 0, shape, region, dtype, a, b, backend=backend, out=out)
        assert got is out
        assert np.ascontiguousarray(out).tobytes() == ref.tobytes(), (shape, region, perm)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_contiguous_out_and_wrong_out(dtype) -> None:
    ref = sample("normal", 3, 1, (64, 50), ((0, 64), (0, 50)), dtype, 0.0, 2.0)
    out = np.zeros((64, 50), dtype=dtype)
    assert sample("normal", 3, 1, (64, 50), ((0, 64), (0, 50)), dtype, 0.0, 2.0, out=out) is out
    assert out.tobytes() == ref.tobytes()
    with pytest.raises(ValueError, match="out must be"):
        sample("normal", 3, 1, (64, 50), ((0, 64), (0, 50)), dtype, 0.0, 2.0, out=np.zeros((50, 64), dtype))
    frozen = np.zeros((64, 50), dtype=dtype)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="out must be"):
        sample("normal", 3, 1, (64, 50), ((0, 64), (0, 50)), dtype, 0.0, 2.0, out=frozen)


def test_constant_uniform_into_strided_out() -> None:
    out = _strided_out((30, 20), (1, 0), np.dtype(np.float32))
    sample("uniform", 1, 0, (30, 20), ((0, 30), (0, 20)), np.dtype(np.float32), 0.25, 0.25, out=out)
    assert (out == 0.25).all()


def test_writing_into_feeds_one_matching_call() -> None:
    init = wi.GlorotUniform(seed=5)
    ref = init((120, 80))
    buf = np.zeros((80, 120), np.float32).T
    with writing_into(buf) as target:
        got = init((120, 80))
        again = init((120, 80))  # single use: the second call allocates
    assert target.used and got is buf and again is not buf
    assert np.array_equal(buf, ref) and np.array_equal(again, ref)
    other = np.zeros((3, 3), np.float32)
    with writing_into(other) as target:
        init((120, 80))  # shape differs: not used
        init((3, 3), dtype="float64")  # dtype differs: not used
    assert not target.used and not other.any()
    frozen = np.zeros(3, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writable"), writing_into(frozen):
        pass  # pragma: no cover


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_deferred_fill_writes_nothing_until_its_job_runs(backend: str, dtype, monkeypatch) -> None:
    if backend == "reference":
        monkeypatch.setenv("WEIGHTINIT_DISABLE_KERNEL", "1")
    init = wi.TruncatedNormal(0.5, 2.0, seed=9)
    ref = init((300, 70), dtype, index=(slice(20, 300), slice(0, 70)))
    for buf in (np.full((70, 280), 7, dtype).T, np.full((280, 70), 7, dtype)):  # strided, contiguous
        with writing_into(buf, defer=True) as target:
            got = init((300, 70), dtype, index=(slice(20, 300), slice(0, 70)))
        assert got is buf and target.used and target.job is not None
        assert (buf.astype(np.float32) == 7).all()  # prepared only
        target.job()
        assert np.ascontiguousarray(buf).tobytes() == ref.tobytes()
    empty = np.zeros((0, 4), dtype)
    with writing_into(empty, defer=True) as target:
        init((0, 4), dtype)
    assert target.used and target.job is None  # nothing to fill
    plain = np.zeros((3, 3), dtype)
    with writing_into(plain) as target:  # without defer the call fills at once
        init((3, 3), dtype)
    assert target.job is None and plain.tobytes() == init((3, 3), dtype).tobytes()


def test_the_kernels_bound_call_is_the_fill() -> None:
    if not _kernel.available():
        pytest.skip("the compiled kernel is not built")
    from weightinit._engine._layout import runs_of
    from weightinit._engine._sample import _transform_for

    f32 = np.dtype(np.float32)
    transform = _transform_for("normal", 0.0, 1.0, (1.0, 1.0), f32)
    runs = runs_of((40, 50), ((5, 40), (0, 50)))
    flat, strided = np.zeros(35 * 50, f32), np.zeros((50, 35), f32).T
    run_call = _kernel.bind_runs("normal", (3, 4), runs, flat, transform)
    strided_call = _kernel.bind_strided("normal", (3, 4), runs, strided, transform)
    assert run_call is not None and strided_call is not None
    assert not flat.any() and not strided.any()  # binding writes nothing
    run_call()
    strided_call()
    assert flat.any() and np.array_equal(flat.reshape(35, 50), strided)
    assert _kernel.bind_runs("normal", (3, 4), runs, np.zeros(35 * 50, np.int32), transform) is None
    assert _kernel.bind_strided("normal", (3, 4), runs, np.zeros((50, 35), f32)[::-1].T, transform) is None


@pytest.mark.parametrize("cls", [wi.Orthogonal, wi.TorchOrthogonal, wi.JaxOrthogonal])
def test_working_arrays_stay_out_of_the_target(cls) -> None:
    # the Haar family first draws a float64 normal working matrix of the output's shape:
    # it once landed in a square float64 target (a torch weight), strided, and the
    # result moved by an ulp
    init = cls(seed=4)
    ref = init((64, 64), "float64")
    buf = np.zeros((64, 64), np.float64).T
    with writing_into(buf) as target:
        got = init((64, 64), "float64")
    assert np.array_equal(got, ref)
    assert not target.used and not buf.any()


def test_writing_into_an_index_call() -> None:
    init = wi.RandomNormal(seed=2)
    ref = init((50, 40), index=(slice(10, 30), slice(5, 40)))
    buf = np.zeros((35, 20), np.float32).T
    with writing_into(buf):
        got = init((50, 40), index=(slice(10, 30), slice(5, 40)))
    assert got is buf and np.array_equal(buf, ref)


@pytest.mark.parametrize(
    "region,limit",
    [(((0, 7), (2, 9), (0, 5)), 11), (((3, 4),), 1), (((0, 4), (0, 4)), 100), ((), 5), (((0, 0), (0, 3)), 4)],
)
def test_box_tiles_cover_the_region_in_order(region, limit) -> None:
    tiles = list(box_tiles(region, limit))
    ext = tuple(e - s for s, e in region)
    seen = np.zeros(ext, dtype=int) if ext else np.zeros((), dtype=int)
    order = []
    for tile in tiles:
        size = int(np.prod([e - s for s, e in tile]))
        assert 1 <= size <= max(limit, 1) or size <= limit
        idx = tuple(slice(s - r0, e - r0) for (s, e), (r0, _) in zip(tile, region, strict=True))
        seen[idx] += 1
        order.append(
            np.ravel_multi_index(tuple(s - r0 for (s, _), (r0, _) in zip(tile, region, strict=True)), ext)
            if ext
            else 0
        )
    assert (seen == 1).all()
    assert order == sorted(order)
