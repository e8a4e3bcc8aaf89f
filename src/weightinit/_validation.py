"""Argument validation shared by every initializer.

All checks run at construction (or at the start of a call, for the call's own
arguments) so nothing bad reaches the engine: no NaN parameter, no negative
dimension, no slice outside the tensor, no allocation over the size cap.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._errors import InvalidArgumentError, InvalidTypeError, ResourceLimitError, short_int, short_repr
from ._limits import check_bytes

__all__ = [
    "Index",
    "Shape",
    "check_axes",
    "check_choice",
    "check_real",
    "normalize_index",
    "normalize_shape",
    "region_of",
]

Shape = tuple[int, ...]
Index = tuple[slice, ...]
Region = tuple[tuple[int, int], ...]

MAX_RANK = 64
#: a tensor's element count (flat indices are 64-bit counters) stays below this
MAX_ELEMENTS = 2**63


def _where(owner: str | None) -> str:
    return f"{owner}: " if owner else ""


def check_real(
    value: object,
    name: str,
    owner: str | None = None,
    *,
    positive: bool = False,
    nonnegative: bool = False,
) -> float:
    """Return ``value`` as a finite Python float or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(
            f"{_where(owner)}Argument `{name}` must be a real number (int or float, not bool). "
            f"Received: {name}={short_repr(value)} of type {type(value).__name__}"
        )
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    except (TypeError, ValueError):  # np.timedelta64 is registered as an Integral
        raise InvalidTypeError(
            f"{_where(owner)}Argument `{name}` must be a real number (int or float, not bool). "
            f"Received: {name}={short_repr(value)} of type {type(value).__name__}"
        ) from None
    if not math.isfinite(result):
        raise InvalidArgumentError(
            f"{_where(owner)}Argument `{name}` must be finite. Received: {name}={result}"
        )
    if positive and not (result > 0.0):
        raise InvalidArgumentError(
            f"{_where(owner)}Argument `{name}` must be positive float. Received: {name}={value}"
        )
    if nonnegative and not (result >= 0.0):
        raise InvalidArgumentError(f"{_where(owner)}Argument `{name}` must be >= 0. Received: {name}={value}")
    return result


def check_choice(value: object, name: str, choices: Sequence[str], owner: str | None = None) -> str:
    """Return ``value`` if it is one of ``choices``; the error lists them sorted."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in sorted(choices))
        raise InvalidArgumentError(
            f"{_where(owner)}Invalid `{name}` argument: {short_repr(value)}. Please use one of: {listed}."
        )
    return value


def _as_int(value: object, what: str) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{what} must be an int, not bool. Received: {short_repr(value)}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidTypeError(
            f"{what} must be an int. Received: {short_repr(value)} of type {type(value).__name__}"
        ) from None


def check_axes(value: object, name: str, owner: str | None = None) -> list[int] | tuple[int, ...] | None:
    """Validate ``input_axes`` / ``output_axes``: None or a list/tuple of ints."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise InvalidTypeError(
            f"{_where(owner)}Argument `{name}` must be None or a list/tuple of ints. "
            f"Received: {name}={short_repr(value)}"
        )
    if len(value) > MAX_RANK:
        raise InvalidArgumentError(
            f"{_where(owner)}Argument `{name}` has {len(value)} entries; at most {MAX_RANK} allowed."
        )
    items = [_as_int(v, f"{_where(owner)}Each entry of `{name}`") for v in value]
    for v in items:
        if not -MAX_RANK <= v < MAX_RANK:
            raise InvalidArgumentError(
                f"{_where(owner)}Argument `{name}` has axis {v}, outside [-{MAX_RANK}, {MAX_RANK})."
            )
    return type(value)(items)


def normalize_shape(shape: object, owner: str | None = None) -> Shape:
    """Validate a shape: a tuple or list of non-negative ints (numpy ints allowed)."""
    if isinstance(shape, np.ndarray) and shape.ndim == 1 and shape.dtype.kind in "iu":
        shape = [int(v) for v in shape]
    if not isinstance(shape, (tuple, list)):
        raise InvalidTypeError(
            f"{_where(owner)}Argument `shape` must be a tuple or list of non-negative ints. "
            f"Received: shape={short_repr(shape)} of type {type(shape).__name__}"
        )
    if len(shape) > MAX_RANK:
        raise InvalidArgumentError(
            f"{_where(owner)}Argument `shape` has rank {len(shape)}; at most {MAX_RANK} allowed."
        )
    dims = []
    for dim in shape:
        # a plain int needs no check (numbers.Integral is an ABC: slow to test against)
        if type(dim) is not int and (
            isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (numbers.Integral, np.integer))
        ):
            raise InvalidTypeError(
                f"{_where(owner)}Argument `shape` must contain only non-negative ints "
                f"(not bool, float or None). Received: shape={short_repr(shape)}"
            )
        value = int(dim)
        if value < 0:
            raise InvalidArgumentError(
                f"{_where(owner)}Argument `shape` must contain only non-negative ints. "
                f"Received: shape={short_repr(shape)}"
            )
        dims.append(value)
    if max(dims, default=0) >= MAX_ELEMENTS or math.prod(d for d in dims if d) >= MAX_ELEMENTS:
        raise ResourceLimitError(
            f"{_where(owner)}Argument `shape` is too large: shape {short_repr(tuple(dims))} has "
            "dimensions that (ignoring zeros) multiply to 2**63 or more."
        )
    return tuple(dims)


def normalize_index(index: object, shape: Shape, owner: str | None = None) -> Region | None:
    """Validate ``index`` against ``shape``; return ``((start, stop), ...)`` per dim.

    ``None`` means the whole tensor and returns ``None``.
    """
    if index is None:
        return None
    if not isinstance(index, tuple):
        raise InvalidTypeError(
            f"{_where(owner)}Argument `index` must be None or a tuple of slices. "
            f"Received: index={short_repr(index)} of type {type(index).__name__}"
        )
    if len(index) > len(shape):
        raise InvalidArgumentError(
            f"{_where(owner)}Argument `index` has {len(index)} entries but shape={shape} has "
            f"rank {len(shape)}."
        )
    region = []
    for axis, dim in enumerate(shape):
        if axis >= len(index):
            region.append((0, dim))
            continue
        item = index[axis]
        if not isinstance(item, slice):
            raise InvalidTypeError(
                f"{_where(owner)}Argument `index` must contain only slice objects. "
                f"Received: index[{axis}]={short_repr(item)}"
            )
        if item.step is not None and not (
            not isinstance(item.step, (bool, np.bool_))
            and isinstance(item.step, (int, np.integer))
            and int(item.step) == 1
        ):
            raise InvalidArgumentError(
                f"{_where(owner)}Argument `index` slices must have step None or 1. "
                f"Received: index[{axis}]={short_repr(item)}"
            )
        start = 0 if item.start is None else _as_int(item.start, f"{_where(owner)}Slice bounds")
        stop = dim if item.stop is None else _as_int(item.stop, f"{_where(owner)}Slice bounds")
        if not 0 <= start <= stop <= dim:
            raise InvalidArgumentError(
                f"{_where(owner)}Argument `index` is outside the tensor: index[{axis}]="
                f"slice({short_int(start)}, {short_int(stop)}) must satisfy 0 <= start <= stop <= {dim} "
                f"for shape={shape}."
            )
        region.append((start, stop))
    return tuple(region)


def region_of(shape: Shape, region: Region | None) -> Region:
    """The region for ``index=None``: the whole shape."""
    return whole_region(shape) if region is None else region


@functools.lru_cache(maxsize=256)
def whole_region(shape: Shape) -> Region:
    """The region of all of ``shape`` (a tuple of ints), remembered: adapters compare a region
    with it for every weight."""
    return tuple((0, d) for d in shape)


def region_shape(region: Region) -> Shape:
    return tuple(stop - start for start, stop in region)


def check_output_size(
    out_shape: Shape, dtype: np.dtype[Any], owner: str | Callable[[], str], extra_bytes: int = 0
) -> None:
    """Raise before allocating if the output plus working memory exceeds the cap; ``owner``
    (or what it returns, called only for an error) starts the message."""
    # numpy cannot make even an empty array whose non-zero dimensions times the itemsize reach
    # 2**63 ("array is too big"): say so in our words
    n = math.prod(out_shape)  # (when it is not 0 it is also the product of the non-zero dimensions)
    if (n or math.prod(d for d in out_shape if d)) * dtype.itemsize >= MAX_ELEMENTS:
        raise ResourceLimitError(
            f"{_text(owner)}{out_shape} as {dtype.name} cannot be represented: its non-zero dimensions "
            f"times the item size ({dtype.itemsize} bytes) reach 2**63, even though it holds no element."
        )
    nbytes = n * dtype.itemsize + extra_bytes
    check_bytes(nbytes, lambda: f"{_text(owner)}{out_shape} as {dtype.name}")


def _text(owner: str | Callable[[], str]) -> str:
    return owner if isinstance(owner, str) else owner()
