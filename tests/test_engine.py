"""The random engine: Threefry-2x32-20 bits, special functions, bits-to-values transforms.

Everything here tests ``weightinit._engine`` directly. The numbers that users
see are pinned separately by ``test_golden.py``; this file checks that the
building blocks are what their docstrings say: the Threefry known-answer
vectors and agreement with JAX's threefry, the accuracy of the bit-reproducible
``log`` and normal quantile, and the range, symmetry and monotonicity of the
transforms. The ulp bounds below were measured (stated next to each test) and
rounded up; they are properties of the stream, so they cannot drift unless the
stream changes.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from weightinit._dtypes import bfloat16
from weightinit._engine import _kernel, _sample
from weightinit._engine._bits import words_gather, words_range
from weightinit._engine._keys import DOMAINS, STREAM_VERSION, derive_key
from weightinit._engine._special import log_neg, ndtri_q
from weightinit._engine._threefry import threefry2x32, threefry2x32_scalar
from weightinit._engine._transforms import TRUNC_MASS, normal_from_bits, uniform_from_bits

U32 = np.uint32
F32_GRID = 2**24  # float32 work precision: 24 bits of each word are used

# Random123 known-answer tests for threefry2x32_20 (kat_vectors): key, counter, result.
KATS = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


def _ulps(got: np.ndarray, ref: np.ndarray, dtype: type) -> np.ndarray:
    """|got - ref| in units of the spacing of ``dtype`` at ``ref`` (ref in a wider type)."""
    spacing = np.spacing(np.abs(ref.astype(dtype))).astype(ref.dtype)
    return np.abs(got.astype(ref.dtype) - ref) / spacing


@functools.cache
def _f32_words() -> np.ndarray:
    """One word for each of the 2**24 distinct float32-precision inputs, in increasing order."""
    words = np.arange(F32_GRID, dtype=U32) << U32(8)
    words.flags.writeable = False
    return words


@functools.cache
def _f32_normal(truncated: bool) -> np.ndarray:
    """The standard (truncated) normal value of every float32-precision input, in word order."""
    z = normal_from_bits((_f32_words(),), np.float32(0.0), np.float32(1.0), truncated)
    z.flags.writeable = False
    return z


def _f64_words(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two words whose top 52 bits (as the normal transform reads them) are ``m``."""
    m = m.astype(np.uint64)
    return (m >> np.uint64(20)).astype(U32), ((m & np.uint64(0xFFFFF)) << np.uint64(12)).astype(U32)


# --------------------------------------------------------------------------- Threefry


@pytest.mark.parametrize(("key", "ctr", "expected"), KATS)
def test_threefry_scalar_matches_random123_known_answers(key, ctr, expected):
    assert threefry2x32_scalar(key, ctr) == expected


@pytest.mark.parametrize(("key", "ctr", "expected"), KATS)
def test_threefry_vectorized_matches_random123_known_answers(key, ctr, expected):
    x0 = np.array([ctr[0]] * 3, dtype=U32)
    x1 = np.array([ctr[1]] * 3, dtype=U32)
    y0, y1 = threefry2x32(key, x0, x1)
    assert y0.dtype == y1.dtype == U32
    assert y0.tolist() == [expected[0]] * 3
    assert y1.tolist() == [expected[1]] * 3
    assert x0.tolist() == [ctr[0]] * 3  # inputs are not modified


def test_threefry_vectorized_equals_scalar_on_random_keys_and_counters():
    rng = np.random.default_rng(20240601)
    for _ in range(8):
        key = tuple(int(k) for k in rng.integers(0, 2**32, 2, dtype=np.uint64))
        x0 = rng.integers(0, 2**32, 64, dtype=np.uint64).astype(U32)
        x1 = rng.integers(0, 2**32, 64, dtype=np.uint64).astype(U32)
        y0, y1 = threefry2x32(key, x0, x1)
        scalar = [threefry2x32_scalar(key, (int(a), int(b))) for a, b in zip(x0, x1, strict=True)]
        assert list(zip(y0.tolist(), y1.tolist(), strict=True)) == scalar


def test_threefry_agrees_with_jax_threefry_on_random_keys_and_counters():
    pytest.importorskip("jax")
    import jax.numpy as jnp
    from jax.extend.random import threefry_2x32

    rng = np.random.default_rng(7)
    keys = [(0, 0), (0xFFFFFFFF, 0xFFFFFFFF)]
    keys += [tuple(int(k) for k in rng.integers(0, 2**32, 2, dtype=np.uint64)) for _ in range(6)]
    for key in keys:
        x0 = rng.integers(0, 2**32, 512, dtype=np.uint64).astype(U32)
        x1 = rng.integers(0, 2**32, 512, dtype=np.uint64).astype(U32)
        x0[:2], x1[:2] = (0, 0xFFFFFFFF), (0, 0xFFFFFFFF)
        # jax hashes the pairs (count[i], count[n + i]) of an even-length count array
        got = threefry_2x32((jnp.uint32(key[0]), jnp.uint32(key[1])), jnp.asarray(np.concatenate([x0, x1])))
        y0, y1 = threefry2x32(key, x0, x1)
        np.testing.assert_array_equal(np.asarray(got), np.concatenate([y0, y1]))


def test_key_derivation_is_two_threefry_steps_of_seed_domain_version_and_call():
    for seed, call, kind in [
        (0, 0, "normal"),
        (2**64 - 1, 5, "uniform"),
        (123456789, 2**40, "truncated_normal"),
    ]:
        k1 = threefry2x32_scalar((seed & 0xFFFFFFFF, seed >> 32), (DOMAINS[kind], STREAM_VERSION))
        expected = threefry2x32_scalar(k1, (call & 0xFFFFFFFF, call >> 32))
        assert derive_key(seed, call, kind) == expected


def test_key_derivation_separates_families_seeds_and_calls():
    keys = {
        derive_key(seed, call, kind)
        for seed in (0, 1, 2**32, 2**64 - 1)
        for call in (0, 1, 2**32)
        for kind in ("normal", "truncated_normal", "uniform")
    }
    assert len(keys) == 4 * 3 * 3


# --------------------------------------------------------------------------- word layout


def test_float32_precision_element_i_takes_word_i_mod_2_of_block_i_div_2():
    key = derive_key(99, 0, "normal")
    blocks = np.arange(0, 50, dtype=U32)
    y0, y1 = threefry2x32(key, blocks, np.zeros_like(blocks))
    interleaved = np.stack([y0, y1], axis=1).reshape(-1)
    for start, stop in [(0, 100), (1, 100), (3, 4), (7, 42), (0, 1), (99, 100)]:
        (words,) = words_range(key, start, stop, wide=False)
        np.testing.assert_array_equal(words, interleaved[start:stop])
    idx = np.array([5, 0, 99, 98, 5, 13], dtype=np.int64)
    (gathered,) = words_gather(key, idx, wide=False)
    np.testing.assert_array_equal(gathered, interleaved[idx])


def test_float64_precision_element_i_takes_both_words_of_block_i():
    key = derive_key(2**63, 3, "uniform")
    blocks = np.arange(0, 40, dtype=U32)
    y0, y1 = threefry2x32(key, blocks, np.zeros_like(blocks))
    x0, x1 = words_range(key, 5, 31, wide=True)
    np.testing.assert_array_equal(x0, y0[5:31])
    np.testing.assert_array_equal(x1, y1[5:31])
    g0, g1 = words_gather(key, np.array([39, 0, 7], dtype=np.int64), wide=True)
    np.testing.assert_array_equal(g0, y0[[39, 0, 7]])
    np.testing.assert_array_equal(g1, y1[[39, 0, 7]])


def test_counter_high_word_is_used_for_flat_indices_beyond_2_to_32():
    key = derive_key(1, 0, "normal")
    start = 2**33 + 6
    (narrow,) = words_range(key, start, start + 4, wide=False)
    block = start // 2
    hi = U32(block >> 32)
    lo = np.array([block & 0xFFFFFFFF, (block + 1) & 0xFFFFFFFF], dtype=U32)
    y0, y1 = threefry2x32(key, lo, np.full(2, hi))
    np.testing.assert_array_equal(narrow, [y0[0], y1[0], y0[1], y1[1]])
    (gathered,) = words_gather(key, np.array([start, start + 3], dtype=np.int64), wide=False)
    np.testing.assert_array_equal(gathered, [y0[0], y1[1]])


def test_kernel_and_numpy_reference_give_identical_bits():
    if not _kernel.available():
        pytest.skip("the compiled kernel is not available (not built, or WEIGHTINIT_DISABLE_KERNEL is set)")
    shape = (37, 5, 11)
    regions = [((0, 37), (0, 5), (0, 11)), ((3, 30), (1, 4), (2, 9)), ((36, 37), (0, 5), (10, 11))]
    for kind, a, b in [("normal", 0.5, 2.0), ("truncated_normal", -1.0, 0.3), ("uniform", -2.0, 3.0)]:
        for dtype in ("float16", "bfloat16", "float32", "float64"):
            dt = bfloat16() if dtype == "bfloat16" else np.dtype(dtype)
            for region in regions:
                ref = _sample.sample(kind, 5, 2, shape, region, dt, a, b, backend="reference")
                fast = _sample.sample(kind, 5, 2, shape, region, dt, a, b, backend="kernel")
                assert ref.tobytes() == fast.tobytes(), (kind, dtype, region)


# --------------------------------------------------------------------------- log_neg


def test_log_neg_float32_error_at_most_2_ulp():
    # measured: 1.52 ulp over 2e6 random float32 in (0, 1] plus the edge values
    rng = np.random.default_rng(3)
    r = rng.integers(1, 0x3F800001, 2_000_000, dtype=np.uint32).view(np.float32)
    edges = [
        1.0,
        np.nextafter(np.float32(1), np.float32(0)),
        0.5,
        0.70710677,
        0.70710683,
        2.0**-126,
        2.0**-149,
    ]
    r = np.concatenate([r, np.array(edges, dtype=np.float32)])
    got = log_neg(r)
    assert got.dtype == np.float32
    ref = -np.log(r.astype(np.float64))  # float64 log: exact enough for a float32 check
    assert _ulps(got, ref, np.float32).max() <= 2.0
    assert got[-7] == 0.0 and (got[:-7] >= 0).all()


def test_log_neg_float64_error_at_most_2_5_ulp():
    # measured: 1.92 ulp over 1e6 random float64 in (0, 1] against an 80-bit long double log
    rng = np.random.default_rng(4)
    r = rng.integers(1, 0x3FF0000000000001, 1_000_000, dtype=np.uint64).view(np.float64)
    edges = [1.0, np.nextafter(1.0, 0.0), 0.5, np.sqrt(0.5), 2.0**-1022, 5e-324]
    r = np.concatenate([r, np.array(edges)])
    got = log_neg(r)
    assert got.dtype == np.float64
    if np.finfo(np.longdouble).nmant >= 63:
        ref = -np.log(r.astype(np.longdouble))
    else:  # long double is just double here: check a subset against mpmath instead
        mpmath = pytest.importorskip("mpmath")
        mpmath.mp.prec = 120
        r, got = r[::500], got[::500]
        ref = np.array([-mpmath.log(mpmath.mpf(float(x))) for x in r], dtype=object).astype(np.float64)
    assert _ulps(got, ref, np.float64).max() <= 2.5


# --------------------------------------------------------------------------- normal quantile


def test_ndtri_q_float32_error_at_most_6_ulp_on_every_reachable_input():
    # measured: 5.33 ulp (at q = -0.0977), the extreme tails |q| = 1/2 - 2**-25 included.
    # The reference is scipy's float64 ndtri of the exact p = 1/2 + q. Only q > 0 is
    # evaluated: the quantile is exactly odd (tested below), which covers q < 0.
    special = pytest.importorskip("scipy.special")
    half = F32_GRID // 2
    m = np.arange(half, F32_GRID, dtype=np.int64)
    q = (2 * m - (F32_GRID - 1)).astype(np.float64) * 2.0**-25  # exact, and exact in float32
    z = _f32_normal(False)[half:]  # = ndtri_q(q) * 1 + 0
    np.testing.assert_array_equal(z[::4096], ndtri_q(q[::4096].astype(np.float32)))
    assert _ulps(z, special.ndtri(0.5 + q), np.float32).max() <= 6.0
    # the truncated transform feeds q * (Phi(2) - Phi(-2)) (rounded to float32); measured 5.20 ulp
    qt = (q.astype(np.float32) * np.float32(TRUNC_MASS)).astype(np.float64)
    zt = _f32_normal(True)[half:]
    assert _ulps(zt, special.ndtri(0.5 + qt), np.float32).max() <= 6.0


def test_ndtri_q_float64_error_at_most_8_ulp_against_mpmath_including_extreme_tails():
    # measured: 5 ulp over 1,000 random 53-bit grid points, 400 log-spaced tail points
    # per side down to p = 2**-53, and the truncated inputs (4 ulp)
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    rng = np.random.default_rng(1)
    odd = rng.integers(0, 2**52, 1000, dtype=np.int64) * 2 - (2**52 - 1)
    k = np.unique(np.round(np.logspace(0, 51.9, 400, base=2)).astype(np.int64))
    odd = np.concatenate([odd, 2 * k - (2**52 - 1), (2**52 - 1) - 2 * k, [-(2**52 - 1), 2**52 - 1, 1, -1]])
    q = odd.astype(np.float64) * 2.0**-53
    q = np.concatenate([q, q[::8] * TRUNC_MASS])

    def exact(x: float) -> float:
        p = mpmath.mpf(0.5) + mpmath.mpf(x)  # exact: x is a float64
        return float(mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1))

    ref = np.array([exact(x) for x in q])
    z = ndtri_q(q)
    assert z.dtype == np.float64
    assert _ulps(z, ref, np.float64).max() <= 8.0
    assert z[np.argmin(q)] == pytest.approx(-8.2095361516013856, rel=1e-15)  # p = 2**-53


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ndtri_q_is_exactly_odd(dtype):
    rng = np.random.default_rng(11)
    q = (rng.random(100_000) - 0.5).astype(dtype)
    q = q[np.abs(q) < 0.5]
    np.testing.assert_array_equal(ndtri_q(-q), -ndtri_q(q))
    assert ndtri_q(np.zeros(1, dtype=dtype))[0] == 0.0


# --------------------------------------------------------------------------- transforms


def test_float32_uniform_is_in_0_1_and_strictly_increasing_in_the_word():
    w = _f32_words()
    u = uniform_from_bits((w,), np.float32(0.0), np.float32(1.0))
    assert u.dtype == np.float32
    assert u[0] == 0.0 and u[-1] == np.float32(1 - 2.0**-24)
    assert (np.diff(u) > 0).all()
    # the low 8 bits of the word are not used
    sub = w[::1001]
    np.testing.assert_array_equal(
        uniform_from_bits((sub | U32(0xFF),), np.float32(0), np.float32(1)), u[::1001]
    )


def test_float64_uniform_is_in_0_1_and_strictly_increasing_in_the_words():
    rng = np.random.default_rng(5)
    m = np.sort(rng.integers(0, 2**53, 200_000, dtype=np.uint64))
    m = np.concatenate([[0, 1], m, [2**53 - 2, 2**53 - 1]]).astype(np.uint64)
    x0 = (m >> np.uint64(21)).astype(U32)
    x1 = ((m & np.uint64(0x1FFFFF)) << np.uint64(11)).astype(U32)
    u = uniform_from_bits((x0, x1), np.float64(0.0), np.float64(1.0))
    assert u.dtype == np.float64
    assert u[0] == 0.0 and u[-1] == 1 - 2.0**-53 and u[1] == 2.0**-53
    assert (np.diff(u) >= 0).all() and (np.diff(u)[np.diff(m) > 0] > 0).all()


def test_float32_normal_extremes_and_open_interval():
    w = np.array([0, 0xFF, 0xFFFFFF00, 0xFFFFFFFF], dtype=U32)
    z = normal_from_bits((w,), np.float32(0.0), np.float32(1.0), False)
    # q = +-(1/2 - 2**-25) gives the extremes: finite, symmetric
    assert z[0] == z[1] == -z[2] == -z[3]
    assert 5.4 < z[3] < 5.45 and np.isfinite(z).all()


def test_float64_normal_extremes_are_finite_and_symmetric():
    x0, x1 = _f64_words(np.array([0, 2**52 - 1], dtype=np.uint64))
    z = normal_from_bits((x0, x1), np.float64(0.0), np.float64(1.0), False)
    assert z[0] == -z[1] == pytest.approx(-8.2095361516013856, rel=1e-15)


@pytest.mark.parametrize("truncated", [False, True])
def test_float32_normal_of_complemented_word_is_exact_negation(truncated):
    # word order is input order, so the complement of input k is input 2**24 - 1 - k
    z = _f32_normal(truncated)
    np.testing.assert_array_equal(z, -z[::-1])
    w = _f32_words()[::4099]
    b = normal_from_bits((~w,), np.float32(0.0), np.float32(1.0), truncated)
    np.testing.assert_array_equal(z[::4099], -b)


@pytest.mark.parametrize("truncated", [False, True])
def test_float64_normal_of_complemented_words_is_exact_negation(truncated):
    rng = np.random.default_rng(8)
    x0 = rng.integers(0, 2**32, 100_000, dtype=np.uint64).astype(U32)
    x1 = rng.integers(0, 2**32, 100_000, dtype=np.uint64).astype(U32)
    a = normal_from_bits((x0, x1), np.float64(0.0), np.float64(1.0), truncated)
    b = normal_from_bits((~x0, ~x1), np.float64(0.0), np.float64(1.0), truncated)
    np.testing.assert_array_equal(a, -b)


def test_float32_truncated_normal_stays_inside_minus_2_2_for_every_word():
    z = _f32_normal(True)
    assert z.dtype == np.float32
    assert -2.0 <= z.min() and z.max() <= 2.0
    assert z.max() == -z.min() > 1.99999  # the grid comes within an ulp or so of the bound


def test_float64_truncated_normal_stays_inside_minus_2_2_at_the_extremes():
    m = np.concatenate([np.arange(0, 100_000), np.arange(2**52 - 100_000, 2**52)]).astype(np.uint64)
    z = normal_from_bits(_f64_words(m), np.float64(0.0), np.float64(1.0), True)
    assert -2.0 <= z.min() and z.max() <= 2.0
    assert z.max() > 1.99999


def _running_inversion_ulps(z: np.ndarray) -> float:
    """The largest amount (in ulps) by which a value falls below the maximum of those before it."""
    return float(((np.maximum.accumulate(z) - z) / np.spacing(np.abs(z))).max())


def test_float32_normal_is_monotone_in_the_word_up_to_the_approximation_error():
    # The float32 quantile (PPND7 evaluated in float32) is accurate to ~5 ulp but not exactly
    # monotone: measured over all 2**24 inputs, a value is never more than 1 ulp (untruncated;
    # 1,290 local inversions) or 4 ulp (truncated; 12,932 inversions) below an earlier value.
    z = _f32_normal(False)
    assert _running_inversion_ulps(z) <= 1.0
    zt = _f32_normal(True)
    assert _running_inversion_ulps(zt) <= 4.0
    # monotone at a coarse scale: 2**10 consecutive inputs apart, strictly increasing
    assert (np.diff(z[::1024]) > 0).all() and (np.diff(zt[::1024]) > 0).all()


@pytest.mark.parametrize("truncated", [False, True])
def test_float64_normal_is_monotone_in_the_words(truncated):
    # measured: no inversion at all in 200,000 consecutive inputs around each of these points
    # (region boundaries |q| = 0.425 and r = 5 of the quantile included) or in a sorted sample
    mass = TRUNC_MASS if truncated else 1.0
    centres = [-0.4999999, -0.49, -0.425, -0.3, 0.0, 0.2, 0.425, 0.45, 0.4999999]
    for qc in centres:
        m0 = int((qc / mass + 0.5) * 2**52) - 100_000
        m0 = min(max(m0, 0), 2**52 - 200_000)
        m = np.arange(m0, m0 + 200_000, dtype=np.uint64)
        z = normal_from_bits(_f64_words(m), np.float64(0.0), np.float64(1.0), truncated)
        assert (np.diff(z) >= 0).all(), qc
    rng = np.random.default_rng(9)
    m = np.sort(rng.integers(0, 2**52, 300_000, dtype=np.uint64))
    z = normal_from_bits(_f64_words(m), np.float64(0.0), np.float64(1.0), truncated)
    assert (np.diff(z) >= 0).all()


def test_normal_applies_mean_and_std_after_the_quantile():
    w = np.arange(0, 2**32, 2**20, dtype=np.uint64).astype(U32)
    z = normal_from_bits((w,), np.float32(0.0), np.float32(1.0), False)
    scaled = normal_from_bits((w,), np.float32(3.0), np.float32(0.5), False)
    np.testing.assert_array_equal(scaled, z * np.float32(0.5) + np.float32(3.0))
    u = uniform_from_bits((w,), np.float32(0.0), np.float32(1.0))
    np.testing.assert_array_equal(
        uniform_from_bits((w,), np.float32(-2.0), np.float32(5.0)), u * np.float32(5) - 2
    )
