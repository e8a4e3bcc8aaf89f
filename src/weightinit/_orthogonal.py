"""Orthogonal: a Haar-random matrix with orthonormal rows or columns (see ``_haar``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._errors import InvalidArgumentError
from ._haar import F64, haar, work_bytes
from ._random import RandomInitializer, refuse_overflow
from ._validation import Region, Shape, check_real

__all__ = ["GainOrthogonal", "Orthogonal"]


class GainOrthogonal(RandomInitializer):
    """An orthogonal matrix of some flattening of a rank >= 2 shape, times ``gain``."""

    #: the error for a shape of rank < 2 (``{shape}`` and ``{rank}`` are filled in)
    _rank_message = ""

    def __init__(self, gain: float = 1.0, seed: Any = None) -> None:
        self.gain = check_real(gain, "gain", type(self).__name__)
        super().__init__(seed)

    def _check_shape(self, shape: Shape) -> None:
        if len(shape) < 2:
            raise InvalidArgumentError(self._rank_message.format(shape=shape, rank=len(shape)))

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "gain": self.gain}


class Orthogonal(GainOrthogonal):
    r"""Orthogonal matrix times ``gain`` (rank >= 2; leading axes fold into rows).

    With ``rows = prod(shape[:-1])`` and ``cols = shape[-1]``: a Haar-random
    ``(rows, cols)`` matrix with orthonormal columns (``rows >= cols``) or rows,
    reshaped and scaled by ``gain``. It has the law of Keras's matrix (the Q
    factor of a standard normal matrix with the signs that make ``diag(R)``
    positive), built as the product of the Householder reflections of the
    columns (rows, when ``rows < cols``) of the seed's standard normal matrix
    (the float64 stream of ``RandomNormal(0, 1, seed)`` of shape
    ``(rows, cols)``), which is what QR would compute without the
    factorization; see the module docstring.

    The matrix is computed in float64 for every output dtype (narrower dtypes
    are that result rounded once). The values are the exact product to about
    1e-14, not bit for bit across BLAS builds or thread counts. ``index=``
    computes the whole matrix and returns the slice.

    Example:
        >>> import numpy as np, weightinit as wi
        >>> q = wi.Orthogonal(seed=0)((4, 3), dtype="float64")
        >>> bool(np.allclose(q.T @ q, np.eye(3)))
        True
    """

    _rank_message = (
        "The tensor to initialize must be at least two-dimensional. Received: shape={shape} of rank {rank}."
    )

    def _work_bytes(self, shape: Shape) -> int:
        return work_bytes(math.prod(shape[:-1]), shape[-1])

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        rows, cols = math.prod(shape[:-1]), shape[-1]
        # entries of the matrix are at most 1 in magnitude; it is computed in float64
        refuse_overflow("Orthogonal", f"gain={self.gain}", abs(self.gain), dtype, F64)
        seed, call = self._next_stream(whole)
        if rows * cols == 0:
            return np.empty(tuple(b - a for a, b in region), dtype=dtype)
        full = haar(seed, call, rows, cols, self.gain, dtype).reshape(shape)
        if whole:
            return full
        part: NDArray[Any] = full[tuple(slice(a, b) for a, b in region)].copy()
        return part  # C order, and not a view that keeps the whole matrix alive
