"""The ``weightinit`` command, run for real in a subprocess (``python -m weightinit._cli``).

Figures are checked against the formulas, PNGs against their header, JSON by
parsing it, and every error case for a one-line message, the exit code, and
the absence of a traceback.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

import weightinit as wi
from weightinit._registry import BUILTIN_KEYS, FRAMEWORK_CLASSES

SRC = Path(__file__).resolve().parents[1] / "src"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    env["COLUMNS"] = "100"
    env.pop("WEIGHTINIT_DEBUG", None)
    return env


def run(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """``python -m weightinit._cli ARGS`` with this checkout's sources."""
    return subprocess.run(
        [sys.executable, "-m", "weightinit._cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(),
        timeout=timeout,
        check=False,
    )


def ok(*args: str) -> str:
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's signature and IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# ----------------------------------------------------------------------------- show


def test_show_he_normal_prints_the_fans_and_the_std_of_the_formula() -> None:
    out = ok("show", "he_normal", "--shape", "3", "3", "64", "128")
    assert "fan_in 576" in out
    assert "fan_out 1152" in out
    assert re.search(r"^\s*std\s+0\.0589\s", out, re.MULTILINE), out
    assert "KS D = " in out and "consistent with the formula" in out
    assert "histogram" in out


def test_show_json_glorot_uniform_bounds_follow_the_formula() -> None:
    doc = json.loads(ok("show", "glorot_uniform", "--shape", "784", "256", "--json"))
    limit = math.sqrt(6.0 / (784 + 256))
    assert (doc["fan_in"], doc["fan_out"]) == (784, 256)
    assert doc["expected"]["upper"] == pytest.approx(limit, rel=1e-12)
    assert doc["expected"]["lower"] == pytest.approx(-limit, rel=1e-12)
    assert doc["expected"]["std"] == pytest.approx(limit / math.sqrt(3.0), rel=1e-12)
    sample = doc["sample"]
    assert sample["n"] == 784 * 256 and not sample["sliced"]
    assert -limit <= sample["min"] and sample["max"] < limit
    assert sample["std"] == pytest.approx(limit / math.sqrt(3.0), rel=0.01)
    assert doc["fit"]["test"] == "kolmogorov-smirnov" and doc["fit"]["p_value"] > 1e-3
    assert sum(doc["histogram"]["counts"]) == 784 * 256
    assert wi.deserialize(doc["initializer"]).get_config() == wi.GlorotUniform(seed=0).get_config()


def test_show_json_config_with_args_and_seed() -> None:
    config = json.dumps({"class_name": "VarianceScaling", "config": {"seed": 5}})
    doc = json.loads(
        ok(
            "show",
            config,
            "--shape",
            "3",
            "3",
            "16",
            "32",
            "--arg",
            "scale=2.0",
            "--arg",
            "mode=fan_out",
            "--json",
        )
    )
    fan_out = 3 * 3 * 32
    assert doc["seed"] == 5 and doc["fan_out"] == fan_out
    assert doc["initializer"]["config"]["mode"] == "fan_out"
    assert doc["expected"]["std"] == pytest.approx(math.sqrt(2.0 / fan_out), rel=1e-12)


def test_show_plot_writes_a_png_of_the_documented_size(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "he.png"
    out = ok("show", "he_normal", "--shape", "64", "32", "--plot", str(target), "-q")
    assert png_size(target) == (900, 550)
    assert "900 x 550 px" in out
    image = pytest.importorskip("matplotlib.image").imread(target)
    assert image.shape[:2] == (550, 900)


def test_show_orthogonal_reports_singular_values(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "sv.png"
    doc = json.loads(
        ok("show", "Orthogonal(gain=2.0)", "--shape", "48", "16", "--plot", str(target), "--json")
    )
    sv = doc["singular_values"]
    assert sv["count"] == 16 and sv["expected"] == 2.0
    assert sv["min"] == pytest.approx(2.0, abs=1e-5) and sv["max"] == pytest.approx(2.0, abs=1e-5)
    assert doc["expected"]["std"] == pytest.approx(2.0 / math.sqrt(48), rel=1e-12)
    assert png_size(target) == (900, 550)


def test_show_large_tensor_uses_a_leading_block() -> None:
    doc = json.loads(ok("show", "he_uniform", "--shape", "4096", "4096", "--max-sample", "100000", "--json"))
    assert doc["sample"]["sliced"] and doc["sample"]["n"] <= 100_000
    assert doc["fan_in"] == 4096
    assert doc["expected"]["upper"] == pytest.approx(math.sqrt(6.0 / 4096), rel=1e-12)


# ----------------------------------------------------------------------------- compare


def test_compare_side_by_side_and_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "cmp.png"
    out = ok(
        "compare",
        "glorot_uniform",
        "he_normal",
        "lecun_normal",
        "--shape",
        "784",
        "256",
        "--plot",
        str(target),
    )
    header = next(line for line in out.splitlines() if "glorot_uniform" in line and "he_normal" in line)
    assert "lecun_normal" in header
    std_row = next(line for line in out.splitlines() if line.strip().startswith("expected std"))
    values = [float(v) for v in std_row.split()[2:]]
    assert values == pytest.approx(
        [math.sqrt(2 / (784 + 256)), math.sqrt(2 / 784), math.sqrt(1 / 784)], rel=5e-3
    )
    assert png_size(target) == (1000, 600)


# ----------------------------------------------------------------------------- propagate


def test_propagate_default_is_fast_and_stable_for_he_normal() -> None:
    start = time.perf_counter()
    out = ok("propagate", "he_normal", "-q")
    elapsed = time.perf_counter() - start
    assert "50 dense layers of width 512, batch 256, activation relu" in out
    assert "activations stable" in out and "gradients stable" in out
    assert elapsed < 30, f"propagate took {elapsed:.1f}s"  # about 0.5 s on an idle machine


def test_propagate_shows_exploding_and_vanishing_signals(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "prop.png"
    doc = json.loads(
        ok(
            "propagate",
            "he_normal",
            "RandomNormal(stddev=1.0)",
            "glorot_uniform",
            "--activation",
            "relu",
            "--width",
            "128",
            "--depth",
            "30",
            "--json",
            "--plot",
            str(target),
        )
    )
    runs = {run["label"]: run for run in doc["runs"]}
    assert runs["he_normal"]["forward"]["verdict"] == "stable"
    assert runs["he_normal"]["backward"]["verdict"] == "stable"
    assert runs["RandomNormal(stddev=1.0)"]["forward"]["verdict"] == "exploding"
    assert runs["RandomNormal(stddev=1.0)"]["backward"]["verdict"] == "exploding"
    assert runs["glorot_uniform"]["forward"]["verdict"] == "vanishing"
    # ReLU with N(0, 1) weights multiplies the std by about sqrt(width / 2) = 8 per layer
    assert runs["RandomNormal(stddev=1.0)"]["forward"]["factor_per_layer"] == pytest.approx(8.0, rel=0.1)
    assert len(runs["he_normal"]["activation_std"]) == 31
    assert png_size(target) == (1200, 500)


# ----------------------------------------------------------------------------- list and advise


def test_list_names_every_initializer_and_alias() -> None:
    out = ok("list")
    for key in BUILTIN_KEYS:
        if key.lower() != "initializer":
            assert re.search(rf"\b{re.escape(key)}\b", out), key
    assert "sqrt(6 / (fan_in + fan_out))" in out
    entries = json.loads(ok("list", "--json"))
    assert len(entries) == 16 + len(FRAMEWORK_CLASSES)
    names = ok("list", "--names").split()
    framework = [n for cls in FRAMEWORK_CLASSES for n in (cls.__name__, f"weightinit>{cls.__name__}")]
    assert sorted(names) == sorted([*(k for k in BUILTIN_KEYS if k.lower() != "initializer"), *framework])
    for name in framework:
        assert re.search(rf"(^|\s){re.escape(name)}\b", out), name


@pytest.mark.parametrize(
    ("activation", "layer", "argument", "class_name"),
    [
        ("relu", "dense", "kernel_initializer", "HeNormal"),
        ("gelu", "conv", "kernel_initializer", "HeNormal"),
        ("tanh", "dense", "kernel_initializer", "GlorotUniform"),
        ("sigmoid", "dense", "kernel_initializer", "GlorotUniform"),
        ("linear", "conv", "kernel_initializer", "GlorotUniform"),
        ("selu", "dense", "kernel_initializer", "LecunNormal"),
        ("tanh", "rnn", "recurrent_initializer", "Orthogonal"),
        ("relu", "embedding", "embeddings_initializer", "RandomUniform"),
    ],
)
def test_advise_follows_the_usual_guidance(
    activation: str, layer: str, argument: str, class_name: str
) -> None:
    doc = json.loads(ok("advise", "--activation", activation, "--layer", layer, "--json"))
    recs = {r["argument"]: r for r in doc["recommendations"]}
    assert recs[argument]["class_name"] == class_name
    assert type(wi.deserialize(recs[argument]["config"])).__name__ == class_name
    assert recs[argument]["reason"]


def test_advise_text_gives_reason_gain_and_config() -> None:
    out = ok("advise", "--activation", "relu", "--layer", "conv", "--shape", "3", "3", "64", "128")
    assert "kernel_initializer = he_normal" in out
    assert "fan_in" in out and "gain sqrt(scale) = 1.414" in out
    assert '"class_name": "HeNormal"' in out
    assert "fan_in 576" in out and "std 0.0589" in out


# ----------------------------------------------------------------------------- errors and help


@pytest.mark.parametrize(
    ("args", "code", "pattern"),
    [
        (
            ["show", "he_norml", "--shape", "3", "3"],
            1,
            r"unknown initializer 'he_norml'\. Did you mean 'he_normal'",
        ),
        (["show", "xavier_uniform", "--shape", "3"], 1, r"Keras calls it 'glorot_uniform'"),
        (["show", "he_normal", "--shape", "3", "a"], 2, r"bad --shape"),
        (["show", "he_normal", "--shape", "3", "-2"], 1, r"dimensions must be >= 0"),
        (["show", "he_normal"], 2, r"required: --shape"),
        (["show", "he_normal", "--shape", "3", "--arg", "scale"], 2, r"expected KEY=VALUE"),
        (["show", "he_normal", "--shape", "3", "--arg", "scale=2"], 1, r"unknown config key\(s\) 'scale'"),
        (["show", "variance_scaling", "--shape", "3", "--arg", "scale=-1"], 1, r"`scale` must be positive"),
        (["show", "identity", "--shape", "2", "3", "4"], 1, r"2D matrices"),
        (["show", "he_normal", "--shape", "3", "--dtype", "int8"], 1, r"unsupported dtype"),
        (["show", "{not json", "--shape", "3"], 1, r"Invalid JSON config"),
        (["show", "RandomNormal(stddev=open('x'))", "--shape", "3"], 1, r"only literal values"),
        (["show", "orthogonal", "--shape", "200000", "200000"], 1, r"needs the whole tensor"),
        (["show", "he_normal", "--shape", "3", "--plot", "/nonexistent-dir/x.png"], 1, r"cannot write"),
        (["compare", "he_normal", "--shape", "3"], 2, r"at least two"),
        (["propagate", "he_normal", "--depth", "0"], 1, r"--depth must be at least 1"),
        (["propagate", "stft"], 1, r"rank 3"),
        (["advise", "--activation", "softmax"], 2, r"invalid choice"),
        (["frobnicate"], 2, r"invalid choice"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(args: list[str], code: int, pattern: str) -> None:
    proc = run(*args)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("weightinit"), lines[0]
    assert re.search(pattern, lines[0]), lines[0]


@pytest.mark.parametrize("command", ["list", "show", "compare", "advise", "propagate"])
def test_every_command_has_help_with_examples(command: str) -> None:
    out = ok(command, "--help")
    assert "examples:" in out and f"weightinit {command}" in out


def test_version_and_no_command() -> None:
    version = ok("--version").strip()
    assert version.startswith(f"weightinit {wi.__version__} (engine: ")
    info = wi.engine_info()
    assert (f"compiled kernel ({info['isa']})" if info["kernel"] else "numpy reference") in version
    proc = run()
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_progress_stays_off_when_stderr_is_not_a_terminal() -> None:
    proc = run("show", "orthogonal", "--shape", "512", "512")
    assert proc.returncode == 0 and proc.stderr == ""


def test_import_weightinit_loads_no_cli_plotting_or_scipy() -> None:
    code = (
        "import sys, weightinit; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'scipy') "
        "or m.startswith('weightinit._cli')]; print(bad)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def _console_script() -> str | None:
    path = shutil.which("weightinit") or str(Path(sys.executable).with_name("weightinit"))
    return path if Path(path).exists() else None


@pytest.mark.skipif(_console_script() is None, reason="the weightinit console script is not installed")
def test_console_script() -> None:
    script = _console_script()
    assert script is not None
    proc = subprocess.run(
        [script, "show", "he_normal", "--shape", "3", "3", "64", "128"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "fan_in 576" in proc.stdout
