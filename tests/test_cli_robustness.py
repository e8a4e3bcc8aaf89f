"""Command-line regressions from the adversarial pass: nothing hangs, writes elsewhere than asked,
prints warnings or tracebacks, or misreads its input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from test_cli import _env, run

pytestmark = pytest.mark.timeout(120)


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, pattern: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert re.search(pattern, lines[0]), lines[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_config_from_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    proc = run("show", f"@{fifo}", "--shape", "2", "2", timeout=30)  # it used to block forever
    one_line_error(proc, 1, r"not a regular file")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/stdin"])
def test_a_config_from_a_device_is_refused(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    one_line_error(run("show", f"@{device}", "--shape", "2", timeout=30), 1, r"not a regular file")


def test_plot_writes_exactly_the_path_given(tmp_path: Path) -> None:
    target = tmp_path / "figure"  # no suffix: matplotlib alone would write figure.png
    proc = run("show", "he_normal", "--shape", "8", "8", "--plot", str(target))
    assert proc.returncode == 0, proc.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure"]
    assert f"wrote {target}" in proc.stdout


def test_plot_in_another_format_and_an_unknown_suffix(tmp_path: Path) -> None:
    svg = tmp_path / "f.svg"
    assert run("show", "he_normal", "--shape", "8", "8", "--plot", str(svg)).returncode == 0
    assert b"<svg" in svg.read_bytes()[:2000]
    one_line_error(
        run("show", "he_normal", "--shape", "8", "--plot", str(tmp_path / "f.xyz")),
        1,
        r"unknown image format 'xyz'",
    )
    assert not (tmp_path / "f.xyz").exists()


def test_a_hex_looking_shape_is_refused_not_misread() -> None:
    one_line_error(run("show", "he_normal", "--shape", "0x10"), 2, r"'0x10' is ambiguous")
    # the documented AxB form still works, including a 0 that is not a hex prefix
    out = json.loads(run("show", "he_normal", "--shape", "10x10", "--json").stdout)
    assert out["shape"] == [10, 10]


def test_a_keyword_given_twice_is_an_error() -> None:
    proc = run("show", "RandomNormal(stddev=1.0, stddev=2.0)", "--shape", "2", "2")
    one_line_error(proc, 1, r"'stddev' is given twice")


@pytest.mark.parametrize(
    "spec",
    [
        "RandomUniform(minval=0.0, maxval=5e-324)",  # was ZeroDivisionError
        "Constant(value=1e308)",  # was RuntimeWarnings and a mean of inf
        "RandomNormal(mean=1e308, stddev=1e-300)",
    ],
)
def test_extreme_valid_specs_report_finite_statistics_quietly(spec: str) -> None:
    proc = run("show", spec, "--shape", "4", "4", "--dtype", "float64", "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    report = json.loads(proc.stdout)
    text = json.dumps(report)
    assert "Infinity" not in text and "NaN" not in text


def test_constant_near_the_float64_limit_has_its_true_mean() -> None:
    report = json.loads(
        run("show", "Constant(value=1e308)", "--shape", "3", "3", "--dtype", "float64", "--json").stdout
    )
    sample = report["sample"]
    assert sample["mean"] == 1e308 and sample["std"] == 0.0


def test_closed_standard_output_is_a_one_line_error() -> None:
    proc = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m weightinit._cli list >&-'],
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "standard output is closed" in lines[0], proc.stderr


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        # each used gigabytes or minutes before the check (measured in the adversarial pass)
        (["show", "orthogonal", "--shape", "1", "100000000"], r"needs the whole tensor.*--max-sample"),
        (["show", "stft", "--shape", "4096", "1", "2049"], r"needs the whole tensor"),
        (["compare", "orthogonal", "stft", "--shape", "4096", "2049"], r"needs the whole tensor"),
        (["show", "Constant(value=[1.0, 2.0])", "--shape", "100000000", "2"], r"needs the whole tensor"),
        (
            ["show", "he_normal", "--shape", "100000", "100000", "--max-sample", "3000000000"],
            r"more than the limit",
        ),
        (
            ["propagate", "he_normal", "--batch", "500000", "--width", "512", "--depth", "1"],
            r"would need .* GiB",
        ),
        (["propagate", "he_normal", "--depth", "100000", "--width", "1"], r"--depth must be at most 10000"),
        (
            ["propagate", "he_normal", "glorot_uniform", "lecun_normal", "--depth", "9000", "--width", "1"],
            r"too much work",
        ),
        (["propagate", "he_normal", "--width", "512", "--batch", "40000", "--depth", "10"], r"too much work"),
    ],
)
def test_the_command_bounds_memory_and_work_before_starting(args: list[str], pattern: str) -> None:
    proc = run(*args, timeout=60)
    one_line_error(proc, 1, pattern)


def test_orthogonal_work_is_bounded_even_when_memory_would_allow_it() -> None:
    env = {**_env(), "WEIGHTINIT_MAX_BYTES": str(1 << 50)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "weightinit._cli",
            "show",
            "orthogonal",
            "--shape",
            "40000",
            "40000",
            "--max-sample",
            "2000000000",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    one_line_error(proc, 1, r"floating-point operations")


def test_whole_tensor_initializers_within_the_sample_still_work() -> None:
    for spec, shape in (
        ("orthogonal", ["64", "48"]),
        ("stft", ["32", "1", "17"]),
        ("Constant(value=[1.0, 2.0])", ["4", "2"]),
    ):
        report = json.loads(run("show", spec, "--shape", *shape, "--json").stdout)
        assert report["shape"] == [int(d) for d in shape]
