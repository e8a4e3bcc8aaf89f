"""jax.nn.initializers semantics against jax: fans, variance_scaling (every mode, complex), the rest."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from weightinit._jax_init import jax_fans

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
stats = pytest.importorskip("scipy.stats")
jinit = jax.nn.initializers
from jax._src.nn.initializers import _compute_fans  # noqa: E402

P_MIN = 1e-3


def jax_draw(initializer: Any, shape: tuple[int, ...], seeds: range, dtype: Any = None) -> np.ndarray:
    dtype = jnp.float32 if dtype is None else dtype
    return np.concatenate([np.asarray(initializer(jax.random.key(s), shape, dtype)).ravel() for s in seeds])


def ours_draw(make: Any, shape: tuple[int, ...], seeds: range, dtype: str = "float32") -> np.ndarray:
    return np.concatenate([np.asarray(make(s)(shape, dtype=dtype)).ravel() for s in seeds])


def assert_same_law(ours: np.ndarray, theirs: np.ndarray) -> None:
    p = float(stats.ks_2samp(ours.astype(np.float64), theirs.astype(np.float64)).pvalue)
    assert p > P_MIN, p


FAN_CASES = [
    ((5, 7), -2, -1, ()),
    ((3, 3, 16, 32), -2, -1, ()),
    ((3, 3, 16, 32), 2, 3, ()),
    ((8, 3, 3, 16, 32), -2, -1, 0),
    ((8, 3, 3, 16, 32), [1, 3], -1, (0,)),
    ((4, 6, 10), 0, [1, 2], ()),
    ((2, 3, 4, 5, 6), [0, 1], [3], [2]),
    ((7,), 0, 0, ()),
]


@pytest.mark.parametrize(("shape", "in_axis", "out_axis", "batch_axis"), FAN_CASES)
def test_fans_equal_jaxs(shape: tuple[int, ...], in_axis: Any, out_axis: Any, batch_axis: Any) -> None:
    expected = _compute_fans(shape, in_axis, out_axis, batch_axis)
    assert jax_fans(shape, in_axis, out_axis, batch_axis) == pytest.approx(expected, rel=1e-15)
    init = wi.JaxVarianceScaling(in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis)
    assert init.fans(shape) == pytest.approx(expected, rel=1e-15)


def test_rank_one_with_the_default_in_axis_is_refused_like_jax() -> None:
    with pytest.raises(ValueError):
        _compute_fans((7,))
    with pytest.raises(wi.InvalidArgumentError, match="at least 2D"):
        wi.JaxVarianceScaling(seed=0)((7,))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "uniform"])
def test_variance_scaling_ks_against_jax(mode: str, distribution: str) -> None:
    shape, seeds = (3, 3, 24, 40), range(3)
    theirs = jax_draw(jinit.variance_scaling(1.7, mode, distribution), shape, seeds)
    ours = ours_draw(lambda s: wi.JaxVarianceScaling(1.7, mode, distribution, seed=s), shape, seeds)
    assert_same_law(ours, theirs)
    fan_in, fan_out = _compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}.get(
        mode, math.sqrt(fan_in * fan_out)
    )
    assert wi.JaxVarianceScaling(1.7, mode, distribution).variance(shape) == pytest.approx(1.7 / n, rel=1e-15)
    assert ours.std() == pytest.approx(math.sqrt(1.7 / n), rel=0.03)


def test_variance_scaling_with_axes_ks_against_jax() -> None:
    shape, seeds = (4, 3, 3, 16, 24), range(3)
    kwargs: dict[str, Any] = {"in_axis": [1, 3], "out_axis": -1, "batch_axis": 0}
    theirs = jax_draw(jinit.variance_scaling(2.0, "fan_geo_avg", "normal", **kwargs), shape, seeds)
    ours = ours_draw(
        lambda s: wi.JaxVarianceScaling(2.0, "fan_geo_avg", "normal", seed=s, **kwargs), shape, seeds
    )
    assert_same_law(ours, theirs)


@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "uniform"])
def test_complex_variance_scaling_follows_jaxs_law(distribution: str) -> None:
    shape, seeds = (64, 96), range(4)
    theirs = jax_draw(jinit.variance_scaling(2.0, "fan_avg", distribution), shape, seeds, jnp.complex64)
    ours = ours_draw(
        lambda s: wi.JaxVarianceScaling(2.0, "fan_avg", distribution, seed=s), shape, seeds, "complex64"
    )
    assert ours.dtype == np.complex64
    for part in (np.abs, np.real, np.imag, np.angle):
        assert_same_law(part(ours), part(theirs))
    if distribution != "normal":
        radius = {
            "uniform": math.sqrt(2 * 2.0 / 80),
            "truncated_normal": 2 * math.sqrt(2.0 / 80) / 0.95311164380491208,
        }
        assert np.abs(ours).max() <= radius[distribution] * (1 + 1e-6)
    assert (np.abs(ours) ** 2).mean() == pytest.approx(2.0 / 80, rel=0.05)  # E|z|^2 = variance


@pytest.mark.parametrize(("stddev", "lower", "upper"), [(1e-2, -2.0, 2.0), (0.5, -1.0, 3.0), (2.0, 0.5, 1.5)])
def test_truncated_normal_ks_against_jax(stddev: float, lower: float, upper: float) -> None:
    shape, seeds = (10000,), range(2)
    theirs = jax_draw(jinit.truncated_normal(stddev, lower=lower, upper=upper), shape, seeds)
    ours = ours_draw(lambda s: wi.JaxTruncatedNormal(stddev, lower, upper, seed=s), shape, seeds)
    assert_same_law(ours, theirs)
    assert ours.min() >= stddev * lower and ours.max() <= stddev * upper


def test_truncated_normal_defaults_are_kerass_truncated_normal() -> None:
    np.testing.assert_array_equal(
        wi.JaxTruncatedNormal(stddev=0.3, seed=4)((50, 60)), wi.TruncatedNormal(0.0, 0.3, seed=4)((50, 60))
    )


def test_uniform_ks_against_jax() -> None:
    shape, seeds = (10000,), range(2)
    theirs = jax_draw(jinit.uniform(3.0), shape, seeds)
    ours = ours_draw(lambda s: wi.JaxUniform(3.0, seed=s), shape, seeds)
    assert_same_law(ours, theirs)
    assert ours.min() >= 0.0 and ours.max() < 3.0


@pytest.mark.parametrize(
    ("shape", "column_axis"), [((6, 10), -1), ((6, 10), 0), ((4, 3, 5), 1), ((12, 2, 3), 0)]
)
def test_orthogonal_column_axis_like_jax(shape: tuple[int, ...], column_axis: int) -> None:
    ours = wi.JaxOrthogonal(scale=2.0, column_axis=column_axis, seed=1)(shape, dtype="float64")
    theirs = np.asarray(jinit.orthogonal(2.0, column_axis)(jax.random.key(0), shape, jnp.float32))
    for w in (ours, theirs.astype(np.float64)):
        m = np.moveaxis(w, column_axis, -1).reshape(-1, shape[column_axis])
        small = min(m.shape)
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)
    seeds = range(30)
    assert_same_law(
        ours_draw(lambda s: wi.JaxOrthogonal(2.0, column_axis, seed=s), shape, seeds),
        jax_draw(jinit.orthogonal(2.0, column_axis), shape, seeds),
    )


@pytest.mark.parametrize("shape", [(3, 4, 4), (4, 3, 5), (2, 2, 3, 3), (3, 4, 2, 2, 6), (1, 5, 5)])
@pytest.mark.parametrize("column_axis", [-1, 0])
def test_delta_orthogonal_structure_equals_jaxs(shape: tuple[int, ...], column_axis: int) -> None:
    ours = wi.DeltaOrthogonal(scale=1.5, column_axis=column_axis, seed=2)(shape, dtype="float64")
    theirs = np.asarray(jinit.delta_orthogonal(1.5, column_axis)(jax.random.key(0), shape, jnp.float32))
    np.testing.assert_array_equal(ours != 0, theirs != 0)  # the centre tap is (k - 1) // 2, as in jax
    centre = ours[tuple((k - 1) // 2 for k in shape[:-2])]
    gram = centre @ centre.T  # in <= out: orthonormal rows of length out, for either column axis
    np.testing.assert_allclose(gram, 2.25 * np.eye(gram.shape[0]), atol=1e-12)


@pytest.mark.parametrize(
    ("jax_name", "ours"),
    [
        ("glorot_uniform", wi.GlorotUniform),
        ("glorot_normal", wi.GlorotNormal),
        ("xavier_uniform", wi.GlorotUniform),
        ("xavier_normal", wi.GlorotNormal),
        ("he_uniform", wi.HeUniform),
        ("he_normal", wi.HeNormal),
        ("kaiming_uniform", wi.HeUniform),
        ("kaiming_normal", wi.HeNormal),  # truncated in jax, unlike torch's kaiming_normal_
        ("lecun_uniform", wi.LecunUniform),
        ("lecun_normal", wi.LecunNormal),
    ],
)
def test_jax_presets_are_the_keras_classes_of_the_docs_table(jax_name: str, ours: Any) -> None:
    shape, seeds = (3, 3, 32, 48), range(2)
    theirs = jax_draw(getattr(jinit, jax_name)(), shape, seeds)
    assert_same_law(ours_draw(lambda s: ours(seed=s), shape, seeds), theirs)


def test_jax_normal_is_random_normal_and_its_default_differs() -> None:
    shape, seeds = (20000,), range(2)
    theirs = jax_draw(jinit.normal(0.3), shape, seeds)
    assert_same_law(ours_draw(lambda s: wi.RandomNormal(0.0, 0.3, seed=s), shape, seeds), theirs)


def test_the_docs_table_covers_every_jax_initializer() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "frameworks.md").read_text(encoding="utf-8")
    public = sorted(n for n in dir(jinit) if not n.startswith("_") and n != "Initializer")
    assert len(public) == 19
    for name in public:
        assert f"`{name}" in text or f", `{name}`" in text or f"/ `{name}" in text, name
