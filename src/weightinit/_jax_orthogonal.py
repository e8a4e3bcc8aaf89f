"""JaxOrthogonal and DeltaOrthogonal: jax.nn.initializers.orthogonal / delta_orthogonal."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._haar import F64, haar, work_bytes
from ._random import RandomInitializer, refuse_overflow
from ._validation import MAX_RANK, Region, Shape, check_real, region_shape

__all__ = ["DeltaOrthogonal", "JaxOrthogonal"]


def _check_axis(value: object, owner: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise InvalidTypeError(
            f"{owner}: Argument `column_axis` must be an int. Received: column_axis={short_repr(value)}"
        )
    if not -MAX_RANK <= int(value) < MAX_RANK:
        raise InvalidArgumentError(f"{owner}: Argument `column_axis` must be in [-64, 64). Received: {value}")
    return int(value)


def _orthogonal(
    seed: int, call: int, shape: Shape, column_axis: int, scale: float, dtype: np.dtype[Any]
) -> NDArray[Any]:
    """JAX's matrix: ``(prod(others), shape[column_axis])`` Haar, reshaped, column axis moved back."""
    cols = shape[column_axis]
    rows = math.prod(shape) // cols
    others = tuple(d for i, d in enumerate(shape) if i != column_axis % len(shape))
    matrix = haar(seed, call, rows, cols, scale, dtype).reshape(*others, cols)
    return np.moveaxis(matrix, -1, column_axis)


class JaxOrthogonal(RandomInitializer):
    """``jax.nn.initializers.orthogonal``: Keras's Orthogonal with a choice of the column axis.

    The columns that are orthonormal (when they are the fewer) run along
    ``column_axis`` (JAX's default -1 is Keras's layout); every other axis
    folds into the rows, in order. ``scale`` is Keras's ``gain``. A shape with
    a zero dimension gives an empty array. ``index=`` computes the whole and
    slices.

    Example:
        >>> import numpy as np, weightinit as wi
        >>> w = wi.JaxOrthogonal(column_axis=0, seed=0)((3, 5), dtype="float64")
        >>> bool(np.allclose(w @ w.T, np.eye(3)))
        True
    """

    def __init__(self, scale: float = 1.0, column_axis: int = -1, seed: Any = None) -> None:
        self.scale = check_real(scale, "scale", type(self).__name__)
        self.column_axis = _check_axis(column_axis, type(self).__name__)
        super().__init__(seed)

    def _check_shape(self, shape: Shape) -> None:
        if len(shape) < 2:
            raise InvalidArgumentError(
                f"JaxOrthogonal: requires at least a 2D shape. Received: shape={shape}"
            )
        if not -len(shape) <= self.column_axis < len(shape):
            raise InvalidArgumentError(
                f"JaxOrthogonal: column_axis={self.column_axis} is out of range for shape={shape}."
            )

    def _work_bytes(self, shape: Shape) -> int:
        if math.prod(shape) == 0:
            return 0
        cols = shape[self.column_axis]
        return work_bytes(math.prod(shape) // cols, cols) + 8 * math.prod(shape)

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        refuse_overflow("JaxOrthogonal", f"scale={self.scale}", abs(self.scale), dtype, F64)
        seed, call = self._next_stream(whole)
        if math.prod(shape) == 0:
            return np.zeros(region_shape(region), dtype=dtype)
        full = _orthogonal(seed, call, shape, self.column_axis, self.scale, dtype)
        part: NDArray[Any] = np.ascontiguousarray(full[tuple(slice(a, b) for a, b in region)])
        return part

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "scale": self.scale, "column_axis": self.column_axis}


class DeltaOrthogonal(JaxOrthogonal):
    """``jax.nn.initializers.delta_orthogonal``: an orthogonal ``(in, out)`` matrix at the centre tap.

    For a 3-, 4- or 5-D kernel ``(*k, in, out)`` with ``in <= out``: zero
    everywhere except ``W[(k1 - 1) // 2, ..., :, :]``, which is
    ``JaxOrthogonal(scale, column_axis)`` of shape ``(in, out)`` (Xiao et al.
    2018). Note the centre ``(k - 1) // 2``, where torch's Dirac uses ``k // 2``.

    Example:
        >>> import numpy as np, weightinit as wi
        >>> w = wi.DeltaOrthogonal(seed=0)((3, 3, 4, 4), dtype="float64")
        >>> bool(np.allclose(w[1, 1].T @ w[1, 1], np.eye(4))), float(abs(w[0]).sum())
        (True, 0.0)
    """

    def _check_shape(self, shape: Shape) -> None:
        if len(shape) not in (3, 4, 5):
            raise InvalidArgumentError(
                f"DeltaOrthogonal: requires a 3D, 4D or 5D shape. Received: shape={shape}"
            )
        if shape[-1] < shape[-2]:
            raise InvalidArgumentError(
                f"DeltaOrthogonal: `fan_in` must be less or equal than `fan_out`. Received: shape={shape}"
            )
        if not -2 <= self.column_axis < 2:
            raise InvalidArgumentError(
                f"DeltaOrthogonal: column_axis={self.column_axis} is out of range for the (in, out) matrix."
            )

    def _work_bytes(self, shape: Shape) -> int:
        return super()._work_bytes(shape[-2:])

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        refuse_overflow("DeltaOrthogonal", f"scale={self.scale}", abs(self.scale), dtype, F64)
        seed, call = self._next_stream(whole)
        out = np.zeros(region_shape(region), dtype=dtype)
        centre = tuple((k - 1) // 2 for k in shape[:-2])
        if math.prod(shape) == 0 or not all(
            lo <= c < hi for c, (lo, hi) in zip(centre, region[:-2], strict=True)
        ):
            return out
        matrix = _orthogonal(seed, call, shape[-2:], self.column_axis, self.scale, dtype)
        (i0, i1), (o0, o1) = region[-2:]
        taps = tuple(c - lo for c, (lo, _) in zip(centre, region[:-2], strict=True))
        out[taps] = matrix[i0:i1, o0:o1]
        return out
