"""Seeds: validation, and ``SeedGenerator`` (Keras's stateful seed object).

An int seed (or None, resolved once at construction) gives the same values on
every call; a ``SeedGenerator`` gives draw ``k = 0, 1, 2, ...`` on successive
calls, and draw ``k`` of ``SeedGenerator(s)`` uses the stream ``(s, k)``, so
its first call equals ``seed=s``.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import numpy as np

from ._errors import InvalidArgumentError, InvalidTypeError, short_int, short_repr

__all__ = ["SEED_MODULES", "SeedGenerator", "random_seed", "validate_seed"]

SEED_LIMIT = 2**64
SEED_MODULES = (None, "keras.random", "keras", "weightinit")


def random_seed() -> int:
    """A fresh seed from Python's ``random`` (as Keras: ``random.seed`` makes it repeatable)."""
    return random.randint(1, 10**9)


def _check_int_seed(value: object, name: str, owner: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(
            f"{owner}: Argument `{name}` must be None, an int in [0, 2**64) or a "
            f"weightinit.SeedGenerator. Received: {name}={short_repr(value)} "
            f"of type {type(value).__name__}"
        )
    seed = int(value)
    if not 0 <= seed < SEED_LIMIT:
        raise InvalidArgumentError(
            f"{owner}: Argument `{name}` must be in [0, 2**64). Received: {name}={short_int(seed)}"
        )
    return seed


class SeedGenerator:
    """A seed that advances: each draw uses the next counter ``k``.

    Args:
        seed: an int in ``[0, 2**64)`` or None (a random seed is picked now).
        name: kept for Keras config compatibility; defaults to ``"seed_generator"``.

    Example:
        >>> import weightinit as wi
        >>> gen = wi.SeedGenerator(3)
        >>> init = wi.RandomNormal(seed=gen)
        >>> bool((init((2,)) == wi.RandomNormal(seed=3)((2,))).all())
        True
        >>> bool((init((2,)) == wi.RandomNormal(seed=3)((2,))).all())
        False
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - {"backend"})
        if unknown:
            raise InvalidArgumentError(
                f"SeedGenerator: unrecognized keyword arguments: {short_repr(unknown)}. "
                "Accepted: backend (ignored), name, seed."
            )
        if name is not None and not isinstance(name, str):
            raise InvalidTypeError(
                f"SeedGenerator: Argument `name` must be a str. Received: {short_repr(name)}"
            )
        self._init_seed = None if seed is None else _check_int_seed(seed, "seed", "SeedGenerator")
        self.initial_seed = random_seed() if self._init_seed is None else self._init_seed
        self.name = name or "seed_generator"
        self._counter = 0
        self._lock = threading.Lock()

    @property
    def state(self) -> tuple[int, int]:
        """``(seed, counter)``: the pair the next draw will use."""
        return self.initial_seed, self._counter

    def next(self) -> tuple[int, int]:
        """Return the current ``(seed, counter)`` and advance the counter."""
        with self._lock:
            pair = (self.initial_seed, self._counter)
            self._counter += 1
        return pair

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._init_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        return cls(**config)

    def __repr__(self) -> str:
        return f"SeedGenerator(seed={self._init_seed!r}, state={self.state})"


def _seed_from_dict(value: dict[str, Any], owner: str) -> SeedGenerator:
    allowed = {"module", "class_name", "config", "registered_name"}
    extra = sorted(str(k) for k in set(value) - allowed)  # keys of any type: our error, not sorted()'s
    if extra or value.get("class_name") != "SeedGenerator" or value.get("module") not in SEED_MODULES:
        raise InvalidArgumentError(
            f"{owner}: a dict `seed` must be a serialized SeedGenerator "
            "({'module': 'keras.random', 'class_name': 'SeedGenerator', 'config': {...}}). "
            f"Received: seed={short_repr(value)}"
        )
    config = value.get("config")
    config = {} if config is None else config
    if not isinstance(config, dict) or not set(config) <= {"seed", "name"}:
        raise InvalidArgumentError(
            f"{owner}: SeedGenerator config accepts only keys 'name' and 'seed'. "
            f"Received: {short_repr(config)}"
        )
    return SeedGenerator(seed=config.get("seed"), name=config.get("name"))


def validate_seed(value: object, owner: str) -> tuple[int | SeedGenerator | None, int | SeedGenerator]:
    """Return ``(init_seed, resolved_seed)`` for a ``seed`` argument.

    ``init_seed`` is what ``get_config`` reports; ``resolved_seed`` is an int
    (None becomes a random int now) or the SeedGenerator.
    """
    if value is None:
        return None, random_seed()
    if isinstance(value, SeedGenerator):
        return value, value
    if isinstance(value, dict):
        gen = _seed_from_dict(value, owner)
        return gen, gen
    seed = _check_int_seed(value, "seed", owner)
    return seed, seed


def serialize_seed(init_seed: int | SeedGenerator | None) -> object:
    """The config form of a seed: int, None, or a Keras 3 SeedGenerator dict."""
    if isinstance(init_seed, SeedGenerator):
        return {
            "module": "keras.random",
            "class_name": "SeedGenerator",
            "config": init_seed.get_config(),
            "registered_name": None,
        }
    return init_seed
