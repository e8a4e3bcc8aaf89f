"""weightinit.torch.init_module: defaults, seeds, overrides, report, meta models."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import weightinit as wi  # noqa: E402
from weightinit import torch as wtorch  # noqa: E402

S = wtorch.param_seed


def _w(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().numpy()


class Custom(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.full((3,), 7.0))
        self.fc = nn.Linear(2, 3)


def test_linear_conv_embedding_defaults() -> None:
    m = nn.ModuleDict(
        {
            "fc": nn.Linear(5, 4),
            "conv": nn.Conv2d(3, 6, 3, groups=3),
            "emb": nn.EmbeddingBag(9, 4),
            "pre": nn.PReLU(2),
        }
    )
    report = wtorch.init_module(m, seed=11)
    assert np.array_equal(_w(m["fc"].weight), wi.GlorotUniform(seed=S(11, "fc.weight"))((5, 4)).T)
    assert not _w(m["fc"].bias).any()
    conv = wi.GlorotUniform(seed=S(11, "conv.weight"))((3, 3, 1, 6))  # Keras Conv2D(groups=3) kernel
    assert np.array_equal(_w(m["conv"].weight), conv.transpose(3, 2, 0, 1))
    emb = wi.RandomUniform(-0.05, 0.05, seed=S(11, "emb.weight"))((9, 4))
    assert np.array_equal(_w(m["emb"].weight), emb)
    assert not _w(m["pre"].weight).any()
    assert set(report.initialized) == {n for n, _ in m.named_parameters()}
    rec = report.initialized["fc.weight"]
    assert rec.layout == "torch" and rec.keras_shape == (5, 4) and rec.name == "fc.weight"
    assert wtorch.initializer_of(m["fc"].weight).get_config()["seed"] == S(11, "fc.weight")


def test_bilinear_and_padding_idx() -> None:
    m = nn.ModuleDict({"bi": nn.Bilinear(3, 4, 5), "emb": nn.Embedding(6, 2, padding_idx=2)})
    wtorch.init_module(m)
    k = wi.GlorotUniform(seed=S(0, "bi.weight"), input_axes=[0, 1], output_axes=[2])((3, 4, 5))
    assert np.array_equal(_w(m["bi"].weight), k.transpose(2, 0, 1))
    emb = _w(m["emb"].weight)
    assert not emb[2].any() and emb[[0, 1, 3, 4, 5]].all()


def test_norms_and_running_statistics() -> None:
    m = nn.Sequential(
        nn.BatchNorm2d(3),
        nn.LayerNorm((2, 3)),
        nn.GroupNorm(1, 3),
        nn.RMSNorm(3),
        nn.InstanceNorm1d(3, affine=True),
    )
    for mod in m:
        for p in mod.parameters():
            p.data.fill_(5.0)
    m[0].running_mean.fill_(5.0)
    m[0].running_var.fill_(5.0)
    wtorch.init_module(m)
    for mod in m:
        assert (mod.weight == 1).all()
        if getattr(mod, "bias", None) is not None:
            assert (mod.bias == 0).all()
    assert (m[0].running_mean == 0).all() and (m[0].running_var == 1).all()


def test_values_do_not_depend_on_construction_order_or_torch_rng() -> None:
    torch.manual_seed(1)
    a = nn.ModuleDict({"x": nn.Linear(3, 4), "y": nn.GRU(4, 2)})
    torch.manual_seed(2)
    b = nn.ModuleDict()
    b["y"] = nn.GRU(4, 2)
    b["x"] = nn.Linear(3, 4)
    wtorch.init_module(a, seed=5)
    wtorch.init_module(b, seed=5)
    for name, p in a.named_parameters():
        assert torch.equal(p, dict(b.named_parameters())[name]), name
    wtorch.init_module(b, seed=6)
    assert not torch.equal(a["x"].weight, b["x"].weight)


def test_overrides_precedence() -> None:
    m = nn.ModuleDict(
        {"a": nn.Linear(4, 3), "b": nn.Linear(4, 3), "c": nn.Conv1d(2, 3, 2), "r": nn.LSTM(2, 2)}
    )
    wtorch.init_module(
        m,
        seed=1,
        kernel_initializer="he_normal",
        bias_initializer=wi.Constant(0.5),
        recurrent_initializer="identity",
        per_type={nn.Conv1d: {"kernel_initializer": "ones"}},
        per_name={"b.weight": wi.RandomNormal(stddev=2.0, seed=7)},
    )
    assert np.array_equal(_w(m["a"].weight), wi.HeNormal(seed=S(1, "a.weight"))((4, 3)).T)
    assert np.array_equal(_w(m["b"].weight), wi.RandomNormal(stddev=2.0, seed=S(7, "b.weight"))((4, 3)).T)
    assert (m["c"].weight == 1).all() and (m["a"].bias == 0.5).all() and (m["c"].bias == 0.5).all()
    assert np.array_equal(_w(m["r"].weight_hh_l0), wi.Identity()((2, 8)).T)
    # the LSTM bias: the bias initializer around Keras's unit_forget_bias ones
    assert _w(m["r"].bias_ih_l0).tolist() == [0.5, 0.5, 1, 1, 0.5, 0.5, 0.5, 0.5]
    assert (m["r"].bias_hh_l0 == 0).all()
    wtorch.init_module(m, unit_forget_bias=False)
    assert not _w(m["r"].bias_ih_l0).any()


def test_bad_overrides() -> None:
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="Unknown keyword 'kernel_init'"):
        wtorch.init_module(m, kernel_init="zeros")
    with pytest.raises(ValueError, match="SeedGenerator"):
        wtorch.init_module(m, kernel_initializer=wi.GlorotUniform(seed=wi.SeedGenerator(1)))
    with pytest.raises(TypeError, match=r"nn\.Module subclasses"):
        wtorch.init_module(m, per_type={int: {"kernel_initializer": "zeros"}})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        wtorch.init_module(torch.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        wtorch.init_module(m, seed=-1)


def test_unknown_parameters_are_reported_and_untouched() -> None:
    m = nn.Sequential(Custom(), nn.MultiheadAttention(4, 2, add_bias_kv=True), nn.LSTM(3, 4, proj_size=2))
    with pytest.warns(wtorch.UninitializedParametersWarning, match="0.scale"):
        report = wtorch.init_module(m)
    assert set(report.skipped) == {"0.scale", "1.bias_k", "1.bias_v", "2.weight_hr_l0"}
    assert (m[0].scale == 7).all() and wtorch.initializer_of(m[0].scale) is None
    assert "0.fc.weight" in report.initialized
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert wtorch.init_module(m, warn=False).skipped == report.skipped


def test_tied_weights_are_initialized_once() -> None:
    emb, head = nn.Embedding(7, 3), nn.Linear(3, 7, bias=False)
    head.weight = emb.weight
    m = nn.Sequential(emb, head)
    report = wtorch.init_module(m)
    assert list(report.initialized) == ["0.weight"] and report.skipped == ()
    assert np.array_equal(_w(emb.weight), wi.RandomUniform(-0.05, 0.05, seed=S(0, "0.weight"))((7, 3)))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_meta_model_then_to_empty_in_any_float_dtype(dtype) -> None:
    def build() -> nn.Module:
        return nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).to(dtype)

    with torch.device("meta"):
        meta = build()
    with pytest.raises(ValueError, match="meta device"):
        wtorch.init_module(meta)
    meta.to_empty(device="cpu")
    wtorch.init_module(meta, seed=2)
    eager = build()
    wtorch.init_module(eager, seed=2)
    for (name, p), q in zip(meta.named_parameters(), eager.parameters(), strict=True):
        assert p.dtype == dtype and torch.equal(p, q), name
    x = torch.randn(2, 3, 8, dtype=dtype)
    assert torch.isfinite(meta(x)).all()


def test_integer_parameters_are_refused_before_anything_is_written() -> None:
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    m[1].weight = nn.Parameter(torch.zeros(2, 2, dtype=torch.int32), requires_grad=False)
    before = m[0].weight.clone()
    with pytest.raises(TypeError, match=r"1\.weight"):
        wtorch.init_module(m)
    assert torch.equal(m[0].weight, before)


def test_a_meta_parameter_anywhere_stops_init_module_before_any_write() -> None:
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    with torch.device("meta"):
        m[1] = nn.Linear(2, 2)
    before = m[0].weight.clone()
    with pytest.raises(ValueError, match="meta device"):
        wtorch.init_module(m)
    assert torch.equal(m[0].weight, before)


def test_lazy_modules_are_reported_until_materialized() -> None:
    m = nn.Sequential(nn.LazyLinear(3))
    with pytest.warns(wtorch.UninitializedParametersWarning):
        report = wtorch.init_module(m)
    assert set(report.skipped) == {"0.weight", "0.bias"}
    m(torch.zeros(1, 4))
    assert wtorch.init_module(m).skipped == ()


def test_a_write_that_fails_takes_the_records_of_the_call_back() -> None:
    # the records go in before the writes; a write that raises (here a custom initializer,
    # called only when the writes run) leaves no record claiming values the tensors lack
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2))
    wtorch.init_module(m, seed=1)
    assert wtorch.initializer_of(m[0].weight) is not None

    def broken(shape, dtype=None):
        raise RuntimeError("broken initializer")

    with pytest.raises(RuntimeError, match="broken initializer"):
        wtorch.init_module(m, seed=2, per_name={"1.weight": broken})
    for p in (m[0].weight, m[0].bias, m[1].weight, m[1].bias):
        assert wtorch.initializer_of(p) is None
    report = wtorch.init_module(m, seed=2)  # and a later call records them again
    assert wtorch.initializer_of(m[1].weight) is report.initialized["1.weight"].initializer


def test_the_module_walk_is_named_modules() -> None:
    from weightinit._torch._module import _walk

    shared = nn.Linear(2, 2)
    m = nn.Sequential(
        nn.Sequential(shared, nn.ReLU()),
        shared,
        nn.ModuleDict({"a": shared, "b": nn.LSTM(2, 3)}),
        nn.TransformerEncoderLayer(8, 2, 16),
    )
    m.add_module("empty", None)
    assert [(n, id(x)) for n, x in _walk(m)] == [(n, id(x)) for n, x in m.named_modules()]


def test_derived_seeds_are_param_seeds() -> None:
    from weightinit._torch._seeds import derived_seed

    for seed in (0, 1, 2**64 - 1):
        for name in ("", "fc.weight", "layers.0.self_attn.in_proj_weight:query", "é"):
            assert derived_seed(seed, name) == wtorch.param_seed(seed, name)
    assert len({derived_seed(s, "w") for s in range(50)}) == 50


def test_constant_rows_of_one_tensor_merge_only_when_they_tile_it() -> None:
    from weightinit._torch._write import _all_rows

    s = (slice(0, 4),)
    assert _all_rows((6, 4), [(slice(2, 6), *s), (slice(0, 2), *s)])
    assert not _all_rows((6, 4), [(slice(0, 2), *s), (slice(3, 6), *s)])  # a gap
    assert not _all_rows((6, 4), [(slice(0, 3), *s), (slice(0, 3), *s)])  # twice the same rows
    assert not _all_rows((6, 4), [(slice(0, 6), slice(0, 3))])  # not whole rows
    assert _all_rows((6,), [(slice(0, 6),)])
    # attention's q, k, v biases (one tensor, three Keras weights) and an LSTM's gate biases
    mha, lstm = nn.MultiheadAttention(4, 2), nn.LSTM(3, 2)
    m = nn.ModuleList([mha, lstm])
    for p in m.parameters():
        p.data.fill_(9.0)
    version = mha.in_proj_bias._version
    wtorch.init_module(m, per_type={nn.MultiheadAttention: {"bias_initializer": wi.Constant(0.5)}})
    assert (mha.in_proj_bias == 0.5).all() and mha.in_proj_bias._version > version
    assert torch.equal(lstm.bias_ih_l0, torch.tensor([0.0, 0, 1, 1, 0, 0, 0, 0]))
    assert (lstm.bias_hh_l0 == 0).all()
