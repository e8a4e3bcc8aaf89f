"""Fans of a weight shape, as Keras computes them.

The last axis is the output axis, the one before it the input axis, and every
earlier axis is a window axis whose size multiplies both fans. Explicit
``input_axes`` and ``output_axes`` (both given) override that rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ._errors import InvalidArgumentError
from ._validation import check_axes, normalize_shape

__all__ = ["compute_fans", "fans_of"]


def compute_fans(
    shape: Sequence[int],
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` for ``shape``.

    Rank 0 gives ``(1, 1)``, rank 1 ``(n, n)``, rank 2 ``(in, out)`` and rank
    ``k >= 3`` ``(in * window, out * window)`` with ``window = prod(shape[:-2])``.
    If only one of ``input_axes`` / ``output_axes`` is given, both are ignored
    (as in Keras).

    >>> compute_fans((3, 3, 64, 128))
    (576, 1152)
    >>> compute_fans((5, 2, 3), input_axes=[0], output_axes=[1, 2])
    (5, 6)
    """
    shape = normalize_shape(shape, "compute_fans")
    input_axes = check_axes(input_axes, "input_axes", "compute_fans")
    output_axes = check_axes(output_axes, "output_axes", "compute_fans")
    return fans_of(shape, input_axes, output_axes)


def fans_of(
    shape: tuple[int, ...],
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """:func:`compute_fans` for a shape and axes that are already validated."""
    if input_axes is not None and output_axes is not None:
        rank = len(shape)
        for axis in (*input_axes, *output_axes):
            if not -rank <= axis < rank:
                raise InvalidArgumentError(
                    f"Axis {axis} in `input_axes`/`output_axes` is out of range for shape={shape} "
                    f"of rank {rank}."
                )
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    window = math.prod(shape[:-2])
    return shape[-2] * window, shape[-1] * window
