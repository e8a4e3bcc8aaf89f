"""A Haar-random matrix with orthonormal rows or columns, as a product of reflections (for Orthogonal).

Let ``A`` be the float64 standard normal ``(rows, cols)`` matrix of the seed
(the stream of ``RandomNormal(0, 1, seed)``; leading axes of the shape fold
into rows), and ``B`` the tall ``(m, n)`` matrix ``A`` (when ``rows >= cols``)
or ``A^T`` (otherwise), ``m >= n``. Column ``k``'s tail ``x_k = B[k:, k]``
defines the Householder reflection ``H_k`` of ``R^m`` (acting on coordinates
``k..m-1``) that maps ``x_k`` to ``-s_k ||x_k|| e_k``, where
``s_k = sign(B[k, k])`` (``+1`` for 0). The result is the ``(m, n)`` matrix with
orthonormal columns

    U = H_0 H_1 ... H_{n-1} E D,    D = diag(-s_0, ..., -s_{n-1}),

(``E`` the first ``n`` columns of the identity), transposed back when
``rows < cols``. ``U`` has the law of Keras's matrix, the Q factor of a
Gaussian matrix with the signs that make ``diag(R) > 0`` (the Haar law):
Householder QR of a standard normal matrix builds its k-th reflection from a
column that, by the rotational invariance of the normal law, is a standard
normal vector of length ``m - k`` independent of the earlier ones, and ``R``'s
k-th diagonal entry is ``-s_k ||x_k||`` (Stewart, SIAM J. Numer. Anal. 17,
1980). Drawing those vectors directly skips the factorization: only the lower
trapezoid of ``B`` is used, and R is never formed.

The product is accumulated from the last reflection to the first in blocks of
at most ``BLOCK`` (compact WY form ``I - V T V^T``, Schreiber and Van Loan 1989), so
almost all of the ``2 m n^2 - 2/3 n^3`` float64 flops (4/3 n^3 for a square
matrix; QR of a Gaussian matrix costs 2 m n^2 by Cholesky QR, 4 m n^2 - 4/3 n^3
by Householder) are large matrix products, done in place in the output's
layout. Every step applies an orthogonal matrix, so rounding errors are not
amplified: the columns are orthonormal to about 1e-15, the values are those of
the exact product to about 1e-14 on any BLAS, and no input can make it fail.
Narrower dtypes are the float64 result rounded once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._engine import sample
from ._triangular import inv_upper, lower_times, times_upper, upper_times

__all__ = ["BLOCK", "F64", "SCRATCH", "haar", "work_bytes"]

#: most reflections per compact WY block
BLOCK = 384
#: float64 elements of the scratch buffer for matrix products (16 MiB)
SCRATCH = 1 << 21
F64 = np.dtype(np.float64)


def _scratch_size(n: int, m: int) -> int:
    """float64 elements of the scratch buffer: enough for one column of ``u``, at most ``n * m``."""
    return min(max(SCRATCH, m), m * n)


def work_bytes(rows: int, cols: int) -> int:
    """An upper bound of the memory ``haar`` allocates besides its result: the float64 matrix, the
    scratch, a block's ``V^T U`` and ``W`` (at most ``width x n`` each), the T factors, and numpy's
    buffers for the final cast (one per operand)."""
    n, m = min(rows, cols), max(rows, cols)
    width = min(BLOCK, n)
    cast = 3 * np.getbufsize()
    return 8 * (n * m + _scratch_size(n, m) + 4 * width * width + 2 * width * n + 4 * n + cast)


def _block_width(m: int, n: int) -> int:
    """Reflections per block for the tall ``m x n`` matrix: a quarter of ``m`` (at least 32, at
    most ``n`` and ``BLOCK``), measured best on square and tall shapes. Wider blocks mean larger
    matrix products and fewer passes over the trailing columns; narrower ones, cheaper T factors
    and own columns, which matters most for square matrices."""
    return min(BLOCK, n, max(32, m // 4))


def _tall(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """``a`` (rows, cols) as the tall ``(m, n)`` view ``B`` of the module docstring."""
    return a if a.shape[0] >= a.shape[1] else a.T


def _buffer(scratch: NDArray[np.float64], rows: int, cols: int, like: NDArray[Any]) -> NDArray[np.float64]:
    """A ``(rows, cols)`` view of the start of ``scratch`` in the memory order of ``like``."""
    start = scratch[: rows * cols]
    if like.strides[-1] == like.itemsize:
        return start.reshape(rows, cols)
    transposed: NDArray[np.float64] = start.reshape(cols, rows).T
    return transposed


def _draw_reflectors(seed: int, call: int, rows: int, cols: int, block: int) -> NDArray[np.float64]:
    """The ``(rows, cols)`` working matrix: A, with zeros above the diagonal of B in its diagonal tiles.

    The whole of A is drawn (the engine's threads write, and first touch, the
    working matrix). Of B's entries above its diagonal, ``_normalize`` and
    ``_accumulate`` read only those in the ``block x block`` tiles on the
    diagonal before writing them (every other one is overwritten by the rows a
    block writes from its own first row on), so only those are set to zero.
    """
    # an explicit out: this working matrix is not the output, and must not land in an
    # adapter's tensor that ``writing_into`` offers (the one of a square float64 weight)
    out = np.empty((rows, cols), dtype=F64)
    a = sample("normal", seed, call, (rows, cols), ((0, rows), (0, cols)), F64, 0.0, 1.0, out=out)
    u = _tall(a)
    n = u.shape[1]
    for j in range(0, n, block):
        e = min(j + block, n)
        tile = u[j:e, j:e]
        tile[np.triu_indices(e - j, 1)] = 0.0
    return a


def _normalize(u: NDArray[np.float64], block: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Turn each column ``x_k`` of ``u`` into its Householder vector ``v_k`` (``v_k[k] = 1``).

    ``H_k = I - tau_k v_k v_k^T`` with ``v_k = (x_k + s_k ||x_k|| e_k) / (x_kk + s_k ||x_k||)``
    and ``tau_k = 1 + |x_kk| / ||x_k||`` (in [1, 2]; 2 when ``x_k`` is 0, where ``v_k = e_k``
    and any reflection will do). Returns ``(tau, signs)``, ``signs = -s``.
    """
    n = u.shape[1]
    tau = np.empty(n)
    signs = np.empty(n)
    for j in range(0, n, block):
        e = min(j + block, n)
        cols = u[j:, j:e]
        diag = np.diagonal(cols).copy()
        norm = np.sqrt(np.einsum("ij,ij->j", cols, cols))
        s = np.where(diag < 0, -1.0, 1.0)
        lead = diag + s * norm  # |lead| = |x_kk| + ||x_k||, 0 only when x_k is 0
        zero = lead == 0
        cols /= np.where(zero, 1.0, lead)
        np.fill_diagonal(cols, 1.0)
        tau[j:e] = np.where(zero, 2.0, lead / np.where(zero, 1.0, s * norm))
        signs[j:e] = -s
    return tau, signs


def _t_factor(v: NDArray[np.float64], tau: NDArray[np.float64]) -> NDArray[np.float64]:
    """The upper triangular T of ``H_j ... H_{e-1} = I - V T V^T`` (V's columns: the block's v).

    ``T^{-1}`` is the upper triangle of ``V^T V`` with ``1 / tau`` on the diagonal.
    """
    t_inv = np.triu(v.T @ v)
    np.fill_diagonal(t_inv, 1.0 / tau)
    return inv_upper(t_inv)


def _accumulate(u: NDArray[np.float64], tau: NDArray[np.float64], block: int) -> None:
    """Overwrite the Householder vectors in the columns of ``u`` by ``H_0 ... H_{n-1} E`` (without D).

    Going backwards, once the blocks after ``j`` are applied, the columns from
    ``e`` on are zero in rows ``< e`` and the columns before ``j`` are still
    columns of the identity, so block ``j`` updates only ``u[j:, e:]`` and
    writes its own columns ``E - V T V_1^T``.
    """
    m, n = u.shape
    scratch = np.empty(_scratch_size(n, m), dtype=F64)
    trailing = block * max(n - block, 0)  # the most of W any block has (its columns from e on)
    x_buf, w_buf = np.empty(trailing, dtype=F64), np.empty(trailing, dtype=F64)
    for j in reversed(range(0, n, block)):
        e = min(j + block, n)
        width = e - j
        v = u[j:, j:e]  # (m - j) x width, unit lower trapezoidal
        minus_t = -_t_factor(v, tau[j:e])
        v_top, v_rest = v[:width], v[width:]
        if e < n:
            # W = -T V^T U for all the trailing columns at once (width x (n - e): the products
            # are few and large), then U += V W in column chunks that fit the scratch
            x = x_buf[: width * (n - e)].reshape(width, n - e)
            w = w_buf[: width * (n - e)].reshape(width, n - e)
            np.matmul(v_rest.T, u[e:, e:], out=x)
            upper_times(minus_t, x, out=w)
            lower_times(v_top, w, out=u[j:e, e:])  # these rows were zero before this block
            step = max(1, SCRATCH // max(m - e, 1))
            for c in range(e, n, step):
                c_end = min(c + step, n)
                product = _buffer(scratch, m - e, c_end - c, u)
                np.matmul(v_rest, w[:, c - e : c_end - e], out=product)
                u[e:, c:c_end] += product
        # the block's own columns, E - V (T V_1^T), in row chunks (v is overwritten as it goes);
        # T V_1^T is upper triangular (exact zeros below: each term there has a zero factor)
        tv = minus_t @ v_top.T
        step = max(1, SCRATCH // width)
        for r in range(0, m - j, step):
            r_end = min(r + step, m - j)
            own = _buffer(scratch, r_end - r, width, u)
            times_upper(v[r:r_end], tv, out=own)
            v[r:r_end] = own
        np.fill_diagonal(v, v.diagonal() + 1.0)


def haar(seed: int, call: int, rows: int, cols: int, gain: float, dtype: np.dtype[Any] = F64) -> NDArray[Any]:
    """``gain`` times the ``(rows, cols)`` matrix of the module docstring, in ``dtype`` (C order).

    Computed in float64; a narrower ``dtype`` gets each float64 value rounded
    once, by the same multiplication that applies the signs and the gain.
    """
    block = _block_width(max(rows, cols), min(rows, cols))
    a = _draw_reflectors(seed, call, rows, cols, block)
    u = _tall(a)
    tau, signs = _normalize(u, block)
    _accumulate(u, tau, block)
    scale = signs * gain
    if dtype == F64:
        u *= scale
        return a
    out = np.empty((rows, cols), dtype=dtype)
    np.multiply(u, scale, out=_tall(out), casting="unsafe")  # float64 products, then the cast
    return out
