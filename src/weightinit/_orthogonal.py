"""Orthogonal: a Haar-random matrix with orthonormal rows or columns.

The matrix is the Q factor of the reduced QR decomposition ``A = QR`` of a
float64 standard normal matrix ``A``, with the signs chosen so that ``R`` has a
positive diagonal (that choice makes Q unique, and Haar-distributed). How Q is
computed is an implementation detail; the values are Q up to float64 rounding:

- small matrices (``min(rows, cols) < HOUSEHOLDER_BELOW``): Householder QR
  (``numpy.linalg.qr``), then the column signs of ``sign(diag(R))``;
- larger ones: recursive block Gram-Schmidt with Cholesky QR on the leaf
  blocks (`_block_cholesky_qr`). It runs almost entirely in float64 matrix
  products (BLAS-3), about 2 m n^2 flops against Householder's 4 m n^2 - 4/3 n^3,
  and writes Q over A in place. Cholesky factors have a positive diagonal, so the
  sign rule holds by construction. An estimate of ``||Q^T Q - I||_2`` (a few
  power steps) decides whether to run a second pass, and, if that is not
  enough or a Cholesky factorization fails, the matrix is regenerated and
  factored by Householder QR. The result does not depend on the output dtype:
  narrower dtypes are the float64 result rounded once.

Float32 arithmetic is not used on purpose: Q = A R^{-1} loses
``cond(A) * eps`` relative accuracy, and a square Gaussian matrix has
``cond(A)`` about ``n`` (often 10-100 n), so float32 work would give errors
of 1e-4 and more in the last columns for n in the thousands.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._engine import sample
from ._errors import InvalidArgumentError
from ._random import RandomInitializer, refuse_overflow
from ._validation import Region, Shape, check_real

__all__ = ["Orthogonal"]

#: below this many columns (of the tall matrix) Householder QR is used directly
HOUSEHOLDER_BELOW = 256
#: widest column block factored by Cholesky QR at the leaves of the recursion
LEAF = 64
#: largest accepted estimate of ||Q^T Q - I||_2 (float64 Householder gives ~1e-14)
TOLERANCE = 1e-10
#: a first pass this far from orthogonal is not refined (Householder instead)
REFINE_BELOW = 0.5
#: probe vectors and power steps of the orthogonality estimate
PROBES = 8
POWER_STEPS = 2
F64 = np.dtype(np.float64)


def _householder_q(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Q of ``a`` (tall) by Householder QR, columns signed so that diag(R) > 0."""
    q, r = np.linalg.qr(a)
    q *= np.where(np.diagonal(r) < 0, -1.0, 1.0)
    return q


def _cholesky_leaf(a: NDArray[np.float64]) -> None:
    """Overwrite the (tall, at most LEAF wide) block ``a`` by ``a R^{-1}``, ``R^T R = a^T a``."""
    upper = np.linalg.cholesky(a.T @ a).T  # raises LinAlgError if not positive definite
    a[...] = a @ np.linalg.inv(upper)


def _block_cholesky_qr(a: NDArray[np.float64], scratch: NDArray[np.float64]) -> None:
    """Overwrite ``a`` (m x n, m >= n) by the Q factor of its QR decomposition.

    Split the columns ``a = [a1 a2]``; factor ``a1``; project it out of ``a2``
    (``a2 -= a1 (a1^T a2)``, two matrix products); factor ``a2``. ``scratch``
    holds at least ``m * ceil(n / 2)`` float64 values.
    """
    n = a.shape[1]
    if n <= LEAF:
        _cholesky_leaf(a)
        return
    # split on a multiple of LEAF so the leaves are full width; the right part is the narrower
    half = -(-n // 2)
    split = -(-half // LEAF) * LEAF if n > 2 * LEAF else half
    a1, a2 = a[:, :split], a[:, split:]
    _block_cholesky_qr(a1, scratch)
    projected = scratch[: a.shape[0] * a2.shape[1]].reshape(a.shape[0], a2.shape[1])
    np.matmul(a1, a1.T @ a2, out=projected)
    a2 -= projected
    _block_cholesky_qr(a2, scratch)


def _orthogonality_error(q: NDArray[np.float64]) -> float:
    """An estimate (from below) of ``||q^T q - I||_2``: power steps from fixed probe vectors.

    The probes are a fixed float64 normal draw of the engine, so the estimate,
    and every decision taken on it, is a function of ``q`` alone.
    """
    n = q.shape[1]
    v = sample("normal", 0, 0, (n, PROBES), ((0, n), (0, PROBES)), F64, 0.0, 1.0)
    v /= np.linalg.norm(v, axis=0)
    norms = np.zeros(PROBES)
    for _ in range(POWER_STEPS):
        w = q.T @ (q @ v) - v
        norms = np.linalg.norm(w, axis=0)
        v = w / np.where(norms > 0, norms, 1.0)
    return float(norms.max())


def _fast_q(a: NDArray[np.float64]) -> bool:
    """Overwrite ``a`` by its Q factor by block Cholesky QR; False if that was not accurate enough."""
    rows, cols = a.shape
    scratch = np.empty(rows * -(-cols // 2), dtype=np.float64)
    with np.errstate(all="ignore"):
        for _ in range(2):  # a second pass re-orthogonalizes (R = R2 R1 keeps a positive diagonal)
            try:
                _block_cholesky_qr(a, scratch)
            except np.linalg.LinAlgError:
                return False
            error = _orthogonality_error(a)
            if error <= TOLERANCE:
                return True
            if not error < REFINE_BELOW:  # NaN, or too little orthogonality left to refine
                return False
    return False


class Orthogonal(RandomInitializer):
    r"""Orthogonal matrix times ``gain`` (rank >= 2; leading axes fold into rows).

    With ``rows = prod(shape[:-1])`` and ``cols = shape[-1]``: draw a
    ``(max, min)`` standard normal matrix ``A`` (the float64 stream of
    ``RandomNormal(0, 1, seed)``), take its reduced QR decomposition
    :math:`A = QR` with the signs fixed so that :math:`R_{jj} > 0` (which
    makes ``Q`` Haar-distributed), transpose when ``rows < cols``, reshape and
    scale by ``gain``.

    ``Q`` is computed in float64 for every output dtype (narrower dtypes are
    that result rounded once), by Householder QR for small matrices and by a
    block Cholesky QR with an orthogonality check for large ones; the values
    are ``Q`` to within float64 rounding, not bit for bit across BLAS builds
    or thread counts. ``index=`` computes the whole matrix and returns the
    slice.

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
        """Float64 working memory, the larger of the two paths (an upper bound)."""
        rows, cols = math.prod(shape[:-1]), shape[-1]
        big, small = max(rows, cols), min(rows, cols)
        # Householder: A, LAPACK's copy of it, Q, R and its copy, workspace
        householder = 3 * big * small + 2 * small * small + 64 * (big + small)
        # block Cholesky QR: A (becomes Q), the scratch, a1^T a2, one leaf's product and
        # factors, the probes; a failed attempt is freed before Householder starts
        fast = (
            big * small
            + big * -(-small // 2)
            + small * small // 4
            + small
            + big * LEAF
            + 3 * LEAF * LEAF
            + 3 * PROBES * (big + small)
        )
        return 8 * max(householder, fast)

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        rows, cols = math.prod(shape[:-1]), shape[-1]
        big, small = max(rows, cols), min(rows, cols)
        # entries of Q are at most 1 in magnitude; Q is computed in float64
        refuse_overflow("Orthogonal", f"gain={self.gain}", abs(self.gain), dtype, F64)
        seed, call = self._next_stream(whole)
        if big * small == 0:
            return np.empty(tuple(b - a for a, b in region), dtype=dtype)

        def draw() -> NDArray[np.float64]:
            return sample("normal", seed, call, (big, small), ((0, big), (0, small)), F64, 0.0, 1.0)

        if small < HOUSEHOLDER_BELOW:
            q = _householder_q(draw())
        else:
            q = draw()
            if not _fast_q(q):
                del q  # free the failed attempt, then draw A again for Householder
                q = _householder_q(draw())
        if self.gain != 1.0:
            q *= self.gain
        full = (q.T if rows < cols else q).reshape(shape)  # a view: only the row axis is split
        part = full[tuple(slice(a, b) for a, b in region)]
        if whole:
            return part.astype(dtype, order="C", copy=False)
        return part.astype(dtype, order="C")

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "gain": self.gain}
