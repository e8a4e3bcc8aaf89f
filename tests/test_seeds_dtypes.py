"""Seeds (Keras semantics, spec section 7) and dtypes (spelling, policy, exact output dtype)."""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi
from conftest import RANDOM_CLASS_NAMES, make
from weightinit._engine import _sample, sample

BF16 = np.dtype(ml_dtypes.bfloat16)
SHAPE = (6, 7)

#: every random class of the catalog, as a factory of ``seed``
RANDOM: dict[str, Callable[[Any], wi.Initializer]] = {
    "RandomNormal": lambda s: wi.RandomNormal(0.5, 2.0, seed=s),
    "RandomUniform": lambda s: wi.RandomUniform(-1.0, 3.0, seed=s),
    "TruncatedNormal": lambda s: wi.TruncatedNormal(-0.5, 0.3, seed=s),
    "VarianceScaling": lambda s: wi.VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=s),
    "GlorotNormal": lambda s: wi.GlorotNormal(seed=s),
    "GlorotUniform": lambda s: wi.GlorotUniform(seed=s),
    "HeNormal": lambda s: wi.HeNormal(seed=s),
    "HeUniform": lambda s: wi.HeUniform(seed=s),
    "LecunNormal": lambda s: wi.LecunNormal(seed=s),
    "LecunUniform": lambda s: wi.LecunUniform(seed=s),
    "Orthogonal": lambda s: wi.Orthogonal(1.5, seed=s),
}
#: the deterministic classes, as factories (no seed)
DETERMINISTIC: dict[str, Callable[[], wi.Initializer]] = {
    "Zeros": wi.Zeros,
    "Ones": wi.Ones,
    "Constant": lambda: wi.Constant(3),
    "Identity": lambda: wi.Identity(2.0),
}
FLOATS = ("float16", "bfloat16", "float32", "float64")


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# --------------------------------------------------------------------------- int seeds


@pytest.mark.parametrize("name", RANDOM)
def test_int_seed_gives_the_same_values_on_every_call_and_across_instances(name):
    init = RANDOM[name](1234)
    first = init(SHAPE)
    assert _same(first, init(SHAPE)) and _same(first, init(SHAPE))
    assert _same(first, RANDOM[name](1234)(SHAPE))
    assert not _same(first, RANDOM[name](1235)(SHAPE))
    assert init.get_config()["seed"] == 1234


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize("seed_type", [np.int64, np.uint64, np.int32, np.uint8])
def test_numpy_int_seeds_equal_python_int_seeds(name, seed_type):
    assert _same(RANDOM[name](seed_type(77))(SHAPE), RANDOM[name](77)(SHAPE))
    config_seed = RANDOM[name](seed_type(77)).get_config()["seed"]
    assert config_seed == 77 and type(config_seed) is int


@pytest.mark.parametrize("name", RANDOM)
def test_extreme_seeds_0_and_2_64_minus_1_work_and_differ(name):
    values = {seed: RANDOM[name](seed)(SHAPE) for seed in (0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1)}
    for seed, x in values.items():
        assert np.isfinite(x).all(), seed
    blobs = {x.tobytes() for x in values.values()}
    assert len(blobs) == len(values)  # both 32-bit halves of the seed matter
    assert _same(RANDOM[name](np.uint64(2**64 - 1))(SHAPE), values[2**64 - 1])


# --------------------------------------------------------------------------- seed=None


@pytest.mark.parametrize("name", RANDOM)
def test_unseeded_instance_is_fixed_per_instance_and_warns_on_reuse(name):
    init = RANDOM[name](None)
    first = init(SHAPE)
    with pytest.warns(wi.UnseededReuseWarning, match="unseeded"):
        second = init(SHAPE)
    assert _same(first, second)
    assert init.get_config()["seed"] is None


@pytest.mark.parametrize("name", RANDOM)
def test_unseeded_instances_differ_from_each_other(name):
    a, b = RANDOM[name](None), RANDOM[name](None)
    assert not _same(a(SHAPE), b(SHAPE))


def test_unseeded_reuse_warning_can_be_silenced():
    init = wi.RandomNormal()
    init(SHAPE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wi.UnseededReuseWarning)
        init(SHAPE)
        init(SHAPE)


@pytest.mark.parametrize("name", RANDOM)
def test_python_random_seed_makes_unseeded_initializers_reproducible(name):
    state = random.getstate()
    try:
        random.seed(2024)
        a = RANDOM[name](None)
        random.seed(2024)
        b = RANDOM[name](None)
    finally:
        random.setstate(state)
    assert _same(a(SHAPE), b(SHAPE))
    assert a.get_config()["seed"] is None


def test_unseeded_clone_picks_a_new_seed():
    init = wi.HeNormal()
    clone = init.clone()
    assert clone.get_config() == init.get_config() == {"seed": None, "input_axes": None, "output_axes": None}
    assert not _same(init(SHAPE), clone(SHAPE))


# --------------------------------------------------------------------------- SeedGenerator


def _stream(kind: str, seed: int, call: int, a: float, b: float, dtype: str = "float32") -> np.ndarray:
    """The engine's stream (seed, call) for the whole ``SHAPE``, independently of any initializer."""
    return sample(kind, seed, call, SHAPE, tuple((0, d) for d in SHAPE), np.dtype(dtype), a, b)


def test_seed_generator_call_k_uses_stream_seed_k():
    init = wi.RandomNormal(0.5, 2.0, seed=wi.SeedGenerator(31))
    for k in range(4):
        assert _same(init(SHAPE), _stream("normal", 31, k, 0.5, 2.0)), k


@pytest.mark.parametrize("name", RANDOM)
def test_seed_generator_first_call_equals_the_int_seed_and_later_calls_differ(name):
    init = RANDOM[name](wi.SeedGenerator(9))
    draws = [init(SHAPE) for _ in range(3)]
    assert _same(draws[0], RANDOM[name](9)(SHAPE))
    assert not _same(draws[0], draws[1]) and not _same(draws[1], draws[2])
    # a new generator with the same seed restarts at draw 0
    assert _same(RANDOM[name](wi.SeedGenerator(9))(SHAPE), draws[0])


def test_two_initializers_sharing_a_generator_consume_it_in_turn():
    gen = wi.SeedGenerator(5)
    normal = wi.RandomNormal(0.0, 1.0, seed=gen)
    uniform = wi.RandomUniform(0.0, 1.0, seed=gen)
    assert _same(normal(SHAPE), _stream("normal", 5, 0, 0.0, 1.0))
    assert _same(uniform(SHAPE), _stream("uniform", 5, 1, 0.0, 1.0))
    assert _same(normal(SHAPE), _stream("normal", 5, 2, 0.0, 1.0))
    assert gen.state == (5, 3)


def test_seed_generator_state_and_config():
    gen = wi.SeedGenerator(np.int64(12))
    assert gen.state == (12, 0)
    assert gen.next() == (12, 0) and gen.state == (12, 1)
    assert gen.get_config() == {"seed": 12, "name": "seed_generator"}
    init = wi.RandomNormal(seed=gen)
    assert init.get_config()["seed"] == {
        "module": "keras.random",
        "class_name": "SeedGenerator",
        "config": {"seed": 12, "name": "seed_generator"},
        "registered_name": None,
    }


def test_seed_generator_dict_seed_is_a_fresh_generator_starting_at_draw_0():
    config = wi.RandomNormal(seed=wi.SeedGenerator(4)).get_config()
    a, b = wi.RandomNormal.from_config(config), wi.RandomNormal.from_config(config)
    assert isinstance(a.seed, wi.SeedGenerator) and a.seed is not b.seed
    a0, b0 = a(SHAPE), b(SHAPE)
    assert _same(a0, wi.RandomNormal(seed=4)(SHAPE)) and _same(a0, b0)
    a1 = a(SHAPE)
    assert not _same(a0, a1) and _same(a1, b(SHAPE))


def test_unseeded_seed_generator_is_random_and_reproducible_with_random_seed():
    state = random.getstate()
    try:
        random.seed(7)
        a = wi.SeedGenerator()
        random.seed(7)
        b = wi.SeedGenerator()
    finally:
        random.setstate(state)
    assert a.state == b.state and a.get_config()["seed"] is None
    assert 1 <= a.state[0] <= 10**9 and a.state[1] == 0


@pytest.mark.parametrize("seed", [0, 2**64 - 1, np.uint64(2**64 - 1)])
def test_seed_generator_accepts_the_extreme_seeds(seed):
    init = wi.RandomUniform(seed=wi.SeedGenerator(seed))
    assert _same(init(SHAPE), wi.RandomUniform(seed=int(seed))(SHAPE))
    assert _same(init(SHAPE), _stream("uniform", int(seed), 1, -0.05, 0.05))


# --------------------------------------------------------------------------- dtype spellings

SPELLINGS: list[tuple[Any, np.dtype]] = [
    ("float32", np.dtype("float32")),
    (np.float32, np.dtype("float32")),
    (np.dtype("float32"), np.dtype("float32")),
    ("float64", np.dtype("float64")),
    (np.float64, np.dtype("float64")),
    (np.dtype(np.float64), np.dtype("float64")),
    ("float16", np.dtype("float16")),
    (np.float16, np.dtype("float16")),
    ("bfloat16", BF16),
    (ml_dtypes.bfloat16, BF16),
    (BF16, BF16),
]


@pytest.mark.parametrize("name", [*RANDOM, "STFT"])
@pytest.mark.parametrize(("spelling", "expected"), SPELLINGS, ids=[f"{s!r}" for s, _ in SPELLINGS])
def test_float_dtype_spellings_give_exactly_that_dtype(name, spelling, expected):
    init = wi.STFT() if name == "STFT" else RANDOM[name](3)
    shape = (4, 2, 3) if name == "STFT" else SHAPE
    x = init(shape, spelling)
    assert x.dtype == expected and type(x.dtype) is type(expected)
    assert _same(x, init(shape, expected.name))


def test_bfloat16_output_is_the_ml_dtypes_bfloat16_type():
    x = wi.GlorotUniform(seed=1)(SHAPE, "bfloat16")
    assert x.dtype == BF16 and x.dtype.type is ml_dtypes.bfloat16


def test_dtype_name_table_agrees_with_numpy_and_only_remembers_bfloat16():
    from weightinit import _dtypes

    extra = [BF16, np.dtype(">f4"), np.dtype(">f8"), np.dtype(ml_dtypes.float8_e5m2), np.dtype("S3")]
    for dtype in [*(np.dtype(n) for n in _dtypes.ANY_DTYPES if n != "bfloat16"), *extra]:
        for _ in range(2):  # the first lookup may fill the table, the second reads it
            assert _dtypes.dtype_name(dtype) == dtype.name
        assert _dtypes.is_bfloat16(dtype) == (dtype == BF16)
    assert set(_dtypes._NAMES.values()) <= set(_dtypes.ANY_DTYPES)


def test_dtype_none_uses_floatx():
    assert wi.floatx() == "float32"
    assert wi.HeNormal(seed=1)(SHAPE).dtype == np.float32
    try:
        wi.set_floatx("float64")
        x = wi.HeNormal(seed=1)(SHAPE)
        assert x.dtype == np.float64 and _same(x, wi.HeNormal(seed=1)(SHAPE, "float64"))
        assert wi.Zeros()(SHAPE).dtype == np.float64
    finally:
        wi.set_floatx("float32")
    assert wi.floatx() == "float32"


REJECTED_FOR_RANDOM = [
    "int8",
    "int32",
    "int64",
    "uint8",
    "uint64",
    np.int32,
    np.dtype("int16"),
    "bool",
    np.bool_,
    bool,
    int,
    "complex64",
    np.complex128,
    "float8_e4m3fn",
    ml_dtypes.float8_e5m2,
    "float",
    "double",
    "half",
    "string",
    "bogus",
    object,
]


def _dtype_label(dtype: Any) -> str:
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype)


@pytest.mark.parametrize("name", [*RANDOM, "STFT"])
@pytest.mark.parametrize("dtype", REJECTED_FOR_RANDOM, ids=[str(d) for d in REJECTED_FOR_RANDOM])
def test_non_float_dtypes_are_rejected_for_random_initializers_with_a_type_error_naming_the_dtype(
    name, dtype
):
    init = wi.STFT() if name == "STFT" else RANDOM[name](3)
    shape = (4, 2, 3) if name == "STFT" else SHAPE
    with pytest.raises(wi.InvalidTypeError, match="dtype") as info:
        init(shape, dtype)
    assert isinstance(info.value, TypeError)
    text = str(info.value)
    assert name in text and "float32" in text  # names the initializer and lists the valid ones
    if isinstance(dtype, str):
        assert dtype in text
    assert len(text) < 1000


ALL_DTYPES = [
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex64",
    "complex128",
    *FLOATS,
]


@pytest.mark.parametrize("name", DETERMINISTIC)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_deterministic_initializers_accept_every_numeric_and_bool_dtype_exactly(name, dtype):
    init = DETERMINISTIC[name]()
    x = init(SHAPE, dtype)
    expected = BF16 if dtype == "bfloat16" else np.dtype(dtype)
    assert x.dtype == expected and x.shape == SHAPE
    value = {"Zeros": 0, "Ones": 1, "Constant": 3, "Identity": 2}[name]
    reference = np.eye(*SHAPE) * value if name == "Identity" else np.full(SHAPE, value)
    wider = np.complex128 if expected.kind == "c" else np.float64
    np.testing.assert_array_equal(x.astype(wider), reference.astype(expected).astype(wider))
    assert _same(x, init(SHAPE, np.dtype(expected)))


@pytest.mark.parametrize("name", DETERMINISTIC)
@pytest.mark.parametrize("dtype", ["float8_e4m3fn", "string", "float", "bogus", object])
def test_deterministic_initializers_reject_unsupported_dtypes(name, dtype):
    with pytest.raises(wi.InvalidTypeError, match="unsupported dtype") as info:
        DETERMINISTIC[name]()(SHAPE, dtype)
    assert isinstance(info.value, TypeError) and "int32" in str(info.value)


# --------------------------------------------------------------------------- precision design

NARROW = ("float16", "bfloat16")


UNIFORM_LIMITS = {  # maxval for the shape (300, 200): fan_in 300, fan_out 200
    "RandomUniform": 3.0,
    "GlorotUniform": (6 / 500) ** 0.5,
    "HeUniform": (6 / 300) ** 0.5,
    "LecunUniform": (3 / 300) ** 0.5,
}


@pytest.mark.parametrize("name", [n for n in RANDOM if n != "Orthogonal"])
@pytest.mark.parametrize("dtype", NARROW)
def test_narrow_float_values_are_the_float32_values_rounded(name, dtype):
    init = RANDOM[name](21)
    shape = (300, 200)
    narrow = init(shape, dtype)
    wide = init(shape, "float32").astype(narrow.dtype)
    differ = narrow.view(np.uint16) != wide.view(np.uint16)
    if name in UNIFORM_LIMITS:
        # except that a float32 value that rounds up to maxval is replaced by the value below it
        maxval = np.asarray(UNIFORM_LIMITS[name], dtype=narrow.dtype)[()]
        below = _sample._prev_below(maxval, narrow.dtype)
        assert (wide[differ] == maxval).all() and (narrow[differ] == below).all()
        assert (wide[~differ] < maxval).all()
        assert differ.any() or dtype == "float16"  # bfloat16: about 2**-9 of the values
    else:
        assert not differ.any()


@pytest.mark.parametrize("name", ["Orthogonal", "STFT"])
@pytest.mark.parametrize("dtype", ("float16", "bfloat16", "float32"))
def test_orthogonal_and_stft_compute_in_float64_and_round_once(name, dtype):
    init = wi.Orthogonal(seed=8) if name == "Orthogonal" else wi.STFT(window="hamming")
    shape = (12, 9) if name == "Orthogonal" else (16, 2, 9)
    assert _same(init(shape, dtype), init(shape, "float64").astype(init(shape, dtype).dtype))


@pytest.mark.parametrize("name", [n for n in RANDOM if n != "Orthogonal"])  # always computed in float64
def test_float64_is_a_separate_stream_not_the_float32_values_widened(name):
    init = RANDOM[name](5)
    shape = (64, 64)
    x32 = init(shape, "float32")
    x64 = init(shape, "float64")
    # Different bits per element (two words instead of one): not even close element by element
    close = np.isclose(x64, x32.astype(np.float64), rtol=1e-3, atol=0)
    assert close.mean() < 0.05


# --------------------------------------------------------------------------- reseeding copies


@pytest.mark.parametrize("name", RANDOM_CLASS_NAMES)
@pytest.mark.parametrize("base_seed", [None, 5])
def test_with_seed_copy_is_the_config_rebuild(name: str, base_seed: int | None) -> None:
    # weightinit.torch seeds one copy per parameter with _with_seed instead of a config round trip
    template = make(name, seed=base_seed)
    config = template.get_config()
    copy = template._with_seed(2**64 - 3)
    rebuilt = type(template).from_config({**config, "seed": 2**64 - 3})
    assert type(copy) is type(template)
    assert copy.get_config() == rebuilt.get_config()
    assert template.get_config() == config  # the template is untouched
    shape = (3, 6, 6) if name == "DeltaOrthogonal" else (6, 5)  # (DeltaOrthogonal: a convolution)
    assert _same(copy(shape), rebuilt(shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an int-seeded copy never warns about reuse
        copy(shape)
