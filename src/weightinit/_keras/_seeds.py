"""Per-weight seeds for the switch: ``weight_seed(path, seed)`` and the variable being built.

While the switch is on, an unseeded random initializer draws the weight at
``path`` with the seed ``weight_seed(path, base)``, where ``base`` is the
switch's explicit seed or the one given to ``keras.utils.set_random_seed``.
The path names the weight the same way on every backend, so the values do not
depend on the backend or on the order in which the weights are built.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Callable
from typing import Any

from .._errors import InvalidTypeError, short_repr
from .._seed import SEED_LIMIT, SeedGenerator

__all__ = ["CURRENT_VARIABLE", "PathSeed", "weight_seed"]

#: the Keras variable whose initializer is running (set by the switch around its construction)
CURRENT_VARIABLE: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "weightinit_keras_variable", default=None
)

_PERSON = b"wi.keras.path"  # domain separation: these seeds are for nothing else


def weight_seed(path: str, seed: int) -> int:
    """The seed the switch gives the unseeded initializer of the weight at ``path``.

    A 64-bit BLAKE2b digest of ``seed`` and ``path``: stable across processes,
    platforms and backends (no Python ``hash``).

    Args:
        path: the Keras variable path, e.g. ``"dense/kernel"``.
        seed: the base seed, an int in [0, 2**64).

    Example:
        >>> from weightinit._keras._seeds import weight_seed  # public: weightinit.keras
        >>> weight_seed("dense/kernel", 0)
        1747426160226807236
        >>> weight_seed("dense/kernel", 1) != weight_seed("dense/kernel", 0)
        True
    """
    if not isinstance(path, str):
        raise InvalidTypeError(f"Argument `path` must be a str. Received: path={short_repr(path)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        raise InvalidTypeError(
            f"Argument `seed` must be an int in [0, 2**64). Received: seed={short_repr(seed)}"
        )
    digest = hashlib.blake2b(
        path.encode("utf-8"), digest_size=8, key=seed.to_bytes(8, "little"), person=_PERSON
    ).digest()
    return int.from_bytes(digest, "little")


class PathSeed(SeedGenerator):
    """The seed of an unseeded initializer while the switch is on.

    Each draw uses ``(weight_seed(path, base()), 0)`` for the path of the
    variable being built (``variable``, or the one in :data:`CURRENT_VARIABLE`),
    so it equals ``cls(seed=weight_seed(path, base()))(shape)``. Outside a
    variable it behaves like an ordinary unseeded initializer (its own random
    seed, the same values every call).
    """

    def __init__(self, fallback: int, base: Callable[[], int], variable: Any = None) -> None:
        # no SeedGenerator.__init__: one of these is made per weight, and `next` needs no lock
        self._init_seed = self.initial_seed = fallback
        self.name = "seed_generator"
        self._counter = 0
        self._base = base
        self._variable = variable

    def next(self) -> tuple[int, int]:
        variable = self._variable if self._variable is not None else CURRENT_VARIABLE.get()
        if variable is None:
            return self.initial_seed, 0
        return weight_seed(str(variable.path), self._base()), 0
