"""Distribution tests: every random initializer draws from the distribution its formula says.

All draws use fixed seeds, so every statistic below is a fixed number (no
flakiness): the thresholds (p > 1e-6, moments within 6 standard errors,
|corr| < 0.01) only guard against a real change of the distribution. The
observed p-values are recorded next to the tests that compute them.

The theoretical distributions are written from the Keras formulas here
(spec section 3), independently of ``weightinit._variance_scaling``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi
from weightinit._engine import _sample

stats = pytest.importorskip("scipy.stats")

SHAPE = (400, 500)  # n = 200,000; fan_in 400, fan_out 500
CONV_SHAPE = (5, 5, 64, 128)  # n = 204,800; fan_in 1600, fan_out 3200
TRUNC_STD = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]
P_MIN = 1e-6
BF16 = np.dtype(ml_dtypes.bfloat16)


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 2:
        return shape[0], shape[1]
    window = math.prod(shape[:-2])
    return shape[-2] * window, shape[-1] * window


def _variance_scaling(scale: float, mode: str, distribution: str, shape: tuple[int, ...]) -> tuple[str, Any]:
    """(family, scipy distribution) of VarianceScaling by the Keras formulas."""
    fan_in, fan_out = _fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    s = scale / max(1.0, n)
    if distribution == "truncated_normal":
        return "truncated", stats.truncnorm(-2.0, 2.0, loc=0.0, scale=math.sqrt(s) / TRUNC_STD)
    if distribution == "untruncated_normal":
        return "normal", stats.norm(0.0, math.sqrt(s))
    limit = math.sqrt(3.0 * s)
    return "uniform", stats.uniform(-limit, 2 * limit)


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Any], wi.Initializer]  # seed -> initializer
    shape: tuple[int, ...]
    family: str  # "normal", "truncated" or "uniform"
    dist: Any  # scipy frozen distribution
    mean: float  # of the values
    std: float  # of the values
    bounds: tuple[float, float] | None  # [low, high] (truncated) or [low, high) (uniform)


def _case(
    id: str, make: Callable[[Any], wi.Initializer], shape: tuple[int, ...], family: str, dist: Any
) -> Case:
    low, high = dist.support()
    bounds = None if family == "normal" else (float(low), float(high))
    return Case(id, make, shape, family, dist, float(dist.mean()), float(dist.std()), bounds)


def _cases() -> list[Case]:
    cases = [
        _case("RandomNormal()", lambda s: wi.RandomNormal(seed=s), SHAPE, "normal", stats.norm(0.0, 0.05)),
        _case(
            "RandomNormal(0.3,1.5)",
            lambda s: wi.RandomNormal(0.3, 1.5, seed=s),
            SHAPE,
            "normal",
            stats.norm(0.3, 1.5),
        ),
        _case(
            "RandomUniform()", lambda s: wi.RandomUniform(seed=s), SHAPE, "uniform", stats.uniform(-0.05, 0.1)
        ),
        _case(
            "RandomUniform(-2,3)",
            lambda s: wi.RandomUniform(-2.0, 3.0, seed=s),
            SHAPE,
            "uniform",
            stats.uniform(-2.0, 5.0),
        ),
        _case(
            "TruncatedNormal()",
            lambda s: wi.TruncatedNormal(seed=s),
            SHAPE,
            "truncated",
            stats.truncnorm(-2.0, 2.0, loc=0.0, scale=0.05),
        ),
        _case(
            "TruncatedNormal(-1,0.7)",
            lambda s: wi.TruncatedNormal(-1.0, 0.7, seed=s),
            SHAPE,
            "truncated",
            stats.truncnorm(-2.0, 2.0, loc=-1.0, scale=0.7),
        ),
    ]
    for mode in ("fan_in", "fan_out", "fan_avg"):
        for distribution in ("truncated_normal", "untruncated_normal", "uniform"):
            shape = CONV_SHAPE if mode == "fan_out" else SHAPE
            family, dist = _variance_scaling(1.7, mode, distribution, shape)
            cases.append(
                _case(
                    f"VarianceScaling(1.7,{mode},{distribution})",
                    lambda s, m=mode, d=distribution: wi.VarianceScaling(1.7, m, d, seed=s),
                    shape,
                    family,
                    dist,
                )
            )
    presets = {
        "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
        "GlorotUniform": (1.0, "fan_avg", "uniform"),
        "HeNormal": (2.0, "fan_in", "truncated_normal"),
        "HeUniform": (2.0, "fan_in", "uniform"),
        "LecunNormal": (1.0, "fan_in", "truncated_normal"),
        "LecunUniform": (1.0, "fan_in", "uniform"),
    }
    for name, (scale, mode, distribution) in presets.items():
        family, dist = _variance_scaling(scale, mode, distribution, CONV_SHAPE)
        cases.append(_case(name, lambda s, n=name: getattr(wi, n)(seed=s), CONV_SHAPE, family, dist))
    return cases


CASES = _cases()
IDS = [c.id for c in CASES]


def _draw(case: Case, dtype: str, seed: int = 20240611, shape: tuple[int, ...] | None = None) -> np.ndarray:
    x = case.make(seed)(shape or case.shape, dtype)
    assert x.dtype.name == dtype
    return x.reshape(-1)


# --------------------------------------------------------------------------- goodness of fit
#
# Observed p-values (seed 20240611; scipy 1.17.1). KS for float32 / float64, exact
# quantized chi-square for float16 / bfloat16:
#
#   case                                              f32     f64     f16     bf16
#   RandomNormal()                                   0.636  0.357  0.414  0.174
#   RandomNormal(0.3,1.5)                            0.636  0.357  0.284  0.122
#   RandomUniform()                                  0.956  0.080  0.641  0.488
#   RandomUniform(-2,3)                              0.956  0.080  0.245  0.596
#   TruncatedNormal()                                0.114  0.617  0.751  0.895
#   TruncatedNormal(-1,0.7)                          0.114  0.617  0.932  0.739
#   VarianceScaling(1.7,fan_in,truncated_normal)     0.114  0.617  0.582  0.778
#   VarianceScaling(1.7,fan_in,untruncated_normal)   0.636  0.357  0.415  0.032
#   VarianceScaling(1.7,fan_in,uniform)              0.956  0.080  0.357  0.888
#   VarianceScaling(1.7,fan_out,truncated_normal)    0.128  0.782  0.696  0.932
#   VarianceScaling(1.7,fan_out,untruncated_normal)  0.763  0.370  0.245  0.182
#   VarianceScaling(1.7,fan_out,uniform)             0.878  0.056  0.564  0.631
#   VarianceScaling(1.7,fan_avg,truncated_normal)    0.114  0.617  0.849  0.876
#   VarianceScaling(1.7,fan_avg,untruncated_normal)  0.636  0.357  0.520  0.097
#   VarianceScaling(1.7,fan_avg,uniform)             0.956  0.080  0.710  0.759
#   GlorotNormal                                     0.128  0.782  0.946  0.969
#   GlorotUniform                                    0.878  0.056  0.251  0.873
#   HeNormal                                         0.128  0.782  0.632  0.973
#   HeUniform                                        0.878  0.056  0.348  0.656
#   LecunNormal                                      0.128  0.782  0.714  0.717
#   LecunUniform                                     0.878  0.056  0.479  0.909
#
# (Columns repeat where the standardized stream is the same: one seed, one family, one dtype.)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_ks_against_the_exact_distribution(case, dtype):
    x = _draw(case, dtype).astype(np.float64)
    p = stats.kstest(x, case.dist.cdf).pvalue
    assert p > P_MIN, f"{case.id} {dtype}: KS p = {p:.3g}"


def _representable(dtype: np.dtype) -> np.ndarray:
    """Every finite value of a 16-bit float dtype, sorted, without -0."""
    with np.errstate(invalid="ignore"):  # the NaN patterns
        bits = np.arange(2**16, dtype=np.uint16).view(dtype).astype(np.float64)
    return np.unique(bits[np.isfinite(bits)])


def quantized_probabilities(case: Case, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The exact distribution of the output in ``dtype``: values and their probabilities.

    The transform computes in float32 and rounds once to the nearest ``dtype`` value, so
    ``P(v)`` is the mass between the midpoints around ``v``. RandomUniform then replaces a
    value that rounded up to ``maxval`` (or beyond) by the largest value below it.
    """
    values = _representable(dtype)
    mids = (values[1:] + values[:-1]) / 2
    cdf = np.concatenate([[0.0], case.dist.cdf(mids), [1.0]])
    probs = np.diff(cdf)
    if case.family == "uniform":
        high = float(np.asarray(case.bounds[1], dtype=dtype).astype(np.float64))
        top = np.searchsorted(values, high) - 1  # the largest value below maxval
        probs[top] += probs[top + 1 :].sum()
        probs[top + 1 :] = 0.0
    return values, probs


def quantized_chisquare(x: np.ndarray, case: Case, dtype: np.dtype, min_expected: float = 50.0) -> float:
    """Chi-square p-value of ``x`` against the exact quantized distribution (adjacent values pooled)."""
    values, probs = quantized_probabilities(case, dtype)
    index = np.searchsorted(values, x.astype(np.float64))
    assert (values[index] == x.astype(np.float64)).all()
    observed = np.bincount(index, minlength=values.size).astype(np.float64)
    assert observed[probs == 0].sum() == 0, "values where the distribution has no mass"
    expected = probs * x.size
    # pool adjacent values into bins of at least `min_expected` expected counts
    edges = np.searchsorted(np.cumsum(expected), np.arange(min_expected, x.size, min_expected))
    edges = np.unique(edges)
    obs_bins = np.add.reduceat(observed, np.concatenate([[0], edges + 1]))[:-1]
    exp_bins = np.add.reduceat(expected, np.concatenate([[0], edges + 1]))[:-1]
    obs_bins[-1] += observed[edges[-1] + 1 :].sum()
    exp_bins[-1] += expected[edges[-1] + 1 :].sum()
    exp_bins *= obs_bins.sum() / exp_bins.sum()
    return float(stats.chisquare(obs_bins, exp_bins).pvalue)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_chisquare_against_the_exact_quantized_distribution(case, dtype):
    x = _draw(case, dtype)
    p = quantized_chisquare(x, case, x.dtype)
    assert p > P_MIN, f"{case.id} {dtype}: chi-square p = {p:.3g}"


def test_the_goodness_of_fit_tests_detect_a_5_percent_wrong_scale():
    # the tests have power: a 5% larger spread than claimed is rejected outright
    # (observed: bfloat16 p = 5e-45, float16 p = 1e-20, float32 KS p = 1e-31)
    case = CASES[IDS.index("RandomNormal(0.3,1.5)")]
    wrong = _case("wrong", case.make, case.shape, "normal", stats.norm(0.3, 1.5 * 1.05))
    for dtype in ("bfloat16", "float16"):
        x = _draw(case, dtype)
        assert quantized_chisquare(x, wrong, x.dtype) < 1e-12
    assert stats.kstest(_draw(case, "float32").astype(np.float64), wrong.dist.cdf).pvalue < 1e-12


# --------------------------------------------------------------------------- moments


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_mean_and_std_match_the_formulas(case, dtype):
    x = _draw(case, dtype, seed=7).astype(np.float64)
    n = x.size
    assert abs(x.mean() - case.mean) < 6 * case.std / math.sqrt(n) + 1e-12
    # bfloat16 rounding adds variance of about (2**-9 * |x|)**2 / 3: < 1e-5 relative
    assert abs(x.std() / case.std - 1) < 6 / math.sqrt(2 * n)


def test_truncated_normal_std_is_0_8796_times_stddev():
    x = wi.TruncatedNormal(0.0, 0.5, seed=3)((1000, 1000), "float64")
    assert x.std() == pytest.approx(0.5 * TRUNC_STD, rel=3e-3)
    assert TRUNC_STD == pytest.approx(stats.truncnorm(-2, 2).std(), rel=1e-15)


@pytest.mark.parametrize("shape", [(400, 2000), (3, 3, 64, 128)])
def test_variance_scaling_truncated_std_after_correction_is_sqrt_s(shape):
    fan_in, _ = _fans(shape)
    x = wi.VarianceScaling(2.0, seed=1)(shape, "float64")
    assert x.std() == pytest.approx(math.sqrt(2.0 / fan_in), rel=6 / math.sqrt(2 * x.size))
    # largest magnitude: 2 pre-truncation stds = 2.27369 * sqrt(s)
    assert np.abs(x).max() <= 2 * math.sqrt(2.0 / fan_in) / TRUNC_STD


# --------------------------------------------------------------------------- hard bounds

DTYPES = ["float16", "bfloat16", "float32", "float64"]
BOUND_CASES = [c for c in CASES if c.bounds is not None]


def _in_dtype(value: float, dtype: np.dtype) -> float:
    return float(np.asarray(value, dtype=np.float64).astype(dtype).astype(np.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", BOUND_CASES, ids=[c.id for c in BOUND_CASES])
def test_values_never_leave_the_bounds_in_the_output_dtype(case, dtype):
    x = np.concatenate([_draw(case, dtype, seed=s) for s in (97, 98, 99)]).astype(np.float64)
    low, high = (_in_dtype(b, np.dtype(BF16 if dtype == "bfloat16" else dtype)) for b in case.bounds)
    if case.family == "truncated":
        # [mean - 2 stddev, mean + 2 stddev] rounded to the output dtype; a nonzero mean is added
        # after the scaling, which may round one ulp further out
        if case.mean != 0.0:
            dt = np.dtype(BF16 if dtype == "bfloat16" else dtype)
            low = float(_sample._prev_below(np.asarray(low, dtype=dt)[()], dt))
            high = -float(_sample._prev_below(np.asarray(-high, dtype=dt)[()], dt))
        assert low <= x.min() and x.max() <= high
    else:
        assert low <= x.min() and x.max() < high


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_never_returns_maxval_even_where_rounding_reaches_it(dtype):
    # In bfloat16 a value in [1 - 2**-9, 1) rounds to 1.0 (probability 2**-9), in float16
    # [1 - 2**-12, 1) does: those are replaced by the largest value below maxval.
    x = wi.RandomUniform(0.0, 1.0, seed=5)((1000, 1000), dtype)
    below = _sample._prev_below(np.asarray(1.0, dtype=x.dtype)[()], x.dtype)
    assert x.max() < 1.0 and x.min() >= 0.0
    if dtype in ("float16", "bfloat16"):
        assert x.max() == below
        share = {"float16": 2.0**-11 + 2.0**-12, "bfloat16": 2.0**-8 + 2.0**-9}[dtype]
        hits = (x == below).mean()  # its own mass plus the mass that rounded up to 1.0
        assert hits == pytest.approx(share, rel=0.15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("minval", "maxval"),
    [(0.0, 1.0), (-0.05, 0.05), (-1.0, 1e-3), (3.0, 3.0000002), (-5.0, 7.3), (1.0, 1.0 + 2.0**-20)],
)
def test_uniform_transform_at_the_extreme_words_stays_in_minval_maxval(minval, maxval, dtype):
    # drive the transform with the largest and smallest words directly
    dt = np.dtype(BF16 if dtype == "bfloat16" else dtype)
    transform = _sample._Transform("uniform", minval, maxval, dt)
    ones = np.full(4, 0xFFFFFFFF, dtype=np.uint32)
    zeros = np.zeros(4, dtype=np.uint32)
    bits_hi = (ones, ones) if transform.wide else (ones,)
    bits_lo = (zeros, zeros) if transform.wide else (zeros,)
    hi, lo = np.empty(4, dtype=dt), np.empty(4, dtype=dt)
    transform(bits_hi, hi)
    transform(bits_lo, lo)
    max_t, min_t = np.asarray(maxval, dtype=dt)[()], np.asarray(minval, dtype=dt)[()]
    if min_t == max_t:  # the range collapses in this dtype: a constant
        assert (hi == min_t).all() and (lo == min_t).all()
    else:
        assert (hi < max_t).all() and (lo >= min_t).all() and (lo <= hi).all()


# --------------------------------------------------------------------------- independence

N_CORR = 1_000_000


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64))[0, 1])


def test_different_seeds_are_uncorrelated():
    shape = (N_CORR,)
    draws = [wi.RandomNormal(seed=s)(shape) for s in (1, 2, 2**32 + 1, 2**63 + 1)]
    for i in range(len(draws)):
        for j in range(i + 1, len(draws)):
            assert abs(_corr(draws[i], draws[j])) < 0.01, (i, j)


def test_seed_generator_draws_are_uncorrelated():
    init = wi.TruncatedNormal(seed=wi.SeedGenerator(3))
    draws = [init((N_CORR,)) for _ in range(3)]
    assert abs(_corr(draws[0], draws[1])) < 0.01
    assert abs(_corr(draws[1], draws[2])) < 0.01
    assert abs(_corr(draws[0], draws[2])) < 0.01


def test_distribution_families_with_the_same_seed_are_uncorrelated():
    shape = (N_CORR,)
    normal = wi.RandomNormal(seed=5)(shape)
    uniform = wi.RandomUniform(seed=5)(shape)
    truncated = wi.TruncatedNormal(seed=5)(shape)
    assert abs(_corr(normal, uniform)) < 0.01
    assert abs(_corr(normal, truncated)) < 0.01
    assert abs(_corr(uniform, truncated)) < 0.01
    # the same holds for the presets that draw those families
    he_n, he_u = wi.HeNormal(seed=5)((1000, 1000)), wi.HeUniform(seed=5)((1000, 1000))
    assert abs(_corr(he_n, he_u)) < 0.01


def test_float64_stream_is_uncorrelated_with_the_float32_stream():
    a = wi.RandomNormal(seed=9)((N_CORR,), "float32")
    b = wi.RandomNormal(seed=9)((N_CORR,), "float64")
    assert abs(_corr(a, b)) < 0.01


def test_neighbouring_elements_are_uncorrelated():
    # lag 1 pairs the two words of one Threefry block (float32), lag 2 neighbouring blocks
    x = wi.RandomUniform(seed=4)((N_CORR,)).astype(np.float64)
    for lag in (1, 2, 3, 1000):
        assert abs(_corr(x[:-lag], x[lag:])) < 0.01, lag
    y = wi.RandomNormal(seed=4)((1000, 1000), "float64")
    assert abs(_corr(y[:, :-1], y[:, 1:])) < 0.01
    assert abs(_corr(y[:-1, :], y[1:, :])) < 0.01


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_remembered_transforms_keep_zero_and_minus_zero_apart(dtype):
    # transforms are shared between calls with equal parameters; 0.0 == -0.0 must not share one
    def draw(sign: float) -> list[bytes]:
        zero = math.copysign(0.0, sign)
        return [
            wi.RandomUniform(zero, zero, seed=1)((64,), dtype).tobytes(),
            wi.RandomNormal(zero, 0.0, seed=1)((64,), dtype).tobytes(),
            wi.RandomNormal(zero, 1e-30, seed=1)((64,), dtype).tobytes(),
        ]

    _sample._transform_for.cache_clear()
    minus_first = [draw(-1.0), draw(1.0)]
    _sample._transform_for.cache_clear()
    plus_first = [draw(1.0), draw(-1.0)][::-1]
    assert minus_first == plus_first
    assert minus_first[0] != minus_first[1]  # the signs of the zeros differ in the output
