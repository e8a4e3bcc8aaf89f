"""torch.nn.init semantics against torch 2.13 itself: gains, fans, parameters, KS against its samples."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from weightinit._gain import NONLINEARITIES
from weightinit._torch_fans import torch_fans

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")
init = torch.nn.init

#: a KS p-value below this fails; every draw is seeded, so a pass is a pass for good
P_MIN = 1e-3


def keras_shape(torch_shape: tuple[int, ...]) -> tuple[int, ...]:
    """torch ``(out, in, *k)`` -> Keras order ``(*k, in, out)`` (what weightinit.torch does)."""
    return (*torch_shape[2:], torch_shape[1], torch_shape[0])


def to_keras(t: Any) -> np.ndarray:
    """A torch tensor's values laid out in Keras order."""
    a = t.detach().numpy()
    return np.ascontiguousarray(a.transpose(*range(2, a.ndim), 1, 0))


def torch_draw(fill: Any, shape: tuple[int, ...], seed: int = 0, **kwargs: Any) -> np.ndarray:
    torch.manual_seed(seed)
    t = torch.empty(shape, dtype=torch.float64)
    fill(t, **kwargs)
    return t.numpy().ravel()


def assert_same_law(ours: np.ndarray, theirs: np.ndarray) -> float:
    p = float(stats.ks_2samp(np.ravel(ours).astype(np.float64), np.ravel(theirs)).pvalue)
    assert p > P_MIN, p
    return p


TORCH_SHAPES = [(7, 5), (1, 9), (16, 3, 3), (8, 4, 3, 3), (6, 2, 3, 1, 5), (4, 4, 1, 1, 1), (3, 0), (0, 2, 2)]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_torch_for_every_nonlinearity(nonlinearity: str) -> None:
    assert wi.calculate_gain(nonlinearity) == init.calculate_gain(nonlinearity)
    for param in (None, 0, 1, 0.2, 3.5, -0.5):
        assert wi.calculate_gain(nonlinearity, param) == init.calculate_gain(nonlinearity, param)


def test_calculate_gain_refuses_what_torch_refuses() -> None:
    for name in ("gelu", "softplus", "Linear", "elu"):
        with pytest.raises(ValueError):
            init.calculate_gain(name)
        with pytest.raises(wi.InvalidArgumentError):
            wi.calculate_gain(name)
    assert wi.calculate_gain("selu") == 0.75 == init.calculate_gain("selu")


@pytest.mark.parametrize("shape", TORCH_SHAPES)
def test_fans_equal_torchs_for_the_corresponding_tensor(shape: tuple[int, ...]) -> None:
    expected = init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert torch_fans(keras_shape(shape)) == expected
    assert wi.KaimingUniform().fans(keras_shape(shape)) == expected
    assert wi.XavierNormal().fans(keras_shape(shape)) == expected


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fans_refused_below_rank_two_like_torch(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(wi.InvalidArgumentError, match="fewer than 2"):
        wi.KaimingNormal(seed=0)(shape)


@pytest.mark.parametrize("shape", [s for s in TORCH_SHAPES if 0 not in s])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_kaiming_parameters_equal_torchs(shape: tuple[int, ...], mode: str, nonlinearity: str) -> None:
    for a in (0.0, math.sqrt(5), 0.2):
        fan = init._calculate_correct_fan(torch.empty(shape), mode)
        std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
        ours = wi.KaimingUniform(a=a, mode=mode, nonlinearity=nonlinearity, seed=1)
        assert ours.std(keras_shape(shape)) == std
        assert ours.bound(keras_shape(shape)) == math.sqrt(3.0) * std
        w = ours(keras_shape(shape), dtype="float64")
        assert np.abs(w).max() < math.sqrt(3.0) * std


def test_kaiming_normal_is_untruncated_unlike_he_normal() -> None:
    w = wi.KaimingNormal(nonlinearity="relu", seed=3)((200, 500), dtype="float64")
    std = math.sqrt(2.0 / 200)
    assert (np.abs(w) > 2 * std).mean() > 0.04  # a normal has 4.55% beyond 2 std
    assert np.abs(wi.HeNormal(seed=3)((200, 500))).max() <= 2 * std / 0.8796 + 1e-6
    assert stats.kstest(w.ravel() / std, "norm").pvalue > P_MIN


@pytest.mark.parametrize(
    ("ours", "fill", "kwargs"),
    [
        (wi.KaimingUniform(seed=11), init.kaiming_uniform_, {}),
        (
            wi.KaimingUniform(a=math.sqrt(5), mode="fan_out", seed=12),
            init.kaiming_uniform_,
            {"a": math.sqrt(5), "mode": "fan_out"},
        ),
        (wi.KaimingNormal(nonlinearity="relu", seed=13), init.kaiming_normal_, {"nonlinearity": "relu"}),
        (
            wi.KaimingNormal(a=0.3, mode="fan_out", nonlinearity="leaky_relu", seed=14),
            init.kaiming_normal_,
            {"a": 0.3, "mode": "fan_out"},
        ),
        (wi.KaimingNormal(nonlinearity="selu", seed=15), init.kaiming_normal_, {"nonlinearity": "selu"}),
        (wi.XavierUniform(seed=16), init.xavier_uniform_, {}),
        (wi.XavierUniform(gain=5 / 3, seed=17), init.xavier_uniform_, {"gain": 5 / 3}),
        (wi.XavierNormal(seed=18), init.xavier_normal_, {}),
        (wi.XavierNormal(gain=math.sqrt(2), seed=19), init.xavier_normal_, {"gain": math.sqrt(2)}),
    ],
)
@pytest.mark.parametrize("shape", [(64, 48, 3, 3), (300, 100)])
def test_ks_against_torch_samples(
    ours: Any, fill: Any, kwargs: dict[str, Any], shape: tuple[int, ...]
) -> None:
    theirs = torch_draw(fill, shape, seed=7, **kwargs)
    assert_same_law(ours(keras_shape(shape), dtype="float64"), theirs)


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [
        (0.0, 1.0, -2.0, 2.0),
        (0.0, 0.02, -2.0, 2.0),
        (1.0, 2.0, 0.5, 3.0),
        (0.0, 1.0, -0.3, 2.5),
        (-1.0, 0.5, -3.0, -1.2),
    ],
)
def test_trunc_normal_ks_against_torch_and_scipy(mean: float, std: float, a: float, b: float) -> None:
    ours = wi.TorchTruncNormal(mean=mean, std=std, a=a, b=b, seed=5)((40000,), dtype="float64")
    assert ours.min() >= a and ours.max() <= b
    assert_same_law(ours, torch_draw(init.trunc_normal_, (40000,), mean=mean, std=std, a=a, b=b))
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(ours, law.cdf).pvalue > P_MIN
    assert abs(ours.std() - law.std()) < 0.03 * law.std()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_trunc_normal_never_leaves_the_bounds_where_torch_does(dtype: str) -> None:
    # torch 2.13 keeps float32 values in [float32(a), float32(b)]; float32(0.7) is below 0.7, and a
    # narrow interval puts many of torch's (uniform-proposal) values on it
    a, b = 0.7, 0.70001
    theirs = torch.empty(100000)
    torch.manual_seed(0)
    init.trunc_normal_(theirs, mean=0.0, std=1.0, a=a, b=b)
    assert (theirs.double() < a).sum() > 100
    narrow = wi.TorchTruncNormal(mean=0.0, std=1.0, a=a, b=b, seed=1)
    if dtype in ("float16", "bfloat16"):  # no such value lies in [a, b]: refused, not rounded out
        with pytest.raises(wi.InvalidArgumentError, match=r"no .* value lies in"):
            narrow((10,), dtype=dtype)
    else:
        ours = narrow((100000,), dtype=dtype).astype(np.float64)
        assert ours.min() >= a and ours.max() <= b
    wide = wi.TorchTruncNormal(mean=10.0, std=1.0, a=0.7, b=0.8, seed=1)((10000,), dtype=dtype)
    assert wide.astype(np.float64).min() >= 0.7 and wide.astype(np.float64).max() <= 0.8


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_trunc_normal_far_bounds_are_the_normal_stream_clamped_only_where_rounding_binds(dtype: str) -> None:
    # bounds beyond the engine's reach: the RandomNormal stream, and the clamp (skipped when no
    # rounding could reach a bound, as for torch's default std=.02 in +-2) changes nothing
    wide = wi.TorchTruncNormal(std=0.02, seed=3)((300, 200), dtype)
    assert np.array_equal(wide, wi.RandomNormal(0.0, 0.02, seed=3)((300, 200), dtype))
    # 5.51 std from the mean, but less than an ulp of float32 at 1.0 above it: values that
    # round up to 1 + 2**-23 leave [a, b] unless clamped
    std = 2e-8
    a, b = 1.0 - 5.51 * std, 1.0 + 5.51 * std
    raw = wi.RandomNormal(1.0, std, seed=3)((1 << 16,), "float32").astype(np.float64)
    ours = wi.TorchTruncNormal(mean=1.0, std=std, a=a, b=b, seed=3)((1 << 16,), "float32").astype(np.float64)
    outside = (raw < a) | (raw > b)
    assert outside.sum() > 10
    assert ours.min() >= a and ours.max() <= b
    assert np.array_equal(ours[~outside], raw[~outside])


@pytest.mark.filterwarnings("ignore:mean is more than 2 std:UserWarning")  # torch warns; we are exact
@pytest.mark.parametrize(("mean", "a", "b"), [(0.0, 6.0, 6.5), (10.0, 0.7, 0.8), (0.0, -12.0, -11.0)])
def test_trunc_normal_is_exact_in_the_far_tail(mean: float, a: float, b: float) -> None:
    law = stats.truncnorm(a - mean, b - mean, loc=mean)
    ours = wi.TorchTruncNormal(mean=mean, a=a, b=b, seed=2)((20000,), dtype="float64")
    assert stats.kstest(ours, law.cdf).pvalue > P_MIN
    f32 = wi.TorchTruncNormal(mean=mean, a=a, b=b, seed=2)((20000,), dtype="float32").astype(np.float64)
    assert stats.kstest(f32, law.cdf).pvalue > P_MIN
    assert_same_law(ours, torch_draw(init.trunc_normal_, (20000,), mean=mean, a=a, b=b))


@pytest.mark.parametrize(
    ("torch_shape", "groups"),
    [
        (s, g)
        for s in [(4, 4, 3), (6, 4, 3, 3), (8, 6, 3, 5, 2), (6, 2, 5), (3, 7, 2, 4), (2, 5, 4)]
        for g in (1, 2)
        if s[0] % g == 0
    ],
)
def test_dirac_equals_torch_exactly(torch_shape: tuple[int, ...], groups: int) -> None:
    t = torch.empty(torch_shape)
    init.dirac_(t, groups=groups)
    ours = wi.Dirac(groups=groups)(keras_shape(torch_shape))
    np.testing.assert_array_equal(ours, to_keras(t))


def test_dirac_refuses_what_torch_refuses() -> None:
    with pytest.raises(ValueError):
        init.dirac_(torch.empty(3, 2, 3), groups=2)
    with pytest.raises(wi.InvalidArgumentError):
        wi.Dirac(groups=2)(keras_shape((3, 2, 3)))


@pytest.mark.parametrize("torch_shape", [(3, 5), (5, 3), (4, 4)])
def test_eye_equals_torch_exactly(torch_shape: tuple[int, int]) -> None:
    t = torch.empty(torch_shape)
    init.eye_(t)
    np.testing.assert_array_equal(wi.Eye()(keras_shape(torch_shape)), to_keras(t))


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.35, 0.5, 1.0])
def test_sparse_zero_counts_equal_torchs_and_values_follow_its_law(sparsity: float) -> None:
    torch_shape = (40, 500)  # torch (out, in): each of the 500 columns gets ceil(sparsity * 40) zeros
    torch.manual_seed(0)
    t = torch.empty(torch_shape, dtype=torch.float64)
    init.sparse_(t, sparsity, std=0.5)
    ours = wi.Sparse(sparsity=sparsity, std=0.5, seed=9)(keras_shape(torch_shape), dtype="float64")
    expected = (t == 0).sum(0).numpy()
    np.testing.assert_array_equal((ours == 0).sum(1), expected)
    assert len(set(expected.tolist())) == 1
    if sparsity < 1.0:
        assert_same_law(ours[ours != 0], t.numpy()[t.numpy() != 0])
        # every output is zero about equally often: positions are uniform
        per_output = (ours == 0).mean(0)
        assert np.abs(per_output - sparsity).max() < 0.1 if sparsity > 0 else per_output.max() == 0


@pytest.mark.parametrize("torch_shape", [(6, 20), (20, 6), (8, 3, 3, 3), (30, 2, 3)])
def test_torch_orthogonal_is_orthogonal_in_torchs_view_and_matches_its_law(
    torch_shape: tuple[int, ...],
) -> None:
    gain = 1.7
    ours = wi.TorchOrthogonal(gain=gain, seed=4)(keras_shape(torch_shape), dtype="float64")
    view = ours.transpose(-1, -2, *range(len(torch_shape) - 2)).reshape(torch_shape[0], -1)
    rows, cols = view.shape
    gram = view @ view.T if rows <= cols else view.T @ view
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)
    samples = []
    for seed in range(40):
        samples.append(torch_draw(init.orthogonal_, torch_shape, seed=seed, gain=gain))
    ours_many = [
        wi.TorchOrthogonal(gain=gain, seed=s)(keras_shape(torch_shape), dtype="float64") for s in range(40)
    ]
    assert_same_law(np.concatenate([o.ravel() for o in ours_many]), np.concatenate(samples))


def _torch_module_params(module: Any) -> dict[str, np.ndarray]:
    return {name: p.detach().double().numpy() for name, p in module.named_parameters()}


def _layer_draws(build: Any, count: int) -> dict[str, np.ndarray]:
    draws: dict[str, list[np.ndarray]] = {}
    for seed in range(count):
        torch.manual_seed(seed)
        for name, value in _torch_module_params(build()).items():
            draws.setdefault(name, []).append(value.ravel())
    return {k: np.concatenate(v) for k, v in draws.items()}


@pytest.mark.parametrize(
    ("build", "ours", "count"),
    [
        (
            lambda: torch.nn.Linear(50, 30),
            {
                "weight": (wi.TorchDefault("linear", "weight", seed=1), (50, 30)),
                "bias": (wi.TorchDefault("linear", "bias", fan_in=50, seed=2), (30,)),
            },
            20,
        ),
        (
            lambda: torch.nn.Conv2d(6, 8, 3),
            {
                "weight": (wi.TorchDefault("conv", "weight", seed=3), (3, 3, 6, 8)),
                "bias": (wi.TorchDefault("conv", "bias", fan_in=54, seed=4), (8,)),
            },
            60,
        ),
        (
            lambda: torch.nn.ConvTranspose2d(6, 8, 3, groups=2),
            {
                # torch weight (in=6, out/groups=4, 3, 3): its fan_in is 4 * 9 = 36, positionally
                "weight": (wi.TorchDefault("conv", "weight", seed=5), (3, 3, 4, 6)),
                "bias": (wi.TorchDefault("conv", "bias", fan_in=36, seed=6), (8,)),
            },
            60,
        ),
        (
            lambda: torch.nn.Bilinear(5, 7, 4),
            {
                "weight": (wi.TorchDefault("bilinear", "weight", fan_in=5, seed=7), (4, 5, 7)),
                "bias": (wi.TorchDefault("bilinear", "bias", fan_in=5, seed=8), (4,)),
            },
            40,
        ),
        (
            lambda: torch.nn.LSTM(6, 10),
            {
                "weight_ih_l0": (wi.TorchDefault("rnn", "weight", hidden_size=10, seed=9), (6, 40)),
                "weight_hh_l0": (wi.TorchDefault("rnn", "weight", hidden_size=10, seed=10), (10, 40)),
                "bias_ih_l0": (wi.TorchDefault("rnn", "bias", hidden_size=10, seed=11), (40,)),
            },
            20,
        ),
        (
            lambda: torch.nn.Embedding(300, 16),
            {
                "weight": (wi.TorchDefault("embedding", seed=12), (300, 16)),
            },
            3,
        ),
    ],
)
def test_torch_default_matches_each_layers_reset_parameters(
    build: Any, ours: dict[str, Any], count: int
) -> None:
    theirs = _layer_draws(build, count)
    for name, (initializer, shape) in ours.items():
        ours_values = np.concatenate(
            [
                initializer.clone()
                .__class__(**{**initializer.get_config(), "seed": s})(shape, dtype="float64")
                .ravel()
                for s in range(count)
            ]
        )
        assert ours_values.size == theirs[name].size
        assert_same_law(ours_values, theirs[name])
        kind, _, high = initializer.law(shape)
        if kind == "uniform":
            assert np.abs(theirs[name]).max() <= high and np.abs(ours_values).max() <= high


def test_torch_default_norms_and_embedding_padding() -> None:
    bn = torch.nn.BatchNorm1d(5)
    for name, tensor in [*bn.named_parameters(), *bn.named_buffers()]:
        if name == "num_batches_tracked":
            continue
        np.testing.assert_array_equal(wi.TorchDefault("norm", name)((5,)), tensor.detach().numpy())
    ln = torch.nn.LayerNorm(4)
    np.testing.assert_array_equal(wi.TorchDefault("norm", "weight")((4,)), ln.weight.detach().numpy())
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 3, padding_idx=-2)
    ours = wi.TorchDefault("embedding", padding_idx=-2, seed=0)((10, 3))
    assert (emb.weight[8] == 0).all() and (ours[8] == 0).all() and (ours[7] != 0).all()
    part = wi.TorchDefault("embedding", padding_idx=-2, seed=0)((10, 3), index=(slice(6, 9),))
    np.testing.assert_array_equal(part, ours[6:9])


def test_the_docs_table_covers_every_torch_initializer() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "frameworks.md").read_text(encoding="utf-8")
    public = sorted(
        n for n in dir(init) if n.endswith("_") and not n.startswith("_") and callable(getattr(init, n))
    )
    assert len(public) == 14
    for name in [*public, "calculate_gain"]:
        assert f"`{name}(" in text or f"`{name}`" in text or f" `{name}" in text, name
