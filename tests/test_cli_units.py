"""The command line's parts, in process: special functions, KS test, theory, parsing, output."""

from __future__ import annotations

import io
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from conftest import CALLABLE_CLASS_NAMES, make
from weightinit._cli import main
from weightinit._cli._activations import ACTIVATIONS, activation, second_moment
from weightinit._cli._advise import ADVISE_ACTIVATIONS, LAYERS, advise
from weightinit._cli._catalog import ENTRIES, entries
from weightinit._cli._errors import CliError, UsageError
from weightinit._cli._progress import Progress
from weightinit._cli._propagate import SIGNAL_OFFSET, propagate
from weightinit._cli._resolve import parse_arg_pairs, parse_shape, resolve, suggest
from weightinit._cli._show import analyze, prefix_index
from weightinit._cli._text import Glyphs, fmt, histogram_lines, sparkline
from weightinit._laws._special import erfc, kolmogorov_sf, ks_pvalue, ndtr
from weightinit._laws._stats import ks_test, sample_stats
from weightinit._laws._theory import SphereMarginal, TruncatedNormalDist, Uniform, theory_of
from weightinit._registry import BUILTIN_CLASSES, FRAMEWORK_CLASSES
from weightinit._variance_scaling import TRUNCATED_STD

# ----------------------------------------------------------------------------- special functions


def test_erfc_matches_math_to_float32_precision() -> None:
    x = np.linspace(-9.0, 9.0, 20001)
    reference = np.array([math.erfc(v) for v in x])
    assert np.max(np.abs(erfc(x) - reference) / reference) < 2e-7
    assert erfc(np.array([np.inf, -np.inf])).tolist() == [0.0, 2.0]
    assert ndtr(np.array([0.0]))[0] == pytest.approx(0.5, abs=1e-7)


@pytest.mark.parametrize(
    ("lam", "expected"),
    # P(K > lam) for the Kolmogorov distribution (scipy.stats.kstwobign.sf)
    [
        (0.3, 0.9999906941986655),
        (0.5, 0.9639452436648751),
        (0.8, 0.5441424115741981),
        (1.0, 0.26999967167735456),
        (1.36, 0.049485876755377876),
        (2.0, 0.0006709252557796953),
    ],
)
def test_kolmogorov_survival_function(lam: float, expected: float) -> None:
    assert kolmogorov_sf(lam) == pytest.approx(expected, rel=1e-6)


def test_kolmogorov_edges() -> None:
    assert kolmogorov_sf(0.0) == 1.0 and kolmogorov_sf(math.inf) == 0.0 and kolmogorov_sf(-1.0) == 1.0
    assert math.isnan(ks_pvalue(0.1, 0))


def test_ks_statistic_by_hand() -> None:
    result = ks_test(np.array([0.9, 0.1, 0.5]), lambda x: np.clip(x, 0.0, 1.0))
    # D = max(1/3 - 0.1, 2/3 - 0.5, 1 - 0.9, 0.1 - 0, 0.5 - 1/3, 0.9 - 2/3)
    assert result.statistic == pytest.approx(0.9 - 2 / 3)
    assert result.n == 3 and 0.0 < result.p_value <= 1.0


def test_ks_agrees_with_scipy_when_available() -> None:
    stats = pytest.importorskip("scipy.stats")
    x = wi.RandomNormal(stddev=1.0, seed=3)((2000,), dtype="float64")
    ours = ks_test(x, ndtr)
    theirs = stats.kstest(x, "norm", method="asymp")
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-6)  # our erfc: 1.2e-7
    assert ours.p_value == pytest.approx(stats.kstwo.sf(ours.statistic, x.size), rel=0.05)


def test_sample_stats_fraction_beyond_two_std() -> None:
    values = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    stats = sample_stats(values, center=0.0, scale=1.0)
    assert stats.beyond_2std == pytest.approx(0.4)
    assert (stats.min, stats.max, stats.mean) == (-3.0, 3.0, 0.0)
    assert sample_stats(np.array([])).n == 0


# ----------------------------------------------------------------------------- theory


def test_truncated_normal_std_is_the_library_constant() -> None:
    dist = TruncatedNormalDist(0.0, 1.0)
    assert dist.std == pytest.approx(TRUNCATED_STD, rel=1e-12)
    # P(|Z| > 2 * 0.8796 | |Z| <= 2), computed from math.erf
    t = 2 * TRUNCATED_STD
    expected = (math.erf(2 / math.sqrt(2)) - math.erf(t / math.sqrt(2))) / math.erf(2 / math.sqrt(2))
    assert dist.beyond(2.0) == pytest.approx(expected, rel=1e-9)


def test_uniform_moments() -> None:
    dist = Uniform(-1.0, 3.0)
    assert (dist.mean, dist.std) == (1.0, pytest.approx(4 / math.sqrt(12)))
    assert dist.beyond(2.0) == 0.0


@pytest.mark.parametrize("n", [2, 3, 5, 64, 4096])
def test_orthogonal_entry_law(n: int) -> None:
    dist = SphereMarginal(n, gain=2.0)
    x = np.linspace(-2.0, 2.0, 20001)
    cdf = dist.cdf(x)
    assert cdf[0] == 0.0 and cdf[-1] == pytest.approx(1.0) and np.all(np.diff(cdf) >= 0)
    if n == 2:  # arcsine law
        assert np.allclose(cdf, 0.5 + np.arcsin(x / 2.0) / math.pi, atol=1e-6)
    if n == 3:  # uniform on [-gain, gain]
        assert np.allclose(cdf, (x + 2.0) / 4.0, atol=1e-6)
    if n >= 3:
        pdf = dist.pdf(x)
        assert np.trapezoid(pdf, x) == pytest.approx(1.0, rel=1e-4)
        assert math.sqrt(np.trapezoid(x * x * pdf, x)) == pytest.approx(dist.std, rel=1e-4)
    assert dist.std == pytest.approx(2.0 / math.sqrt(n))


def _shape_for(name: str) -> tuple[int, ...]:
    return {"STFT": (16, 2, 9), "Identity": (12, 8)}.get(name, (64, 48))


@pytest.mark.parametrize("name", CALLABLE_CLASS_NAMES)
def test_theory_matches_a_real_draw_for_every_catalog_class(name: str) -> None:
    init = make(name)
    shape = _shape_for(name)
    values = np.asarray(init(shape), dtype=np.float64).ravel()
    theory = theory_of(init, shape, np.dtype("float32"))
    dist = theory.distribution
    assert dist is not None
    if dist.continuous:
        assert values.mean() == pytest.approx(dist.mean, abs=4 * dist.std / math.sqrt(values.size))
        assert values.std() == pytest.approx(dist.std, rel=0.05)
        assert ks_test(values, dist.cdf).p_value > 1e-3
        assert values.min() >= dist.lower - 1e-6 and values.max() <= dist.upper + 1e-6
    else:
        assert values.mean() == pytest.approx(dist.mean, abs=1e-6)
        assert values.std() == pytest.approx(dist.std, abs=1e-6)


def test_theory_of_variance_scaling_uses_explicit_axes() -> None:
    init = wi.VarianceScaling(2.0, "fan_out", "untruncated_normal", input_axes=[0], output_axes=[1, 2])
    theory = theory_of(init, (5, 2, 3), np.dtype("float32"))
    assert (theory.fan_in, theory.fan_out) == (5, 6)
    assert theory.distribution is not None and theory.distribution.std == pytest.approx(math.sqrt(2 / 6))


# ----------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("tokens", "shape"),
    [
        (["3", "3", "64", "128"], (3, 3, 64, 128)),
        (["3x3x64x128"], (3, 3, 64, 128)),
        (["3,3,64,128"], (3, 3, 64, 128)),
        (["(784,", "256)"], (784, 256)),
        (["()"], ()),
        (["0", "5"], (0, 5)),
    ],
)
def test_parse_shape(tokens: list[str], shape: tuple[int, ...]) -> None:
    assert parse_shape(tokens) == shape


def test_parse_shape_errors() -> None:
    with pytest.raises(UsageError):
        parse_shape(["3", "a"])
    with pytest.raises(CliError, match=">= 0"):
        parse_shape(["-3"])


def test_parse_arg_pairs_reads_json_scalars() -> None:
    args = parse_arg_pairs(["scale=2.0", "mode=fan_out", "periodic=true", "window=null", "value=[1, 2]"])
    assert args == {"scale": 2.0, "mode": "fan_out", "periodic": True, "window": None, "value": [1, 2]}
    with pytest.raises(UsageError):
        parse_arg_pairs(["=3"])
    with pytest.raises(UsageError):
        parse_arg_pairs(["a=1", "a=2"])


def test_resolve_forms(tmp_path: Path) -> None:
    assert resolve("he_normal").initializer.get_config()["seed"] == 0
    assert resolve("he_normal", seed=9).seed == 9
    call = resolve("VarianceScaling(2.0, mode=fan_out, distribution='uniform')").initializer
    assert (call.scale, call.mode, call.distribution) == (2.0, "fan_out", "uniform")
    config = {"class_name": "RandomNormal", "config": {"stddev": 1.0, "seed": 4}}
    from_json = resolve(json.dumps(config), {"mean": 2.0})
    assert from_json.seed == 4 and from_json.initializer.mean == 2.0 and from_json.initializer.stddev == 1.0
    path = tmp_path / "init.json"
    path.write_text(json.dumps(config))
    assert resolve(f"@{path}").initializer.stddev == 1.0
    assert resolve("zeros", seed=3).seed is None
    assert resolve('"he_uniform"').class_name == "HeUniform"


@pytest.mark.parametrize(
    "spec",
    ["nope", "Initializer", "RandomNormal(stddev=len('x'))", "RandomNormal(**{'a': 1})", "[1, 2]", "{}"],
)
def test_resolve_rejects(spec: str) -> None:
    with pytest.raises((CliError, ValueError)):
        resolve(spec)


def test_suggestions() -> None:
    assert "'he_normal'" in suggest("he_norml")
    assert "'glorot_uniform'" in suggest("xavier_uniform")
    assert "'GlorotUniform'" in suggest("GlorotUnifrom")
    assert suggest("completely-different") == ""


def test_prefix_index_stays_under_the_cap() -> None:
    for shape in [(10, 10), (1000, 1000), (7, 100_000), (3, 3, 512, 512), (5, 10**7)]:
        index = prefix_index(shape, 100_000)
        if index is None:
            assert math.prod(shape) <= 100_000
            continue
        size = math.prod(min(s.stop, n) for s, n in zip(index, shape, strict=False)) * math.prod(
            shape[len(index) :]
        )
        assert 0 < size <= 100_000


def test_analyze_sliced_draw_equals_the_same_block_of_the_whole() -> None:
    resolved = resolve("glorot_normal")
    report = analyze(resolved, (300, 200), None, max_sample=10_000)
    whole = wi.GlorotNormal(seed=0)((300, 200)).astype(np.float64)
    block = whole[: report.sample_shape[0]].ravel()
    assert report.sliced and np.array_equal(report.values, block)


# ----------------------------------------------------------------------------- catalog, text, progress


def test_catalog_describes_every_class() -> None:
    concrete = {cls.__name__ for cls in (*BUILTIN_CLASSES, *FRAMEWORK_CLASSES)} - {"Initializer"}
    assert set(ENTRIES) == concrete
    by_name = {e.name: e for e in entries()}
    assert by_name["HeNormal"].aliases == ("he_normal",)
    assert by_name["KaimingNormal"].aliases == ("weightinit>KaimingNormal",)
    assert by_name["RandomNormal"].random and not by_name["Zeros"].random


def test_histogram_and_sparkline_text() -> None:
    glyphs = Glyphs(unicode=False)
    lines = histogram_lines(
        np.array([0.0, 1.0, 2.0]), np.array([10, 5]), np.array([8.0, 8.0]), glyphs, width=20, indent=0
    )
    # the marker '|' sits where the formula's count (8) ends; it may cover part of the bar
    assert len(lines) == 2 and lines[0].count("#") + lines[0].count("|") == 20 and "|" in lines[1]
    assert sparkline([0.0, 0.5, 1.0, math.nan], glyphs) == " =# "
    assert (fmt(0.058925565), fmt(None), fmt(math.inf), fmt(0.0)) == ("0.0589", "-", "inf", "0")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_after_the_delay_and_erases_itself() -> None:
    stream = _Terminal()
    with Progress("demo", total=2, stream=stream, delay=0.0, interval=0.01) as progress:
        progress.step("first")
        time.sleep(0.1)
        progress.step("second", advance=1)
        time.sleep(0.1)
    text = stream.getvalue()
    assert "demo: [" in text and "first" in text and "50%" in text
    assert text.endswith("\r") and text.rstrip("\r").split("\r")[-1].strip() == ""


@pytest.mark.parametrize(("stream", "enabled"), [(io.StringIO(), True), (_Terminal(), False)])
def test_progress_silent_off_a_terminal_or_when_quiet(stream: Any, enabled: bool) -> None:
    with Progress("demo", total=1, stream=stream, enabled=enabled, delay=0.0, interval=0.01) as progress:
        time.sleep(0.05)
        progress.advance()
    assert stream.getvalue() == ""


def test_progress_waits_for_slow_steps_only() -> None:
    stream = _Terminal()
    with Progress("demo", stream=stream, delay=5.0):
        pass
    assert stream.getvalue() == ""


# ----------------------------------------------------------------------------- activations, advise, propagate


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivatives(name: str) -> None:
    f, df = activation(name)
    x = np.linspace(-4.0, 4.0, 801) + 1e-3  # keep off the kinks at 0
    numeric = (f(x + 1e-6) - f(x - 1e-6)) / 2e-6
    assert np.allclose(df(x), numeric, atol=1e-5)


def test_second_moments() -> None:
    assert second_moment("relu") == pytest.approx(0.5)
    assert second_moment("linear") == pytest.approx(1.0)
    assert second_moment("leaky_relu", 0.2) == pytest.approx((1 + 0.04) / 2)
    assert second_moment("selu") == pytest.approx(1.0, abs=1e-3)  # SELU's fixed point


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("name", ADVISE_ACTIVATIONS)
def test_advise_every_combination(capsys: pytest.CaptureFixture[str], name: str, layer: str) -> None:
    assert main(["advise", "--activation", name, "--layer", layer, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for rec in doc["recommendations"]:
        wi.deserialize(rec["config"])  # every recommended config is loadable


def test_advise_leaky_relu_gain() -> None:
    kernel = advise("leaky_relu", "dense", negative_slope=0.1).recommendations[0].initializer
    assert kernel.scale == pytest.approx(2 / 1.01, rel=1e-6) and kernel.mode == "fan_in"


def _reference_trace(
    init: Any, width: int, depth: int, batch: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 forward/backward with the same draws as ``propagate`` (ReLU)."""
    signals = wi.SeedGenerator((seed + SIGNAL_OFFSET) % 2**64)
    x = wi.RandomNormal(0.0, 1.0, seed=signals)((batch, width), dtype="float64")
    g = wi.RandomNormal(0.0, 1.0, seed=signals)((batch, width), dtype="float64")
    weights, zs, act = [], [], [x.std()]
    for _ in range(depth):
        w = init((width, width)).astype(np.float64)
        z = x @ w
        x = np.maximum(z, 0.0)
        weights.append(w)
        zs.append(z)
        act.append(x.std())
    grad = [0.0] * depth + [g.std()]
    for layer in reversed(range(depth)):
        g = (g * (zs[layer] > 0)) @ weights[layer].T
        grad[layer] = g.std()
    return np.array(act), np.array(grad)


@pytest.mark.parametrize(
    ("spec", "verdict"), [("he_normal", "stable"), ("RandomNormal(stddev=1.0)", "exploding")]
)
def test_propagate_matches_a_float64_reference(spec: str, verdict: str) -> None:
    resolved = resolve(spec, seed=2)
    result = propagate([resolved], activation_name="relu", width=64, depth=40, batch=32, seed=2)
    run = result.runs[0]
    init = type(resolved.initializer).from_config(
        {**resolved.config()["config"], "seed": wi.SeedGenerator(2)}
    )
    act, grad = _reference_trace(init, 64, 40, 32, 2)
    assert np.allclose(run.activation_std, act, rtol=1e-4)
    assert np.allclose(run.gradient_std, grad, rtol=1e-4)
    if verdict == "exploding":
        assert run.forward_verdict == run.backward_verdict == "exploding"
    else:  # a narrow ReLU stack drifts a little, but He keeps it far from vanishing or exploding
        assert run.forward_verdict not in ("exploding", "vanishing", "overflow")
        assert run.backward_verdict not in ("exploding", "vanishing", "overflow")


def test_propagate_dead_and_vanishing() -> None:
    runs = propagate(
        [resolve("zeros"), resolve("glorot_uniform")],
        activation_name="relu",
        width=32,
        depth=30,
        batch=16,
        seed=0,
    ).runs
    assert runs[0].forward_verdict.startswith("dead")
    assert runs[1].forward_verdict == "vanishing"


def test_main_returns_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "he_normal", "--shape", "3", "3", "64", "128", "--ascii"]) == 0
    out = capsys.readouterr().out
    assert "fan_in 576" in out and "#" in out
    assert main(["show", "nope", "--shape", "3"]) == 1
    assert main(["show", "he_normal", "--shape", "3", "--bins", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err
