"""Per-parameter seeds: a pure function of (root seed, qualified name)."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from .._errors import InvalidTypeError, short_repr
from .._seed import _check_int_seed

__all__ = ["derived_seed", "param_seed"]


def param_seed(seed: int, name: str) -> int:
    """The seed ``init_module(module, seed)`` gives the weight named ``name``.

    The first 8 bytes (little-endian) of BLAKE2b over a domain tag, the seed as
    8 little-endian bytes and the UTF-8 name: independent of construction order,
    of the process and of which rank holds the parameter.

    >>> param_seed(0, "fc.weight") == param_seed(0, "fc.weight") != param_seed(1, "fc.weight")
    True
    """
    if not isinstance(name, str):
        raise InvalidTypeError(f"Argument `name` must be a str. Received: name={short_repr(name)}")
    return derived_seed(_check_int_seed(seed, "seed", "param_seed"), name)


def derived_seed(seed: int, name: str) -> int:
    """:func:`param_seed` of a seed and a name already checked (an int in [0, 2**64), a str)."""
    h = _hasher(seed).copy()
    h.update(name.encode("utf-8"))
    return int.from_bytes(h.digest(), "little")


@functools.lru_cache(maxsize=16)
def _hasher(seed: int) -> Any:
    """BLAKE2b fed with the domain tag and ``seed`` (copied for each name; never updated)."""
    h = hashlib.blake2b(digest_size=8)
    h.update(b"weightinit.torch.param_seed\0")
    h.update(seed.to_bytes(8, "little"))
    return h
