"""``list`` / ``show`` / ``compare`` support of the framework initializers (in process, no subprocess)."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout

import numpy as np
import pytest

import weightinit as wi
from weightinit._cli import main
from weightinit._cli._errors import CliError
from weightinit._cli._resolve import resolve, suggest
from weightinit._cli._show import analyze

#: (spec, shape): each framework class on a shape it accepts
SPECS = [
    ("weightinit>KaimingUniform", (3, 3, 32, 64)),
    ("KaimingUniform(a=2.23606797749979, mode='fan_out')", (128, 96)),
    ("KaimingNormal(nonlinearity='relu')", (3, 3, 32, 64)),
    ("XavierUniform(gain=1.5)", (200, 100)),
    ("XavierNormal", (200, 100)),
    ("TorchTruncNormal(mean=0.5, std=2.0, a=-1.0, b=4.0)", (300, 200)),
    ("TorchTruncNormal(a=6.0, b=6.5)", (300, 200)),
    ("TimmTruncNormalTF(mean=1.0, std=0.1, a=-1.0, b=3.0)", (300, 200)),
    ("JaxTruncatedNormal(stddev=0.2, lower=0.0, upper=2.5)", (300, 200)),
    ("JaxUniform(scale=3.0)", (300, 200)),
    ("JaxVarianceScaling(2.0, 'fan_geo_avg', 'uniform')", (3, 3, 32, 64)),
    ("JaxVarianceScaling(1.0, 'fan_avg', 'normal', batch_axis=0)", (4, 3, 32, 64)),
    ("JaxVarianceScaling(1.0, 'fan_in', 'truncated_normal')", (3, 3, 32, 64)),
    ("TorchDefault(layer='linear')", (256, 128)),
    ("TorchDefault(layer='conv', parameter='bias', fan_in=288)", (20000,)),
    ("TorchDefault(layer='rnn', hidden_size=64)", (64, 256)),
    ("TorchDefault(layer='embedding')", (1000, 32)),
    ("TorchOrthogonal(gain=2.0)", (3, 3, 16, 32)),
    ("JaxOrthogonal(column_axis=0)", (40, 60)),
]


@pytest.mark.parametrize(("spec", "shape"), SPECS)
def test_show_fits_the_formula(spec: str, shape: tuple[int, ...]) -> None:
    resolved = resolve(spec)
    report = analyze(resolved, shape, "float64", singular=False)
    dist = report.theory.distribution
    assert dist is not None and dist.continuous
    assert report.fit is not None and report.fit.p_value > 1e-3, report.fit
    assert report.stats.std == pytest.approx(dist.std, rel=0.05)
    assert report.stats.min >= dist.lower - 1e-12 and report.stats.max <= dist.upper + 1e-12


@pytest.mark.parametrize(
    ("spec", "shape", "points"),
    [
        ("Dirac(groups=2)", (3, 4, 6), {0.0, 1.0}),
        ("Eye", (4, 6), {0.0, 1.0}),
        ("TorchDefault(layer='norm', parameter='running_var')", (8,), {1.0}),
    ],
)
def test_show_of_deterministic_ones(spec: str, shape: tuple[int, ...], points: set[float]) -> None:
    report = analyze(resolve(spec), shape, "float32")
    dist = report.theory.distribution
    assert dist is not None and not dist.continuous
    assert set(dist.points.tolist()) == points  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("spec", "shape"), [("Sparse(sparsity=0.25)", (30, 40)), ("DeltaOrthogonal", (3, 3, 8, 8))]
)
def test_show_without_a_single_law_still_reports(spec: str, shape: tuple[int, ...]) -> None:
    report = analyze(resolve(spec), shape, None)
    assert report.theory.distribution is None and report.values.size == math.prod(shape)
    assert report.theory.formula


def test_names_resolve_to_the_classes_with_their_registered_name() -> None:
    for spec in ("weightinit>KaimingNormal", "KaimingNormal", '"KaimingNormal"', "KaimingNormal(a=0.1)"):
        resolved = resolve(spec)
        assert type(resolved.initializer) is wi.KaimingNormal and resolved.seed == 0
        assert resolved.config()["registered_name"] == "weightinit>KaimingNormal"
    config = json.dumps(wi.serialize(wi.TorchTruncNormal(a=0.0, b=1.0, seed=4)))
    resolved = resolve(config)
    assert isinstance(resolved.initializer, wi.TorchTruncNormal) and resolved.seed == 4
    assert resolve("Eye").seed is None


def test_snake_case_framework_names_are_hints_not_names() -> None:
    with pytest.raises(CliError, match="he_uniform"):
        resolve("kaiming_uniform")
    assert "he_normal" in suggest("kaiming_normal") and "'KaimingNormal'" in suggest("kaiming_normal")
    assert "'Sparse'" in suggest("sparse")


def _run(*argv: str) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(list(argv))
    assert code in (0, None)
    return buffer.getvalue()


def test_compare_and_show_commands() -> None:
    out = _run(
        "compare",
        "he_normal",
        "KaimingNormal",
        "JaxVarianceScaling(2.0, distribution='normal')",
        "--shape",
        "256",
        "128",
        "--json",
    )
    runs = json.loads(out)
    text = json.dumps(runs)
    assert "KaimingNormal" in text and "JaxVarianceScaling" in text
    shown = _run("show", "weightinit>TorchTruncNormal", "--shape", "64", "64")
    assert "truncated to [-2, 2]" in shown
    listed = _run("list")
    assert "weightinit>TorchDefault" in listed and "TorchDefault" in _run("list", "--names").split()


def test_values_shown_are_the_librarys() -> None:
    report = analyze(resolve("KaimingUniform(seed=5)"), (40, 30), "float32")
    np.testing.assert_array_equal(
        report.values, wi.KaimingUniform(seed=5)((40, 30)).astype(np.float64).ravel()
    )
