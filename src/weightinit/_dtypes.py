"""Dtype names and policies.

Random initializers produce real floating dtypes only (float16, bfloat16,
float32, float64). Deterministic ones also produce integers, bool and complex.
The output dtype is always exactly the one requested.

``ml_dtypes`` (which provides bfloat16) is imported only when bfloat16 is first
asked for: importing it costs more than a second with some of its releases,
and most programs never use bfloat16.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ._errors import InvalidTypeError, short_repr

__all__ = [
    "ANY_DTYPES",
    "FLOAT_DTYPES",
    "bfloat16",
    "dtype_name",
    "floatx",
    "is_bfloat16",
    "max_finite",
    "resolve_dtype",
    "set_floatx",
]

FLOAT_DTYPES: tuple[str, ...] = ("bfloat16", "float16", "float32", "float64")
INT_DTYPES: tuple[str, ...] = (
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
)
COMPLEX_DTYPES: tuple[str, ...] = ("complex64", "complex128")
ANY_DTYPES: tuple[str, ...] = FLOAT_DTYPES + INT_DTYPES + ("bool",) + COMPLEX_DTYPES

_BY_NAME: dict[str, np.dtype[Any]] = {name: np.dtype(name) for name in ANY_DTYPES if name != "bfloat16"}
# dtype -> name: numpy computes ``dtype.name`` anew at each access (microseconds,
# several times per call); bfloat16 joins on its first lookup
_NAMES: dict[np.dtype[Any], str] = {dtype: name for name, dtype in _BY_NAME.items()}


def dtype_name(dtype: np.dtype[Any]) -> str:
    """``dtype.name``, looked up in a table for the dtypes weightinit produces."""
    name = _NAMES.get(dtype)
    if name is None:
        name = dtype.name
        if name == "bfloat16":
            _NAMES[dtype] = name
    return name


@functools.cache
def bfloat16() -> np.dtype[Any]:
    """The bfloat16 dtype of ``ml_dtypes`` (imported on the first call)."""
    import ml_dtypes

    dtype: np.dtype[Any] = np.dtype(ml_dtypes.bfloat16)
    return dtype


def is_bfloat16(dtype: np.dtype[Any]) -> bool:
    """True for the bfloat16 dtype, without importing ``ml_dtypes``."""
    return dtype.itemsize == 2 and dtype_name(dtype) == "bfloat16"


def max_finite(dtype: np.dtype[Any]) -> float:
    """The largest finite value of a floating ``dtype`` (bfloat16 included)."""
    if is_bfloat16(dtype):
        import ml_dtypes

        return float(ml_dtypes.finfo(dtype).max)  # type: ignore[no-untyped-call]
    return float(np.finfo(dtype).max)


def _by_name(name: str) -> np.dtype[Any]:
    return bfloat16() if name == "bfloat16" else _BY_NAME[name]


_floatx = "float32"


def floatx() -> str:
    """The dtype used when a call passes ``dtype=None`` (default ``"float32"``)."""
    return _floatx


def set_floatx(name: str) -> None:
    """Change the default dtype (one of the floating dtypes)."""
    global _floatx
    _floatx = resolve_dtype(name, FLOAT_DTYPES, "set_floatx").name


def _name_of(dtype: object) -> tuple[str | None, bool]:
    """``(name, native)``: the name if weightinit knows the dtype, and whether its byte order is
    the machine's (the numpy dtype is made once: this runs at every call)."""
    if isinstance(dtype, str):
        return (dtype if dtype in ANY_DTYPES else None), True
    try:
        resolved = np.dtype(dtype)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None, True
    name = dtype_name(resolved)
    return (name if name in ANY_DTYPES else None), resolved.isnative


def resolve_dtype(dtype: object, allowed: tuple[str, ...], owner: str) -> np.dtype[Any]:
    """Map ``dtype`` (None, a name, a numpy dtype or type) to a numpy dtype in ``allowed``."""
    if dtype is None:
        dtype = _floatx
    dtype = getattr(dtype, "as_numpy_dtype", dtype)  # a tf.DType (tf.keras passes these) -> numpy type
    name, native = _name_of(dtype) if not isinstance(dtype, (bool, int, float)) else (None, True)
    if name is not None and not native:
        raise InvalidTypeError(
            f"{owner}: unsupported dtype {short_repr(dtype)}: outputs are in the machine's byte order "
            f"(use {name!r}, then `.astype(...)` for another byte order)."
        )
    if name is None or name not in allowed:
        raise InvalidTypeError(
            f"{owner}: unsupported dtype {short_repr(dtype)}. Supported dtypes: {', '.join(sorted(allowed))}."
        )
    return _by_name(name)
