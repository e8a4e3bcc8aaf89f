"""The switch: Keras builds weightinit initializers for every identifier and layer default.

While a :class:`WeightinitScope` is active it replaces, and on exit puts back
exactly, these Keras attributes:

- ``keras.initializers.get`` / ``deserialize`` (and the same functions in
  ``keras.src.initializers``, which every layer, ``add_weight`` and
  ``keras.Variable`` call): catalog strings, configs, and Keras catalog
  instances and classes become the weightinit class; anything else (custom
  initializers, functions, tensors) goes to Keras's own function;
- ``keras.src.backend.common.variables.Variable.__init__`` (the base of every
  backend's variable) and ``_deferred_initialize`` (there and in the backend's
  ``Variable`` where it has its own): an unseeded weightinit random initializer
  is drawn with the seed ``weight_seed(variable.path, base)``;
- ``keras.src.layers.core.einsum_dense``: ``EinsumDense`` (and so
  ``MultiHeadAttention``) derives the fans of a weightinit ``VarianceScaling``
  from its equation, as Keras does for its own class.
"""

from __future__ import annotations

import copy
import os
import threading
from types import TracebackType
from typing import Any

import keras
from keras.src import backend as keras_backend
from keras.src import initializers as keras_src_initializers
from keras.src.backend.common import global_state
from keras.src.backend.common.variables import Variable as KerasVariable
from keras.src.layers.core import einsum_dense

from .. import _serialization
from .._errors import InvalidArgumentError, InvalidTypeError, UnknownInitializerError, short_repr
from .._random import RandomInitializer
from .._registry import BUILTIN_KEYS, lookup_builtin
from .._seed import SEED_LIMIT
from .._variance_scaling import VarianceScaling
from ._register import PACKAGE
from ._seeds import CURRENT_VARIABLE, PathSeed

__all__ = ["WeightinitScope", "active_scope", "use_weightinit"]

_KERAS_SEED_KEY = "global_random_seed"  # where keras.utils.set_random_seed keeps its seed
_lock = threading.Lock()
_stack: list[WeightinitScope] = []


def active_scope() -> WeightinitScope | None:
    """The innermost active switch, or None when Keras uses its own initializers."""
    return _stack[-1] if _stack else None


def _catalog_dict(config: dict[Any, Any]) -> bool:
    name = config.get("class_name")
    if not isinstance(name, str) or lookup_builtin(name) is None:
        return False
    registered = config.get("registered_name")
    return registered in (None, name, f"{PACKAGE}>{name}")


def _is_catalog(identifier: object) -> bool:
    if isinstance(identifier, str):
        return lookup_builtin(identifier) is not None
    if isinstance(identifier, dict):
        return _catalog_dict(identifier)
    return _serialization._is_keras_initializer(identifier)


def _fallback_seed(init: RandomInitializer) -> int:
    return init.seed if isinstance(init.seed, int) else 0


class WeightinitScope:
    """An active switch; a context manager that turns it off on exit.

    Created by :func:`weightinit.keras.use_weightinit`. ``restore()`` (or the
    end of the ``with`` block) puts back exactly the Keras attributes it
    replaced; switches nest and are restored innermost first.
    """

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InvalidTypeError(
                f"use_weightinit: Argument `seed` must be None or an int. Received: seed={short_repr(seed)}"
            )
        if seed is not None and not 0 <= seed < SEED_LIMIT:
            raise InvalidArgumentError(
                f"use_weightinit: Argument `seed` must be in [0, 2**64). Received: seed={short_repr(seed)}"
            )
        self.seed = seed
        self._own_base: int | None = None
        self._saved: list[tuple[Any, str, Any]] = []
        self._active = False

    # -- seeds ---------------------------------------------------------------------------------

    def base_seed(self) -> int:
        """The explicit seed, else the one of ``keras.utils.set_random_seed``, else a random one."""
        if self.seed is not None:
            return self.seed
        keras_seed = global_state.get_global_attribute(_KERAS_SEED_KEY)
        if isinstance(keras_seed, int) and not isinstance(keras_seed, bool):
            return keras_seed % SEED_LIMIT
        if self._own_base is None:  # no seed anywhere: random, as Keras is (Python's random untouched)
            self._own_base = int.from_bytes(os.urandom(8), "little")
        return self._own_base

    def _path_seed(self, init: RandomInitializer, variable: Any = None) -> PathSeed:
        return PathSeed(_fallback_seed(init), self.base_seed, variable)

    def _own(self, init: Any) -> Any:
        """A weightinit instance made by the switch: unseeded ones follow the weight's path."""
        if isinstance(init, RandomInitializer) and init._init_seed is None:
            init.seed = self._path_seed(init)
        return init

    # -- replacements --------------------------------------------------------------------------

    def _replacements(self) -> list[tuple[Any, str, Any]]:
        keras_get = keras_src_initializers.get
        keras_deserialize = keras_src_initializers.deserialize
        keras_variable_init = vars(KerasVariable)["__init__"]
        keras_update = vars(einsum_dense.EinsumDense)["_update_kernel_initializer"]
        scope = self

        def get(identifier: Any) -> Any:
            if isinstance(identifier, str) and identifier in BUILTIN_KEYS:
                return scope._own(BUILTIN_KEYS[identifier]())  # as deserialize(name), without the checks
            if _is_catalog(identifier):
                try:
                    return scope._own(_serialization.get(identifier))
                except UnknownInitializerError:
                    if not _serialization._is_keras_initializer(identifier):
                        raise  # a catalog name or config that is wrong: say so
            return keras_get(identifier)

        def deserialize(config: Any, custom_objects: Any = None) -> Any:
            named = isinstance(config, dict) and (
                config.get("class_name") in (custom_objects or {})
                or config.get("registered_name") in (custom_objects or {})
            )
            if not named and isinstance(config, (str, dict)) and _is_catalog(config):
                return scope._own(_serialization.deserialize(config))
            return keras_deserialize(config, custom_objects=custom_objects)

        def variable_init(variable: Any, *args: Any, **kwargs: Any) -> None:
            if args:
                args = (scope._seeded_for(args[0], variable), *args[1:])
            elif "initializer" in kwargs:
                kwargs["initializer"] = scope._seeded_for(kwargs["initializer"], variable)
            token = CURRENT_VARIABLE.set(variable)
            try:
                keras_variable_init(variable, *args, **kwargs)
            finally:
                CURRENT_VARIABLE.reset(token)

        def deferred(original: Any) -> Any:
            def deferred_initialize(variable: Any) -> None:
                token = CURRENT_VARIABLE.set(variable)
                try:
                    original(variable)
                finally:
                    CURRENT_VARIABLE.reset(token)

            return deferred_initialize

        def update_kernel_initializer(layer: Any, input_axes: Any, output_axes: Any) -> Any:
            init = layer.kernel_initializer
            if not isinstance(init, VarianceScaling):
                return keras_update(layer, input_axes, output_axes)
            config = init.get_config()
            # like Keras: the copy keeps the instance's seed (an unseeded one: its path seed)
            config["seed"] = scope._path_seed(init) if init._init_seed is None else init.seed
            config["input_axes"] = input_axes
            config["output_axes"] = output_axes
            return type(init).from_config(config)

        return [
            (keras_src_initializers, "get", get),
            (keras.initializers, "get", get),
            (keras_src_initializers, "deserialize", deserialize),
            (keras.initializers, "deserialize", deserialize),
            (KerasVariable, "__init__", variable_init),
            # a variable made in a stateless scope is initialized later (jax): note it then too
            *(
                (cls, "_deferred_initialize", deferred(vars(cls)["_deferred_initialize"]))
                for cls in dict.fromkeys((KerasVariable, keras_backend.Variable))
                if "_deferred_initialize" in vars(cls)
            ),
            (einsum_dense, "VarianceScaling", (einsum_dense.VarianceScaling, VarianceScaling)),
            (einsum_dense.EinsumDense, "_update_kernel_initializer", update_kernel_initializer),
        ]

    def _seeded_for(self, init: Any, variable: Any) -> Any:
        """The initializer ``variable`` is built with: a Keras catalog instance becomes weightinit's,
        and an unseeded weightinit random initializer is seeded by ``variable``'s path instead."""
        if not isinstance(init, type) and _serialization._is_keras_initializer(init):
            try:
                init = _serialization.get(init)
            except UnknownInitializerError:
                return init  # a custom Keras initializer: Keras's business
        if isinstance(init, RandomInitializer) and init._init_seed is None:
            seeded = copy.copy(init)  # same config (seed None), drawn with the weight's path seed
            seeded.seed = self._path_seed(init, variable)
            return seeded
        return init

    # -- on and off ----------------------------------------------------------------------------

    def _start(self) -> None:
        with _lock:
            for owner, name, new in self._replacements():
                self._saved.append((owner, name, vars(owner)[name]))
                setattr(owner, name, new)
            self._active = True
            _stack.append(self)

    def restore(self) -> None:
        """Turn this switch off: put back what it replaced (a no-op when already off)."""
        with _lock:
            if not self._active:
                return
            if _stack[-1] is not self:
                raise InvalidArgumentError(
                    "use_weightinit: switches must be turned off innermost first; "
                    f"{len(_stack) - _stack.index(self) - 1} newer one(s) are still on."
                )
            for owner, name, old in reversed(self._saved):
                setattr(owner, name, old)
            self._saved.clear()
            self._active = False
            _stack.pop()

    @property
    def active(self) -> bool:
        """Whether this switch is on."""
        return self._active

    def __enter__(self) -> WeightinitScope:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.restore()

    def __repr__(self) -> str:
        return f"WeightinitScope(seed={self.seed!r}, active={self._active})"


def use_weightinit(seed: int | None = None) -> WeightinitScope:
    """Turn the switch on now; returns the scope (use it in ``with`` or call ``restore()``)."""
    scope = WeightinitScope(seed)
    scope._start()
    return scope
