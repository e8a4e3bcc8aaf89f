"""weightinit.torch against real Keras 3.15.1 (jax backend, in a subprocess).

A torch model with every supported layer type is initialized with
``init_module(seed=0)``; the equivalent Keras layers are built with the same
weightinit initializers and the seeds ``param_seed(0, <torch name>)``. The
Keras weights, converted with keras-initializers.md section 10.2, equal the
torch parameters bit for bit (Orthogonal: to 1e-6, BLAS), and both models
give the same outputs on the same input (to 1e-5): LSTM, GRU, SimpleRNN, a
two-layer bidirectional LSTM, MultiHeadAttention, Conv2D and Conv2DTranspose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import weightinit as wi  # noqa: E402
from _support import run_python  # noqa: E402
from weightinit import torch as wtorch  # noqa: E402

BIAS = {"stddev": 0.1}


def _model() -> nn.ModuleDict:
    return nn.ModuleDict(
        {
            "dense": nn.Linear(3, 4),
            "conv1": nn.Conv1d(2, 4, 3),
            "conv2": nn.Conv2d(2, 4, (3, 5)),
            "conv3": nn.Conv3d(2, 3, 2),
            "convt1": nn.ConvTranspose1d(2, 4, 3),
            "convt2": nn.ConvTranspose2d(2, 4, (3, 5)),
            "convt3": nn.ConvTranspose3d(2, 3, 2),
            "emb": nn.Embedding(10, 4),
            "lstm": nn.LSTM(3, 4, batch_first=True),
            "gru": nn.GRU(3, 4, batch_first=True),
            "rnn": nn.RNN(3, 4, batch_first=True),
            "lstm_b": nn.LSTM(3, 4, batch_first=True),
            "gru_b": nn.GRU(3, 4, batch_first=True),
            "bilstm": nn.LSTM(3, 2, num_layers=2, bidirectional=True, batch_first=True),
            "lstmcell": nn.LSTMCell(3, 4),
            "grucell": nn.GRUCell(3, 4),
            "rnncell": nn.RNNCell(3, 4),
            "bn": nn.BatchNorm1d(4),
            "ln": nn.LayerNorm(4),
            "gn": nn.GroupNorm(2, 4),
            "rms": nn.RMSNorm(4),
            "mha": nn.MultiheadAttention(8, 2, batch_first=True),
        }
    )


CHILD = r"""
import json, sys
import numpy as np
import keras
import weightinit as wi

seeds = json.loads(open(sys.argv[1]).read())
data = np.load(sys.argv[2])
S = lambda name: seeds[name]
GU = lambda name: wi.GlorotUniform(seed=S(name))
OR = lambda name: wi.Orthogonal(seed=S(name))
BN = lambda name: wi.RandomNormal(stddev=0.1, seed=S(name))
L = keras.layers
out = {}

def keep(prefix, layer):
    for v in layer.weights:
        out[prefix + "/" + v.path.split("/")[-1]] = np.asarray(v)

def rnn(cls, units, pre, suffix="_l0", bias=None, **kw):
    extra = {} if bias is None else {"bias_initializer": bias}
    return cls(units, return_sequences=True, kernel_initializer=GU(pre + ".weight_ih" + suffix),
               recurrent_initializer=OR(pre + ".weight_hh" + suffix), **extra, **kw)

d = L.Dense(4, kernel_initializer=GU("dense.weight")); d.build((None, 3)); keep("dense", d)
for n, cls, f, k, spatial in [("conv1", L.Conv1D, 4, 3, (7,)), ("conv2", L.Conv2D, 4, (3, 5), (6, 8)),
                             ("conv3", L.Conv3D, 3, 2, (4, 4, 4)), ("convt1", L.Conv1DTranspose, 4, 3, (7,)),
                             ("convt2", L.Conv2DTranspose, 4, (3, 5), (6, 8)),
                             ("convt3", L.Conv3DTranspose, 3, 2, (4, 4, 4))]:
    layer = cls(f, k, kernel_initializer=GU(n + ".weight")); layer.build((None, *spatial, 2)); keep(n, layer)
    if n in ("conv2", "convt2"):
        out[n + "/y"] = np.asarray(layer(data["img"]))
e = L.Embedding(10, 4, embeddings_initializer=wi.RandomUniform(-0.05, 0.05, seed=S("emb.weight")))
e.build((None,)); keep("emb", e)
x = data["x"]
for n, cls, bias in [("lstm", L.LSTM, None), ("gru", L.GRU, None), ("rnn", L.SimpleRNN, None),
                     ("lstm_b", L.LSTM, "lstm_b.bias_ih_l0"), ("gru_b", L.GRU, "gru_b.bias_ih_l0")]:
    layer = rnn(cls, 4, n, bias=None if bias is None else BN(bias))
    out[n + "/y"] = np.asarray(layer(x)); keep(n, layer)
seq = x
for i, width in enumerate((3, 4)):
    fw = rnn(L.LSTM, 2, "bilstm", f"_l{i}")
    bw = rnn(L.LSTM, 2, "bilstm", f"_l{i}_reverse", go_backwards=True)
    # what Bidirectional(fw, backward_layer=bw) computes (the wrapper rebuilds its layers from
    # their configs, which would swap weightinit's initializers for Keras's own)
    y_fw, y_bw = np.asarray(fw(seq)), np.asarray(bw(seq))[:, ::-1]
    seq = np.concatenate([y_fw, y_bw], axis=-1)
    keep(f"bilstm{i}f", fw); keep(f"bilstm{i}b", bw)
out["bilstm/y"] = np.asarray(seq)
for n, cls in [("lstmcell", L.LSTMCell), ("grucell", L.GRUCell), ("rnncell", L.SimpleRNNCell)]:
    c = cls(4, kernel_initializer=GU(n + ".weight_ih"), recurrent_initializer=OR(n + ".weight_hh"))
    c.build((None, 3)); keep(n, c)
for n, layer in [("bn", L.BatchNormalization()), ("ln", L.LayerNormalization()),
                 ("gn", L.GroupNormalization(groups=2)), ("rms", L.RMSNormalization())]:
    layer.build((None, 4)); keep(n, layer)
mha = L.MultiHeadAttention(num_heads=2, key_dim=4)
q = data["q"]
mha(q, q)
for dense, name in [(mha._query_dense, "query"), (mha._key_dense, "key"), (mha._value_dense, "value")]:
    dense.kernel.assign(data["mha_" + name].reshape(dense.kernel.shape))
mha._output_dense.kernel.assign(data["mha_out"].reshape(mha._output_dense.kernel.shape))
out["mha/y"] = np.asarray(mha(q, q))
np.savez(sys.argv[3], **out)
print(json.dumps({"ok": True, "keys": len(out)}))
"""


def _conv(k: np.ndarray) -> np.ndarray:
    r = k.ndim
    return k.transpose(r - 1, r - 2, *range(r - 2))


def _gru(k: np.ndarray, u: int) -> np.ndarray:
    z, r, h = k[..., :u], k[..., u : 2 * u], k[..., 2 * u :]
    return np.concatenate([r, z, h], axis=-1)


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp: Path = tmp_path_factory.mktemp("keras_truth")
    model = _model()
    bias = wi.RandomNormal(**BIAS)
    report = wtorch.init_module(
        model, seed=0, per_name={"lstm_b.bias_ih*": bias, "gru_b.bias_ih*": bias}, warn=True
    )
    names = [n for n, _ in model.named_parameters()] + [
        f"mha.in_proj_weight:{p}" for p in ("query", "key", "value")
    ]
    seeds = {n: wtorch.param_seed(0, n) for n in names}
    (tmp / "seeds.json").write_text(json.dumps(seeds))
    rng = np.random.default_rng(0)
    inputs = {
        "x": rng.standard_normal((2, 5, 3)).astype(np.float32),
        "img": rng.standard_normal((2, 6, 8, 2)).astype(np.float32),
        "q": rng.standard_normal((2, 5, 8)).astype(np.float32),
    }
    w = model["mha"].in_proj_weight.detach().numpy()
    for i, name in enumerate(("query", "key", "value")):
        inputs["mha_" + name] = w[i * 8 : (i + 1) * 8].T.copy()
    inputs["mha_out"] = model["mha"].out_proj.weight.detach().numpy().T.copy()
    np.savez(tmp / "inputs.npz", **inputs)
    run_python(
        CHILD,
        env={"KERAS_BACKEND": "jax", "OMP_NUM_THREADS": "1"},
        args=(str(tmp / "seeds.json"), str(tmp / "inputs.npz"), str(tmp / "keras.npz")),
        timeout=300,
    )
    keras = dict(np.load(tmp / "keras.npz"))
    return {"model": model, "keras": keras, "inputs": inputs, "report": report}


def _p(model: nn.ModuleDict, name: str) -> np.ndarray:
    return dict(model.named_parameters())[name].detach().numpy()


def test_dense_conv_embedding_norm_values_equal_keras(truth: dict[str, Any]) -> None:
    m, k = truth["model"], truth["keras"]
    assert np.array_equal(_p(m, "dense.weight"), k["dense/kernel"].T)
    assert not _p(m, "dense.bias").any() and not k["dense/bias"].any()
    for n in ("conv1", "conv2", "conv3", "convt1", "convt2", "convt3"):
        assert np.array_equal(_p(m, f"{n}.weight"), _conv(k[f"{n}/kernel"])), n
        assert np.array_equal(_p(m, f"{n}.bias"), k[f"{n}/bias"]), n
    assert np.array_equal(_p(m, "emb.weight"), k["emb/embeddings"])
    for n in ("bn", "ln", "gn"):
        assert np.array_equal(_p(m, f"{n}.weight"), k[f"{n}/gamma"]), n
        assert np.array_equal(_p(m, f"{n}.bias"), k[f"{n}/beta"]), n
    assert np.array_equal(m["bn"].running_mean.numpy(), k["bn/moving_mean"])
    assert np.array_equal(m["bn"].running_var.numpy(), k["bn/moving_variance"])
    assert np.array_equal(_p(m, "rms.weight"), k["rms/scale"])


@pytest.mark.parametrize(
    "name,kind", [("lstm", "LSTM"), ("gru", "GRU"), ("rnn", "RNN"), ("lstm_b", "LSTM"), ("gru_b", "GRU")]
)
def test_recurrent_values_equal_keras_after_gate_translation(
    truth: dict[str, Any], name: str, kind: str
) -> None:
    m, k = truth["model"], truth["keras"]
    fix = (lambda a: _gru(a, 4)) if kind == "GRU" else (lambda a: a)
    assert np.array_equal(_p(m, f"{name}.weight_ih_l0"), fix(k[f"{name}/kernel"]).T)
    np.testing.assert_allclose(
        _p(m, f"{name}.weight_hh_l0"), fix(k[f"{name}/recurrent_kernel"]).T, rtol=0, atol=1e-6
    )
    bias = k[f"{name}/bias"]
    if kind == "GRU":
        assert np.array_equal(_p(m, f"{name}.bias_ih_l0"), fix(bias[0]))
        assert np.array_equal(_p(m, f"{name}.bias_hh_l0"), fix(bias[1]))
    else:
        assert np.array_equal(_p(m, f"{name}.bias_ih_l0"), bias)
        assert not _p(m, f"{name}.bias_hh_l0").any()
    if name.endswith("_b"):  # a random bias really is random, and LSTM's forget quarter stays ones
        assert np.abs(_p(m, f"{name}.bias_ih_l0")).max() > 0.01
    if name == "lstm_b":
        assert (_p(m, "lstm_b.bias_ih_l0")[4:8] == 1).all()


def test_cells_and_bidirectional_layers_equal_keras(truth: dict[str, Any]) -> None:
    m, k = truth["model"], truth["keras"]
    for n, kind in (("lstmcell", "LSTM"), ("grucell", "GRU"), ("rnncell", "RNN")):
        fix = (lambda a: _gru(a, 4)) if kind == "GRU" else (lambda a: a)
        assert np.array_equal(_p(m, f"{n}.weight_ih"), fix(k[f"{n}/kernel"]).T), n
        np.testing.assert_allclose(
            _p(m, f"{n}.weight_hh"), fix(k[f"{n}/recurrent_kernel"]).T, atol=1e-6, rtol=0
        )
    for layer in (0, 1):
        for suffix, tag in (("", "f"), ("_reverse", "b")):
            key = f"bilstm{layer}{tag}"
            assert np.array_equal(_p(m, f"bilstm.weight_ih_l{layer}{suffix}"), k[f"{key}/kernel"].T)
            assert np.array_equal(_p(m, f"bilstm.bias_ih_l{layer}{suffix}"), k[f"{key}/bias"])


def test_outputs_equal_keras_on_the_same_input(truth: dict[str, Any]) -> None:
    m, k, x = truth["model"], truth["keras"], truth["inputs"]
    with torch.no_grad():
        xt = torch.from_numpy(x["x"])
        for n in ("lstm", "gru", "rnn", "lstm_b", "gru_b", "bilstm"):
            y = m[n](xt)[0].numpy()
            np.testing.assert_allclose(y, k[f"{n}/y"], rtol=0, atol=1e-5, err_msg=n)
        q = torch.from_numpy(x["q"])
        y = m["mha"](q, q, q, need_weights=False)[0].numpy()
        np.testing.assert_allclose(y, k["mha/y"], rtol=0, atol=1e-5)
        img = torch.from_numpy(x["img"]).permute(0, 3, 1, 2)
        for n in ("conv2", "convt2"):
            y = m[n](img).permute(0, 2, 3, 1).numpy()
            np.testing.assert_allclose(y, k[f"{n}/y"], rtol=0, atol=1e-5, err_msg=n)


def test_mha_projections_are_keras_dense_kernels(truth: dict[str, Any]) -> None:
    m = truth["model"]
    w = _p(m, "mha.in_proj_weight")
    for i, proj in enumerate(("query", "key", "value")):
        expected = wi.GlorotUniform(seed=wtorch.param_seed(0, f"mha.in_proj_weight:{proj}"))((8, 8))
        assert np.array_equal(w[i * 8 : (i + 1) * 8], expected.T)
    assert not _p(m, "mha.in_proj_bias").any()
    assert truth["report"].skipped == ()
