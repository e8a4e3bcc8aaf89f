"""Orthogonal: the product of the Householder reflections of the seed's normal vectors.

The reference applies the reflections one at a time, unblocked, to the first
``n`` columns of the identity. With ``A`` = ``RandomNormal(0, 1, seed)``'s
float64 stream of shape ``(rows, cols)`` and ``B`` = ``A`` (rows >= cols) or
``A^T``, reflection ``k`` is built from ``B[k:, k]`` and maps it to
``-s ||x|| e_k``; the columns are then signed by ``-s``, and the result is
transposed back when rows < cols. The blocked implementation must agree with it
to float64 rounding for every block size and scratch size.
"""

from __future__ import annotations

import math
import tracemalloc

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi
from weightinit import _haar
from weightinit._errors import InvalidArgumentError, ResourceLimitError

SMALL_SHAPES = [(3, 3), (7, 4), (4, 7), (2, 3, 5), (40, 30), (1, 1), (1, 5), (5, 1)]
LARGE_SHAPES = [(600, 300), (300, 600), (4, 75, 256), (512, 512)]
DTYPES = ["float16", "bfloat16", "float32", "float64"]


def haar_reference(seed: int, rows: int, cols: int) -> np.ndarray:
    """The (rows, cols) matrix by applying one reflection at a time (rank-1 updates)."""
    a = wi.RandomNormal(0.0, 1.0, seed=seed)((rows, cols), "float64")
    b = a if rows >= cols else a.T
    m, n = b.shape
    u = np.eye(m)[:, :n]
    signs = np.empty(n)
    vectors = []
    for k in range(n):
        x = b[k:, k]
        s = -1.0 if x[0] < 0 else 1.0
        v = x.copy()
        v[0] += s * np.linalg.norm(x)
        vectors.append((k, v))
        signs[k] = -s
    for k, v in reversed(vectors):  # u = H_0 (H_1 (... (H_{n-1} E)))
        u[k:] -= np.outer(v, (2.0 / (v @ v)) * (v @ u[k:]))
    u = u * signs
    return u if rows >= cols else u.T


def reference(seed: int, shape: tuple[int, ...], gain: float = 1.0) -> np.ndarray:
    rows, cols = math.prod(shape[:-1]), shape[-1]
    return (haar_reference(seed, rows, cols) * gain).reshape(shape)


def gram_error(values: np.ndarray) -> float:
    rows, cols = math.prod(values.shape[:-1]), values.shape[-1]
    q = values.astype(np.float64).reshape(rows, cols)
    gram = q.T @ q if rows >= cols else q @ q.T
    return float(np.abs(gram - np.eye(min(rows, cols))).max())


@pytest.fixture
def restore_cap():
    yield
    wi.set_max_bytes(None)


# --------------------------------------------------------------------------- values


def test_the_reference_reflections_map_each_vector_onto_its_axis():
    # H_k x_k = -s ||x_k|| e_k: the defining property, checked on explicit matrices
    g = wi.RandomNormal(0.0, 1.0, seed=3)((4, 6), "float64")
    for k in range(4):
        x = g[k, k:]
        s = -1.0 if x[0] < 0 else 1.0
        v = x.copy()
        v[0] += s * np.linalg.norm(x)
        h = np.eye(6 - k) - 2.0 * np.outer(v, v) / (v @ v)
        np.testing.assert_allclose(h @ x, -s * np.linalg.norm(x) * np.eye(6 - k)[0], atol=1e-14)
        full = np.eye(6)
        full[k:, k:] = h
        np.testing.assert_allclose(full @ full.T, np.eye(6), atol=1e-14)


@pytest.mark.parametrize("shape", SMALL_SHAPES + LARGE_SHAPES)
def test_float64_is_the_product_of_the_seed_reflections(shape):
    got = wi.Orthogonal(seed=5)(shape, "float64")
    assert got.shape == shape and got.dtype == np.float64 and got.flags.c_contiguous
    np.testing.assert_allclose(got, reference(5, shape), rtol=0, atol=1e-13)
    assert gram_error(got) < 1e-13


@pytest.mark.parametrize(("block", "scratch"), [(1, 1), (3, 7), (64, 1000), (100, 1 << 20), (1000, 1 << 20)])
@pytest.mark.parametrize("shape", [(7, 4), (65, 65), (200, 129), (130, 300), (1000, 70)])
def test_every_block_and_scratch_size_gives_the_product(shape, block, scratch, monkeypatch):
    # small blocks and scratch buffers exercise the block loop, the panel and the row chunks
    monkeypatch.setattr(_haar, "_block_width", lambda m, n: block)
    monkeypatch.setattr(_haar, "SCRATCH", scratch)
    got = wi.Orthogonal(seed=6)(shape, "float64")
    np.testing.assert_allclose(got, reference(6, shape), rtol=0, atol=1e-13)


def _tile_mask(rows: int, cols: int, block: int) -> np.ndarray:
    """True above B's diagonal inside its diagonal tiles, in A's layout."""
    n, m = min(rows, cols), max(rows, cols)
    mask = np.zeros((m, n), dtype=bool)
    for j in range(0, n, block):
        e = min(j + block, n)
        mask[j:e, j:e] = np.triu(np.ones((e - j, e - j), dtype=bool), 1)
    return mask if rows >= cols else mask.T


@pytest.mark.parametrize("block", [1, 2, 3, 100])
def test_the_stream_is_drawn_whole_with_zeros_in_the_diagonal_tiles_above_the_diagonal(block):
    for rows, cols in [(6, 9), (9, 6), (7, 7)]:
        a = _haar._draw_reflectors(21, 0, rows, cols, block)
        g = wi.RandomNormal(0.0, 1.0, seed=21)((rows, cols), "float64")
        mask = _tile_mask(rows, cols, block)
        assert (a[mask] == 0).all()
        np.testing.assert_array_equal(a[~mask], g[~mask])


@pytest.mark.parametrize("block", [1, 3, 32])
@pytest.mark.parametrize("shape", [(7, 4), (4, 7), (65, 65), (200, 129), (130, 300)])
def test_the_rest_of_the_upper_trapezoid_is_written_before_it_is_read(shape, block, monkeypatch):
    # NaN where B has entries above its diagonal outside the tiles: any read would show
    draw = _haar._draw_reflectors

    def poisoned(seed, call, rows, cols, width):
        a = draw(seed, call, rows, cols, width)
        upper = (
            np.triu(np.ones((rows, cols), dtype=bool), 1)
            if rows >= cols
            else np.tril(np.ones((rows, cols), dtype=bool), -1)
        )
        a[upper & ~_tile_mask(rows, cols, width)] = np.nan
        return a

    monkeypatch.setattr(_haar, "_block_width", lambda m, n: block)
    monkeypatch.setattr(_haar, "_draw_reflectors", poisoned)
    got = wi.Orthogonal(seed=6)(shape, "float64")
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, reference(6, shape), rtol=0, atol=1e-13)


def test_a_zero_vector_gives_a_reflection_not_nan():
    # x_k = 0 (probability zero for drawn vectors) must still give an orthogonal matrix
    p = np.triu(np.arange(1.0, 21.0).reshape(4, 5))
    p[1, 1:] = 0.0
    p[3, 3] = 0.0
    p[3, 4] = 0.0
    u = p.T  # the tall view: the vectors are its columns
    tau, signs = _haar._normalize(u, 2)
    assert tau[1] == 2.0 and tau[3] == 2.0 and signs[1] == -1.0
    _haar._accumulate(u, tau, 2)
    assert np.isfinite(u).all()
    np.testing.assert_allclose(u.T @ u, np.eye(4), atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7, 4), (4, 7), (600, 300), (300, 600)])
def test_every_dtype_is_the_float64_result_rounded_once(shape, dtype):
    init = wi.Orthogonal(gain=1.5, seed=8)
    got = init(shape, dtype)
    assert got.dtype == np.dtype(getattr(ml_dtypes, dtype, dtype)) and got.shape == shape
    np.testing.assert_array_equal(got, init(shape, "float64").astype(got.dtype))
    if dtype == "float32":
        np.testing.assert_allclose(got, reference(8, shape, 1.5), rtol=0, atol=1e-6)
        assert gram_error(got / 1.5) < 1e-5


def test_float32_orthogonality_on_a_larger_square(monkeypatch):
    got = wi.Orthogonal(seed=9)((1024, 1024))
    assert got.dtype == np.float32
    assert gram_error(got) < 1e-7  # the float32 rounding alone (~1e-8); a float32 QR gives ~5e-7
    monkeypatch.setattr(_haar, "_block_width", lambda m, n: 96)  # another blocking: the same matrix
    other = wi.Orthogonal(seed=9)((1024, 1024), "float64")
    np.testing.assert_allclose(got, other, rtol=0, atol=1e-6)
    assert gram_error(other) < 1e-13


def test_repeated_calls_are_bitwise_equal():
    init = wi.Orthogonal(seed=10)
    np.testing.assert_array_equal(init((600, 300)), init((600, 300)))


@pytest.mark.parametrize("gain", [2.0, -0.5, 0.0, 1e-3])
@pytest.mark.parametrize("shape", [(7, 4), (600, 300)])
def test_gain_multiplies_the_float64_matrix(shape, gain):
    one = wi.Orthogonal(seed=11)(shape, "float64")
    np.testing.assert_array_equal(wi.Orthogonal(gain=gain, seed=11)(shape, "float64"), one * gain)


# --------------------------------------------------------------------------- Haar


def _ks_beta(values: np.ndarray, dim: int) -> float:
    """KS p-value of the squared entries of unit vectors of R^dim: Beta(1/2, (dim - 1)/2)."""
    stats = pytest.importorskip("scipy.stats")
    return float(stats.kstest(values.ravel() ** 2, stats.beta(0.5, (dim - 1) / 2).cdf).pvalue)


@pytest.mark.parametrize(("shape", "dim"), [((512, 512), 512), ((300, 600), 600), ((600, 300), 600)])
def test_entries_follow_the_haar_law(shape, dim):
    # every row (rows < cols) or column (rows >= cols) is uniform on the unit sphere of R^dim
    got = wi.Orthogonal(seed=12)(shape, "float64")
    assert _ks_beta(got, dim) > 1e-3
    assert abs(got.mean()) < 4 / math.sqrt(got.size * dim)


def test_signs_are_symmetric():
    # Without the sign rule, Householder QR gives diag(Q) < 0 far too often (sum ~ -sqrt(2n/pi)).
    sums = [float(np.trace(wi.Orthogonal(seed=s)((512, 512), "float64"))) for s in range(4)]
    assert all(abs(s) < 5 for s in sums), sums
    got = wi.Orthogonal(seed=13)((512, 512), "float64")
    assert abs((got > 0).mean() - 0.5) < 0.01


def test_traces_follow_the_haar_law():
    # the trace of a Haar matrix of O(n) is close to N(0, 1) for n >= 4 (Diaconis-Shahshahani);
    # a missing or wrong sign rule shifts it by about sqrt(n)
    stats = pytest.importorskip("scipy.stats")
    traces = np.array([np.trace(wi.Orthogonal(seed=s)((48, 48), "float64")) for s in range(300)])
    assert stats.kstest(traces, stats.norm.cdf).pvalue > 1e-3
    assert abs(traces.mean()) < 0.3


def test_same_law_as_keras_qr_construction():
    # Keras: Q of a standard normal matrix, signed by diag(R); compare a few entries' laws
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    theirs, ours = [], []
    for s in range(200):
        q, r = np.linalg.qr(rng.standard_normal((12, 12)))
        theirs.append((q * np.sign(np.diagonal(r)))[[0, 5, 11], [0, 3, 11]])
        ours.append(wi.Orthogonal(seed=s)((12, 12), "float64")[[0, 5, 11], [0, 3, 11]])
    theirs_arr, ours_arr = np.array(theirs), np.array(ours)
    for col in range(3):
        assert stats.ks_2samp(theirs_arr[:, col], ours_arr[:, col]).pvalue > 1e-3


# --------------------------------------------------------------------------- shapes and slices


@pytest.mark.parametrize("shape", [(5,), ()])
def test_rank_below_two_is_refused(shape):
    with pytest.raises(InvalidArgumentError, match="at least two-dimensional"):
        wi.Orthogonal(seed=1)(shape)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 3, 64, 128), (1, 1, 1, 300)])
def test_leading_axes_fold_into_rows(shape):
    got = wi.Orthogonal(seed=14)(shape, "float64")
    np.testing.assert_allclose(got, reference(14, shape), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0), (2, 0, 3), (0, 3, 4)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_size_shapes(shape, dtype):
    got = wi.Orthogonal(seed=1)(shape, dtype)
    assert got.shape == shape and got.size == 0 and got.dtype.name == dtype
    part = wi.Orthogonal(seed=1)(shape, dtype, index=(slice(0, 0),))
    assert part.shape == (0, *shape[1:])


@pytest.mark.parametrize("shape", [(7, 4), (600, 300), (300, 600), (4, 75, 256)])
@pytest.mark.parametrize(
    "index",
    [(slice(0, 1),), (slice(2, 4), slice(1, 3)), (slice(None), slice(0, 1)), (slice(1, 2), slice(None))],
)
def test_index_is_the_slice_of_the_whole(shape, index):
    init = wi.Orthogonal(seed=15)
    for dtype in ("float32", "bfloat16"):
        whole = init(shape, dtype)
        part = init(shape, dtype, index=index)
        np.testing.assert_array_equal(part, whole[index])
        assert part.flags.c_contiguous and part.flags.owndata


# --------------------------------------------------------------------------- memory


@pytest.mark.parametrize("shape", [(600, 300), (300, 600), (40, 30), (3000, 20)])
@pytest.mark.parametrize("scratch", [1 << 20, 5000])
def test_working_memory_estimate_is_an_upper_bound(shape, scratch, monkeypatch):
    monkeypatch.setattr(_haar, "SCRATCH", scratch)
    init = wi.Orthogonal(seed=16)
    init(shape)  # warm up (lazy imports, caches)
    tracemalloc.start()
    try:
        out = init(shape)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= init._work_bytes(shape) + out.nbytes


def test_size_cap_counts_the_working_memory(restore_cap):
    init = wi.Orthogonal(seed=17)
    need = init._work_bytes((600, 300)) + 600 * 300 * 4
    wi.set_max_bytes(need - 1)
    with pytest.raises(ResourceLimitError, match="Orthogonal"):
        init((600, 300))
    wi.set_max_bytes(need)
    assert init((600, 300)).shape == (600, 300)


WIDTHS = [((1, 1), 1), ((100, 100), 32), ((256, 256), 64), ((1024, 1024), 256), ((4096, 4096), 384)]
WIDTHS += [((1024, 512), 256), ((4608, 512), 384), ((20000, 256), 256), ((10**5, 64), 64)]


@pytest.mark.parametrize(("shape", "width"), WIDTHS)
def test_block_width_is_a_quarter_of_the_rows_within_bounds(shape, width):
    assert _haar._block_width(*shape) == width
