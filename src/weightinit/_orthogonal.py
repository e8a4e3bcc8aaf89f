"""Orthogonal: a Haar-random matrix with orthonormal rows or columns."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._engine import sample
from ._errors import InvalidArgumentError
from ._random import RandomInitializer
from ._validation import Region, Shape, check_real

__all__ = ["Orthogonal"]


class Orthogonal(RandomInitializer):
    r"""Orthogonal matrix times ``gain`` (rank >= 2; leading axes fold into rows).

    With ``rows = prod(shape[:-1])`` and ``cols = shape[-1]``: draw a
    ``(max, min)`` standard normal matrix ``A`` (the float64 stream of
    ``RandomNormal(0, 1, seed)``), take its reduced QR decomposition
    :math:`A = QR`, multiply column ``j`` of ``Q`` by :math:`\operatorname{sign}(R_{jj})`
    (which makes ``Q`` Haar-distributed), transpose when ``rows < cols``, reshape
    and scale by ``gain``. The QR runs in float64 for every output dtype.

    ``index=`` computes the whole matrix and returns the slice.

    Example:
        >>> import numpy as np, weightinit as wi
        >>> q = wi.Orthogonal(seed=0)((4, 3), dtype="float64")
        >>> bool(np.allclose(q.T @ q, np.eye(3)))
        True
    """

    def __init__(self, gain: float = 1.0, seed: Any = None) -> None:
        self.gain = check_real(gain, "gain", type(self).__name__)
        super().__init__(seed)

    def _check_shape(self, shape: Shape) -> None:
        if len(shape) < 2:
            raise InvalidArgumentError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )

    def _work_bytes(self, shape: Shape) -> int:
        rows, cols = math.prod(shape[:-1]), shape[-1]
        small = min(rows, cols)
        # A, Q and the scaled copy (float64) plus R and LAPACK's workspace
        return 8 * (3 * rows * cols + 2 * small * small)

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        rows, cols = math.prod(shape[:-1]), shape[-1]
        big, small = max(rows, cols), min(rows, cols)
        seed, call = self._next_stream(whole)
        if big * small == 0:
            return np.empty(tuple(b - a for a, b in region), dtype=dtype)
        a = sample("normal", seed, call, (big, small), ((0, big), (0, small)), np.dtype(np.float64), 0.0, 1.0)
        q, r = np.linalg.qr(a)
        del a
        signs = np.where(np.diagonal(r) < 0, -1.0, 1.0)
        q *= signs
        if rows < cols:
            q = q.T
        q *= self.gain
        full = q.reshape(shape)
        return full[tuple(slice(a, b) for a, b in region)].astype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "gain": self.gain}
