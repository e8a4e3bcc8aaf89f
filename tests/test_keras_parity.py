"""Side by side with the installed Keras 3 (jax backend): names, configs, signatures, values, distributions.

Random values cannot match Keras bit for bit (our engine is backend-independent,
Keras's differs per backend), so random initializers are compared as
distributions: two-sample Kolmogorov-Smirnov tests with fixed seeds on both
sides and a threshold (p > 1e-6) that a correct implementation passes with
overwhelming margin, plus exact support bounds.
"""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from conftest import CLASS_NAMES, NON_DEFAULT_KWARGS
from weightinit import initializers
from weightinit._registry import BUILTIN_KEYS

keras = pytest.importorskip("keras")
stats = pytest.importorskip("scipy.stats")
keras_compute_fans = pytest.importorskip("keras.src.initializers.random_initializers").compute_fans

if keras.backend.backend() != "jax":
    pytest.skip(
        "the parity tests are written for Keras's jax backend (see conftest.py)", allow_module_level=True
    )

ki = keras.initializers

#: the 41 registry keys of Keras 3.15.1 (spec section 2.1), class name for each
REGISTRY = {
    "Constant": "Constant",
    "constant": "Constant",
    "Zeros": "Zeros",
    "zeros": "Zeros",
    "zero": "Zeros",
    "Ones": "Ones",
    "ones": "Ones",
    "one": "Ones",
    "Identity": "Identity",
    "identity": "Identity",
    "IdentityInitializer": "Identity",
    "Initializer": "Initializer",
    "initializer": "Initializer",
    "RandomNormal": "RandomNormal",
    "random_normal": "RandomNormal",
    "normal": "RandomNormal",
    "RandomUniform": "RandomUniform",
    "random_uniform": "RandomUniform",
    "uniform": "RandomUniform",
    "TruncatedNormal": "TruncatedNormal",
    "truncated_normal": "TruncatedNormal",
    "VarianceScaling": "VarianceScaling",
    "variance_scaling": "VarianceScaling",
    "GlorotNormal": "GlorotNormal",
    "glorot_normal": "GlorotNormal",
    "GlorotUniform": "GlorotUniform",
    "glorot_uniform": "GlorotUniform",
    "HeNormal": "HeNormal",
    "he_normal": "HeNormal",
    "HeUniform": "HeUniform",
    "he_uniform": "HeUniform",
    "LecunNormal": "LecunNormal",
    "lecun_normal": "LecunNormal",
    "LecunUniform": "LecunUniform",
    "lecun_uniform": "LecunUniform",
    "Orthogonal": "Orthogonal",
    "orthogonal": "Orthogonal",
    "OrthogonalInitializer": "Orthogonal",
    "STFT": "STFT",
    "stft": "STFT",
    "STFTInitializer": "STFT",
}

KS_MIN_PVALUE = 1e-6
N_SAMPLES = 20_000


def keras_values(init: Any, shape: tuple[int, ...], dtype: str = "float32") -> np.ndarray:
    """Call a Keras initializer; jax's notice about truncating 64-bit dtypes is not our concern."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Explicitly requested dtype", category=UserWarning)
        return np.asarray(init(shape, dtype=dtype))


def assert_same_distribution(ours: np.ndarray, theirs: np.ndarray) -> None:
    a = np.asarray(ours, dtype=np.float64).ravel()
    b = np.asarray(theirs, dtype=np.float64).ravel()
    assert a.size == b.size >= 10_000
    result = stats.ks_2samp(a, b)
    assert result.pvalue > KS_MIN_PVALUE, f"KS statistic {result.statistic:.5f}, p={result.pvalue:.3g}"


# --------------------------------------------------------------------------- registry and get()


def test_registry_has_the_41_keras_keys() -> None:
    from keras.src.initializers import ALL_OBJECTS_DICT

    assert len(REGISTRY) == 41
    assert sorted(ALL_OBJECTS_DICT) == sorted(REGISTRY)
    assert sorted(BUILTIN_KEYS) == sorted(REGISTRY)
    assert {k: v.__name__ for k, v in BUILTIN_KEYS.items()} == REGISTRY
    assert {k: v.__name__ for k, v in ALL_OBJECTS_DICT.items()} == REGISTRY


@pytest.mark.parametrize("key", sorted(set(REGISTRY) - {"constant", "Constant"}))
def test_get_registry_key_gives_the_same_class_as_keras(key: str) -> None:
    ours, theirs = initializers.get(key), ki.get(key)
    assert type(ours).__name__ == type(theirs).__name__ == REGISTRY[key]
    assert type(ours) is getattr(wi, REGISTRY[key])


@pytest.mark.parametrize("key", ["constant", "Constant"])
def test_get_constant_key_works_unlike_keras_key_error(key: str) -> None:
    with pytest.raises(KeyError):
        ki.get(key)
    assert type(initializers.get(key)) is wi.Constant
    assert initializers.get(key).get_config() == ki.Constant().get_config() == {"value": 0.0}


@pytest.mark.parametrize("key", ["HE_NORMAL", "He_Normal", "Normal", "Zero", "xavier_uniform", "zeros ", ""])
def test_get_unknown_keys_fail_in_both(key: str) -> None:
    with pytest.raises(ValueError):
        ki.get(key)
    with pytest.raises(ValueError):
        initializers.get(key)


# --------------------------------------------------------------------------- configs and signatures


@pytest.mark.parametrize("name", sorted(set(CLASS_NAMES) - {"Identity"}))
def test_default_config_equals_keras(name: str) -> None:
    ours, theirs = getattr(wi, name)().get_config(), getattr(ki, name)().get_config()
    assert ours == theirs
    assert list(ours) == list(theirs)  # same key order, as golden JSON shows it


@pytest.mark.parametrize("name", sorted(set(CLASS_NAMES) - {"Identity"}))
def test_non_default_config_equals_keras(name: str) -> None:
    kwargs = NON_DEFAULT_KWARGS[name]
    ours, theirs = getattr(wi, name)(**kwargs).get_config(), getattr(ki, name)(**kwargs).get_config()
    assert ours == theirs
    assert list(ours) == list(theirs)


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("RandomNormal", (1.0, 2.0, 3), {}),
        ("TruncatedNormal", (0.5, 0.25, 42), {}),
        ("RandomUniform", (-2.0, 2.0, 7), {}),
        ("VarianceScaling", (2.0, "fan_out", "uniform", 5), {}),
        ("VarianceScaling", (), {"scale": 2.0, "mode": "fan_out", "distribution": "normal", "seed": 1}),
        (
            "VarianceScaling",
            (0.5, "fan_avg", "Untruncated_Normal"),
            {"input_axes": [0, 1], "output_axes": [-1]},
        ),
        ("GlorotUniform", (), {"seed": 1, "input_axes": (0,), "output_axes": [1]}),
        ("HeNormal", (42,), {}),
        ("Orthogonal", (2.0, 4), {}),
        ("Constant", (3,), {}),
        ("Constant", ([1.0, 2.0],), {}),
        ("STFT", ("imag", None, None, True), {}),
        ("STFT", ("real", "blackman", "spectrum", False), {}),
    ],
)
def test_argument_ful_config_equals_keras(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    ours = getattr(wi, name)(*args, **kwargs).get_config()
    theirs = getattr(ki, name)(*args, **kwargs).get_config()
    assert ours == theirs
    assert list(ours) == list(theirs)


def test_seed_generator_config_equals_keras() -> None:
    ours = wi.serialize(wi.HeNormal(seed=wi.SeedGenerator(5)))
    theirs = ki.serialize(ki.HeNormal(seed=keras.random.SeedGenerator(5)))
    # Keras numbers generator names per process; ours is always "seed_generator"
    theirs["config"]["seed"]["config"]["name"] = "seed_generator"
    assert ours == theirs


@pytest.mark.parametrize("gain", [1.0, 2.0, 0.5])
def test_identity_config_keeps_gain_unlike_keras(gain: float) -> None:
    assert ki.Identity(gain=gain).get_config() == {}
    assert wi.Identity(gain=gain).get_config() == {"gain": gain}
    # Keras reads our config back with the gain
    assert ki.Identity.from_config(wi.Identity(gain=gain).get_config()).gain == gain


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_constructor_signature_equals_keras(name: str) -> None:
    def describe(cls: type) -> list[tuple[str, Any, Any]]:
        return [(p.name, p.default, p.kind) for p in inspect.signature(cls).parameters.values()]

    assert describe(getattr(wi, name)) == describe(getattr(ki, name))


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_class_hierarchy_matches_keras(name: str) -> None:
    ours, theirs = getattr(wi, name), getattr(ki, name)
    assert issubclass(ours, wi.Initializer) and issubclass(theirs, ki.Initializer)
    assert issubclass(ours, wi.VarianceScaling) == issubclass(theirs, ki.VarianceScaling)


# --------------------------------------------------------------------------- deterministic values

FLOAT_DTYPES = ["float16", "bfloat16", "float32"]
ANY_DTYPES = [*FLOAT_DTYPES, "int8", "int32", "uint8", "bool"]


@pytest.mark.parametrize("dtype", ANY_DTYPES)
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 0, 4), ()])
@pytest.mark.parametrize("name", ["Zeros", "Ones"])
def test_zeros_and_ones_equal_keras(name: str, shape: tuple[int, ...], dtype: str) -> None:
    ours = getattr(wi, name)()(shape, dtype=dtype)
    theirs = keras_values(getattr(ki, name)(), shape, dtype)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape == shape
    np.testing.assert_array_equal(ours, theirs)


CONSTANT_CASES: list[tuple[Any, tuple[int, ...]]] = [
    (2.5, (2, 3)),
    (3, (4,)),
    (-1.5, (2, 2)),
    (0.5, (3,)),
    (True, (2,)),
    ([1, 2], (3, 2)),
    ([[1], [2]], (2, 3)),
    ([[1.5, -2.0, 3.0]], (2, 2, 3)),
]


@pytest.mark.parametrize(
    ("value", "shape", "dtype"),
    [
        (value, shape, dtype)
        for value, shape in CONSTANT_CASES
        for dtype in ANY_DTYPES
        # a negative value does not fit an unsigned dtype: tested separately below
        if not (np.dtype(dtype).kind == "u" and np.min(value) < 0)
    ],
)
def test_constant_equals_keras(value: Any, shape: tuple[int, ...], dtype: str) -> None:
    ours = wi.Constant(value)(shape, dtype=dtype)
    theirs = keras_values(ki.Constant(value), shape, dtype)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape == shape
    np.testing.assert_array_equal(ours, theirs)


def test_constant_negative_into_unsigned_fails_in_both() -> None:
    with pytest.raises(OverflowError):
        keras_values(ki.Constant(-1.5), (2,), "uint8")
    with pytest.raises(ValueError, match="uint8"):
        wi.Constant(-1.5)((2,), dtype="uint8")


@pytest.mark.parametrize("value", [2.5, [1.0, -2.0]])
def test_constant_float64_gives_float64_unlike_keras_jax_float32(value: Any) -> None:
    ours = wi.Constant(value)((3, 2), dtype="float64")
    theirs = keras_values(ki.Constant(value), (3, 2), "float64")
    assert ours.dtype == np.float64 and theirs.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs.astype(np.float64))


def test_constant_smaller_shape_fails_unlike_keras_broadcast_result() -> None:
    assert keras_values(ki.Constant([1, 2]), (1,)).shape == (2,)
    with pytest.raises(ValueError, match="broadcast"):
        wi.Constant([1, 2])((1,))


@pytest.mark.parametrize("dtype", [*FLOAT_DTYPES, "complex64"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 3), (3, 2), (1, 4), (0, 2)])
@pytest.mark.parametrize("gain", [1.0, 2.0, -0.5])
def test_identity_equals_keras(gain: float, shape: tuple[int, int], dtype: str) -> None:
    ours = wi.Identity(gain)(shape, dtype=dtype)
    theirs = keras_values(ki.Identity(gain), shape, dtype)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape == shape
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint8"])
def test_identity_integer_dtype_is_kept_unlike_keras_float_promotion(dtype: str) -> None:
    ours = wi.Identity()((3, 2), dtype=dtype)
    theirs = keras_values(ki.Identity(), (3, 2), dtype)
    assert ours.dtype == np.dtype(dtype) and theirs.dtype.kind == "f"
    np.testing.assert_array_equal(ours, theirs)
    # an integer gain keeps the dtype in Keras too
    np.testing.assert_array_equal(
        wi.Identity(2)((2, 2), dtype=dtype), keras_values(ki.Identity(2), (2, 2), dtype)
    )


@pytest.mark.parametrize("shape", [(2, 2, 2), (2,), ()])
def test_identity_rank_errors_match_keras(shape: tuple[int, ...]) -> None:
    message = f"Identity matrix initializer can only be used for 2D matrices. Received: shape={shape} of rank"
    with pytest.raises(ValueError, match="2D matrices") as theirs:
        ki.Identity()(shape)
    with pytest.raises(ValueError, match="2D matrices") as ours:
        wi.Identity()(shape)
    assert str(theirs.value).startswith(message) and str(ours.value).startswith(message)


# --------------------------------------------------------------------------- fans

FAN_SHAPES = [
    (),
    (5,),
    (3, 4),
    (3, 4, 5),
    (2, 3, 4, 5),
    (2, 3, 4, 5, 6),
    (1, 2, 1, 3, 4, 5),
    (1, 1, 1, 1, 1, 7, 8),
    (0, 4),
    (2, 0, 4, 5),
    (3, 4, 0),
]


@pytest.mark.parametrize("shape", FAN_SHAPES)
def test_compute_fans_equals_keras_for_every_rank(shape: tuple[int, ...]) -> None:
    ours, theirs = wi.compute_fans(shape), keras_compute_fans(shape)
    assert ours == theirs
    assert all(type(v) is int for v in ours)


@pytest.mark.parametrize(
    ("shape", "input_axes", "output_axes"),
    [
        ((2, 3, 4, 5), [0, 1], [-1]),
        ((5, 2, 3), [0], [1, 2]),
        ((2, 3, 4, 5), [-1], [-1]),
        ((2, 3, 4, 5), [0, 0], [1]),
        ((2, 3, 4, 5), [], []),
        ((2, 3, 4, 5), (2, 0), (3, 1)),
        ((2, 3, 4, 5), [0], None),
        ((2, 3, 4, 5), None, [1]),
        ((7, 3), [1], [0]),
    ],
)
def test_compute_fans_with_explicit_axes_equals_keras(
    shape: tuple[int, ...], input_axes: Any, output_axes: Any
) -> None:
    assert wi.compute_fans(shape, input_axes, output_axes) == keras_compute_fans(
        shape, input_axes, output_axes
    )


def test_out_of_range_axes_raise_value_error_unlike_keras_index_error() -> None:
    with pytest.raises(IndexError):
        keras_compute_fans((2, 3), [5], [1])
    with pytest.raises(ValueError, match="out of range"):
        wi.compute_fans((2, 3), [5], [1])
    with pytest.raises(ValueError, match="out of range"):
        wi.GlorotUniform(seed=0, input_axes=[5], output_axes=[1])((2, 3))


# --------------------------------------------------------------------------- VarianceScaling arguments


@pytest.mark.parametrize(
    "distribution",
    [
        "normal",
        "Normal",
        "NORMAL",
        "uniform",
        "UNIFORM",
        "truncated_normal",
        "Truncated_Normal",
        "untruncated_normal",
        "Untruncated_Normal",
    ],
)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling_normalisation_equals_keras(mode: str, distribution: str) -> None:
    ours = wi.VarianceScaling(mode=mode, distribution=distribution, seed=1)
    theirs = ki.VarianceScaling(mode=mode, distribution=distribution, seed=1)
    assert (ours.mode, ours.distribution) == (theirs.mode, theirs.distribution)
    assert ours.get_config() == theirs.get_config()


@pytest.mark.parametrize("mode", ["FAN_IN", "Fan_In", " fan_in", "fan", ""])
def test_invalid_mode_fails_in_both_with_sorted_choices_unlike_keras_set_order(mode: str) -> None:
    with pytest.raises(ValueError, match="Invalid `mode` argument"):
        ki.VarianceScaling(mode=mode)
    with pytest.raises(ValueError, match="Invalid `mode` argument") as info:
        wi.VarianceScaling(mode=mode)
    assert "'fan_avg', 'fan_in', 'fan_out'" in str(info.value)


@pytest.mark.parametrize("distribution", ["gaussian", "normal ", "", "truncated"])
def test_invalid_distribution_fails_in_both_with_sorted_choices_unlike_keras(distribution: str) -> None:
    with pytest.raises(ValueError, match="Invalid `distribution` argument"):
        ki.VarianceScaling(distribution=distribution)
    with pytest.raises(ValueError, match="Invalid `distribution` argument") as info:
        wi.VarianceScaling(distribution=distribution)
    assert "'truncated_normal', 'uniform', 'untruncated_normal'" in str(info.value)


@pytest.mark.parametrize("scale", [0, 0.0, -0.0, -1])
def test_non_positive_scale_fails_in_both_with_keras_message(scale: float) -> None:
    with pytest.raises(ValueError) as theirs:
        ki.VarianceScaling(scale=scale)
    with pytest.raises(ValueError) as ours:
        wi.VarianceScaling(scale=scale)
    assert str(theirs.value) in str(ours.value)


def test_variance_scaling_checks_scale_before_seed_like_keras() -> None:
    with pytest.raises(ValueError, match="scale"):
        wi.VarianceScaling(scale=0, seed="x")
    with pytest.raises(ValueError, match="scale"):
        ki.VarianceScaling(scale=0, seed="x")


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), True])
def test_non_finite_or_bool_scale_is_rejected_unlike_keras(scale: Any) -> None:
    ki.VarianceScaling(scale=scale)  # Keras accepts these
    with pytest.raises((ValueError, TypeError), match="scale"):
        wi.VarianceScaling(scale=scale)


def test_presets_reject_variance_scaling_keywords_like_keras() -> None:
    for name in ("GlorotUniform", "HeNormal", "LecunUniform"):
        with pytest.raises(TypeError, match="scale"):
            getattr(ki, name)(scale=2.0)
        with pytest.raises(TypeError, match="scale"):
            getattr(wi, name)(scale=2.0)


@pytest.mark.parametrize(
    "name", ["GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform"]
)
def test_preset_attributes_equal_keras(name: str) -> None:
    ours, theirs = getattr(wi, name)(seed=1), getattr(ki, name)(seed=1)
    assert (ours.scale, ours.mode, ours.distribution) == (theirs.scale, theirs.mode, theirs.distribution)


# --------------------------------------------------------------------------- distributions (KS)

MATRIX = (100, 200)  # fan_in 100, fan_out 200: every mode gives a different spread
CONV = (5, 5, 20, 40)  # 20,000 weights; fans (500, 1000)

DISTRIBUTION_CASES: list[tuple[str, dict[str, Any], tuple[int, ...]]] = [
    ("RandomNormal", {"mean": 0.5, "stddev": 2.0}, MATRIX),
    ("RandomNormal", {}, MATRIX),
    ("RandomUniform", {"minval": -1.0, "maxval": 3.0}, MATRIX),
    ("RandomUniform", {}, MATRIX),
    ("TruncatedNormal", {"mean": -1.0, "stddev": 0.5}, MATRIX),
    ("TruncatedNormal", {}, MATRIX),
    *[
        ("VarianceScaling", {"scale": 2.0, "mode": mode, "distribution": dist}, MATRIX)
        for mode in ("fan_in", "fan_out", "fan_avg")
        for dist in ("truncated_normal", "untruncated_normal", "uniform")
    ],
    *[
        (name, {}, CONV)
        for name in ("GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform")
    ],
    (
        "VarianceScaling",
        {"scale": 0.5, "mode": "fan_avg", "input_axes": [0], "output_axes": [1, 2]},
        (100, 10, 20),
    ),
]


def _case_id(case: tuple[str, dict[str, Any], tuple[int, ...]]) -> str:
    name, kwargs, shape = case
    args = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}({args}){'x'.join(map(str, shape))}"


@pytest.mark.parametrize("case", DISTRIBUTION_CASES, ids=[_case_id(c) for c in DISTRIBUTION_CASES])
def test_samples_have_the_keras_distribution(case: tuple[str, dict[str, Any], tuple[int, ...]]) -> None:
    name, kwargs, shape = case
    assert math.prod(shape) == N_SAMPLES
    k = DISTRIBUTION_CASES.index(case)  # a different fixed seed pair per case
    ours = getattr(wi, name)(seed=101 + k, **kwargs)(shape)
    theirs = keras_values(getattr(ki, name)(seed=202 + k, **kwargs), shape)
    assert ours.dtype == theirs.dtype == np.float32
    assert_same_distribution(ours, theirs)


@pytest.mark.parametrize(
    "name", ["RandomNormal", "TruncatedNormal", "RandomUniform", "HeNormal", "GlorotUniform"]
)
def test_ks_test_detects_a_wrong_spread(name: str) -> None:
    """The KS check is sharp enough: 25% more spread is rejected."""
    theirs = keras_values(getattr(ki, name)(seed=202), MATRIX)
    ours = getattr(wi, name)(seed=101)(MATRIX)
    wrong = np.asarray(ours, np.float64).ravel() * 1.25
    result = stats.ks_2samp(wrong, np.asarray(theirs, np.float64).ravel())
    assert result.pvalue < KS_MIN_PVALUE


def test_orthogonal_singular_values_and_entries_match_keras() -> None:
    shape = (200, 100)
    ours = wi.Orthogonal(gain=1.5, seed=101)(shape, dtype="float64")
    theirs = keras_values(ki.Orthogonal(gain=1.5, seed=202), shape)
    np.testing.assert_allclose(np.linalg.svd(ours, compute_uv=False), 1.5, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(theirs.astype(np.float64), compute_uv=False), 1.5, atol=1e-4)
    np.testing.assert_allclose(ours.T @ ours, 2.25 * np.eye(100), atol=1e-12)
    assert_same_distribution(ours, theirs)


@pytest.mark.parametrize("shape", [(100, 200), (10, 10, 200), (4, 5, 10, 100)])
def test_orthogonal_folds_leading_axes_like_keras(shape: tuple[int, ...]) -> None:
    ours = wi.Orthogonal(seed=3)(shape, dtype="float64")
    theirs = keras_values(ki.Orthogonal(seed=4), shape)
    rows = math.prod(shape[:-1])
    flat = ours.reshape(rows, shape[-1])
    small = min(flat.shape)
    gram = flat @ flat.T if rows < shape[-1] else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    assert ours.shape == theirs.shape == shape
    assert_same_distribution(ours, theirs)


@pytest.mark.parametrize("shape", [(4,), ()])
def test_orthogonal_rank_errors_match_keras(shape: tuple[int, ...]) -> None:
    message = "The tensor to initialize must be at least two-dimensional."
    with pytest.raises(ValueError, match=message):
        ki.Orthogonal(seed=1)(shape)
    with pytest.raises(ValueError, match=message):
        wi.Orthogonal(seed=1)(shape)


# --------------------------------------------------------------------------- bounds


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("mean", "stddev"), [(0.0, 0.05), (-1.0, 0.5), (3.0, 2.0)])
def test_truncated_normal_stays_within_two_stddev_like_keras(mean: float, stddev: float, dtype: str) -> None:
    ours = wi.TruncatedNormal(mean, stddev, seed=5)(MATRIX, dtype=dtype)
    theirs = keras_values(ki.TruncatedNormal(mean, stddev, seed=5), MATRIX)
    ftype = np.dtype(dtype).type
    low, high = ftype(mean) - 2 * ftype(stddev), ftype(mean) + 2 * ftype(stddev)
    for values in (ours, theirs):
        assert values.min() >= low and values.max() <= high
    # and the tails are actually reached: the bound is the truncation point, not a loose cap
    assert ours.min() < ftype(mean) - ftype(1.9) * ftype(stddev)
    assert ours.max() > ftype(mean) + ftype(1.9) * ftype(stddev)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling_truncated_bound_is_two_pre_truncation_sigma_like_keras(
    mode: str, dtype: str
) -> None:
    fan_in, fan_out = MATRIX
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    sigma = math.sqrt(2.0 / n) / 0.87962566103423978
    ours = wi.VarianceScaling(2.0, mode, seed=9)(MATRIX, dtype=dtype)
    theirs = keras_values(ki.VarianceScaling(2.0, mode, seed=9), MATRIX)
    bound = 2 * np.dtype(dtype).type(sigma)
    for values in (ours, theirs):
        assert np.abs(values).max() <= bound
    assert np.abs(ours).max() > 0.95 * bound


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("minval", "maxval"), [(-0.05, 0.05), (-1.0, 3.0), (2.0, 2.5)])
def test_random_uniform_stays_in_half_open_interval_like_keras(
    minval: float, maxval: float, dtype: str
) -> None:
    ftype = np.dtype(dtype).type
    ours = wi.RandomUniform(minval, maxval, seed=11)(MATRIX, dtype=dtype)
    theirs = keras_values(ki.RandomUniform(minval, maxval, seed=11), MATRIX)
    for values in (ours, theirs):
        assert values.min() >= ftype(minval) and values.max() < ftype(maxval)
    width = maxval - minval
    assert ours.min() < minval + 0.001 * width and ours.max() > maxval - 0.001 * width


def test_random_uniform_never_returns_maxval_when_rounding_would_reach_it() -> None:
    # a width of a few float32 ulps: without care, rounding to float32 would hit maxval often
    low = 1.0
    high = float(np.nextafter(np.nextafter(np.float32(1.0), np.float32(2)), np.float32(2)))
    values = wi.RandomUniform(low, high, seed=1)((10_000,))
    assert values.max() < np.float32(high) and values.min() >= np.float32(low)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling_uniform_stays_in_minus_l_to_l_like_keras(mode: str, dtype: str) -> None:
    fan_in, fan_out = MATRIX
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    limit = math.sqrt(3.0 * 2.0 / n)
    ftype = np.dtype(dtype).type
    ours = wi.VarianceScaling(2.0, mode, "uniform", seed=13)(MATRIX, dtype=dtype)
    theirs = keras_values(ki.VarianceScaling(2.0, mode, "uniform", seed=13), MATRIX)
    for values in (ours, theirs):
        assert values.min() >= ftype(-limit) and values.max() < ftype(limit)
    assert np.abs(ours).max() > 0.999 * limit


@pytest.mark.parametrize("name", ["GlorotUniform", "HeUniform", "LecunUniform"])
def test_uniform_presets_limit_equals_keras_formula(name: str) -> None:
    fan_in, fan_out = wi.compute_fans(CONV)
    limit = {
        "GlorotUniform": math.sqrt(6 / (fan_in + fan_out)),
        "HeUniform": math.sqrt(6 / fan_in),
        "LecunUniform": math.sqrt(3 / fan_in),
    }[name]
    ours = getattr(wi, name)(seed=1)(CONV, dtype="float64")
    theirs = keras_values(getattr(ki, name)(seed=1), CONV)
    assert np.abs(ours).max() < limit and np.abs(theirs).max() < np.float32(limit)
    assert np.abs(ours).max() > 0.999 * limit
