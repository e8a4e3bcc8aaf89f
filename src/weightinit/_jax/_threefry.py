"""Threefry-2x32-20 and the engine's key derivation, in uint32 ``jax.numpy`` operations.

The same rounds, rotations and key schedule as ``weightinit._engine._threefry``
(integer additions wrap modulo 2**32 in XLA as in numpy), so the words are
identical on every device. Keys may be traced (``jax.jit``, ``jax.vmap``).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from .._engine._keys import DOMAINS, STREAM_VERSION
from .._engine._threefry import KS_PARITY, ROTATIONS, ROUNDS

__all__ = ["derive_key", "threefry2x32"]

U32 = np.uint32


def _rotl(x: Array, r: int) -> Array:
    return lax.shift_left(x, U32(r)) | lax.shift_right_logical(x, U32(32 - r))


def threefry2x32(key: tuple[Array, Array], x0: Array, x1: Array) -> tuple[Array, Array]:
    """Encrypt the counters ``(x0, x1)`` (uint32 arrays) under ``key`` (two uint32 scalars)."""
    k0, k1 = key
    ks = (k0, k1, k0 ^ k1 ^ U32(KS_PARITY))
    a = x0 + ks[0]
    b = x1 + ks[1]
    for r in range(ROUNDS):
        a = a + b
        b = _rotl(b, ROTATIONS[r % 8]) ^ a
        if r % 4 == 3:
            s = (r + 1) // 4
            a = a + ks[s % 3]
            b = b + ks[(s + 1) % 3] + U32(s)
    return a, b


def derive_key(seed: tuple[Array, Array], call: int, kind: str) -> tuple[Array, Array]:
    """``weightinit._engine.derive_key`` for a traced seed given as ``(seed_lo, seed_hi)`` words."""
    lo, hi = (jnp.asarray(w, dtype=jnp.uint32) for w in seed)
    family = threefry2x32((lo, hi), jnp.asarray(U32(DOMAINS[kind])), jnp.asarray(U32(STREAM_VERSION)))
    return threefry2x32(
        family, jnp.asarray(U32(call & 0xFFFFFFFF)), jnp.asarray(U32((call >> 32) & 0xFFFFFFFF))
    )
