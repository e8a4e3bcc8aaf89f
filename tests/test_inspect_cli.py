"""``weightinit inspect``: the README section's examples (run for real), the table and ``--json``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from _support import child_env, readme_blocks
from weightinit._cli import main

SECTION = "Which initializer did my model use?"


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "weightinit._cli", *args],
        env=child_env({"COLUMNS": "250"}),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_readme_examples_and_their_output(tmp_path: Path) -> None:
    pytest.importorskip("keras")
    pytest.importorskip("torch")
    pytest.importorskip("h5py")
    code = "\n".join(readme_blocks(SECTION))
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env({"KERAS_BACKEND": "jax"}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    (printed,) = readme_blocks(SECTION, "text")
    assert run.stdout.strip() == printed.strip()
    fresh, trained, weights_only = readme_blocks(SECTION, "console")
    for block, exact in ((fresh, True), (trained, False), (weights_only, True)):
        command, *shown = block.rstrip("\n").splitlines()
        assert command.startswith("$ weightinit ")
        result = _cli(command[len("$ weightinit ") :].split(), tmp_path)
        assert result.returncode == 0, result.stderr
        if exact:  # p-values may move in the last digits with the CPU's rounding; the rest may not
            assert _no_p(result.stdout.rstrip("\n").splitlines()) == _no_p(shown)
        else:  # training on another CPU may round differently: the verdicts must agree
            summary = [line for line in shown if line.startswith("--stats")]
            assert summary and summary[0] in result.stdout
            header = [line for line in shown[:5] if line.startswith("layer")]
            assert header and header[0] in result.stdout


def _no_p(lines: list[str]) -> list[str]:
    return [" ".join(re.sub(r"\(p=[^)]*\)", "(p)", line).split()) for line in lines]


def _config_file(tmp_path: Path) -> Path:
    config = {
        "class_name": "Sequential",
        "config": {
            "name": "seq",
            "layers": [
                {
                    "class_name": "Conv2D",
                    "config": {
                        "name": "conv",
                        "filters": 4,
                        "kernel_size": 3,
                        "use_bias": False,
                        "bias_initializer": "zeros",
                    },
                },
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "d",
                        "units": 2,
                        "kernel_initializer": {"class_name": "Orthogonal", "config": {"gain": 2.0}},
                    },
                },
            ],
        },
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def test_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config_file(tmp_path)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: keras-config, Keras 2 (guessed), Sequential; 3 weights in 2 layers"
    rows = [line.split() for line in out[4:7]]
    assert rows[0][:5] == ["conv", "kernel", "-", "-", "Conv2D"]  # no bias: use_bias=False
    assert rows[1][:2] == ["d", "kernel"] and "Orthogonal(gain=2.0)" in out[5] and rows[1][-1] == "no"
    assert rows[2][0] == "bias" and "(not in config)" in out[6] and rows[2][-1] == "yes"
    assert main(["inspect", str(path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema"] == 1 and document["format"] == "keras-config" and document["stats"] is False
    weights = document["weights"]
    assert [(w["layer"], w["weight"], w["source"], w["default"]) for w in weights] == [
        ("conv", "kernel", "layer default", True),
        ("d", "kernel", "config", False),
        ("d", "bias", "layer default", True),
    ]
    assert weights[1]["initializer"] == {
        "class_name": "Orthogonal",
        "config": {"gain": 2.0},
        "known": True,
        "registered_name": None,
        "module": None,
    }
    assert set(weights[0]) == {
        "layer",
        "layer_class",
        "weight",
        "shape",
        "dtype",
        "initializer",
        "default",
        "source",
        "notes",
        "check",
        "candidates",
    }


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect"]) == 2
    assert "PATH" in capsys.readouterr().err
    assert main(["inspect", "--help"]) == 0
    assert "--stats" in capsys.readouterr().out


def test_rnn_cells_stacked_cells_and_einsum_fans() -> None:
    import weightinit as wi

    cell = {
        "class_name": "GRUCell",
        "config": {"name": "gru_cell", "units": 3, "recurrent_initializer": "identity"},
    }
    stacked = {
        "class_name": "StackedRNNCells",
        "config": {
            "cells": [
                {"class_name": "LSTMCell", "config": {"name": "c0", "units": 2}},
                {"class_name": "SimpleRNNCell", "config": {"name": "c1", "units": 2, "use_bias": False}},
            ]
        },
    }
    config = {
        "class_name": "Sequential",
        "config": {
            "layers": [
                {"class_name": "RNN", "config": {"name": "rnn", "cell": cell}},
                {"class_name": "RNN", "config": {"name": "stack", "cell": stacked}},
                {
                    "class_name": "EinsumDense",
                    "config": {
                        "name": "ed",
                        "equation": "abc,cde->abde",
                        "output_shape": [2, 3],
                        "bias_axes": "de",
                    },
                },
            ]
        },
    }
    records = {r.name: r for r in wi.inspect_model(config)}
    assert list(records) == [
        "rnn/gru_cell/kernel",
        "rnn/gru_cell/recurrent_kernel",
        "rnn/gru_cell/bias",
        "stack/stacked_rnn_cells/c0/kernel",
        "stack/stacked_rnn_cells/c0/recurrent_kernel",
        "stack/stacked_rnn_cells/c0/bias",
        "stack/stacked_rnn_cells/c1/kernel",
        "stack/stacked_rnn_cells/c1/recurrent_kernel",
        "ed/kernel",
        "ed/bias",
    ]
    assert records["rnn/gru_cell/recurrent_kernel"].initializer.class_name == "Identity"
    assert records["rnn/gru_cell/recurrent_kernel"].default is False
    assert records["stack/stacked_rnn_cells/c0/bias"].notes == (
        "unit_forget_bias: the forget-gate quarter starts at ones",
    )
    # EinsumDense kernels use Keras 3's einsum fans in --stats: a (5, 2, 3) kernel has fans (5, 6)
    from weightinit._inspect._check import build_initializer
    from weightinit._inspect._layers import einsum_axes

    init = build_initializer(records["ed/kernel"].initializer, einsum_axes("abc,cde->abde"))
    assert init.fans((5, 2, 3)) == (5, 6)
