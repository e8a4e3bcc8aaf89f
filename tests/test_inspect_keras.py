"""``inspect_model`` on real Keras 3.15.1 files (jax backend, in process) and tf_keras files (subprocess)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from _support import run_python
from weightinit._inspect import InspectError, inspect_source

keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")

#: Keras 3.15.1 on numpy 2 converts jax variables with np.array(x), which numpy deprecates; saving
#: a model therefore warns inside Keras (not in weightinit)
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def _build_model() -> Any:
    layers = keras.layers
    inner = keras.Sequential(
        [
            layers.Dense(16, name="d_in", kernel_initializer=keras.initializers.LecunNormal(seed=3)),
            layers.LayerNormalization(name="ln"),
        ],
        name="inner_seq",
    )
    inp = keras.Input((6, 5))
    x = layers.Bidirectional(layers.LSTM(16, return_sequences=True), name="bi")(inp)
    x = layers.TimeDistributed(layers.Dense(24, kernel_initializer="he_normal"), name="td")(x)
    x = layers.MultiHeadAttention(2, 8, name="mha")(x, x)
    x = layers.Conv1D(12, 3, name="conv", bias_initializer=keras.initializers.Constant(0.1))(x)
    x = layers.GRU(10, name="gru", recurrent_initializer=keras.initializers.Orthogonal(gain=2.0, seed=1))(x)
    x = inner(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Dense(300, name="wide", kernel_initializer=keras.initializers.RandomNormal(stddev=0.02))(x)
    outer = keras.Model(inp, x, name="outer")
    # a Functional model inside a Sequential inside the Functional model above
    seq_in = keras.Input((6, 5))
    return keras.Model(seq_in, keras.Sequential([outer], name="wrapper_seq")(seq_in), name="top")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("keras3")
    keras.utils.set_random_seed(0)
    model = _build_model()
    files = {"keras": root / "m.keras", "h5": root / "m.h5", "model": model}
    model.save(files["keras"])
    model.save(files["h5"])
    files["records"] = [
        (r.weight, tuple(v.shape)) for r, v in zip(wi.inspect_model(model), model.weights, strict=True)
    ]
    # then the same model trained a few steps (Adam moves every weight; BN statistics move too)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(64, 6, 5)), rng.normal(size=(64, 300)), epochs=5, batch_size=16, verbose=0)
    files["trained"] = root / "trained.keras"
    model.save(files["trained"])
    return files


def _by_name(records: list[wi._inspect.WeightRecord]) -> dict[str, Any]:
    return {r.name: r for r in records}


EXPECTED = {
    # name: (class, default?, shape)
    "wrapper_seq/outer/bi/forward_lstm/lstm_cell/kernel": ("GlorotUniform", True, (5, 64)),
    "wrapper_seq/outer/bi/backward_lstm/lstm_cell/recurrent_kernel": ("Orthogonal", True, (16, 64)),
    "wrapper_seq/outer/bi/forward_lstm/lstm_cell/bias": ("Zeros", True, (64,)),
    "wrapper_seq/outer/td/dense/kernel": ("HeNormal", False, (32, 24)),
    "wrapper_seq/outer/mha/query/kernel": ("GlorotUniform", True, (24, 2, 8)),
    "wrapper_seq/outer/mha/attention_output/bias": ("Zeros", True, (24,)),
    "wrapper_seq/outer/conv/kernel": ("GlorotUniform", True, (3, 24, 12)),
    "wrapper_seq/outer/conv/bias": ("Constant", False, (12,)),
    "wrapper_seq/outer/gru/gru_cell/recurrent_kernel": ("Orthogonal", False, (10, 30)),
    "wrapper_seq/outer/inner_seq/d_in/kernel": ("LecunNormal", False, (10, 16)),
    "wrapper_seq/outer/inner_seq/ln/gamma": ("Ones", True, (16,)),
    "wrapper_seq/outer/bn/moving_variance": ("Ones", True, (16,)),
    "wrapper_seq/outer/wide/kernel": ("RandomNormal", False, (16, 300)),
}


@pytest.mark.parametrize("kind", ["keras", "h5"])
def test_every_weight_with_its_initializer(saved: dict[str, Any], kind: str) -> None:
    records = wi.inspect_model(saved[kind])
    model = saved["model"]
    assert len(records) == len(model.weights)
    by = _by_name(records)
    for name, (cls, default, shape) in EXPECTED.items():
        r = by[name]
        assert (r.initializer.class_name, r.default, r.shape, r.dtype) == (cls, default, shape, "float32"), (
            name
        )
        assert r.source == "config"
    assert by["wrapper_seq/outer/gru/gru_cell/recurrent_kernel"].initializer.config["gain"] == 2.0
    assert all(r.notes == () or "unit_forget_bias" in r.notes[0] for r in records)
    # the shapes are those of the live model's variables, one for one
    assert sorted(r.shape for r in records) == sorted(tuple(v.shape) for v in model.weights)


def test_keras_h5_and_live_model_agree(saved: dict[str, Any]) -> None:
    def key(records: list[Any]) -> list[tuple[Any, ...]]:
        return sorted((r.weight, r.shape, r.initializer.class_name, r.default) for r in records)

    from_keras = inspect_source(saved["keras"])
    from_h5 = inspect_source(saved["h5"])
    live = inspect_source(saved["model"])
    assert from_keras.format == "keras" and from_h5.format == "keras3-h5" and live.format == "keras-live"
    assert from_keras.facts["keras_version"] == keras.__version__
    assert key(from_keras.records) == key(from_h5.records) == key(live.records)
    assert [r.name for r in from_keras.records] == [r.name for r in from_h5.records]


def test_stats_fresh_model_everything_matches(saved: dict[str, Any]) -> None:
    records = wi.inspect_model(saved["keras"], stats=True)
    bad = [(r.name, r.check.reasons) for r in records if r.check.status != "ok"]
    assert bad == []
    by = _by_name(records)
    gru = by["wrapper_seq/outer/gru/gru_cell/recurrent_kernel"].check
    assert gru.orthogonality_error is not None and gru.orthogonality_error < 1e-4
    wide = by["wrapper_seq/outer/wide/kernel"].check
    assert wide.ks_p is not None and wide.ks_p > 1e-6 and wide.expected_std == pytest.approx(0.02)


def test_stats_trained_model_is_flagged(saved: dict[str, Any]) -> None:
    records = wi.inspect_model(saved["trained"], stats=True)
    assert len(records) == len(saved["records"])  # the optimizer's variables are not weights
    statuses = {r.name: r.check.status for r in records}
    assert set(statuses.values()) == {"mismatch"}, [n for n, s in statuses.items() if s != "mismatch"]


def test_cli_check_exit_status(saved: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from weightinit._cli import main

    assert main(["inspect", str(saved["keras"]), "--check"]) == 0  # a fresh model: all match
    assert main(["inspect", str(saved["trained"]), "--stats"]) == 0  # --stats only reports
    assert main(["inspect", str(saved["trained"]), "--check"]) == 3
    capsys.readouterr()
    assert main(["inspect", str(saved["trained"]), "--check", "--json"]) == 3
    document = json.loads(capsys.readouterr().out)
    assert document["stats"] is True and {w["check"]["status"] for w in document["weights"]} == {"mismatch"}


def test_stats_one_tampered_weight_is_exactly_the_one_flagged(saved: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "tampered.h5"
    shutil.copy(saved["h5"], path)
    target = "model_weights/wrapper_seq/wrapper_seq/outer/wide/kernel"
    with h5py.File(path, "r+") as f:
        names = []
        f["model_weights"].visit(names.append)
        dataset_path = next(n for n in names if n.endswith("wide/kernel"))
        ds = f["model_weights"][dataset_path]
        ds[...] = ds[...] * 1.3  # a re-scaled kernel: still symmetric, 30 % too wide
    records = wi.inspect_model(path, stats=True)
    flagged = [r.name for r in records if r.check.status == "mismatch"]
    assert flagged == ["wrapper_seq/outer/wide/kernel"], (flagged, target)
    reason = " ".join(_by_name(records)["wrapper_seq/outer/wide/kernel"].check.reasons)
    assert "std" in reason


def test_bare_config_json_and_json_text(saved: dict[str, Any], tmp_path: Path) -> None:
    with zipfile.ZipFile(saved["keras"]) as z:
        text = z.read("config.json").decode()
    path = tmp_path / "config.json"
    path.write_text(text)
    from_file = wi.inspect_model(path)
    from_text = wi.inspect_model(text)
    from_dict = wi.inspect_model(json.loads(text))
    assert (
        [r.to_json() for r in from_file]
        == [r.to_json() for r in from_text]
        == [r.to_json() for r in from_dict]
    )
    assert all(r.shape is None for r in from_file)
    assert {r.name for r in from_file} == {r.name for r in wi.inspect_model(saved["keras"])}


def test_registered_name_and_legacy_forms_map_to_the_catalog() -> None:
    def dense(init: Any) -> dict[str, Any]:
        return {"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_initializer": init}}

    forms = [
        {
            "module": None,
            "class_name": "GlorotUniform",
            "config": {"seed": 1},
            "registered_name": "weightinit>GlorotUniform",
        },
        {"class_name": "GlorotUniform", "config": {"seed": None}},
        {
            "class_name": "VarianceScaling",
            "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None},
        },
        {"class_name": "glorot_uniform", "config": {"seed": None, "dtype": "float32"}},
        "glorot_uniform",
    ]
    for form in forms:
        (kernel, bias) = wi.inspect_model({"class_name": "Sequential", "config": {"layers": [dense(form)]}})
        assert kernel.initializer.known and kernel.default is True, form
        assert kernel.initializer.class_name in ("GlorotUniform", "VarianceScaling")
        assert bias.source == "layer default" and bias.default is True


def test_unknown_layers_custom_initializers_and_injection_are_reported_not_loaded() -> None:
    config = {
        "class_name": "Functional",
        "config": {
            "layers": [
                {
                    "module": "mylib.layers",
                    "class_name": "FancyLayer",
                    "config": {
                        "name": "fancy",
                        "alpha_initializer": {"class_name": "HeUniform", "config": {}},
                        "kernel_initializer": {
                            "module": "os",
                            "class_name": "system",
                            "config": {"command": "rm"},
                        },
                    },
                },
                {
                    "class_name": "Lambda",
                    "config": {
                        "name": "lam",
                        "function": {"class_name": "__lambda__", "config": {"code": "4wEAAA=="}},
                    },
                },
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "d",
                        "units": 1,
                        "kernel_initializer": {"class_name": "__lambda__", "config": {"value": ["AAAA"]}},
                        "bias_initializer": {
                            "module": None,
                            "class_name": "Scaled",
                            "config": {"scale": 2},
                            "registered_name": "mypkg>Scaled",
                        },
                    },
                },
            ]
        },
    }
    by = _by_name(wi.inspect_model(config))
    assert (
        by["fancy/alpha"].initializer.class_name == "HeUniform" and by["fancy/alpha"].source == "config key"
    )
    injected = by["fancy/kernel"]
    assert not injected.initializer.known and injected.initializer.module == "os"
    assert any("unknown layer" in n for n in injected.notes)
    assert not by["d/kernel"].initializer.known and "lambda" in by["d/kernel"].initializer.class_name
    assert by["d/bias"].initializer.registered_name == "mypkg>Scaled" and by["d/bias"].default is False
    assert "lam/function" not in by  # a Lambda has no weights; its code is never touched
    checks = wi.inspect_model(config, stats=True)
    assert all(r.check is None for r in checks)  # no stored values: nothing to compare


TF_SCRIPT = r"""
import json, os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tf_keras as keras
from tf_keras import layers
keras.utils.set_random_seed(0)
inner = keras.Sequential([layers.Dense(16, name="d_in"), layers.LayerNormalization(name="ln")],
                         name="inner_seq")
inp = keras.Input((6, 5))
x = layers.Bidirectional(layers.LSTM(16, return_sequences=True), name="bi")(inp)
x = layers.TimeDistributed(layers.Dense(24, kernel_initializer="he_normal"), name="td")(x)
x = layers.MultiHeadAttention(2, 8, name="mha")(x, x)
x = layers.GRU(10, name="gru")(x)
x = inner(x)
x = layers.BatchNormalization(name="bn")(x)
x = layers.Embedding(50, 8, name="emb")(x)
m = keras.Model(inp, x, name="outer")
out = sys.argv[1]
m.save(os.path.join(out, "k2.h5"))
m.save(os.path.join(out, "k2_savedmodel"), save_format="tf")
import weightinit as wi
live = [(r.name, r.initializer.class_name, r.shape, r.check.status) for r in wi.inspect_model(m, stats=True)]
print(json.dumps({"n": len(m.weights), "live": live}))
"""


@pytest.fixture(scope="module")
def tf_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("tf_keras")
    root = tmp_path_factory.mktemp("tfkeras")
    result = run_python(TF_SCRIPT, env={"TF_USE_LEGACY_KERAS": "1"}, args=(str(root),), timeout=400)
    return {"root": root, **result}


def test_tf_keras_h5_savedmodel_and_live(tf_files: dict[str, Any]) -> None:
    root = tf_files["root"]
    h5 = inspect_source(root / "k2.h5", stats=True)
    assert h5.format == "keras2-h5" and h5.facts["keras_version"].startswith("2.")
    assert len(h5.records) == tf_files["n"]
    assert [r.name for r in h5.records if r.check.status != "ok"] == []
    sm = inspect_source(root / "k2_savedmodel", stats=True)
    assert sm.format == "tf-savedmodel"
    key = sorted((r.name, r.initializer.class_name, r.shape, r.check.status) for r in h5.records)
    assert sorted((r.name, r.initializer.class_name, r.shape, r.check.status) for r in sm.records) == key
    by = _by_name(h5.records)
    assert by["td/dense/kernel"].initializer.class_name == "HeNormal"
    assert by["emb/embeddings"].initializer.class_name == "RandomUniform" and by["emb/embeddings"].default
    assert by["bi/backward_lstm/lstm_cell/recurrent_kernel"].shape == (16, 64)
    # the live tf_keras model (inspected in the child): the same names and all checks ok
    live = {name: (cls, tuple(shape), status) for name, cls, shape, status in tf_files["live"]}
    assert all(status == "ok" for _, _, status in live.values())
    assert {cls for cls, _, _ in live.values()} == {r.initializer.class_name for r in h5.records}


def test_savedmodel_without_keras_metadata_is_refused(tmp_path: Path) -> None:
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(InspectError, match=r"keras_metadata\.pb"):
        wi.inspect_model(tmp_path)


def test_keras3_weights_h5_alone_is_weights_only(saved: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "model.weights.h5"
    with zipfile.ZipFile(saved["keras"]) as z:
        path.write_bytes(z.read("model.weights.h5"))
    inspection = inspect_source(path, stats=True)
    assert inspection.format == "keras3-weights-h5"
    assert len(inspection.records) == len(saved["records"])
    by = _by_name(inspection.records)
    gamma = by["wrapper_seq/outer/inner_seq/ln/vars/0"]
    assert gamma.initializer is None and [gamma.candidates[0].name] == ["Ones"]
    recurrent = by["wrapper_seq/outer/gru/gru_cell/vars/1"]
    names = [n for c in recurrent.candidates for n in (c.name, *c.also)]
    assert recurrent.shape == (10, 30) and "Orthogonal(gain=1)" not in names  # its gain is 2: QQᵀ = 4 I
    wide = by["wrapper_seq/outer/wide/vars/0"]
    assert "RandomNormal(stddev=0.05)" not in [wide.candidates[0].name, *wide.candidates[0].also]
