"""Deterministic fills: Constant, Zeros, Ones."""

from __future__ import annotations

import math
import numbers
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from ._base import BuiltinInitializer
from ._dtypes import is_bfloat16
from ._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._validation import Region, Shape, region_shape

__all__ = ["Constant", "Ones", "Zeros", "build_with_array", "cast_checked", "decode_array_config"]

T = TypeVar("T")

#: the largest array a Constant may hold (elements); configs are data, not bulk storage
MAX_VALUE_ELEMENTS = 1 << 20


def _python(x: Any) -> Any:
    """A numpy scalar as the Python int/float it holds (object arrays hold Python ints already)."""
    return x.item() if isinstance(x, np.generic) else x


def _all_finite(a: NDArray[Any]) -> bool:
    """No inf or NaN in the floating or complex array ``a`` (bfloat16 included)."""
    if a.ndim == 0 and a.dtype.kind != "c":
        return math.isfinite(float(a))  # a scalar value (Zeros, Ones, Constant(x)): the common case
    return bool(np.all(np.isfinite(a.astype(np.complex128))))


def cast_checked(value: NDArray[Any], dtype: np.dtype[Any], owner: str, name: str) -> NDArray[Any]:
    """Cast ``value`` to ``dtype``; raise instead of wrapping around or overflowing to inf."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        truncated = np.trunc(value.astype(np.float64)) if value.dtype.kind == "f" else value
        # compare as Python numbers: exact, unlike numpy's float64 comparison near 2**63
        if value.size and (_python(np.min(truncated)) < info.min or _python(np.max(truncated)) > info.max):
            raise InvalidArgumentError(
                f"{owner}: `{name}`={short_repr(value.tolist() if value.ndim else value.item())} "
                f"does not fit in {dtype.name} (range [{info.min}, {info.max}])."
            )
        return truncated.astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        result = value.astype(dtype)
    floating = dtype.kind in "fc" or is_bfloat16(dtype)  # bfloat16's numpy kind is 'V'
    if floating and value.size and not _all_finite(result):
        raise InvalidArgumentError(
            f"{owner}: `{name}` overflows {dtype.name}. Received: {name}="
            f"{short_repr(value.tolist() if value.ndim else value.item())}"
        )
    return result


def decode_array_config(value: Any, owner: str) -> Any:
    """Accept Keras's ``__numpy__`` / ``__tensor__`` dicts as plain lists of numbers."""
    if isinstance(value, dict):
        if value.get("class_name") not in ("__numpy__", "__tensor__") or not isinstance(
            value.get("config"), dict
        ):
            raise InvalidArgumentError(
                f"{owner}: a dict value must be a serialized array "
                "({'class_name': '__numpy__', 'config': {'value': [...], 'dtype': ...}}). "
                f"Received: {short_repr(value)}"
            )
        inner = value["config"]
        if set(inner) - {"value", "dtype"}:
            raise InvalidArgumentError(
                f"{owner}: serialized array config accepts only 'value' and 'dtype'. "
                f"Received keys: {sorted(inner)}"
            )
        return inner.get("value")
    return value


def build_with_array(cls: type[T], config: dict[str, Any], key: str) -> T:
    """``cls(**config)`` after decoding a serialized array (``__numpy__`` dict) under ``key``."""
    if not isinstance(config, dict):
        raise InvalidTypeError(
            f"Expected 'config' to be a dict for {cls.__name__}. Received: {short_repr(config)}"
        )
    config = dict(config)
    if key in config:
        config[key] = decode_array_config(config[key], cls.__name__)
    return cls(**config)


def _validate_value(value: Any, owner: str) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, numbers.Real):
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            raise InvalidArgumentError(
                f"{owner}: Argument `value` must be finite. Received: value={short_repr(value)}"
            )
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        if isinstance(value, (list, tuple)) and len(value) > MAX_VALUE_ELEMENTS:  # np.asarray is slow
            raise InvalidArgumentError(
                f"{owner}: Argument `value` has {len(value)} elements; at most {MAX_VALUE_ELEMENTS} allowed."
            )
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            raise InvalidArgumentError(
                f"{owner}: Argument `value` must be a number or a rectangular array of numbers. "
                f"Received: value={short_repr(value)}"
            ) from None
        if arr.size > MAX_VALUE_ELEMENTS:
            raise InvalidArgumentError(
                f"{owner}: Argument `value` has {arr.size} elements; at most {MAX_VALUE_ELEMENTS} allowed."
            )
        if arr.dtype.kind not in "biuf":
            raise InvalidTypeError(
                f"{owner}: Argument `value` must contain only real numbers or bools. "
                f"Received: value={short_repr(value)}"
            )
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise InvalidArgumentError(
                f"{owner}: Argument `value` must be finite. Received: value={short_repr(value)}"
            )
        return value
    raise InvalidTypeError(
        f"{owner}: Argument `value` must be a real number, a bool or an array-like of them "
        f"(not a str, None or complex). Received: value={short_repr(value)} of type {type(value).__name__}"
    )


class _Fill(BuiltinInitializer):
    """Fill with ``self.value`` broadcast to the shape, cast with range checks."""

    value: Any

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        owner = type(self).__name__
        value = np.asarray(self.value)
        # numpy's broadcast_shapes stops at 32 dimensions; shapes go up to 64
        vshape = value.shape
        fits = len(vshape) <= len(shape) and all(
            v in (1, s) for v, s in zip(reversed(vshape), reversed(shape), strict=False)
        )
        if not fits:
            raise InvalidArgumentError(
                f"{owner}: `value` of shape {value.shape} does not broadcast to shape={tuple(shape)}."
            )
        cast = cast_checked(value, dtype, owner, "value")
        out = np.empty(region_shape(region), dtype=dtype)
        if cast.ndim == 0:
            out.fill(cast)
        else:
            view = np.broadcast_to(cast, shape)
            out[...] = view[tuple(slice(a, b) for a, b in region)]
        return out


class Constant(_Fill):
    """Every element equals ``value``.

    ``value`` is a real number or bool, or an array-like that broadcasts to the
    requested shape (the result always has exactly that shape). Integer dtypes
    truncate toward zero as Keras does; a value that does not fit the dtype
    raises.

    Example:
        >>> import weightinit as wi
        >>> wi.Constant(3)((2, 2), dtype="int32")
        array([[3, 3],
               [3, 3]], dtype=int32)
    """

    def __init__(self, value: Any = 0.0) -> None:
        self.value = _validate_value(value, type(self).__name__)

    def get_config(self) -> dict[str, Any]:
        value = self.value.tolist() if isinstance(self.value, np.ndarray) else self.value
        if isinstance(value, np.generic):
            value = value.item()
        return {"value": value}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constant:
        return build_with_array(cls, config, "value")


class Zeros(_Fill):
    """Every element is 0 (any numeric or bool dtype).

    Example:
        >>> import weightinit as wi
        >>> wi.Zeros()((3,))
        array([0., 0., 0.], dtype=float32)
    """

    value = 0


class Ones(_Fill):
    """Every element is 1 (any numeric or bool dtype).

    Example:
        >>> import weightinit as wi
        >>> wi.Ones()((2,), dtype="int8")
        array([1, 1], dtype=int8)
    """

    value = 1
