"""Keeping XLA's float arithmetic to single, correctly rounded operations.

XLA:CPU compiles with LLVM's floating-point contraction always allowed: a
multiplication whose result feeds an addition becomes one fused multiply-add
(one rounding instead of two), which changes the last bit of about a quarter
of such results (measured with jax 0.10.2). No XLA flag turns it off, and
``lax.reduce_precision`` to the type's own precision, a bitcast round trip,
``lax.optimization_barrier`` and a second use of the product are all removed
or ignored before code generation. What works is to multiply the rounded
product by a 1.0 the compiler cannot prove to be 1.0: ``bits(1.0) ^ zero``,
where ``zero`` is an always-zero value that LLVM cannot prove zero
(``(w**3 - w) & 1`` for a random word ``w``: the product of three consecutive
integers is even). ``t = a * b`` then feeds a multiplication, not the
addition, so it is rounded on its own; ``t * one`` is exact, so whether or not
the compiler contracts it with the addition, ``t * one + c`` is ``t + c``
rounded once: the two-rounding result. The cost is one multiplication per
guarded product, which the compiler may merge into the addition (an earlier
guard, ``bits(t) ^ zero`` into the addition, took one more operation per product
and put an integer operation on the float dependency chain: about 3 % slower).

The tests compare every initializer with the numpy engine bit for bit, so a
compiler that learns to see through this shows up there.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import Array, lax

__all__ = ["opaque_zero", "rounded"]

_ONE32 = 0x3F800000  # the bits of 1.0
_ONE64 = 0x3FF0000000000000


def opaque_zero(word: Array) -> Array:
    """A uint32 array of zeros, shaped like ``word``, that the compiler cannot constant-fold."""
    out: Array = (word * word * word - word) & jnp.uint32(1)
    return out


def rounded(x: Array, zero: Array) -> Array:
    """``x`` unchanged, but no longer fusable with the addition that consumes it.

    ``zero`` is :func:`opaque_zero` (uint32, broadcastable to ``x``).
    """
    if x.dtype == jnp.float64:
        one = lax.bitcast_convert_type(np.uint64(_ONE64) ^ zero.astype(jnp.uint64), jnp.float64)
    else:
        one = lax.bitcast_convert_type(np.uint32(_ONE32) ^ zero.astype(jnp.uint32), jnp.float32)
    out: Array = x * one
    return out
