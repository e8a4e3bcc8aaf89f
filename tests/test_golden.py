"""Golden values: the stream contract.

``tests/golden/streams.json`` holds the sha256 of the raw bytes (little-endian,
C order) of fixed-seed draws of every initializer class, in every supported
dtype, for a few shapes, plus the first values of each for humans. The values
for a given (class, config, shape, dtype) are part of the public contract
(docs: stream-stability policy), so **a failing test here means the stream
changed** — a breaking change. Do not regenerate the file to make a red test
green: find the change. When a stream change is intended, bump
``STREAM_VERSION``, run ``python tools/regen_golden.py --force`` and announce it
in the changelog.

Every case is checked twice: through the default engine path (the compiled
kernel when it is built) and with the kernel disabled (the numpy reference),
because both must give the same bits.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from weightinit._engine import _kernel
from weightinit._registry import FRAMEWORK_CLASSES

GOLDEN_PATH = Path(__file__).parent / "golden" / "streams.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_PATH.read_text(encoding="utf-8"))
FLOATS = ("float16", "bfloat16", "float32", "float64")
ENGINE_PATHS = ("default", "numpy-reference")


def _le_bytes(arr: np.ndarray) -> bytes:
    """Raw bytes in C order, little-endian whatever the platform."""
    arr = np.ascontiguousarray(arr)
    size = arr.dtype.itemsize
    return arr.view(f"u{size}").astype(f"<u{size}").tobytes()


def _sha256(arr: np.ndarray) -> str:
    return hashlib.sha256(_le_bytes(arr)).hexdigest()


def _head(arr: np.ndarray, n: int) -> list[Any]:
    flat = arr.reshape(-1)[:n]
    if flat.dtype.kind in "iub":
        return [int(v) for v in flat]
    return [float(v) for v in flat.astype(np.float64)]


@pytest.fixture(params=ENGINE_PATHS)
def engine_path(request, monkeypatch):
    """Run once as configured and once with the compiled kernel switched off."""
    if request.param == "numpy-reference":
        monkeypatch.setattr(_kernel, "available", lambda: False)
    return request.param


def _draw(case: dict[str, Any]) -> np.ndarray:
    init = getattr(wi, case["class_name"]).from_config(json.loads(json.dumps(case["config"])))
    for _ in range(case.get("draw", 0)):
        init(tuple(case["shape"]), case["dtype"])  # earlier SeedGenerator draws
    return init(tuple(case["shape"]), case["dtype"])


# --------------------------------------------------------------------------- the file itself


def test_golden_file_records_the_current_stream_version():
    assert GOLDEN["stream_version"] == wi.STREAM_VERSION, (
        "STREAM_VERSION changed: regenerate tests/golden/streams.json with "
        "tools/regen_golden.py --force and announce the stream change in the changelog"
    )


def test_golden_file_covers_every_class_of_the_catalog_in_every_float_dtype():
    covered: dict[str, set[str]] = defaultdict(set)
    for case in GOLDEN["cases"]:
        covered[case["class_name"]].add(case["dtype"])
    if GOLDEN["orthogonal"]:
        covered["Orthogonal"].update(FLOATS)  # every dtype is checked against the float64 values
    catalog = {name for name in wi.initializers.__all__ if name[0].isupper()}
    catalog -= {"Initializer", "IdentityInitializer", "OrthogonalInitializer", "STFTInitializer"}
    catalog -= {cls.__name__ for cls in FRAMEWORK_CLASSES}  # pinned in golden/frameworks.json
    assert set(covered) == catalog
    for name, dtypes in covered.items():
        assert set(FLOATS) <= dtypes, name
    for name in ("Zeros", "Ones", "Constant", "Identity"):
        assert "int32" in covered[name]


def test_golden_file_covers_all_variance_scaling_modes_and_distributions():
    combos = {
        (c["config"]["mode"], c["config"]["distribution"])
        for c in GOLDEN["cases"]
        if c["class_name"] == "VarianceScaling"
    }
    modes, distributions = (
        ("fan_in", "fan_out", "fan_avg"),
        ("truncated_normal", "untruncated_normal", "uniform"),
    )
    assert {(m, d) for m in modes for d in distributions} <= combos


def test_golden_file_has_unique_ids_and_human_readable_heads():
    ids = [c["id"] for c in GOLDEN["cases"]] + [c["id"] for c in GOLDEN["orthogonal"]]
    assert len(ids) == len(set(ids))
    for case in GOLDEN["cases"]:
        size = int(np.prod(case["shape"]))
        assert len(case["head"]) == min(4, size)
        assert len(case["sha256"]) == 64


# --------------------------------------------------------------------------- the streams


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["id"] for c in GOLDEN["cases"]])
def test_golden_stream(case, engine_path):
    arr = _draw(case)
    assert arr.shape == tuple(case["shape"])
    assert arr.dtype.name == case["dtype"]
    assert _head(arr, len(case["head"])) == case["head"], "the leading values changed"
    assert _sha256(arr) == case["sha256"], "the stream changed (see the module docstring)"


def test_seed_generator_draw_0_equals_the_int_seed_and_draws_differ():
    by_prefix: dict[str, dict[int, str]] = defaultdict(dict)
    for case in GOLDEN["cases"]:
        if "draw" in case:
            by_prefix[case["id"].split("#")[0]][case["draw"]] = case["sha256"]
    assert len(by_prefix) >= 2
    for prefix, draws in by_prefix.items():
        assert sorted(draws) == [0, 1, 2], prefix
        assert len(set(draws.values())) == 3, prefix
    for case in GOLDEN["cases"]:
        if case.get("draw") == 0:
            config = {**case["config"], "seed": case["config"]["seed"]["config"]["seed"]}
            as_int = getattr(wi, case["class_name"]).from_config(config)
            assert _sha256(as_int(tuple(case["shape"]), case["dtype"])) == case["sha256"]


# --------------------------------------------------------------------------- Orthogonal
#
# Orthogonal's values are a product of Householder reflections computed with BLAS matrix
# products, whose last bits depend on the BLAS build, the CPU's SIMD paths and the thread
# count: a sha256 of the output would pin the machine, not our code. So the golden test pins
# what is ours bit for bit (the float64 standard-normal input matrix, which is exactly
# RandomNormal(0, 1, seed)'s float64 stream of shape (rows, cols), leading axes folded) and
# compares the output to the recorded float64 values with rtol 1e-12 (every step applies an
# orthogonal matrix, so differences stay a few ulps). Narrower dtypes
# are the float64 result rounded once, so they may differ from the recorded values rounded by
# at most one ulp of that dtype (when the float64 value sits next to a rounding boundary).


@pytest.mark.parametrize("case", GOLDEN["orthogonal"], ids=[c["id"] for c in GOLDEN["orthogonal"]])
def test_golden_orthogonal_input_stream_is_bitwise_stable(case, engine_path):
    stream = wi.RandomNormal(0.0, 1.0, seed=case["config"]["seed"])(tuple(case["input_shape"]), "float64")
    assert _sha256(stream) == case["input_sha256"]


@pytest.mark.parametrize("case", GOLDEN["orthogonal"], ids=[c["id"] for c in GOLDEN["orthogonal"]])
@pytest.mark.parametrize("dtype", FLOATS)
def test_golden_orthogonal_values(case, dtype):
    shape = tuple(case["shape"])
    expected = np.array(case["values"], dtype=np.float64).reshape(shape)
    got = wi.Orthogonal.from_config(dict(case["config"]))(shape, dtype)
    assert got.shape == shape and got.dtype.name == dtype
    if dtype == "float64":
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    else:
        rounded = expected.astype(got.dtype).astype(np.float64)
        ulp = np.spacing(np.abs(rounded).astype(got.dtype)).astype(np.float64)
        assert (np.abs(got.astype(np.float64) - rounded) <= ulp).all()


def test_golden_orthogonal_values_are_orthogonal_times_gain():
    for case in GOLDEN["orthogonal"]:
        shape = tuple(case["shape"])
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        q = np.array(case["values"]).reshape(rows, cols) / case["config"].get("gain", 1.0)
        gram = q.T @ q if rows >= cols else q @ q.T
        np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-13)
