"""Keeping XLA's float arithmetic to single, correctly rounded operations.

XLA:CPU compiles with LLVM's floating-point contraction always allowed: a
multiplication whose result feeds an addition becomes one fused multiply-add
(one rounding instead of two), which changes the last bit of about a quarter
of such results (measured with jax 0.10.2). No XLA flag turns it off, and
``lax.reduce_precision`` to the type's own precision, a bitcast round trip and
``lax.optimization_barrier`` are all removed before code generation. What
works is to pass the product through an integer operation the compiler cannot
see through: ``bits(x) ^ zero``, where ``zero`` is an always-zero value that
LLVM cannot prove zero (``(w**3 - w) & 1`` for a random word ``w``: the product
of three consecutive integers is even). The add then receives an opaque value
and cannot be fused. The cost is one xor per guarded product.

The tests compare every initializer with the numpy engine bit for bit, so a
compiler that learns to see through this shows up there.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array, lax

__all__ = ["opaque_zero", "rounded"]


def opaque_zero(word: Array) -> Array:
    """A uint32 array of zeros, shaped like ``word``, that the compiler cannot constant-fold."""
    out: Array = (word * word * word - word) & jnp.uint32(1)
    return out


def rounded(x: Array, zero: Array) -> Array:
    """``x`` unchanged, but no longer fusable into the operation that consumes it."""
    itype = jnp.uint64 if x.dtype == jnp.float64 else jnp.uint32
    bits = lax.bitcast_convert_type(x, itype) ^ zero.astype(itype)
    out: Array = lax.bitcast_convert_type(bits, x.dtype)
    return out
