"""Regenerate ``tests/golden/frameworks.json``: the stream contract of the framework initializers.

The same policy as ``tools/regen_golden.py`` (see its docstring): fixed-seed draws of every
framework class (torch.nn.init / jax.nn.initializers / timm semantics) in every float dtype, as the
sha256 of their little-endian C-order bytes plus the first values; the orthogonal ones (computed
by matrix products, the same to about 1e-14 on every BLAS rather than bit for bit) as their float64
values. A failing ``tests/test_frameworks_golden.py`` means the values changed: a breaking change.

Usage::

    python tools/regen_golden_frameworks.py           # refuses if the file exists
    python tools/regen_golden_frameworks.py --force   # overwrite
    python tools/regen_golden_frameworks.py --check   # compare only; exit 1 on any difference
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

import weightinit as wi  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "frameworks.json"
FLOATS = ("float16", "bfloat16", "float32", "float64")
SHAPES: list[tuple[int, ...]] = [(5, 7), (3, 2, 4, 9)]

#: (class name, config, shapes, dtypes): every path of every class
CASES: list[tuple[str, dict[str, Any], list[tuple[int, ...]], tuple[str, ...]]] = [
    ("KaimingUniform", {"seed": 1}, SHAPES, FLOATS),
    ("KaimingUniform", {"seed": 2, "a": 0.3, "mode": "fan_out", "nonlinearity": "tanh"}, SHAPES, FLOATS),
    ("KaimingNormal", {"seed": 3}, SHAPES, FLOATS),
    ("KaimingNormal", {"seed": 4, "mode": "fan_out", "nonlinearity": "selu"}, SHAPES, FLOATS),
    ("XavierUniform", {"seed": 5, "gain": 1.5}, SHAPES, FLOATS),
    ("XavierNormal", {"seed": 6}, SHAPES, FLOATS),
    ("TorchTruncNormal", {"seed": 7}, SHAPES, FLOATS),  # +-2 std: the engine's truncated normal
    ("TorchTruncNormal", {"seed": 8, "std": 0.02}, SHAPES, FLOATS),  # +-100 std: the engine's normal
    ("TorchTruncNormal", {"seed": 9, "mean": 0.5, "std": 2.0, "a": -1.0, "b": 4.0}, SHAPES, FLOATS),
    ("TorchTruncNormal", {"seed": 10, "a": 3.0, "b": 9.0}, SHAPES, FLOATS),  # mirrored tail
    ("TorchTruncNormal", {"seed": 11, "a": -14.0, "b": -13.0}, SHAPES, FLOATS),  # float64 work
    ("TimmTruncNormalTF", {"seed": 12, "mean": 1.0, "std": 0.5, "a": -1.0, "b": 3.0}, SHAPES, FLOATS),
    ("JaxTruncatedNormal", {"seed": 13, "stddev": 0.3, "lower": 0.0, "upper": 1.0}, SHAPES, FLOATS),
    ("JaxUniform", {"seed": 14, "scale": 2.0}, SHAPES, FLOATS),
    *[
        ("JaxVarianceScaling", {"seed": 15, "scale": 1.7, "mode": mode, "distribution": d}, SHAPES, FLOATS)
        for mode in ("fan_in", "fan_geo_avg")
        for d in ("truncated_normal", "normal", "uniform")
    ],
    *[
        (
            "JaxVarianceScaling",
            {"seed": 16, "distribution": d, "in_axis": 0, "out_axis": [1, 2]},
            [(3, 2, 4)],
            ("complex64", "complex128"),
        )
        for d in ("truncated_normal", "normal", "uniform")
    ],
    ("Sparse", {"seed": 17, "sparsity": 0.3, "std": 0.5}, [(5, 7), (4, 10)], FLOATS),
    ("TorchDefault", {"seed": 18}, SHAPES, FLOATS),
    ("TorchDefault", {"seed": 19, "layer": "conv", "parameter": "bias", "fan_in": 27}, [(9,)], FLOATS),
    ("TorchDefault", {"seed": 20, "layer": "embedding", "padding_idx": 1}, [(5, 7)], FLOATS),
    ("TorchDefault", {"seed": 21, "layer": "rnn", "parameter": "bias", "hidden_size": 6}, [(24,)], FLOATS),
    ("TorchDefault", {"layer": "norm", "parameter": "running_var"}, [(6,)], FLOATS),
    ("Dirac", {"groups": 2}, [(3, 4, 6), (3, 3, 2, 4)], (*FLOATS, "int32")),
    ("Eye", {}, [(5, 7)], (*FLOATS, "int32")),
]
#: matrix products: (class name, config, shapes), values in float64
ORTHOGONAL_CASES: list[tuple[str, dict[str, Any], list[tuple[int, ...]]]] = [
    ("TorchOrthogonal", {"seed": 22, "gain": 1.5}, [(4, 6), (6, 4), (3, 2, 5)]),
    ("JaxOrthogonal", {"seed": 23, "scale": 0.5, "column_axis": 0}, [(4, 6), (3, 2, 5)]),
    ("DeltaOrthogonal", {"seed": 24}, [(3, 2, 4), (2, 2, 3, 3)]),
]


def le_bytes(arr: np.ndarray) -> bytes:
    """Raw bytes in C order, little-endian whatever the platform (complex: as two floats)."""
    arr = np.ascontiguousarray(arr)
    if arr.dtype.kind == "c":
        arr = arr.view(np.float32 if arr.dtype == np.complex64 else np.float64)
    size = arr.dtype.itemsize
    return arr.view(f"u{size}").astype(f"<u{size}").tobytes()


def digest(arr: np.ndarray) -> str:
    return hashlib.sha256(le_bytes(arr)).hexdigest()


def head(arr: np.ndarray) -> list[Any]:
    flat = np.ascontiguousarray(arr).reshape(-1)[:4]
    if flat.dtype.kind == "c":
        return [[float(v.real), float(v.imag)] for v in flat.astype(np.complex128)]
    return [float(v) for v in flat.astype(np.float64)]


def case_id(name: str, config: dict[str, Any], shape: tuple[int, ...], dtype: str) -> str:
    args = ",".join(f"{k}={v}" for k, v in sorted(config.items()))
    return f"{name}({args})[{'x'.join(map(str, shape)) or 'scalar'}]:{dtype}"


def build() -> dict[str, Any]:
    cases = []
    for name, config, shapes, dtypes in CASES:
        for shape in shapes:
            for dtype in dtypes:
                values = getattr(wi, name).from_config(dict(config))(shape, dtype)
                cases.append(
                    {
                        "id": case_id(name, config, shape, dtype),
                        "class_name": name,
                        "config": config,
                        "shape": list(shape),
                        "dtype": dtype,
                        "sha256": digest(values),
                        "head": head(values),
                    }
                )
    orthogonal = []
    for name, config, shapes in ORTHOGONAL_CASES:
        for shape in shapes:
            values = getattr(wi, name).from_config(dict(config))(shape, "float64")
            orthogonal.append(
                {
                    "id": case_id(name, config, shape, "float64"),
                    "class_name": name,
                    "config": config,
                    "shape": list(shape),
                    "values": [float(v) for v in values.reshape(-1)],
                }
            )
    return {
        "about": (
            "weightinit stream contract of the framework initializers: sha256 of the little-endian "
            "C-order bytes of fixed-seed draws. Written by tools/regen_golden_frameworks.py; checked "
            "by tests/test_frameworks_golden.py. A change here is a breaking change."
        ),
        "stream_version": wi.STREAM_VERSION,
        "cases": cases,
        "orthogonal": orthogonal,
    }


def render(data: dict[str, Any]) -> str:
    lines = ["{"]
    lines.append(f'  "about": {json.dumps(data["about"])},')
    lines.append(f'  "stream_version": {data["stream_version"]},')
    for key in ("cases", "orthogonal"):
        lines.append(f'  "{key}": [')
        items = [f"    {json.dumps(item, separators=(', ', ': '))}" for item in data[key]]
        lines.append(",\n".join(items))
        lines.append("  ]," if key == "cases" else "  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        same = GOLDEN.exists() and GOLDEN.read_text(encoding="utf-8") == text
        print("golden file is current" if same else "golden file differs")
        return 0 if same else 1
    if GOLDEN.exists() and not args.force:
        print(f"{GOLDEN} exists; pass --force to overwrite (a breaking change of the stream)")
        return 1
    GOLDEN.write_text(text, encoding="utf-8")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
