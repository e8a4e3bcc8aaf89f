"""TorchOrthogonal: torch.nn.init.orthogonal_, with torch's flattening of the trailing dims."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._haar import F64, haar, work_bytes
from ._orthogonal import GainOrthogonal
from ._random import refuse_overflow
from ._validation import Region, Shape

__all__ = ["TorchOrthogonal"]


class TorchOrthogonal(GainOrthogonal):
    r"""torch's ``orthogonal_``: ``gain`` times a Haar-random matrix on torch's flattening.

    torch views its tensor ``(out, in, *k)`` as the matrix ``(out, in * prod(k))``
    (rows: the outputs; each row is one output's flattened ``(in, *k)``
    filter) and makes its rows orthonormal when ``out <= in * prod(k)``, its
    columns otherwise. For the Keras-order shape ``(*k, in, out)`` this class
    draws that matrix (the same Householder construction as
    :class:`Orthogonal`, so the law of torch's sign-corrected QR) and lays it
    out in Keras order: ``W[k, i, o] = gain * M[o, i * prod(k) + k]``. Keras's
    Orthogonal flattens ``(*k, in)`` the other way and transposes; both laws are
    Haar, the values differ. ``index=`` computes the whole and slices.

    Example:
        >>> import numpy as np, weightinit as wi
        >>> w = wi.TorchOrthogonal(seed=0)((3, 4, 6), dtype="float64")   # torch (6, 4, 3)
        >>> m = w.transpose(2, 1, 0).reshape(6, 12)                      # torch's view
        >>> bool(np.allclose(m @ m.T, np.eye(6)))
        True
    """

    _rank_message = (
        "TorchOrthogonal: Only tensors with 2 or more dimensions are supported. Received: shape={shape}"
    )

    def _work_bytes(self, shape: Shape) -> int:
        rows = shape[-1]
        cols = math.prod(shape[:-1])
        return work_bytes(rows, cols) + 8 * rows * cols

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        refuse_overflow("TorchOrthogonal", f"gain={self.gain}", abs(self.gain), dtype, F64)
        seed, call = self._next_stream(whole)
        rows, cols = shape[-1], math.prod(shape[:-1])
        if rows * cols == 0:
            return np.empty(tuple(b - a for a, b in region), dtype=dtype)
        matrix = haar(seed, call, rows, cols, self.gain, dtype)
        torch_order = matrix.reshape(rows, shape[-2], *shape[:-2])  # (out, in, *k)
        rank = len(shape)
        keras = torch_order.transpose(*range(2, rank), 1, 0)
        part: NDArray[Any] = np.ascontiguousarray(keras[tuple(slice(a, b) for a, b in region)])
        return part
