"""JAX keys to engine seeds.

A key's data is two uint32 words ``(k0, k1)``: ``jax.random.key_data(key)``
for a typed key (the default ``threefry2x32`` implementation), or the key
itself for a legacy ``uint32[2]`` key. The engine seed is the 64-bit integer

    seed = (k0 << 32) | k1

so ``jax.random.key(s)`` (data ``(0, s)`` for ``0 <= s < 2**32``) selects the
same values as ``seed=s`` in the numpy API; the draw counter is 0.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from numpy.typing import NDArray

from .._errors import InvalidTypeError, short_repr

__all__ = ["key_data", "key_stream", "seed_of", "stream_of_seed"]


def key_data(key: Any, owner: str) -> Array:
    """The ``uint32[2]`` data of a single JAX key (typed or legacy); clear errors otherwise."""
    dtype = getattr(key, "dtype", None)
    shape = getattr(key, "shape", None)
    if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
        if shape != ():
            raise InvalidTypeError(
                f"{owner}: expected one key, received a key array of shape {shape}; use jax.vmap "
                "over keys to draw several."
            )
        data = jax.random.key_data(key)
        if data.shape != (2,):
            raise InvalidTypeError(
                f"{owner}: keys of the {jax.random.key_impl(key)} implementation have "
                f"{data.shape[0]} words; weightinit maps two uint32 words to a seed. Use the "
                "default threefry2x32 keys (jax.random.key(seed))."
            )
        return data
    if dtype is not None and shape == (2,) and np.dtype(dtype) == np.uint32:
        return jnp.asarray(key)
    raise InvalidTypeError(
        f"{owner}: the first argument must be a JAX PRNG key (jax.random.key(seed), or a legacy "
        f"uint32[2] jax.random.PRNGKey(seed)). Received: {short_repr(key)} of type "
        f"{type(key).__name__}" + (f", dtype {dtype}, shape {shape}" if dtype is not None else "")
    )


def key_stream(key: Any, owner: str) -> Array:
    """``uint32[4]`` stream words ``(seed_lo, seed_hi, 0, 0)`` of a key (traceable)."""
    data = key_data(key, owner)
    zero = jnp.zeros((), jnp.uint32)
    return jnp.stack([data[1], data[0], zero, zero])


def stream_of_seed(seed: int, call: int) -> NDArray[np.uint32]:
    """``uint32[4]`` stream words of an engine ``(seed, call)``."""
    mask = 0xFFFFFFFF
    return np.array([seed & mask, seed >> 32 & mask, call & mask, call >> 32 & mask], dtype=np.uint32)


def seed_of(key: Any) -> int:
    """The engine seed a (concrete) JAX key selects: ``(k0 << 32) | k1``.

    >>> import jax
    >>> seed_of(jax.random.key(42)), seed_of(jax.random.PRNGKey(7))
    (42, 7)
    """
    data = np.asarray(key_data(key, "seed_of"))
    return (int(data[0]) << 32) | int(data[1])
