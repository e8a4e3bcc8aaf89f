"""weightinit.keras in this process (Keras's jax backend, see conftest.py): registration, conversion
of Keras initializers, and the switch (what it resolves, how it seeds, that it leaves nothing
behind). The backends, saving and loading across processes, and tf.keras are tested in
test_keras_backends.py.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from _support import readme_blocks, run_python
from conftest import CALLABLE_CLASS_NAMES, NON_DEFAULT_KWARGS
from weightinit._registry import BUILTIN_CLASSES

keras = pytest.importorskip("keras")
wk = pytest.importorskip("weightinit.keras")

from keras.src import initializers as keras_src_initializers  # noqa: E402
from keras.src.backend.common.variables import Variable as KerasVariable  # noqa: E402
from keras.src.layers.core import einsum_dense  # noqa: E402

ki = keras.initializers


def values(variable: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(getattr(variable, "value", variable)))


def family(obj: object) -> str:
    """``"weightinit"`` or ``"keras"``: where an initializer's class comes from."""
    return type(obj).__module__.split(".")[0]


# -- registration -------------------------------------------------------------------------------


def test_keras_writes_the_catalog_under_weightinit_registered_names() -> None:
    entry = ki.serialize(wi.HeNormal(seed=1))
    assert entry.pop("module").split(".")[0] == "weightinit"  # where the class lives; never imported
    assert entry == {
        "class_name": "HeNormal",
        "config": {"seed": 1, "input_axes": None, "output_axes": None},
        "registered_name": "weightinit>HeNormal",
    }
    for cls in BUILTIN_CLASSES:
        assert wk.registered_name(cls) == f"weightinit>{cls.__name__}"
        assert keras.saving.get_registered_object(wk.registered_name(cls)) is cls
        assert keras.saving.get_registered_name(cls) == f"weightinit>{cls.__name__}"


@pytest.mark.parametrize("name", CALLABLE_CLASS_NAMES)
def test_keras_and_weightinit_read_back_what_keras_wrote(name: str) -> None:
    init = getattr(wi, name)(**NON_DEFAULT_KWARGS[name])
    text = json.dumps(ki.serialize(init))
    for back in (ki.deserialize(json.loads(text)), wi.deserialize(json.loads(text))):
        assert type(back) is type(init)
        assert json.loads(json.dumps(back.get_config())) == json.loads(json.dumps(init.get_config()))


def test_the_registered_form_with_a_foreign_module_is_not_a_way_around_the_module_check() -> None:
    entry = {"module": "os", "class_name": "HeNormal", "config": {}, "registered_name": "weightinit>HeNormal"}
    with pytest.raises(wi.UnsafeConfigError):
        wi.deserialize(entry)
    wrong = {**entry, "module": "weightinit", "registered_name": "weightinit>GlorotUniform"}
    with pytest.raises(wi.ConfigError):
        wi.deserialize(wrong)


def test_importing_the_adapter_imports_no_backend_keras_would_not() -> None:
    code = """
    import json, sys
    import keras
    before = set(sys.modules)
    import weightinit.keras
    new = {m.split(".")[0] for m in set(sys.modules) - before}
    print(json.dumps(sorted(new)))
    """
    for backend in ("jax", "torch"):
        new = run_python(code, env={"KERAS_BACKEND": backend}, timeout=120)
        assert not {"tensorflow", "torch", "jax", "tf_keras"} & set(new), (backend, new)


# -- weightinit.get of Keras initializers --------------------------------------------------------


@pytest.mark.parametrize("name", CALLABLE_CLASS_NAMES)
def test_get_converts_keras_instances_and_classes_through_their_config(name: str) -> None:
    kwargs = dict(NON_DEFAULT_KWARGS[name])
    keras_init = getattr(ki, name)(**kwargs)
    ours = wi.get(keras_init)
    assert type(ours) is getattr(wi, name)
    expected = json.loads(json.dumps(keras_init.get_config()))
    got = json.loads(json.dumps(ours.get_config()))
    assert {k: v for k, v in got.items() if k in expected} == expected  # Identity: ours keeps gain
    assert type(wi.get(getattr(ki, name))) is getattr(wi, name)
    assert type(wi.initializers.get(keras_init)) is getattr(wi, name)


def test_get_converts_a_keras_seed_generator_seed() -> None:
    ours = wi.get(ki.RandomNormal(seed=keras.random.SeedGenerator(5)))
    assert isinstance(ours.seed, wi.SeedGenerator)
    np.testing.assert_array_equal(ours((3,)), wi.RandomNormal(seed=5)((3,)))


def test_get_refuses_custom_keras_initializers_naming_the_class() -> None:
    class Custom(ki.Initializer):
        def __call__(self, shape: Any, dtype: Any = None) -> Any:
            return keras.ops.zeros(shape)

    class MyGlorot(ki.GlorotUniform):
        pass

    for obj in (Custom(), Custom, MyGlorot(), ki.Initializer()):
        name = type(obj).__name__ if not isinstance(obj, type) else obj.__name__
        with pytest.raises(wi.UnknownInitializerError, match=name):
            wi.get(obj)


# -- the switch ------------------------------------------------------------------------------------

#: every attribute the switch replaces, by owner
PATCHED = {
    keras_src_initializers: ("get", "deserialize"),
    ki: ("get", "deserialize"),
    KerasVariable: ("__init__", "_deferred_initialize"),
    einsum_dense: ("VarianceScaling",),
    einsum_dense.EinsumDense: ("_update_kernel_initializer",),
}


def snapshot() -> dict[tuple[int, str], Any]:
    """Every attribute of every owner the switch touches (not only those it replaces)."""
    return {(id(owner), name): value for owner in PATCHED for name, value in dict(vars(owner)).items()}


def assert_same(before: dict[tuple[int, str], Any]) -> None:
    after = snapshot()
    assert after.keys() == before.keys()
    changed = [key for key, value in before.items() if after[key] is not value]
    assert changed == []


@contextlib.contextmanager
def keras_seed(seed: int) -> Iterator[None]:
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        from keras.src.backend.common import global_state

        global_state.set_global_attribute("global_random_seed", None)


def test_the_switch_replaces_what_it_documents_and_restores_exactly() -> None:
    before = snapshot()
    with wk.use_weightinit(seed=0) as scope:
        assert scope.active and wk.active_scope() is scope
        for owner, names in PATCHED.items():
            for name in names:
                assert vars(owner)[name] is not before[(id(owner), name)], name
    assert not scope.active and wk.active_scope() is None
    assert_same(before)
    assert family(keras.layers.Dense(2).kernel_initializer) == "keras"
    assert family(ki.get("he_normal")) == "keras"


def test_the_switch_restores_after_an_error_and_as_a_plain_call() -> None:
    before = snapshot()
    with pytest.raises(RuntimeError, match="boom"), wk.use_weightinit():
        raise RuntimeError("boom")
    assert_same(before)
    scope = wk.use_weightinit()
    assert family(ki.get("zeros")) == "weightinit"
    scope.restore()
    scope.restore()  # a no-op
    assert_same(before)


def test_switches_nest_and_turn_off_innermost_first() -> None:
    before = snapshot()
    outer = wk.use_weightinit(seed=1)
    inner = wk.use_weightinit(seed=2)
    with pytest.raises(wi.InvalidArgumentError, match="innermost first"):
        outer.restore()
    v = keras.Variable(initializer="glorot_uniform", shape=(3, 4), name="nested")
    np.testing.assert_array_equal(values(v), wi.GlorotUniform(seed=wk.weight_seed("nested", 2))((3, 4)))
    inner.restore()
    v = keras.Variable(initializer="glorot_uniform", shape=(3, 4), name="nested")
    np.testing.assert_array_equal(values(v), wi.GlorotUniform(seed=wk.weight_seed("nested", 1))((3, 4)))
    outer.restore()
    assert_same(before)


@pytest.mark.parametrize("seed", [-1, 2**64, True, 1.0, "0"])
def test_the_switch_checks_its_seed(seed: Any) -> None:
    with pytest.raises((wi.InvalidArgumentError, wi.InvalidTypeError), match="seed"):
        wk.use_weightinit(seed=seed)
    assert wk.active_scope() is None


def test_weight_seed_is_a_fixed_function_of_path_and_seed() -> None:
    assert wk.weight_seed("dense/kernel", 0) == 1747426160226807236  # pinned: saved scripts rely on it
    assert wk.weight_seed("dense/kernel", 1) != wk.weight_seed("dense/kernel", 0)
    assert wk.weight_seed("dense/bias", 0) != wk.weight_seed("dense/kernel", 0)
    with pytest.raises(wi.InvalidTypeError):
        wk.weight_seed("dense/kernel", -1)
    with pytest.raises(wi.InvalidTypeError):
        wk.weight_seed(3, 0)  # type: ignore[arg-type]


def test_the_switch_resolves_strings_configs_keras_objects_and_defaults() -> None:
    def custom(shape: Any, dtype: Any = None) -> Any:
        return keras.ops.ones(shape, dtype=dtype)

    with wk.use_weightinit(seed=0):
        assert type(ki.get("he_normal")) is wi.HeNormal
        assert type(ki.get({"class_name": "Orthogonal", "config": {"gain": 2.0}})) is wi.Orthogonal
        assert type(ki.deserialize({"class_name": "Zeros", "config": {}})) is wi.Zeros
        seeded = ki.get(ki.HeUniform(seed=3))
        assert type(seeded) is wi.HeUniform and seeded.get_config()["seed"] == 3
        assert type(ki.get(ki.GlorotNormal)) is wi.GlorotNormal
        assert ki.get(custom) is custom  # functions and custom objects are Keras's business
        dense = keras.layers.Dense(2)
        norm = keras.layers.LayerNormalization()
        assert family(dense.kernel_initializer) == family(dense.bias_initializer) == "weightinit"
        assert family(norm.gamma_initializer) == family(norm.beta_initializer) == "weightinit"
        assert family(keras.layers.SimpleRNN(2).cell.recurrent_initializer) == "weightinit"
        assert dense.get_config()["kernel_initializer"]["config"]["seed"] is None  # as Keras writes it
        with pytest.raises(wi.ConfigError):  # a catalog entry that is wrong is an error, not Keras's
            ki.get({"class_name": "HeNormal", "config": {"bogus": 1}})


def test_unseeded_initializers_draw_with_the_seed_of_the_weight_path() -> None:
    with keras_seed(7), wk.use_weightinit():
        layer = keras.layers.Dense(3, kernel_initializer=wi.GlorotUniform(), bias_initializer="random_normal")
        layer.build((None, 4))
        pinned = keras.layers.Dense(3, kernel_initializer=wi.HeNormal(seed=11), name="pinned")
        pinned.build((None, 4))
        var = keras.Variable(initializer=ki.TruncatedNormal(), shape=(5,), name="loose")
    kernel = wi.GlorotUniform(seed=wk.weight_seed(layer.kernel.path, 7))((4, 3))
    bias = wi.RandomNormal(seed=wk.weight_seed(layer.bias.path, 7))((3,))
    np.testing.assert_array_equal(values(layer.kernel), kernel)
    np.testing.assert_array_equal(values(layer.bias), bias)
    np.testing.assert_array_equal(values(pinned.kernel), wi.HeNormal(seed=11)((4, 3)))  # its own seed
    np.testing.assert_array_equal(values(var), wi.TruncatedNormal(seed=wk.weight_seed("loose", 7))((5,)))
    assert layer.kernel_initializer.get_config()["seed"] is None  # the user's instance is untouched


def test_the_same_script_gives_the_same_weights_and_another_seed_others() -> None:
    def run(seed: int) -> list[np.ndarray]:
        keras.backend.clear_session()
        with keras_seed(seed), wk.use_weightinit():
            model = keras.Sequential(
                [keras.Input((4, 3)), keras.layers.GRU(5, return_sequences=True), keras.layers.Dense(2)]
            )
        return [values(w) for w in model.weights]

    first, again, other = run(3), run(3), run(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_lstm_forget_gate_bias_inside_the_switch_uses_the_path_seed() -> None:
    # LSTM wraps its bias initializer in a function (the forget quarter is ones): the weightinit
    # initializer inside is still seeded by the bias's path
    with wk.use_weightinit(seed=0):
        lstm = keras.layers.LSTM(2, bias_initializer="random_uniform")
        lstm.build((None, 3, 4))
    bias = lstm.cell.bias
    init = wi.RandomUniform(seed=wk.weight_seed(bias.path, 0))
    expected = np.concatenate([init((2,)), np.ones(2, "float32"), init((4,))])
    np.testing.assert_array_equal(values(bias), expected)


def test_variables_initialized_later_in_a_stateless_scope_are_seeded_by_their_path() -> None:
    from keras.src.backend.common.stateless_scope import StatelessScope
    from keras.src.backend.common.variables import initialize_all_variables

    with wk.use_weightinit(seed=0):
        with StatelessScope():
            lstm = keras.layers.LSTM(2, kernel_initializer="he_uniform", bias_initializer="random_uniform")
            lstm.build((None, 3, 4))
        initialize_all_variables()
    kernel, bias = lstm.cell.kernel, lstm.cell.bias
    np.testing.assert_array_equal(values(kernel), wi.HeUniform(seed=wk.weight_seed(kernel.path, 0))((4, 8)))
    init = wi.RandomUniform(seed=wk.weight_seed(bias.path, 0))
    np.testing.assert_array_equal(
        values(bias), np.concatenate([init((2,)), np.ones(2, "float32"), init((4,))])
    )


def test_custom_keras_initializers_stay_keras_under_the_switch() -> None:
    @keras.saving.register_keras_serializable(package="wktest")
    class Halves(ki.Initializer):
        def __call__(self, shape: Any, dtype: Any = None) -> Any:
            return keras.ops.full(shape, 0.5, dtype=dtype)

    with wk.use_weightinit(seed=0):
        assert type(ki.get("wktest>Halves")) is Halves
        assert type(ki.get(ki.serialize(Halves()))) is Halves
        layer = keras.layers.Dense(2, kernel_initializer=Halves())
        layer.build((None, 3))
    np.testing.assert_array_equal(values(layer.kernel), np.full((3, 2), 0.5, "float32"))


def test_einsum_dense_gives_weightinit_variance_scaling_the_equation_fans_only_with_the_switch() -> None:
    def kernel(switch: bool) -> np.ndarray:
        layer = keras.layers.EinsumDense(
            "ab,bcd->acd", output_shape=(2, 3), kernel_initializer=wi.HeNormal(seed=1)
        )
        with wk.use_weightinit() if switch else contextlib.nullcontext():
            layer.build((None, 5))
        return values(layer.kernel)

    np.testing.assert_array_equal(
        kernel(True), wi.HeNormal(seed=1, input_axes=[0], output_axes=[1, 2])((5, 2, 3))
    )
    np.testing.assert_array_equal(kernel(False), wi.HeNormal(seed=1)((5, 2, 3)))


def test_readme_examples_run() -> None:
    code = "\n\n".join(readme_blocks("Use with Keras"))
    assert run_python(code + "\nimport json\nprint(json.dumps('ok'))", env={"KERAS_BACKEND": "jax"}) == "ok"
