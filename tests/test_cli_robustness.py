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
