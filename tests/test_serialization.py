"""Configs as data: JSON round trips, Keras 3 and Keras 2 formats, ``get``, custom objects, safety."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from conftest import (
    CALLABLE_CLASS_NAMES,
    CLASS_NAMES,
    NON_DEFAULT_KWARGS,
    assert_same_values,
    config_roundtrip,
    json_roundtrip,
    make,
    sample_shape,
)

CUSTOM_PACKAGE = "wi_tests_serialization"


@wi.register_initializer(package=CUSTOM_PACKAGE)
class Halves(wi.Initializer):
    """A registered custom initializer: every value is ``value`` (default 0.5)."""

    def __init__(self, value: float = 0.5) -> None:
        self.value = value

    def __call__(self, shape: Any, dtype: Any = None) -> np.ndarray:
        return np.full(shape, self.value, dtype=dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


@wi.register_initializer(package=CUSTOM_PACKAGE, name="Renamed")
class Quarters(Halves):
    def __init__(self, value: float = 0.25) -> None:
        super().__init__(value)


class Unregistered(wi.Initializer):
    def __init__(self, v: float = 1.0) -> None:
        self.v = v

    def __call__(self, shape: Any, dtype: Any = None) -> np.ndarray:
        return np.full(shape, self.v, dtype=dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {"v": self.v}


class SubGlorot(wi.GlorotUniform):
    """An unregistered subclass of a built-in."""


def threes(shape: Any, dtype: Any = None) -> np.ndarray:
    return np.full(shape, 3.0, dtype=dtype or "float32")


@wi.register_initializer(package=CUSTOM_PACKAGE)
def fours(shape: Any, dtype: Any = None) -> np.ndarray:
    return np.full(shape, 4.0, dtype=dtype or "float32")


# --------------------------------------------------------------------------- JSON round trips


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_json_roundtrip_with_non_default_arguments(name: str) -> None:
    init = make(name)
    via_config, via_serialize = config_roundtrip(init)
    kwargs = NON_DEFAULT_KWARGS[name]
    for copy in (via_config, via_serialize):
        config = copy.get_config()
        # every argument survives (Identity's gain included, unlike Keras)
        assert json_roundtrip({key: config[key] for key in kwargs}) == json_roundtrip(kwargs)


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_json_roundtrip_with_default_arguments(name: str) -> None:
    init = getattr(wi, name)()
    via_config, via_serialize = config_roundtrip(init)
    if hasattr(init, "seed"):
        assert init.get_config()["seed"] is None
        # an unseeded copy picks its own seed, as in Keras
        assert isinstance(via_config.seed, int) and isinstance(via_serialize.seed, int)


@pytest.mark.parametrize("name", [n for n in CALLABLE_CLASS_NAMES if "seed" in NON_DEFAULT_KWARGS[n]])
def test_json_roundtrip_with_seed_generator_restarts_the_stream(name: str) -> None:
    init = make(name, seed=wi.SeedGenerator(21))
    shape = sample_shape(init)
    first = init(shape)
    second = init(shape)
    assert not np.array_equal(first, second)
    assert init.get_config()["seed"] == {
        "module": "keras.random",
        "class_name": "SeedGenerator",
        "config": {"seed": 21, "name": "seed_generator"},
        "registered_name": None,
    }
    # the generator's state is not serialized: a rebuilt copy starts again at draw 0
    rebuilt = wi.deserialize(json_roundtrip(wi.serialize(init)))
    assert isinstance(rebuilt.seed, wi.SeedGenerator) and rebuilt.seed is not init.seed
    np.testing.assert_array_equal(rebuilt(shape), first)
    np.testing.assert_array_equal(rebuilt(shape), second)
    via_config, via_serialize = config_roundtrip(init)  # compares the copies' draw 0
    np.testing.assert_array_equal(via_config(shape), second)
    np.testing.assert_array_equal(via_serialize(shape), second)


def test_axes_tuples_become_lists_in_json_and_give_the_same_values() -> None:
    init = wi.GlorotUniform(seed=1, input_axes=(0,), output_axes=(1, 2))
    assert init.get_config()["input_axes"] == (0,)
    text = json.dumps(wi.serialize(init))
    loaded = json.loads(text)
    assert loaded["config"]["input_axes"] == [0] and loaded["config"]["output_axes"] == [1, 2]
    rebuilt = wi.deserialize(loaded)
    assert rebuilt.input_axes == [0] and rebuilt.output_axes == [1, 2]
    np.testing.assert_array_equal(rebuilt((5, 2, 3)), init((5, 2, 3)))


def test_constant_array_value_roundtrips_as_nested_lists() -> None:
    init = wi.Constant(np.array([[1.0], [2.0]]))
    config = init.get_config()
    assert config == {"value": [[1.0], [2.0]]}
    via_config, _ = config_roundtrip(init)
    np.testing.assert_array_equal(via_config((2, 3)), [[1, 1, 1], [2, 2, 2]])


def test_stft_list_window_roundtrips() -> None:
    init = wi.STFT(window=[0.5, 1.0, 1.0, 0.5], scaling=None)
    assert init.get_config()["window"] == [0.5, 1.0, 1.0, 0.5]
    config_roundtrip(init)


def test_serialized_json_is_strict_json() -> None:
    for name in CLASS_NAMES:
        json.dumps(wi.serialize(make(name)), allow_nan=False)


# --------------------------------------------------------------------------- serialize format


def test_serialize_format_matches_keras_examples() -> None:
    assert wi.serialize(wi.GlorotUniform(seed=3)) == {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": 3, "input_axes": None, "output_axes": None},
        "registered_name": None,
    }
    assert wi.serialize(wi.Zeros()) == {
        "module": "keras.initializers",
        "class_name": "Zeros",
        "config": {},
        "registered_name": None,
    }
    assert wi.serialize(wi.Constant(3)) == {
        "module": "keras.initializers",
        "class_name": "Constant",
        "config": {"value": 3},
        "registered_name": None,
    }
    assert wi.serialize(wi.Initializer()) == {
        "module": "keras",
        "class_name": "Initializer",
        "config": {},
        "registered_name": None,
    }


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("glorot_uniform", "GlorotUniform"),
        ("IdentityInitializer", "Identity"),
        ("OrthogonalInitializer", "Orthogonal"),
        ("STFTInitializer", "STFT"),
        ("random_normal", "RandomNormal"),
    ],
)
def test_serialize_uses_the_canonical_class_name_for_aliases(alias: str, canonical: str) -> None:
    assert wi.serialize(getattr(wi.initializers, alias)())["class_name"] == canonical


@pytest.mark.parametrize("value", [None, "glorot_uniform", 3, 2.5, True])
def test_serialize_passes_plain_values_through(value: Any) -> None:
    assert wi.serialize(value) == value


def test_serialize_object_without_get_config_fails() -> None:
    class NoConfig:
        def __call__(self, shape: Any, dtype: Any = None) -> np.ndarray:
            return np.zeros(shape)

    with pytest.raises(TypeError, match="get_config"):
        wi.serialize(NoConfig())


def test_serialize_get_config_must_return_a_dict() -> None:
    class BadConfig(wi.Initializer):
        def get_config(self) -> Any:
            return [1]

    with pytest.raises(TypeError, match="should return a dict"):
        wi.serialize(BadConfig())


# --------------------------------------------------------------------------- with real Keras


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_our_json_deserializes_in_keras_with_the_same_config(name: str, keras_module: Any) -> None:
    ours = make(name)
    loaded = keras_module.initializers.deserialize(json.loads(json.dumps(wi.serialize(ours))))
    assert type(loaded).__name__ == name
    assert type(loaded) is getattr(keras_module.initializers, name)
    expected = json_roundtrip(ours.get_config())
    if name == "Identity":
        # documented difference: Keras reads our gain but its get_config() drops it
        assert loaded.gain == 2.0 and loaded.get_config() == {}
    else:
        assert json_roundtrip(loaded.get_config()) == expected


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_keras_serialized_deserializes_in_weightinit_with_the_same_config(
    name: str, keras_module: Any
) -> None:
    theirs = getattr(keras_module.initializers, name)(**NON_DEFAULT_KWARGS[name])
    serialized = keras_module.initializers.serialize(theirs)
    for form in (serialized, json.loads(json.dumps(serialized))):
        ours = wi.deserialize(form)
        assert type(ours) is getattr(wi, name)
        if name == "Identity":
            # documented difference: Keras's config has no gain, so the default comes back
            assert ours.get_config() == {"gain": 1.0}
        else:
            assert json_roundtrip(ours.get_config()) == json_roundtrip(theirs.get_config())


def test_keras_seed_generator_seed_deserializes_as_our_seed_generator(keras_module: Any) -> None:
    theirs = keras_module.initializers.HeNormal(seed=keras_module.random.SeedGenerator(5))
    ours = wi.deserialize(json.loads(json.dumps(keras_module.initializers.serialize(theirs))))
    assert isinstance(ours.seed, wi.SeedGenerator)
    assert ours.seed.state == (5, 0)
    np.testing.assert_array_equal(ours((3, 4)), wi.HeNormal(seed=5)((3, 4)))


def test_our_seed_generator_seed_deserializes_in_keras(keras_module: Any) -> None:
    ours = wi.HeNormal(seed=wi.SeedGenerator(5))
    loaded = keras_module.initializers.deserialize(json.loads(json.dumps(wi.serialize(ours))))
    assert isinstance(loaded.seed, keras_module.random.SeedGenerator)
    assert loaded.get_config()["seed"]["config"]["seed"] == 5


def test_keras_numpy_array_values_deserialize_as_lists(keras_module: Any) -> None:
    ki = keras_module.initializers
    constant = wi.deserialize(json_roundtrip(ki.serialize(ki.Constant(np.array([1.0, 2.0])))))
    assert constant.get_config() == {"value": [1.0, 2.0]}
    np.testing.assert_array_equal(constant((3, 2)), [[1, 2]] * 3)
    stft = wi.deserialize(json_roundtrip(ki.serialize(ki.STFT(window=np.array([0.5, 1.0, 1.0, 0.5])))))
    assert stft.get_config()["window"] == [0.5, 1.0, 1.0, 0.5]


def test_keras_serialized_lambda_is_refused(keras_module: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras warns that lambdas are unsafe
        serialized = keras_module.initializers.serialize(lambda shape, dtype=None: np.zeros(shape))
    assert serialized["class_name"] == "__lambda__"
    with pytest.raises(wi.UnsafeConfigError, match="lambda"):
        wi.deserialize(json_roundtrip(serialized))
    with pytest.raises(wi.UnsafeConfigError, match="lambda"):
        wi.get(json_roundtrip(serialized))


def test_named_function_serializes_like_keras(keras_module: Any) -> None:
    assert wi.serialize(threes) == keras_module.initializers.serialize(threes)


# --------------------------------------------------------------------------- Keras 2 dicts


@pytest.mark.parametrize(
    ("config", "cls", "expected"),
    [
        ({"class_name": "GlorotUniform", "config": {"seed": None}}, "GlorotUniform", None),
        ({"class_name": "glorot_uniform", "config": {"seed": 4}}, "GlorotUniform", None),
        ({"class_name": "random_normal", "config": {"stddev": 2}}, "RandomNormal", {"stddev": 2.0}),
        ({"class_name": "normal", "config": {}}, "RandomNormal", {"stddev": 0.05}),
        ({"class_name": "uniform", "config": {}}, "RandomUniform", {"maxval": 0.05}),
        ({"class_name": "zeros", "config": {}}, "Zeros", None),
        ({"class_name": "zero"}, "Zeros", None),
        ({"class_name": "one", "config": None}, "Ones", None),
        ({"class_name": "he_normal", "config": {"seed": 1}}, "HeNormal", None),
        ({"class_name": "Orthogonal", "config": {"gain": 1.5, "seed": None}}, "Orthogonal", {"gain": 1.5}),
        ({"class_name": "OrthogonalInitializer", "config": {"gain": 2.0}}, "Orthogonal", {"gain": 2.0}),
        ({"class_name": "Identity", "config": {"gain": 1.5}}, "Identity", {"gain": 1.5}),
        ({"class_name": "IdentityInitializer", "config": {"gain": 3}}, "Identity", {"gain": 3.0}),
        (
            {
                "class_name": "VarianceScaling",
                "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None},
            },
            "VarianceScaling",
            {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"},
        ),
        (
            {
                "class_name": "VarianceScaling",
                "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": None},
            },
            "VarianceScaling",
            {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"},
        ),
        (
            {"class_name": "VarianceScaling", "config": {"distribution": "Untruncated_Normal"}},
            "VarianceScaling",
            {"distribution": "untruncated_normal"},
        ),
    ],
)
def test_keras2_dicts_without_module(
    config: dict[str, Any], cls: str, expected: dict[str, Any] | None
) -> None:
    init = wi.deserialize(config)
    assert type(init) is getattr(wi, cls)
    for key, value in (expected or {}).items():
        assert init.get_config()[key] == value


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_keras2_dict_without_module_for_every_class(name: str) -> None:
    init = make(name)
    legacy = {"class_name": name, "config": json_roundtrip(init.get_config())}
    rebuilt = wi.deserialize(legacy)
    assert type(rebuilt) is type(init)
    assert json_roundtrip(rebuilt.get_config()) == legacy["config"]


@pytest.mark.parametrize(
    "config",
    [
        {"class_name": "GlorotUniform", "config": {"seed": None, "dtype": "float32"}},
        {"class_name": "Zeros", "config": {"dtype": "float32"}},
        {"class_name": "Constant", "config": {"value": 0.5, "dtype": "float32"}},
        {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.1, "seed": 2, "dtype": "float32"}},
        {"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_in", "dtype": "float32"}},
        {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None, "dtype": "float32"}},
    ],
)
def test_tf1_configs_with_dtype_are_accepted_unlike_keras3(config: dict[str, Any]) -> None:
    init = wi.deserialize(config)
    assert "dtype" not in init.get_config()
    expected = {k: v for k, v in config["config"].items() if k != "dtype"}
    for key, value in expected.items():
        assert init.get_config()[key] == value


def test_preset_rejects_variance_scaling_keys_with_a_type_error_like_keras() -> None:
    with pytest.raises(TypeError, match="scale"):
        wi.deserialize({"class_name": "GlorotUniform", "config": {"scale": 2.0}})
    with pytest.raises(wi.ConfigError):
        wi.deserialize({"class_name": "GlorotUniform", "config": {"scale": 2.0}})


# --------------------------------------------------------------------------- get()


def test_get_none_is_none() -> None:
    assert wi.get(None) is None


@pytest.mark.parametrize(
    ("identifier", "cls"),
    [
        ("he_normal", "HeNormal"),
        ("HeNormal", "HeNormal"),
        ("normal", "RandomNormal"),
        ("zero", "Zeros"),
        ("one", "Ones"),
        ("uniform", "RandomUniform"),
        ("initializer", "Initializer"),
        ("stft", "STFT"),
        ("STFTInitializer", "STFT"),
    ],
)
def test_get_string_builds_a_new_default_instance(identifier: str, cls: str) -> None:
    first, second = wi.get(identifier), wi.get(identifier)
    assert type(first) is getattr(wi, cls)
    assert first is not second
    assert first.get_config() == getattr(wi, cls)().get_config()


def test_get_normal_means_random_normal_with_stddev_005() -> None:
    assert wi.get("normal").get_config() == {"seed": None, "mean": 0.0, "stddev": 0.05}


@pytest.mark.parametrize("identifier", ["constant", "Constant"])
def test_get_constant_string_gives_zero_constant_unlike_keras_key_error(identifier: str) -> None:
    init = wi.get(identifier)
    assert type(init) is wi.Constant and init.get_config() == {"value": 0.0}


@pytest.mark.parametrize(
    "identifier",
    [
        "HE_NORMAL",
        "He_Normal",
        "heNormal",
        "Normal",
        "Zero",
        "xavier_uniform",
        "zeros ",
        "",
        "RandomInitializer",
    ],
)
def test_get_unknown_strings_raise_value_error(identifier: str) -> None:
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        wi.get(identifier)


def test_get_function_string_raises_unknown_unlike_keras_key_error() -> None:
    with pytest.raises(wi.UnknownInitializerError):
        wi.get("function")


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(wi.UnknownInitializerError, match="he_normal"):
        wi.get("HE_NORMAL")


def test_get_class_builds_an_instance() -> None:
    init = wi.get(wi.GlorotUniform)
    assert type(init) is wi.GlorotUniform


def test_get_instance_returns_the_same_object() -> None:
    init = wi.HeNormal(seed=1)
    assert wi.get(init) is init


def test_get_callables_are_returned_unchanged() -> None:
    def fn(shape: Any, dtype: Any = None) -> np.ndarray:
        return np.zeros(shape)

    lam = lambda shape, dtype=None: np.zeros(shape)  # noqa: E731
    assert wi.get(fn) is fn
    assert wi.get(lam) is lam
    assert wi.get(print) is print


@pytest.mark.parametrize("identifier", [3, 3.5, True, [1, 2], (1, 2), object()])
def test_get_uninterpretable_values_raise_value_error(identifier: Any) -> None:
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        wi.get(identifier)


def test_get_numpy_array_gives_a_closure_checking_the_shape() -> None:
    array = np.arange(6.0).reshape(2, 3)
    fn = wi.get(array)
    out = fn((2, 3))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, array)
    np.testing.assert_array_equal(fn([2, 3]), array)
    with pytest.raises(ValueError, match=r"Expected `shape` to be \(2, 3\) for direct tensor as initializer"):
        fn((3, 2))


def test_get_numpy_array_closure_returns_the_requested_dtype_unlike_keras_jax() -> None:
    fn = wi.get(np.arange(6.0).reshape(2, 3))
    assert fn((2, 3), dtype="float64").dtype == np.float64
    assert fn((2, 3), dtype="int32").dtype == np.int32


def test_get_numpy_scalar_gives_a_zero_dimensional_closure() -> None:
    fn = wi.get(np.float32(2))
    out = fn((), dtype="int32")
    assert out.shape == () and out.dtype == np.int32 and int(out) == 2


@pytest.mark.parametrize(
    "identifier",
    [{"class_name": "Zeros"}, {"class_name": "Zeros", "config": None}, {"class_name": "Zeros", "config": {}}],
)
def test_get_dict_without_config_uses_defaults(identifier: dict[str, Any]) -> None:
    assert type(wi.get(identifier)) is wi.Zeros


def test_get_dict_without_class_name_raises() -> None:
    with pytest.raises(ValueError, match="Unknown `config` as a `dict`"):
        wi.get({"config": {}})


def test_get_dict_with_unknown_class_raises_instead_of_returning_a_string() -> None:
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        wi.get({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        wi.deserialize("nope")


def test_get_dict_with_legacy_name_and_config() -> None:
    init = wi.get({"class_name": "random_normal", "config": {"stddev": 2}})
    assert type(init) is wi.RandomNormal and init.stddev == 2.0


def test_get_dict_with_unknown_config_key_raises_type_error_like_keras() -> None:
    with pytest.raises(TypeError, match="bogus"):
        wi.get({"class_name": "RandomNormal", "config": {"bogus": 1}})


@pytest.mark.parametrize("extra", [{"bogus": 1}, {"class": "Zeros"}])
def test_unknown_top_level_keys_are_rejected(extra: dict[str, Any]) -> None:
    with pytest.raises(wi.ConfigError, match="Unknown key"):
        wi.deserialize({"class_name": "Zeros", "config": {}, **extra})


@pytest.mark.parametrize("bad", [12, 2.5, ["Zeros"], wi.Zeros()])
def test_deserialize_rejects_non_config_inputs(bad: Any) -> None:
    with pytest.raises(TypeError):
        wi.deserialize(bad)


@pytest.mark.parametrize(
    "config",
    [
        {"class_name": "VarianceScaling", "config": {"scale": float("nan")}},
        {"class_name": "VarianceScaling", "config": {"scale": float("inf")}},
        {"class_name": "RandomNormal", "config": {"mean": float("nan")}},
        {"class_name": "Constant", "config": {"value": float("inf")}},
    ],
)
def test_non_finite_numbers_in_configs_are_rejected(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="finite"):
        wi.deserialize(config)


# --------------------------------------------------------------------------- custom objects


def test_registered_class_serializes_with_a_namespaced_name() -> None:
    serialized = wi.serialize(Halves(0.75))
    assert serialized == {
        "module": __name__,
        "class_name": "Halves",
        "config": {"value": 0.75},
        "registered_name": f"{CUSTOM_PACKAGE}>Halves",
    }
    rebuilt = wi.deserialize(json_roundtrip(serialized))
    assert type(rebuilt) is Halves and rebuilt.value == 0.75


def test_registered_class_loads_with_module_none() -> None:
    config = {
        "module": None,
        "class_name": "Halves",
        "config": {},
        "registered_name": f"{CUSTOM_PACKAGE}>Halves",
    }
    assert type(wi.deserialize(config)) is Halves


def test_registered_with_explicit_name_keeps_the_class_name() -> None:
    serialized = wi.serialize(Quarters())
    assert serialized["class_name"] == "Quarters"
    assert serialized["registered_name"] == f"{CUSTOM_PACKAGE}>Renamed"
    rebuilt = wi.deserialize(json_roundtrip(serialized))
    assert type(rebuilt) is Quarters and rebuilt.value == 0.25
    assert wi.deserialize(f"{CUSTOM_PACKAGE}>Renamed") is Quarters
    assert type(wi.get(f"{CUSTOM_PACKAGE}>Renamed")) is Quarters


def test_registered_class_roundtrips_through_config_roundtrip_helper() -> None:
    config_roundtrip(Halves(1.5))


@pytest.mark.parametrize("name", ["Zeros", "he_normal", "GlorotUniform", "normal", "STFTInitializer"])
def test_register_refuses_builtin_names(name: str) -> None:
    class Shadow(Halves):
        pass

    with pytest.raises(ValueError, match="built-in"):
        wi.register_initializer(package="wi_tests_shadow", name=name)(Shadow)
    assert wi.get(name).__class__.__module__.startswith("weightinit")


def test_register_refuses_a_builtin_class_name_without_explicit_name() -> None:
    shadow = type("HeNormal", (Halves,), {})
    with pytest.raises(ValueError, match="built-in"):
        wi.register_initializer(package="wi_tests_shadow")(shadow)
    assert type(wi.get("HeNormal")) is wi.HeNormal


def test_register_refuses_a_second_object_under_the_same_key() -> None:
    class First(Halves):
        pass

    class Second(Halves):
        pass

    wi.register_initializer(package="wi_tests_dup", name="Thing")(First)
    wi.register_initializer(package="wi_tests_dup", name="Thing")(First)  # same object again: fine
    with pytest.raises(ValueError, match="already registered"):
        wi.register_initializer(package="wi_tests_dup", name="Thing")(Second)
    assert wi.deserialize("wi_tests_dup>Thing") is First


@pytest.mark.parametrize("package", ["", "a>b", "has space", 3, None])
def test_register_rejects_bad_package_names(package: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        wi.register_initializer(package=package)


def test_register_requires_get_config() -> None:
    class NoConfig:
        def __call__(self, shape: Any, dtype: Any = None) -> np.ndarray:
            return np.zeros(shape)

    with pytest.raises(ValueError, match="get_config"):
        wi.register_initializer(package="wi_tests_nocfg")(NoConfig)


def test_custom_objects_argument_builds_unregistered_classes() -> None:
    serialized = json_roundtrip(wi.serialize(Unregistered(2.0)))
    assert serialized["registered_name"] == "Unregistered"
    rebuilt = wi.deserialize(serialized, custom_objects={"Unregistered": Unregistered})
    assert type(rebuilt) is Unregistered and rebuilt.v == 2.0


def test_custom_objects_bare_string_returns_the_object_itself_like_keras() -> None:
    assert wi.deserialize("Unregistered", custom_objects={"Unregistered": Unregistered}) is Unregistered


def test_unregistered_class_fails_with_a_clear_error() -> None:
    serialized = json_roundtrip(wi.serialize(Unregistered(2.0)))
    with pytest.raises(wi.UnknownInitializerError, match="register_initializer") as info:
        wi.deserialize(serialized)
    assert "Unregistered" in str(info.value) and "custom_objects" in str(info.value)


def test_unregistered_subclass_of_a_builtin_is_not_loaded_as_the_builtin() -> None:
    serialized = wi.serialize(SubGlorot(seed=1))
    assert serialized["class_name"] == "SubGlorot"
    assert serialized["module"] == __name__
    with pytest.raises(wi.UnknownInitializerError):
        wi.deserialize(json_roundtrip(serialized))
    rebuilt = wi.deserialize(json_roundtrip(serialized), custom_objects={"SubGlorot": SubGlorot})
    assert type(rebuilt) is SubGlorot and rebuilt.get_config()["seed"] == 1


def test_named_function_loads_only_via_custom_objects() -> None:
    serialized = json_roundtrip(wi.serialize(threes))
    assert serialized == {
        "module": "builtins",
        "class_name": "function",
        "config": "threes",
        "registered_name": "function",
    }
    with pytest.raises(wi.UnsafeConfigError, match="threes"):
        wi.deserialize(serialized)
    assert wi.deserialize(serialized, custom_objects={"threes": threes}) is threes
    with pytest.raises(wi.UnknownInitializerError):
        wi.get("threes")


def test_registered_function_loads_by_its_namespaced_name() -> None:
    serialized = json_roundtrip(wi.serialize(fours))
    assert serialized["config"] == f"{CUSTOM_PACKAGE}>fours"
    assert wi.deserialize(serialized) is fours
    assert wi.get(f"{CUSTOM_PACKAGE}>fours") is fours
    with pytest.raises(wi.UnknownInitializerError):
        wi.get("fours")


def test_function_name_that_looks_importable_is_refused() -> None:
    config = {"module": "os", "class_name": "function", "config": "system", "registered_name": "function"}
    with pytest.raises(wi.UnsafeConfigError):
        wi.deserialize(config)


def test_lambdas_are_refused_in_serialize_and_register() -> None:
    lam = lambda shape, dtype=None: np.zeros(shape)  # noqa: E731
    with pytest.raises(TypeError, match="lambda"):
        wi.serialize(lam)
    with pytest.raises(TypeError):
        wi.register_initializer(package="wi_tests_lambda")(lam)


def test_lambda_configs_are_refused() -> None:
    config = {"module": "builtins", "class_name": "__lambda__", "config": {"value": ["AAAA", None, None]}}
    with pytest.raises(wi.UnsafeConfigError):
        wi.deserialize(config)


# --------------------------------------------------------------------------- module, shared ids


def test_shared_object_id_is_accepted_and_ignored() -> None:
    config = {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": 2, "input_axes": None, "output_axes": None},
        "registered_name": None,
        "shared_object_id": 139749824130064,
    }
    init = wi.deserialize(config)
    assert type(init) is wi.GlorotUniform
    assert "shared_object_id" not in wi.serialize(init)


@pytest.mark.parametrize(
    "module",
    ["keras.initializers", "keras", "weightinit", "keras.src.initializers.random_initializers", "absent"],
)
def test_builtin_names_accept_keras_and_weightinit_modules(module: str) -> None:
    config: dict[str, Any] = {"class_name": "Zeros", "config": {}}
    if module != "absent":
        config["module"] = module
    assert type(wi.deserialize(config)) is wi.Zeros


def test_module_none_is_refused_for_builtins_like_keras() -> None:
    with pytest.raises(wi.UnsafeConfigError, match="module"):
        wi.deserialize({"module": None, "class_name": "Zeros", "config": {}, "registered_name": None})


class _ImportSpy:
    """A meta-path finder that records every import attempt and finds nothing."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        self.names.append(fullname)
        return None


@pytest.mark.parametrize(
    "config",
    [
        {"module": "weightinit_evil_sentinel", "class_name": "Zeros", "config": {}},
        {"module": "weightinit_evil_sentinel.sub", "class_name": "GlorotUniform", "config": {"seed": 1}},
        {"module": "weightinit_evil_sentinel", "class_name": "Evil", "config": {}, "registered_name": "Evil"},
        {"module": "weightinit_evil_sentinel", "class_name": "function", "config": "boom"},
        {"module": "foo.bar", "class_name": "Zeros"},
        {"module": "os", "class_name": "system", "config": {}},
        {"module": "os", "class_name": "system", "config": "echo hi"},
        {"module": "builtins", "class_name": "eval", "config": "1"},
        {"module": "keras.models", "class_name": "load_model", "config": {}},
    ],
)
def test_foreign_modules_are_refused_and_never_imported(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _ImportSpy()
    monkeypatch.setattr(sys, "meta_path", [spy, *sys.meta_path])
    with pytest.raises(wi.ConfigError):
        wi.deserialize(config)
    with pytest.raises(ValueError):
        wi.get(config)
    assert spy.names == []
    assert not any(name.startswith("weightinit_evil_sentinel") for name in sys.modules)


def test_builtin_with_mismatched_registered_name_is_refused() -> None:
    config = {"module": "keras.initializers", "class_name": "Zeros", "registered_name": "x>Zeros"}
    with pytest.raises(wi.ConfigError, match="registered_name"):
        wi.deserialize(config)


# --------------------------------------------------------------------------- clone


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_clone_has_the_same_class_config_and_values(name: str) -> None:
    init = make(name)
    copy = init.clone()
    assert type(copy) is type(init) and copy is not init
    assert copy.get_config() == init.get_config()
    if name != "Initializer":
        assert_same_values(init, copy)


def test_clone_of_unseeded_picks_a_new_seed_like_keras() -> None:
    init = wi.GlorotUniform()
    copy = init.clone()
    assert copy.get_config() == init.get_config() == {"seed": None, "input_axes": None, "output_axes": None}
    assert not np.array_equal(init((8, 8)), copy((8, 8)))


def test_clone_of_seed_generator_seed_restarts_the_stream() -> None:
    init = wi.RandomNormal(seed=wi.SeedGenerator(3))
    first = init((4,))
    copy = init.clone()
    np.testing.assert_array_equal(copy((4,)), first)
    assert init.seed is not copy.seed


# --------------------------------------------------------------------------- unseeded reuse warning

RANDOM_CLASSES = [
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "Orthogonal",
]


@pytest.mark.parametrize("name", RANDOM_CLASSES)
def test_unseeded_reuse_warns_on_the_second_whole_call(name: str) -> None:
    init = getattr(wi, name)()
    first = init((3, 3))  # warnings are errors: the first call must not warn
    with pytest.warns(wi.UnseededReuseWarning, match="unseeded") as record:
        second = init((3, 3))
    np.testing.assert_array_equal(first, second)
    # the warning points at the caller, not at weightinit's internals
    assert [w.filename for w in record] == [__file__]


@pytest.mark.parametrize("name", RANDOM_CLASSES)
def test_unseeded_reuse_warns_only_once_per_instance(name: str) -> None:
    init = getattr(wi, name)()
    init((2, 2))
    with pytest.warns(wi.UnseededReuseWarning):
        init((2, 2))
    init((2, 2))
    init((4, 2))


@pytest.mark.parametrize("name", RANDOM_CLASSES)
def test_unseeded_index_calls_do_not_warn(name: str) -> None:
    init = getattr(wi, name)()
    whole = init((4, 4))
    for rows in (slice(0, 2), slice(2, 4), slice(0, 4)):
        np.testing.assert_array_equal(init((4, 4), index=(rows,)), whole[rows])
    with pytest.warns(wi.UnseededReuseWarning):
        init((4, 4))


@pytest.mark.parametrize("seed", [0, 7, "generator"])
def test_seeded_instances_never_warn(seed: Any) -> None:
    init = wi.HeNormal(seed=wi.SeedGenerator(1) if seed == "generator" else seed)
    for _ in range(3):
        init((3, 3))


def test_deterministic_initializers_never_warn() -> None:
    for init in (wi.Zeros(), wi.Ones(), wi.Constant(2), wi.Identity(), wi.STFT()):
        for _ in range(3):
            init(sample_shape(init))


def test_unseeded_reuse_warning_is_suppressible_with_a_filter() -> None:
    init = wi.GlorotUniform()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wi.UnseededReuseWarning)
        init((3, 3))
        init((3, 3))


@pytest.mark.filterwarnings("ignore::weightinit.UnseededReuseWarning")
def test_unseeded_reuse_warning_is_suppressible_with_a_pytest_mark() -> None:
    init = wi.RandomUniform()
    np.testing.assert_array_equal(init((2,)), init((2,)))


def test_unseeded_reuse_warning_is_a_user_warning() -> None:
    init = wi.LecunNormal()
    init((2, 2))
    with pytest.warns(UserWarning):
        init((2, 2))
