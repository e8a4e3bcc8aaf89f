"""Fans (spec 3.1) and the variance-scaling formulas (spec 3.2, 3.3), realised by samples.

Sample statistics are checked against the formulas with tolerances derived
from the sample size: six standard errors, where the standard error of the
sample standard deviation uses a kurtosis of 3 (the largest of the normal,
truncated normal and uniform), so the checks cannot flake yet still catch a
wrong constant (the truncation correction alone is 12%).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from weightinit._variance_scaling import TRUNCATED_STD, variance_scaling_params

# --------------------------------------------------------------------------- fans


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((), (1, 1)),
        ((5,), (5, 5)),
        ((3, 4), (3, 4)),
        ((3, 4, 5), (12, 15)),
        ((2, 3, 4, 5), (24, 30)),
        ((2, 3, 4, 5, 6), (120, 144)),
        ((1, 1, 1, 1, 1, 7, 8), (7, 8)),
        ((3, 3, 64, 128), (576, 1152)),
        ((3, 16), (3, 16)),
        ((3, 5, 4, 2), (60, 30)),
        ((3, 3, 5, 2), (45, 18)),
        ([3, 4], (3, 4)),
    ],
)
def test_fans_follow_the_rank_rule_table(shape: Any, expected: tuple[int, int]) -> None:
    fans = wi.compute_fans(shape)
    assert fans == expected
    assert all(type(v) is int for v in fans)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((0, 4), (0, 4)), ((2, 0, 4, 5), (0, 0)), ((3, 4, 0), (12, 0)), ((0,), (0, 0)), ((4, 0), (4, 0))],
)
def test_zero_size_dims_give_zero_fans(shape: tuple[int, ...], expected: tuple[int, int]) -> None:
    assert wi.compute_fans(shape) == expected


@pytest.mark.parametrize(
    ("shape", "input_axes", "output_axes", "expected"),
    [
        ((2, 3, 4, 5), [0, 1], [-1], (6, 5)),
        ((5, 2, 3), [0], [1, 2], (5, 6)),
        ((2, 3, 4, 5), [0, 0], [1], (4, 3)),
        ((2, 3, 4, 5), [], [], (1, 1)),
        ((2, 3, 4, 5), (-2, -1), (0,), (20, 2)),
        ((7, 3), [1], [0], (3, 7)),
    ],
)
def test_explicit_axes_give_products_of_their_dims(
    shape: tuple[int, ...], input_axes: list[int], output_axes: list[int], expected: tuple[int, int]
) -> None:
    assert wi.compute_fans(shape, input_axes, output_axes) == expected


@pytest.mark.parametrize(("input_axes", "output_axes"), [([0], None), (None, [1]), ([0, 1], None)])
def test_one_axis_list_alone_is_ignored(input_axes: Any, output_axes: Any) -> None:
    assert wi.compute_fans((2, 3, 4, 5), input_axes, output_axes) == (24, 30)


def test_compute_fans_doc_examples() -> None:
    assert wi.compute_fans((3, 3, 64, 128)) == (576, 1152)
    assert wi.compute_fans((5, 2, 3), input_axes=[0], output_axes=[1, 2]) == (5, 6)
    assert wi.compute_fans((784, 256)) == (784, 256)


def test_initializer_fans_method_uses_its_axes() -> None:
    assert wi.GlorotUniform(seed=0).fans((5, 2, 3)) == (10, 15)
    assert wi.GlorotUniform(seed=0, input_axes=[0], output_axes=[1, 2]).fans((5, 2, 3)) == (5, 6)
    assert wi.GlorotUniform(seed=0, input_axes=[0]).fans((5, 2, 3)) == (10, 15)


# --------------------------------------------------------------------------- the n = max(1, ...) clamp


@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize(
    ("fan_in", "fan_out", "mode", "n"),
    [
        (0, 0, "fan_in", 1.0),
        (0, 0, "fan_out", 1.0),
        (0, 0, "fan_avg", 1.0),
        (0, 4, "fan_in", 1.0),
        (0, 4, "fan_out", 4.0),
        (0, 4, "fan_avg", 2.0),
        (4, 0, "fan_out", 1.0),
        (0, 1, "fan_avg", 1.0),  # (0 + 1) / 2 = 0.5 is clamped to 1
        (1, 0, "fan_avg", 1.0),
        (1, 1, "fan_avg", 1.0),
        (1, 2, "fan_avg", 1.5),
    ],
)
def test_n_is_clamped_to_at_least_one(
    fan_in: int, fan_out: int, mode: str, n: float, distribution: str
) -> None:
    s = 3.0 / n
    kind, param = variance_scaling_params(3.0, mode, distribution, fan_in, fan_out)
    expected = {
        "truncated_normal": ("truncated_normal", math.sqrt(s) / TRUNCATED_STD),
        "untruncated_normal": ("normal", math.sqrt(s)),
        "uniform": ("uniform", math.sqrt(3.0 * s)),
    }[distribution]
    assert kind == expected[0]
    assert param == pytest.approx(expected[1], rel=1e-15)


@pytest.mark.parametrize("shape", [(0, 4), (4, 0), (2, 0, 4, 5), (0,), (3, 4, 0)])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_zero_fans_give_an_empty_array_without_warnings(
    shape: tuple[int, ...], mode: str, distribution: str
) -> None:
    # warnings are errors in this suite: a division by a zero fan would fail here
    out = wi.VarianceScaling(2.0, mode, distribution, seed=1)(shape)
    assert out.shape == shape and out.size == 0 and out.dtype == np.float32


def test_rank_zero_shape_uses_fans_of_one() -> None:
    # () has fans (1, 1): a single value drawn with s = scale
    value = wi.VarianceScaling(4.0, "fan_in", "uniform", seed=3)((), dtype="float64")
    assert value.shape == () and abs(float(value)) < math.sqrt(12.0)


# --------------------------------------------------------------------------- constants


def test_truncated_std_constant_is_the_std_of_a_normal_truncated_at_two() -> None:
    pdf2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))  # 2 * Phi(2) - 1
    assert TRUNCATED_STD == pytest.approx(math.sqrt(1 - 4 * pdf2 / mass), rel=1e-15)
    assert TRUNCATED_STD == 0.8796256610342398
    scipy_stats = pytest.importorskip("scipy.stats")
    assert TRUNCATED_STD == pytest.approx(scipy_stats.truncnorm(-2, 2).std(), rel=1e-14)


@pytest.mark.parametrize(
    ("scale", "mode", "distribution", "shape", "expected"),
    [
        (
            1.0,
            "fan_in",
            "truncated_normal",
            (400, 100),
            ("truncated_normal", math.sqrt(1 / 400) / TRUNCATED_STD),
        ),
        (2.0, "fan_out", "untruncated_normal", (400, 100), ("normal", math.sqrt(2 / 100))),
        (1.0, "fan_avg", "uniform", (400, 100), ("uniform", math.sqrt(3 / 250))),
        (2.0, "fan_in", "uniform", (3, 3, 64, 128), ("uniform", math.sqrt(6 / 576))),
    ],
)
def test_variance_scaling_params_follow_section_3_2(
    scale: float, mode: str, distribution: str, shape: tuple[int, ...], expected: tuple[str, float]
) -> None:
    fan_in, fan_out = wi.compute_fans(shape)
    kind, param = variance_scaling_params(scale, mode, distribution, fan_in, fan_out)
    assert kind == expected[0]
    assert param == pytest.approx(expected[1], rel=1e-15)


# --------------------------------------------------------------------------- formulas by sampling

SHAPE = (300, 100)  # fan_in 300, fan_out 100, 30,000 values
N = math.prod(SHAPE)


def check_moments(values: np.ndarray, mean: float, std: float) -> None:
    """Sample mean and std within six standard errors of the targets."""
    x = np.asarray(values, dtype=np.float64).ravel()
    n = x.size
    mean_tolerance = 6 * std / math.sqrt(n)
    std_tolerance = 6 * std * math.sqrt((3 - 1) / (4 * n))
    assert abs(x.mean() - mean) <= mean_tolerance, (x.mean(), mean, mean_tolerance)
    assert abs(x.std() - std) <= std_tolerance, (x.std(), std, std_tolerance)


def fan_n(mode: str, shape: tuple[int, ...]) -> float:
    fan_in, fan_out = wi.compute_fans(shape)
    return max(1.0, {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling_std_is_sqrt_scale_over_n(mode: str, distribution: str, dtype: str) -> None:
    scale = 2.0
    s = scale / fan_n(mode, SHAPE)
    values = wi.VarianceScaling(scale, mode, distribution, seed=17)(SHAPE, dtype=dtype)
    assert values.dtype == np.dtype(dtype)
    # every distribution realises std sqrt(s): the truncated one through the 0.8796 correction
    check_moments(values, 0.0, math.sqrt(s))
    bound = {
        "truncated_normal": 2 * math.sqrt(s) / TRUNCATED_STD,
        "untruncated_normal": math.inf,
        "uniform": math.sqrt(3 * s),
    }[distribution]
    assert np.abs(values.astype(np.float64)).max() <= np.dtype(dtype).type(bound)


@pytest.mark.parametrize(
    ("name", "scale", "mode", "distribution"),
    [
        ("GlorotUniform", 1.0, "fan_avg", "uniform"),
        ("GlorotNormal", 1.0, "fan_avg", "truncated_normal"),
        ("HeUniform", 2.0, "fan_in", "uniform"),
        ("HeNormal", 2.0, "fan_in", "truncated_normal"),
        ("LecunUniform", 1.0, "fan_in", "uniform"),
        ("LecunNormal", 1.0, "fan_in", "truncated_normal"),
    ],
)
def test_presets_are_their_variance_scaling_parameters(
    name: str, scale: float, mode: str, distribution: str
) -> None:
    preset = getattr(wi, name)(seed=5)
    assert (preset.scale, preset.mode, preset.distribution) == (scale, mode, distribution)
    conv = (3, 3, 40, 50)  # fans (360, 450)
    reference = wi.VarianceScaling(scale, mode, distribution, seed=5)
    np.testing.assert_array_equal(preset(conv), reference(conv))


@pytest.mark.parametrize(
    ("name", "std"),
    [
        ("GlorotUniform", math.sqrt(2 / (360 + 450))),
        ("GlorotNormal", math.sqrt(2 / (360 + 450))),
        ("HeUniform", math.sqrt(2 / 360)),
        ("HeNormal", math.sqrt(2 / 360)),
        ("LecunUniform", math.sqrt(1 / 360)),
        ("LecunNormal", math.sqrt(1 / 360)),
    ],
)
def test_preset_std_on_a_conv_kernel(name: str, std: float) -> None:
    values = getattr(wi, name)(seed=23)((3, 3, 40, 50), dtype="float64")
    check_moments(values, 0.0, std)
    if name.endswith("Uniform"):
        limit = math.sqrt(3) * std  # sqrt(6 / (in + out)), sqrt(6 / in), sqrt(3 / in)
        assert np.abs(values).max() < limit and np.abs(values).max() > 0.999 * limit
    else:
        assert np.abs(values).max() <= 2 * std / TRUNCATED_STD


def test_spec_measurement_variance_scaling_scale_two_on_400_by_2000() -> None:
    values = wi.VarianceScaling(scale=2.0, seed=0)((400, 2000), dtype="float64")
    target = math.sqrt(2.0 / 400)
    check_moments(values, 0.0, target)
    assert np.abs(values).max() <= 0.1607745
    assert np.abs(values).max() == pytest.approx(2 * target / TRUNCATED_STD, rel=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("mean", "stddev"), [(0.0, 0.05), (1.0, 2.0), (-3.0, 0.5)])
def test_random_normal_mean_and_std(mean: float, stddev: float, dtype: str) -> None:
    check_moments(wi.RandomNormal(mean, stddev, seed=31)(SHAPE, dtype=dtype), mean, stddev)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("mean", "stddev"), [(0.0, 0.05), (1.0, 2.0), (-3.0, 0.5)])
def test_truncated_normal_std_is_not_corrected_like_keras(mean: float, stddev: float, dtype: str) -> None:
    values = wi.TruncatedNormal(mean, stddev, seed=37)(SHAPE, dtype=dtype)
    check_moments(values, mean, TRUNCATED_STD * stddev)
    x = values.astype(np.float64)
    ftype = np.dtype(dtype).type
    assert x.min() >= ftype(mean) - 2 * ftype(stddev) and x.max() <= ftype(mean) + 2 * ftype(stddev)


def test_truncated_normal_measured_std_for_stddev_half() -> None:
    # spec 3.3: measured 0.43981 for stddev 0.5 (0.8796 * 0.5 = 0.43981)
    values = wi.TruncatedNormal(stddev=0.5, seed=0)((1000, 1000), dtype="float64")
    assert values.std() == pytest.approx(0.43981, abs=0.002)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("minval", "maxval"), [(-0.05, 0.05), (-1.0, 3.0), (2.0, 2.5)])
def test_random_uniform_mean_std_and_bounds(minval: float, maxval: float, dtype: str) -> None:
    values = wi.RandomUniform(minval, maxval, seed=41)(SHAPE, dtype=dtype)
    check_moments(values, (minval + maxval) / 2, (maxval - minval) / math.sqrt(12))
    ftype = np.dtype(dtype).type
    assert values.min() >= ftype(minval) and values.max() < ftype(maxval)


@pytest.mark.parametrize("name", ["RandomNormal", "TruncatedNormal"])
def test_zero_stddev_gives_the_mean(name: str) -> None:
    values = getattr(wi, name)(mean=1.5, stddev=0.0, seed=1)((4, 5))
    np.testing.assert_array_equal(values, np.full((4, 5), 1.5, dtype=np.float32))


def test_equal_uniform_bounds_give_that_constant() -> None:
    values = wi.RandomUniform(0.25, 0.25, seed=1)((4, 5))
    np.testing.assert_array_equal(values, np.full((4, 5), 0.25, dtype=np.float32))


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_extreme_finite_scales_are_accepted(scale: float) -> None:
    values = wi.VarianceScaling(scale, "fan_in", "untruncated_normal", seed=1)((4, 4), dtype="float64")
    assert np.all(np.isfinite(values))


def test_orthogonal_gain_scales_the_singular_values() -> None:
    for gain in (0.5, 1.0, 3.0):
        q = wi.Orthogonal(gain=gain, seed=2)((30, 20), dtype="float64")
        np.testing.assert_allclose(np.linalg.svd(q, compute_uv=False), gain, atol=1e-12)


def test_variance_scaling_fans_take_any_sequence() -> None:
    # the fans are remembered per shape: a list (the CLI's, inspect's) is read as a tuple
    init = wi.GlorotUniform(seed=1)
    assert init.fans([3, 5, 4]) == init.fans((3, 5, 4)) == (15, 12)
    assert init.fans([7]) == (7, 7) and init.fans([]) == (1, 1)
    assert wi.VarianceScaling(input_axes=[0], output_axes=[1, 2]).fans([3, 5, 4]) == (3, 20)
