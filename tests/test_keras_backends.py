"""Keras 3 on the jax, torch and tensorflow backends, and tf.keras (Keras 2), each in its own process.

One child per backend builds the test model (Dense, Conv2D, DepthwiseConv2D,
SeparableConv2D, Embedding, LSTM, GRU, Bidirectional(LSTM), BatchNormalization,
MultiHeadAttention) with weightinit initializers and with the switch, checks
every variable against ``init(shape)``, saves and reloads (.keras, .h5,
to_json), trains one step and loads a file Keras saved itself; it prints
digests, and the parent compares them across backends. A second child per
backend loads the saved files where weightinit cannot be imported, then
imports it and loads them again. One more child runs tf.keras.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from _support import run_python

if importlib.util.find_spec("keras") is None:  # the children import it; the parent need not
    pytest.skip("keras is not installed", allow_module_level=True)

BACKENDS = ("jax", "torch", "tensorflow")

#: builds, checks, saves, trains; argv[1] is the folder for the saved files
MAIN_CHILD = r"""
import contextlib, hashlib, json, os, sys, time, warnings
import numpy as np
import keras
import weightinit as wi
import weightinit.keras as wk
from weightinit._keras._seeds import weight_seed

L = keras.layers
BACKEND = keras.backend.backend()
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def to_np(v):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array(keras.ops.convert_to_numpy(v))


def digest(a):
    a = np.ascontiguousarray(a)
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()


def build(kw):
    '''The test model; kw(layer_name) gives that layer's initializer keywords.'''
    img = keras.Input((6, 6, 3), name="img")
    tok = keras.Input((4,), dtype="int32", name="tok")
    y = L.Conv2D(4, 3, name="conv", **kw("conv"))(img)
    y = L.DepthwiseConv2D(3, depth_multiplier=2, name="dw", **kw("dw"))(y)
    y = L.SeparableConv2D(4, 1, depth_multiplier=2, name="sep", **kw("sep"))(y)
    y = L.BatchNormalization(name="bn", **kw("bn"))(y)
    y = L.Reshape((4, 4), name="seq")(y)
    y = L.LSTM(5, return_sequences=True, name="lstm", **kw("lstm"))(y)
    y = L.GRU(5, return_sequences=True, name="gru", **kw("gru"))(y)
    y = L.Bidirectional(L.LSTM(3, return_sequences=True, name="bilstm", **kw("bilstm")), name="bi")(y)
    e = L.Embedding(10, 6, name="emb", **kw("emb"))(tok)
    z = L.Add(name="add")([y, e])
    z = L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha", **kw("mha"))(z, z)
    z = L.Flatten(name="flat")(z)
    z = L.Dense(2, name="out", **kw("out"))(z)
    return keras.Model([img, tok], z, name="m")


EXPLICIT = {
    "conv": dict(kernel_initializer=wi.HeNormal(seed=1), bias_initializer=wi.RandomNormal(seed=2)),
    "dw": dict(depthwise_initializer=wi.GlorotUniform(seed=3), bias_initializer=wi.Constant(0.25)),
    "sep": dict(depthwise_initializer=wi.LecunNormal(seed=4), pointwise_initializer=wi.HeUniform(seed=5)),
    "bn": dict(gamma_initializer=wi.RandomUniform(0.9, 1.1, seed=6), beta_initializer=wi.Constant(0.1),
               moving_mean_initializer=wi.Zeros(), moving_variance_initializer=wi.Ones()),
    "lstm": dict(kernel_initializer=wi.GlorotNormal(seed=7), recurrent_initializer=wi.Orthogonal(seed=8),
                 bias_initializer=wi.TruncatedNormal(seed=17)),
    "gru": dict(kernel_initializer=wi.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=9),
                recurrent_initializer=wi.Orthogonal(gain=0.5, seed=10),
                bias_initializer=wi.TruncatedNormal(seed=11)),
    "bilstm": dict(kernel_initializer=wi.LecunUniform(seed=12), recurrent_initializer=wi.Orthogonal(seed=13)),
    "emb": dict(embeddings_initializer=wi.RandomUniform(seed=14)),
    "mha": dict(kernel_initializer=wi.GlorotUniform(seed=15),
                bias_initializer=wi.RandomNormal(stddev=0.1, seed=16)),
    "out": dict(kernel_initializer=wi.Identity(gain=2.0)),
}
# only strings, configs, Keras instances and layer defaults (for the switch)
PLAIN = {
    "conv": dict(bias_initializer="random_normal"),
    "dw": dict(),
    "sep": dict(pointwise_initializer=keras.initializers.HeUniform(seed=3)),
    "bn": dict(gamma_initializer={"class_name": "RandomUniform", "config": {"minval": 0.9, "maxval": 1.1}}),
    "lstm": dict(bias_initializer=keras.initializers.TruncatedNormal()),
    "gru": dict(kernel_initializer="he_normal"),
    "bilstm": dict(),
    "emb": dict(),
    "mha": dict(),
    "out": dict(),
}
NAMES = {name: f"{name}_initializer" for name in ("kernel", "bias", "gamma", "beta", "moving_mean",
                                                 "moving_variance", "embeddings")}
NAMES.update(recurrent_kernel="recurrent_initializer", depthwise_kernel="depthwise_initializer",
             pointwise_kernel="pointwise_initializer")
#: the fans Keras's EinsumDense gives a VarianceScaling kernel in MultiHeadAttention
EINSUM_AXES = {"query": ([0], [1, 2]), "key": ([0], [1, 2]), "value": ([0], [1, 2]),
               "attention_output": ([0, 1], [2])}


def expected(layer, var, base):
    '''What the variable must hold: its layer's initializer, called on its shape.'''
    attr = NAMES[var.name]
    if var.name == "kernel" and not hasattr(layer, attr):  # DepthwiseConv2D's kernel
        attr = "depthwise_initializer"
    init = getattr(layer, attr)
    if base is None and type(init).__name__ in ("Zeros", "Ones"):
        init = wi.get(init)  # a Keras default left in place (biases): its weightinit equivalent
    assert type(init).__module__.startswith("weightinit."), (var.path, type(init))
    shape = tuple(var.shape)
    if base is not None:  # the switch: unseeded initializers are seeded by the weight's path
        config = init.get_config()
        if "seed" in config and config["seed"] is None:
            config["seed"] = weight_seed(var.path, base)
        if isinstance(init, wi.VarianceScaling) and layer.name in EINSUM_AXES and var.name == "kernel":
            config["input_axes"], config["output_axes"] = EINSUM_AXES[layer.name]
        init = type(init).from_config(config)
    if var.name == "bias" and getattr(layer, "unit_forget_bias", False):
        u = layer.units
        return np.concatenate([init((u,)), np.ones((u,), "float32"), init((2 * u,))])
    return init(shape, dtype=var.dtype)


def check_values(model, base=None):
    '''(hashes by path, mismatching paths) for every variable of every layer.'''
    hashes, bad, seen = {}, [], set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for var in list(layer._trainable_variables) + list(layer._non_trainable_variables):
            if id(var) in seen:
                continue
            seen.add(id(var))
            value = to_np(var)
            hashes[var.path] = digest(value)
            exp = expected(layer, var, base)
            if exp.dtype != value.dtype or not np.array_equal(exp, value):
                bad.append(var.path)
    assert len(hashes) == len(model.weights), (len(hashes), len(model.weights))
    return hashes, bad


def initializer_types(model):
    '''The top-level packages of the initializer classes the model's layers hold.'''
    return sorted({type(getattr(layer, name)).__module__.split(".")[0]
                   for layer in model._flatten_layers(include_self=False)
                   for name in NAMES.values() if hasattr(layer, name)})


def initializer_configs(model):
    '''Every layer's serialized initializers, from the model's JSON.'''
    found = {}

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_initializer") and isinstance(value, dict):
                    found[f"{where}/{key}"] = value
                else:
                    walk(value, f"{where}/{node.get('name', key) if key == 'config' else key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(json.loads(model.to_json()), "")
    return found


result = {"backend": BACKEND}
inputs = [np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32"),
          np.array([[1, 2, 3, 4], [5, 6, 7, 8]], "int32")]

def timed_build(switch):
    '''Seconds to build the model from defaults, with the switch or with Keras's initializers.'''
    keras.backend.clear_session()
    start = time.perf_counter()
    with wk.use_weightinit(seed=0) if switch else contextlib.nullcontext():
        build(lambda name: {})
    return time.perf_counter() - start


# 0. build time, cold: the first build of each kind in this process (the switch's goes first);
# measured only for bench/keras_switch.py (timings are reported by benchmarks, not asserted)
TIMED = os.environ.get("WEIGHTINIT_BENCH_BUILD") == "1"
if TIMED:
    result["cold"] = {"switch": timed_build(True), "keras": timed_build(False)}

# 1. weightinit initializers passed to the layers
keras.utils.set_random_seed(0)
model = build(lambda name: EXPLICIT[name])
result["explicit"], result["explicit_bad"] = check_values(model)

# 2. save and load with weightinit (the loading side without it runs in another process)
saved_configs = initializer_configs(model)
saved_order = [digest(to_np(w)) for w in model.weights]
model.save(f"{OUT}/model.keras")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.save(f"{OUT}/model.h5")
with open(f"{OUT}/model.json", "w") as f:
    f.write(model.to_json())
with open(f"{OUT}/saved.json", "w") as f:
    json.dump({"order": saved_order, "configs": saved_configs}, f)
loads = {}
for kind in ("keras", "h5", "json"):
    if kind == "json":
        loaded = keras.models.model_from_json(open(f"{OUT}/model.json").read())
        loaded.set_weights(model.get_weights())
    else:
        loaded = keras.saving.load_model(f"{OUT}/model.{kind}", safe_mode=True, compile=False)
    configs = initializer_configs(loaded)
    loads[kind] = {"configs_equal": configs == saved_configs, "types": initializer_types(loaded),
                   "values": [digest(to_np(w)) for w in loaded.weights] == saved_order}
result["loads"] = loads

# 3. one training step
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
before = [to_np(w) for w in model.trainable_weights]
loss = float(model.train_on_batch(inputs, np.ones((2, 2), "float32")))
after = [to_np(w) for w in model.trainable_weights]
result["train"] = {"loss_finite": bool(np.isfinite(loss)),
                   "changed": sum(not np.array_equal(a, b) for a, b in zip(before, after)),
                   "weights": len(before)}

# 4. the switch, with only strings, configs, Keras instances and defaults
keras.backend.clear_session()
keras.utils.set_random_seed(1234)
with wk.use_weightinit():
    switched = build(lambda name: PLAIN[name])
result["switch"], result["switch_bad"] = check_values(switched, base=1234)
plain = build(lambda name: {})
result["after_switch_types"] = sorted({type(l.kernel_initializer).__module__.split(".")[0]
                                       for l in plain._flatten_layers(include_self=False)
                                       if hasattr(l, "kernel_initializer")})

# 5. a model saved by Keras itself (its own initializers) loads with the switch on
keras.backend.clear_session()
keras_model = build(lambda name: {})
keras_model.save(f"{OUT}/keras_own.keras")
keras_configs = initializer_configs(keras_model)
with wk.use_weightinit(seed=5):
    reloaded = keras.saving.load_model(f"{OUT}/keras_own.keras", safe_mode=True)
own = initializer_configs(reloaded)
result["keras_file"] = {
    "types": initializer_types(reloaded),
    "configs_kept": all(own[k]["class_name"] == v["class_name"]
                        and {a: b for a, b in own[k]["config"].items() if a in v["config"]} == v["config"]
                        for k, v in keras_configs.items()) and own.keys() == keras_configs.keys(),
    "weights_kept": all(np.array_equal(to_np(a), to_np(b))
                        for a, b in zip(keras_model.weights, reloaded.weights)),
}

# 6. build time, warm: the switch against Keras's own initializers (alternating, best of 7)
if TIMED:
    times = {"keras": [], "switch": []}
    for i in range(7):
        for switch in (True, False) if i % 2 else (False, True):
            times["switch" if switch else "keras"].append(timed_build(switch))
    result["times"] = {k: min(v) for k, v in times.items()}
print(json.dumps(result))
"""

#: loads the files MAIN_CHILD saved: first with weightinit blocked, then with it
LOADER_CHILD = r"""
import json, sys, warnings


class BlockWeightinit:
    '''An import hook that makes weightinit unimportable (as if it were not installed).'''

    def find_spec(self, name, path=None, target=None):
        if name == "weightinit" or name.startswith("weightinit."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
        return None


blocker = BlockWeightinit()
sys.meta_path.insert(0, blocker)
import hashlib
import numpy as np
import keras

OUT = sys.argv[1]
saved = json.load(open(f"{OUT}/saved.json"))
NAMES = ("kernel_initializer", "bias_initializer", "recurrent_initializer", "embeddings_initializer",
         "depthwise_initializer", "pointwise_initializer", "gamma_initializer", "beta_initializer",
         "moving_mean_initializer", "moving_variance_initializer")


def to_np(v):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array(keras.ops.convert_to_numpy(v))


def digest(a):
    a = np.ascontiguousarray(a)
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()


def initializer_configs(model):
    found = {}

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_initializer") and isinstance(value, dict):
                    found[f"{where}/{key}"] = value
                else:
                    walk(value, f"{where}/{node.get('name', key) if key == 'config' else key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(json.loads(model.to_json()), "")
    return found


def load(kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "json":
            return keras.models.model_from_json(open(f"{OUT}/model.json").read())
        return keras.saving.load_model(f"{OUT}/model.{kind}", safe_mode=True, compile=False)


def report(model, kind):
    configs = initializer_configs(model)
    ref = saved["configs"]
    return {
        "types": sorted({type(getattr(l, n)).__module__.split(".")[0]
                         for l in model._flatten_layers(include_self=False) for n in NAMES if hasattr(l, n)}),
        # the same classes, and each config a part of the saved one (Keras's Identity drops `gain`)
        "configs": configs.keys() == ref.keys() and all(
            configs[k]["class_name"] == ref[k]["class_name"]
            and all(ref[k]["config"].get(a) == b for a, b in configs[k]["config"].items())
            for k in ref),
        "configs_equal": configs == ref,
        "values": kind == "json" or [digest(to_np(w)) for w in model.weights] == saved["order"],
    }


result = {"without": {kind: report(load(kind), kind) for kind in ("keras", "h5", "json")}}
result["weightinit_imported"] = any(m.split(".")[0] == "weightinit" for m in sys.modules)
sys.meta_path.remove(blocker)
import weightinit.keras  # noqa: E402,F401  (after keras, and after loading without it)

result["with"] = {kind: report(load(kind), kind) for kind in ("keras", "h5", "json")}
print(json.dumps(result))
"""

#: tf.keras (tf_keras, Keras 2) and a Keras 2 file in Keras 3 (tensorflow backend)
TF_KERAS_CHILD = r"""
import json, os, sys, warnings
import numpy as np
import tensorflow as tf
import tf_keras as tk
import weightinit as wi

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
result = {}

# 1. weightinit initializers inside tf.keras layers (tf.keras passes tf.DType dtypes)
inits = {
    "dense": dict(kernel_initializer=wi.HeNormal(seed=1), bias_initializer=wi.RandomNormal(seed=2)),
    "conv": dict(kernel_initializer=wi.GlorotUniform(seed=3), bias_initializer=wi.Constant(0.5)),
    "lstm": dict(kernel_initializer=wi.LecunNormal(seed=4), recurrent_initializer=wi.Orthogonal(seed=5)),
    "emb": dict(embeddings_initializer=wi.RandomUniform(seed=6)),
    "bn": dict(gamma_initializer=wi.TruncatedNormal(1.0, 0.1, seed=7)),
}
img = tk.Input((5, 5, 2))
tok = tk.Input((3,), dtype="int32")
y = tk.layers.Conv2D(3, 3, name="conv", **inits["conv"])(img)
y = tk.layers.BatchNormalization(name="bn", **inits["bn"])(y)
y = tk.layers.Reshape((3, 9))(y)
y = tk.layers.LSTM(4, name="lstm", **inits["lstm"])(y)
e = tk.layers.Flatten()(tk.layers.Embedding(7, 2, name="emb", **inits["emb"])(tok))
y = tk.layers.Dense(2, name="dense", **inits["dense"])(tk.layers.Concatenate()([y, e]))
model = tk.Model([img, tok], y)
checked, bad = 0, []
for layer_name, kw in inits.items():
    layer = model.get_layer(layer_name)
    cell = getattr(layer, "cell", layer)
    for var in cell.weights:
        short = var.name.split("/")[-1].split(":")[0]
        key = {"kernel": "kernel_initializer", "bias": "bias_initializer",
               "recurrent_kernel": "recurrent_initializer", "embeddings": "embeddings_initializer",
               "gamma": "gamma_initializer"}.get(short)
        if key not in kw:
            continue
        checked += 1
        expected = kw[key](tuple(var.shape), dtype=var.dtype.name)
        if not np.array_equal(var.numpy(), expected):
            bad.append(var.name)
result["layers"] = {"checked": checked, "bad": bad}

# 2. Keras 2 initializers and their configs convert to weightinit, values of the config kept
k2 = {
    "vs_untruncated": tk.initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=3),
    "glorot_uniform": tk.initializers.get("glorot_uniform"),
    "he_normal": tk.initializers.HeNormal(seed=1),
    "orthogonal": tk.initializers.Orthogonal(gain=2.0, seed=4),
    "identity": tk.initializers.Identity(gain=3.0),
    "constant": tk.initializers.Constant(0.5),
    "random_normal": tk.initializers.RandomNormal(1.0, 2.0, seed=5),
    "truncated_normal": tk.initializers.TruncatedNormal(seed=6),
    "random_uniform": tk.initializers.RandomUniform(-1.0, 1.0, seed=7),
    "tf1_glorot_uniform_initializer": tf.compat.v1.glorot_uniform_initializer(seed=8),
    "tf1_variance_scaling_initializer": tf.compat.v1.variance_scaling_initializer(
        scale=2.0, distribution="uniform"),
    "tf1_zeros_initializer": tf.compat.v1.zeros_initializer(),
    "v1_he_normal": tf.compat.v1.keras.initializers.he_normal(seed=9),
}
converted = {}
for name, k in k2.items():
    ours = wi.get(k)
    config = k.get_config()
    kept = {a: b for a, b in ours.get_config().items() if a in config}
    converted[name] = {"class": type(ours).__name__, "module": type(ours).__module__.split(".")[0],
                       "same": kept == {a: b for a, b in config.items() if a != "dtype"}}
    again = wi.get(type(k))
    converted[name]["class_ok"] = type(again) is type(ours)
result["convert"] = converted
# TF 1's random_uniform_initializer() stores maxval=None, meaning 1
tf1_uniform = wi.get(tf.compat.v1.random_uniform_initializer(seed=2))
result["tf1_uniform"] = [type(tf1_uniform).__name__, tf1_uniform.minval, tf1_uniform.maxval]

class Custom(tk.initializers.Initializer):
    def __call__(self, shape, dtype=None):
        return tf.zeros(shape)
try:
    wi.get(Custom())
    result["custom_error"] = None
except ValueError as exc:
    result["custom_error"] = str(exc)

# 3. a Keras 2 model's config: every initializer entry deserializes in weightinit
k2_model = tk.Sequential([tk.Input((4,)), tk.layers.Dense(3, kernel_initializer=k2["vs_untruncated"]),
                          tk.layers.Dense(2, kernel_initializer="orthogonal", bias_initializer="ones")])
k2_model.save(f"{OUT}/keras2.h5")
text = k2_model.to_json()
entries = []
def walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_initializer"):
                entries.append(value)
            else:
                walk(value)
    elif isinstance(node, list):
        for value in node:
            walk(value)
walk(json.loads(text))
result["keras2_config"] = [{"class": type(wi.deserialize(e)).__name__, "in": e["class_name"]}
                           for e in entries]
with open(f"{OUT}/keras2.json", "w") as f:
    f.write(text)
result["keras2_weights"] = [w.tolist() for w in k2_model.get_weights()]

# 4. register_tf_keras: a tf.keras model with weightinit initializers saves and loads back with them
import weightinit.keras as wk  # noqa: E402  (Keras 3 is imported too; tf.keras is separate)
wk.register_tf_keras()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.save(f"{OUT}/wi_tf_keras.keras")
    loaded = tk.models.load_model(f"{OUT}/wi_tf_keras.keras", safe_mode=True)
result["tf_keras_reload"] = {
    "types": sorted({type(getattr(getattr(loaded.get_layer(n), "cell", loaded.get_layer(n)), k)).__module__
                     .split(".")[0] for n, kw in inits.items() for k in kw}),
    "weights": all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights())),
}

# 5. the Keras 2 .h5 file loads in Keras 3, with the switch on: weightinit initializers, weights kept
import keras  # noqa: E402

with wk.use_weightinit(seed=0), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    k3 = keras.saving.load_model(f"{OUT}/keras2.h5", compile=False)
result["keras2_in_keras3"] = {
    "types": sorted({type(getattr(l, n)).__module__.split(".")[0] for l in k3.layers
                     for n in ("kernel_initializer", "bias_initializer")}),
    "untruncated": k3.layers[0].kernel_initializer.get_config(),
    "weights": all(np.array_equal(a, np.array(b, "float32"))
                   for a, b in zip(k3.get_weights(), result["keras2_weights"])),
}
del result["keras2_weights"]
print(json.dumps(result))
"""

_results: dict[str, Any] = {}


def _main(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if backend not in _results:
        out = tmp_path_factory.mktemp(f"keras_{backend}")
        result = run_python(MAIN_CHILD, env={"KERAS_BACKEND": backend}, args=(str(out),), timeout=300)
        _results[backend] = (result, out)
    return _results[backend]


@pytest.fixture(scope="module", params=BACKENDS)
def main(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _main(request.param, tmp_path_factory)[0]


@pytest.fixture(scope="module", params=BACKENDS)
def loader(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out: Path = _main(request.param, tmp_path_factory)[1]
    return run_python(LOADER_CHILD, env={"KERAS_BACKEND": request.param}, args=(str(out),), timeout=300)


def test_every_variable_holds_its_weightinit_initializer(main: Any) -> None:
    assert len(main["explicit"]) == 34
    assert main["explicit_bad"] == []


def test_the_switch_seeds_every_default_and_string_by_the_weight_path(main: Any) -> None:
    assert len(main["switch"]) == 34
    assert main["switch_bad"] == []
    assert main["after_switch_types"] == ["keras"]  # off again: Keras's own initializers


@pytest.mark.parametrize("part", ["explicit", "switch"])
def test_initial_weights_are_bitwise_equal_across_backends(
    part: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    digests = {backend: _main(backend, tmp_path_factory)[0][part] for backend in BACKENDS}
    reference = digests["jax"]
    for backend in BACKENDS:
        assert digests[backend].keys() == reference.keys(), backend
        different = [path for path, d in digests[backend].items() if d != reference[path]]
        assert different == [], (backend, different)


def test_save_and_load_keeps_weightinit_initializers_and_configs(main: Any) -> None:
    for kind in ("keras", "h5", "json"):
        load = main["loads"][kind]
        assert load["configs_equal"], kind
        assert load["values"], kind
        assert "weightinit" in load["types"], kind


def test_the_model_trains_one_step(main: Any) -> None:
    assert main["train"]["loss_finite"]
    # every trainable weight but a few that get no gradient in one step moved
    assert main["train"]["changed"] >= main["train"]["weights"] - 3


def test_a_file_saved_by_keras_itself_loads_with_the_switch_on(main: Any) -> None:
    assert main["keras_file"] == {"types": ["weightinit"], "configs_kept": True, "weights_kept": True}


def test_saved_files_load_where_weightinit_is_not_installed(loader: Any) -> None:
    assert loader["weightinit_imported"] is False
    for kind, load in loader["without"].items():
        assert load["types"] == ["keras"], kind  # Keras's own class of each name
        assert load["configs"], kind
        assert load["values"], kind


def test_saved_files_load_in_a_fresh_process_that_imports_weightinit_after_keras(loader: Any) -> None:
    for kind, load in loader["with"].items():
        assert load["configs_equal"], kind
        assert load["values"], kind
        assert "weightinit" in load["types"], kind


@pytest.fixture(scope="module")
def tf_keras(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if importlib.util.find_spec("tf_keras") is None:
        pytest.skip("tf_keras is not installed")
    out = tmp_path_factory.mktemp("tf_keras")
    return run_python(TF_KERAS_CHILD, env={"KERAS_BACKEND": "tensorflow"}, args=(str(out),), timeout=300)


def test_weightinit_initializers_work_in_tf_keras_layers(tf_keras: Any) -> None:
    assert tf_keras["layers"] == {"checked": 8, "bad": []}


def test_keras_2_and_tf1_initializers_convert_with_their_configs(tf_keras: Any) -> None:
    for name, info in tf_keras["convert"].items():
        assert info["module"] == "weightinit", name
        assert info["same"], name
        assert info["class_ok"], name
    assert tf_keras["convert"]["vs_untruncated"]["class"] == "VarianceScaling"
    assert tf_keras["convert"]["tf1_glorot_uniform_initializer"]["class"] == "GlorotUniform"
    assert "__main__.Custom" in tf_keras["custom_error"]
    assert tf_keras["tf1_uniform"] == ["RandomUniform", 0.0, 1.0]


def test_a_keras_2_config_loads(tf_keras: Any) -> None:
    assert [e["class"] for e in tf_keras["keras2_config"]] == [
        "VarianceScaling",
        "Zeros",
        "Orthogonal",
        "Ones",
    ]
    k3 = tf_keras["keras2_in_keras3"]
    assert k3["types"] == ["weightinit"]
    assert k3["weights"]
    assert k3["untruncated"]["distribution"] == "untruncated_normal"


def test_tf_keras_models_save_and_load_with_weightinit_after_register_tf_keras(tf_keras: Any) -> None:
    assert tf_keras["tf_keras_reload"] == {"types": ["weightinit"], "weights": True}
