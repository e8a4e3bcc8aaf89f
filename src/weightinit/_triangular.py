"""Products and inverses with triangular matrices, by recursive halving into matrix products.

numpy has no ``trmm`` or ``trtri``. These split the triangular operand in
halves so that one half is a plain product and the other recurses: the zero
quadrant is never multiplied, which saves a third of the flops of a full
product (a triangular inverse costs a third of ``numpy.linalg.inv``'s). The
triangular operand must hold zeros in its other triangle.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["inv_upper", "lower_times", "times_upper", "upper_times"]

#: below this size, a triangular operand is multiplied (or inverted) as a full matrix
LEAF = 64

F64Array = NDArray[np.float64]


def lower_times(t: F64Array, x: F64Array, out: F64Array) -> None:
    """``out = t @ x`` for a lower triangular square ``t``."""
    h = t.shape[0] // 2
    if t.shape[0] < LEAF:
        np.matmul(t, x, out=out)
        return
    lower_times(t[:h, :h], x[:h], out[:h])
    np.matmul(t[h:], x, out=out[h:])


def upper_times(t: F64Array, x: F64Array, out: F64Array) -> None:
    """``out = t @ x`` for an upper triangular square ``t``."""
    h = t.shape[0] // 2
    if t.shape[0] < LEAF:
        np.matmul(t, x, out=out)
        return
    upper_times(t[h:, h:], x[h:], out[h:])
    np.matmul(t[:h], x, out=out[:h])


def times_upper(x: F64Array, t: F64Array, out: F64Array) -> None:
    """``out = x @ t`` for an upper triangular square ``t``."""
    h = t.shape[0] // 2
    if t.shape[0] < LEAF:
        np.matmul(x, t, out=out)
        return
    times_upper(x[:, :h], t[:h, :h], out[:, :h])
    np.matmul(x, t[:, h:], out=out[:, h:])


def inv_upper(t: F64Array) -> F64Array:
    """The inverse of an upper triangular square ``t`` (upper triangular, exact zeros below)."""
    h = t.shape[0] // 2
    if t.shape[0] < LEAF:
        inverse: F64Array = np.triu(np.linalg.inv(t))
        return inverse
    out = np.zeros_like(t)
    out[:h, :h] = inv_upper(t[:h, :h])
    out[h:, h:] = inv_upper(t[h:, h:])
    out[:h, h:] = -(out[:h, :h] @ t[:h, h:]) @ out[h:, h:]
    return out
