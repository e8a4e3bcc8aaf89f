"""Regenerate ``tests/golden/streams.json``, the stream contract pinned by ``tests/test_golden.py``.

The golden file records, for fixed seeds, the sha256 of the raw bytes that
every initializer of the catalog produces for a few shapes in every supported
dtype, plus the first values for humans to read. A failing golden test means
the stream changed: that is a breaking change. Only regenerate after deciding
to make one (bump ``STREAM_VERSION`` in ``weightinit/_engine/_keys.py`` and
write a changelog entry), never to make a red test green.

Usage::

    python tools/regen_golden.py           # refuses if the file exists
    python tools/regen_golden.py --force   # overwrite
    python tools/regen_golden.py --check   # compare only; exit 1 on any difference
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

GOLDEN = ROOT / "tests" / "golden" / "streams.json"
FLOATS = ("float16", "bfloat16", "float32", "float64")
HEAD = 4

RANDOM_SHAPES: list[tuple[int, ...]] = [(5, 7), (3, 2, 4, 9)]
BASIC_SHAPES: list[tuple[int, ...]] = [*RANDOM_SHAPES, (1001,), ()]
ORTHOGONAL_SHAPES: list[tuple[int, ...]] = [(3, 3), (7, 4), (4, 7), (2, 3, 5)]

#: (class name, config, shapes, dtypes)
CASES: list[tuple[str, dict[str, Any], list[tuple[int, ...]], tuple[str, ...]]] = [
    ("RandomNormal", {"seed": 42}, BASIC_SHAPES, FLOATS),
    ("RandomNormal", {"seed": 7, "mean": 0.3, "stddev": 1.5}, RANDOM_SHAPES, FLOATS),
    ("RandomUniform", {"seed": 42}, BASIC_SHAPES, FLOATS),
    ("RandomUniform", {"seed": 7, "minval": -2.0, "maxval": 3.0}, RANDOM_SHAPES, FLOATS),
    ("TruncatedNormal", {"seed": 42}, BASIC_SHAPES, FLOATS),
    ("TruncatedNormal", {"seed": 7, "mean": -1.0, "stddev": 0.7}, RANDOM_SHAPES, FLOATS),
    *[
        (
            "VarianceScaling",
            {"seed": 11, "scale": 1.7, "mode": mode, "distribution": distribution},
            RANDOM_SHAPES,
            FLOATS,
        )
        for mode in ("fan_in", "fan_out", "fan_avg")
        for distribution in ("truncated_normal", "untruncated_normal", "uniform")
    ],
    (
        "VarianceScaling",
        {
            "seed": 12,
            "scale": 2.0,
            "mode": "fan_avg",
            "distribution": "uniform",
            "input_axes": [0],
            "output_axes": [1, 2],
        },
        [(5, 2, 3)],
        FLOATS,
    ),
    *[
        (name, {"seed": 42}, RANDOM_SHAPES, FLOATS)
        for name in ("GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform")
    ],
    ("Identity", {"gain": 1.0}, [(3, 5), (6, 4)], (*FLOATS, "int32")),
    ("Identity", {"gain": 2.5}, [(3, 5), (6, 4)], FLOATS),
    ("Constant", {"value": 0.7}, RANDOM_SHAPES, FLOATS),
    ("Constant", {"value": -3}, RANDOM_SHAPES, (*FLOATS, "int32")),
    ("Zeros", {}, RANDOM_SHAPES, (*FLOATS, "int32")),
    ("Ones", {}, RANDOM_SHAPES, (*FLOATS, "int32")),
    ("STFT", {}, [(16, 1, 9), (8, 3, 5)], FLOATS),
    (
        "STFT",
        {"side": "imag", "window": "hamming", "scaling": "spectrum", "periodic": True},
        [(16, 1, 9), (8, 3, 5)],
        FLOATS,
    ),
    ("STFT", {"side": "real", "window": None, "scaling": None, "periodic": False}, [(8, 2, 5)], FLOATS),
    # seeds at the edges of the range: both 32-bit halves of the seed reach the key
    *[("RandomNormal", {"seed": s}, [(9,)], ("float32", "float64")) for s in (0, 2**32, 2**64 - 1)],
]

ORTHOGONAL_CASES: list[tuple[dict[str, Any], list[tuple[int, ...]]]] = [
    ({"seed": 42}, ORTHOGONAL_SHAPES),
    ({"seed": 7, "gain": 1.3}, ORTHOGONAL_SHAPES[:2]),
]

#: SeedGenerator-seeded initializers: (class name, other config, generator seed, shape)
SEED_GENERATOR_CASES: list[tuple[str, dict[str, Any], int, tuple[int, ...]]] = [
    ("RandomNormal", {"mean": 0.0, "stddev": 1.0}, 5, (4, 6)),
    ("HeUniform", {}, 2**40 + 3, (4, 6)),
]
DRAWS = 3


def le_bytes(arr: np.ndarray) -> bytes:
    """The raw bytes of ``arr`` in C order, little-endian whatever the platform."""
    arr = np.ascontiguousarray(arr)
    size = arr.dtype.itemsize
    return arr.view(f"u{size}").astype(f"<u{size}").tobytes()


def digest(arr: np.ndarray) -> str:
    return hashlib.sha256(le_bytes(arr)).hexdigest()


def head(arr: np.ndarray) -> list[Any]:
    flat = arr.reshape(-1)[:HEAD]
    if flat.dtype.kind in "iub":
        return [int(v) for v in flat]
    return [float(v) for v in flat.astype(np.float64)]


def case_id(
    name: str, config: dict[str, Any], shape: tuple[int, ...], dtype: str, draw: int | None = None
) -> str:
    args = ",".join(f"{k}={v}" for k, v in config.items())
    text = f"{name}({args}){list(shape)}:{dtype}"
    return text if draw is None else f"{text}#draw{draw}"


def seed_generator_config(seed: int) -> dict[str, Any]:
    return {
        "module": "keras.random",
        "class_name": "SeedGenerator",
        "config": {"seed": seed, "name": "seed_generator"},
        "registered_name": None,
    }


def build() -> dict[str, Any]:
    cases = []
    for name, config, shapes, dtypes in CASES:
        cls = getattr(wi, name)
        for shape in shapes:
            for dtype in dtypes:
                arr = cls.from_config(dict(config))(shape, dtype)
                assert arr.shape == shape and arr.dtype.name == dtype
                cases.append(
                    {
                        "id": case_id(name, config, shape, dtype),
                        "class_name": name,
                        "config": config,
                        "shape": list(shape),
                        "dtype": dtype,
                        "sha256": digest(arr),
                        "head": head(arr),
                    }
                )
    for name, extra, seed, shape in SEED_GENERATOR_CASES:
        config = {**extra, "seed": seed_generator_config(seed)}
        init = getattr(wi, name).from_config(config)
        for draw in range(DRAWS):
            arr = init(shape, "float32")
            cases.append(
                {
                    "id": case_id(name, {**extra, "seed": f"SeedGenerator({seed})"}, shape, "float32", draw),
                    "class_name": name,
                    "config": config,
                    "draw": draw,
                    "shape": list(shape),
                    "dtype": "float32",
                    "sha256": digest(arr),
                    "head": head(arr),
                }
            )
    orthogonal = []
    for config, shapes in ORTHOGONAL_CASES:
        for shape in shapes:
            rows, cols = int(np.prod(shape[:-1])), shape[-1]
            stream = wi.RandomNormal(0.0, 1.0, seed=config["seed"])((rows, cols), "float64")
            values = wi.Orthogonal.from_config(dict(config))(shape, "float64")
            orthogonal.append(
                {
                    "id": case_id("Orthogonal", config, shape, "float64"),
                    "config": config,
                    "shape": list(shape),
                    "input_shape": list(stream.shape),
                    "input_sha256": digest(stream),
                    "values": [float(v) for v in values.reshape(-1)],
                }
            )
    return {
        "about": (
            "weightinit stream contract: sha256 of the little-endian C-order bytes of fixed-seed "
            "draws. Written by tools/regen_golden.py; checked by tests/test_golden.py. A change "
            "here is a breaking change of the generated values."
        ),
        "stream_version": wi.STREAM_VERSION,
        "cases": cases,
        "orthogonal": orthogonal,
    }


def render(data: dict[str, Any]) -> str:
    """JSON text with one case per line (easy to read and to diff)."""

    def dump(value: Any) -> str:
        return json.dumps(value, allow_nan=False)

    lines = ["{"]
    for key in ("about", "stream_version"):
        lines.append(f" {dump(key)}: {dump(data[key])},")
    for key in ("cases", "orthogonal"):
        rows = ",\n".join(f"  {dump(row)}" for row in data[key])
        lines.append(f" {dump(key)}: [\n{rows}\n ]" + ("," if key == "cases" else ""))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == data
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="overwrite an existing golden file")
    parser.add_argument("--check", action="store_true", help="only compare with the existing file")
    parser.add_argument("--output", type=Path, default=GOLDEN, help="where to write (default: %(default)s)")
    args = parser.parse_args(argv)
    data = build()
    text = render(data)
    if args.check:
        same = args.output.exists() and args.output.read_text(encoding="utf-8") == text
        print("golden file is up to date" if same else f"{args.output} differs from the current streams")
        return 0 if same else 1
    if args.output.exists() and not args.force:
        print(
            f"{args.output} exists; refusing to overwrite it without --force (see the docstring).",
            file=sys.stderr,
        )
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {len(data['cases'])} cases and {len(data['orthogonal'])} Orthogonal cases to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
