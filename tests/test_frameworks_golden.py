"""Golden values of the framework initializers (tests/golden/frameworks.json): their stream contract.

A failing test here means the values of a framework initializer changed: a breaking change (see
tools/regen_golden_frameworks.py). Every case runs through the default engine path and the numpy
reference, which must give the same bits.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from weightinit._engine import _kernel
from weightinit._registry import FRAMEWORK_CLASSES

GOLDEN: dict[str, Any] = json.loads(
    (Path(__file__).parent / "golden" / "frameworks.json").read_text(encoding="utf-8")
)


def _digest(arr: np.ndarray) -> str:
    arr = np.ascontiguousarray(arr)
    if arr.dtype.kind == "c":
        arr = arr.view(np.float32 if arr.dtype == np.complex64 else np.float64)
    size = arr.dtype.itemsize
    return hashlib.sha256(arr.view(f"u{size}").astype(f"<u{size}").tobytes()).hexdigest()


@pytest.fixture(params=["default", "numpy-reference"])
def engine_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "numpy-reference":
        monkeypatch.setattr(_kernel, "available", lambda: False)
    return str(request.param)


def _build(case: dict[str, Any]) -> wi.Initializer:
    return getattr(wi, case["class_name"]).from_config(json.loads(json.dumps(case["config"])))


def test_the_file_covers_every_framework_class_in_every_float_dtype() -> None:
    assert GOLDEN["stream_version"] == wi.STREAM_VERSION
    covered: dict[str, set[str]] = {}
    for case in GOLDEN["cases"]:
        covered.setdefault(case["class_name"], set()).add(case["dtype"])
    for case in GOLDEN["orthogonal"]:
        covered.setdefault(case["class_name"], set()).update(("float16", "bfloat16", "float32", "float64"))
    assert set(covered) == {cls.__name__ for cls in FRAMEWORK_CLASSES}
    for name, dtypes in covered.items():
        assert {"float16", "bfloat16", "float32", "float64"} <= dtypes, name
    assert {"complex64", "complex128"} <= covered["JaxVarianceScaling"]


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["id"] for c in GOLDEN["cases"]])
def test_golden_stream(case: dict[str, Any], engine_path: str) -> None:
    values = _build(case)(tuple(case["shape"]), case["dtype"])
    assert values.dtype.name == case["dtype"] and list(values.shape) == case["shape"]
    assert _digest(values) == case["sha256"], f"{case['id']}: the stream changed ({engine_path})"


@pytest.mark.parametrize("case", GOLDEN["orthogonal"], ids=[c["id"] for c in GOLDEN["orthogonal"]])
@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
def test_golden_orthogonal_values(case: dict[str, Any], dtype: str) -> None:
    expected = np.array(case["values"]).reshape(case["shape"])
    got = _build(case)(tuple(case["shape"]), dtype).astype(np.float64)
    tol = {"float64": 1e-13, "float32": 1e-6, "bfloat16": 1e-2}[dtype]
    np.testing.assert_allclose(got, expected, atol=tol, rtol=tol)
