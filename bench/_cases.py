"""The benchmark cases: what is generated, at which shape and dtype.

A case is a plain dict (it crosses process boundaries as JSON):

- ``id``: the distribution, named as weightinit's initializer that draws it
  (``normal``, ``he_uniform``, ``vs_fan_avg_truncated_normal``, ``orthogonal``,
  or ``fill`` / ``empty_fill`` for numpy's write-bandwidth floor);
- ``shape``: ``[rows, cols]``; ``dtype``: a numpy dtype name;
- ``rows``: None for the whole tensor, else the number of leading rows
  generated through ``index=`` (weightinit only);
- ``threads``: None, or the only thread counts the case runs at (``--quick``
  runs Orthogonal, seconds per call, at 2 threads only);
- ``peers``: None, or the only peers that run the case (``--quick`` runs the
  float16, bfloat16 and float64 cases, which measure weightinit's dtype
  ratios, in weightinit only).

Each peer decides which ids it can run (``peers/*.py``); results are compared
only between equal ``(id, shape, dtype, rows)``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BASIC",
    "PRESETS",
    "SMALL",
    "SMALL_SHAPES",
    "VARIANCE_SCALING",
    "all_cases",
    "key",
    "label",
    "numel",
    "vs_args",
]

Case = dict[str, Any]

BASIC = ("uniform", "normal", "truncated_normal")
PRESETS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal")
#: VarianceScaling(scale=2.0, mode, distribution): every mode and distribution
MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
VARIANCE_SCALING = tuple(f"vs_{mode}_{dist}" for mode in MODES for dist in DISTRIBUTIONS)
DTYPES = ("float32", "float16", "bfloat16", "float64")
INDEXED = ("uniform", "normal", "truncated_normal", "he_normal")
ORTHOGONAL_SHAPE = [4096, 4096]
#: small layers, where the fixed cost of a call matters as much as the per-element one
SMALL = "glorot_uniform"
SMALL_SHAPES = ([64, 64], [512, 512])


def all_cases(quick: bool) -> list[Case]:
    """Every case, in report order.

    ``quick``: (4096, 4096) only, and the presets and VarianceScaling variants
    in float32 only (the narrower and wider dtypes with the three basic
    distributions, which the presets share their kernels with).
    """
    shapes = [[4096, 4096]] if quick else [[4096, 4096], [8192, 8192]]
    cases: list[Case] = []
    for shape in shapes:
        cases += [_case(i, shape, "float32") for i in ("fill", "empty_fill")]
        cases += [_case(i, shape, "float32") for i in BASIC + PRESETS + VARIANCE_SCALING]
        for dtype in DTYPES[1:]:
            if quick:
                cases += [{**_case(i, shape, dtype), "peers": ["weightinit"]} for i in BASIC]
            else:
                cases += [_case(i, shape, dtype) for i in BASIC + PRESETS + VARIANCE_SCALING]
        cases += [_case(i, shape, "float32", rows=shape[0] // 8) for i in INDEXED]
    cases += [_case(SMALL, shape, "float32") for shape in SMALL_SHAPES]
    orthogonal = _case("orthogonal", ORTHOGONAL_SHAPE, "float32")
    if quick:
        orthogonal["threads"] = [2]
    cases.append(orthogonal)
    return cases


def _case(ident: str, shape: list[int], dtype: str, rows: int | None = None) -> Case:
    return {"id": ident, "shape": shape, "dtype": dtype, "rows": rows, "threads": None, "peers": None}


def vs_args(ident: str) -> tuple[str, str]:
    """``(mode, distribution)`` of a ``vs_*`` id."""
    mode = next(m for m in MODES if ident.startswith(f"vs_{m}_"))
    return mode, ident[len(f"vs_{mode}_") :]


def key(case: Case) -> tuple[Any, ...]:
    return (case["id"], tuple(case["shape"]), case["dtype"], case["rows"])


def numel(case: Case) -> int:
    rows, cols = case["shape"]
    return (rows if case["rows"] is None else case["rows"]) * cols


def label(case: Case) -> str:
    rows, cols = case["shape"]
    text = f"{case['id']} {rows}x{cols} {case['dtype']}"
    return text if case["rows"] is None else f"{text} index=[:{case['rows']}]"
