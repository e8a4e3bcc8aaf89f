"""timm's weight_init semantics against timm's own functions (loaded from its file: timm's package
import needs a torchvision build matching torch, which a CPU-only environment may lack)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import weightinit as wi

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")

P_MIN = 1e-3


def _load_weight_init() -> ModuleType:
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("timm is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "layers" / "weight_init.py"
    module_spec = importlib.util.spec_from_file_location("_timm_weight_init", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # imports torch only
    return module


timm_init = _load_weight_init()


def keras_shape(torch_shape: tuple[int, ...]) -> tuple[int, ...]:
    return (*torch_shape[2:], torch_shape[1], torch_shape[0])


def timm_draw(fill: Any, shape: tuple[int, ...], seed: int = 0, **kwargs: Any) -> np.ndarray:
    torch.manual_seed(seed)
    t = torch.empty(shape, dtype=torch.float64)
    fill(t, **kwargs)
    return t.numpy().ravel()


def assert_same_law(ours: np.ndarray, theirs: np.ndarray) -> None:
    p = float(stats.ks_2samp(np.ravel(ours).astype(np.float64), np.ravel(theirs)).pvalue)
    assert p > P_MIN, p


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [(0.0, 1.0, -2.0, 2.0), (0.5, 0.02, -2.0, 2.0), (1.0, 2.0, -1.0, 3.0), (0.0, 0.1, 0.5, 4.0)],
)
def test_trunc_normal_tf_ks_against_timm(mean: float, std: float, a: float, b: float) -> None:
    theirs = timm_draw(timm_init.trunc_normal_tf_, (30000,), mean=mean, std=std, a=a, b=b)
    ours = wi.TimmTruncNormalTF(mean=mean, std=std, a=a, b=b, seed=3)((30000,), dtype="float64")
    assert_same_law(ours, theirs)
    assert ours.min() >= mean + std * a and ours.max() <= mean + std * b


def test_trunc_normal_tf_defaults_are_kerass_truncated_normal() -> None:
    np.testing.assert_array_equal(
        wi.TimmTruncNormalTF(mean=0.5, std=0.02, seed=8)((40, 50)),
        wi.TruncatedNormal(0.5, 0.02, seed=8)((40, 50)),
    )


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"), [(0.0, 0.02, -2.0, 2.0), (0.0, 1.0, -2.0, 2.0), (1.0, 2.0, 0.5, 3.0)]
)
def test_timm_trunc_normal_is_torch_trunc_normal(mean: float, std: float, a: float, b: float) -> None:
    theirs = timm_draw(timm_init.trunc_normal_, (30000,), mean=mean, std=std, a=a, b=b)
    ours = wi.TorchTruncNormal(mean=mean, std=std, a=a, b=b, seed=4)((30000,), dtype="float64")
    assert_same_law(ours, theirs)


@pytest.mark.filterwarnings("ignore:mean is more than 2 std:UserWarning")
def test_timm_trunc_normal_collapses_in_the_far_tail_where_ours_is_exact() -> None:
    t = torch.empty(20000)  # float32, the common case
    torch.manual_seed(0)
    timm_init.trunc_normal_(t, a=6.0, b=6.5)
    theirs = t.double().numpy()
    assert np.unique(theirs).size < 100  # in float32, 2 Phi(6) - 1 rounds to 1: erfinv is inf, clamped
    ours = wi.TorchTruncNormal(a=6.0, b=6.5, seed=2)((20000,), dtype="float32").astype(np.float64)
    assert np.unique(ours).size > 10000
    assert stats.kstest(ours, stats.truncnorm(6.0, 6.5).cdf).pvalue > P_MIN
    assert stats.kstest(theirs, stats.truncnorm(6.0, 6.5).cdf).pvalue < 1e-10


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize(
    ("distribution", "ours_distribution"),
    [("normal", "untruncated_normal"), ("truncated_normal", "truncated_normal"), ("uniform", "uniform")],
)
def test_variance_scaling_is_keras_variance_scaling_with_timms_names(
    mode: str, distribution: str, ours_distribution: str
) -> None:
    torch_shape = (48, 32, 3, 3)
    theirs = timm_draw(
        timm_init.variance_scaling_, torch_shape, scale=2.0, mode=mode, distribution=distribution
    )
    ours = wi.VarianceScaling(2.0, mode, ours_distribution, seed=5)(keras_shape(torch_shape), dtype="float64")
    assert_same_law(ours, theirs)


def test_timm_normal_means_untruncated_unlike_keras() -> None:
    theirs = timm_draw(timm_init.variance_scaling_, (200, 300), distribution="normal")
    std = math.sqrt(1.0 / 300)
    assert np.abs(theirs).max() > 2.5 * std  # untruncated
    keras_normal = wi.VarianceScaling(1.0, "fan_in", "normal", seed=0)((300, 200), dtype="float64")
    assert np.abs(keras_normal).max() <= 2 * std / 0.8796 + 1e-12  # Keras: "normal" is truncated


def test_lecun_normal_is_kerass() -> None:
    torch_shape = (64, 40, 3, 3)
    theirs = timm_draw(timm_init.lecun_normal_, torch_shape)
    assert_same_law(wi.LecunNormal(seed=6)(keras_shape(torch_shape), dtype="float64"), theirs)


def test_the_docs_table_covers_every_timm_initializer() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "frameworks.md").read_text(encoding="utf-8")
    public = sorted(
        n
        for n, v in vars(timm_init).items()
        if callable(v)
        and getattr(v, "__module__", "") == timm_init.__name__
        and not n.startswith("_")
        and n != "is_meta_device"
    )
    assert len(public) == 6
    for name in public:
        assert f"`{name}" in text, name
