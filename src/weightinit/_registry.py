"""The catalog: Keras's 41 identifier keys, and user registrations.

Built-in keys are exactly those of ``keras.initializers.get`` (class names,
their snake_case forms and seven legacy aliases). User initializers are
registered under namespaced keys ``"package>Name"`` and can never shadow a
built-in name.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ._base import Initializer
from ._constant import Constant, Ones, Zeros
from ._dirac import Dirac, Eye
from ._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._identity import Identity
from ._jax_init import JaxTruncatedNormal, JaxUniform, JaxVarianceScaling
from ._jax_orthogonal import DeltaOrthogonal, JaxOrthogonal
from ._kaiming import KaimingNormal, KaimingUniform
from ._orthogonal import Orthogonal
from ._random import RandomNormal, RandomUniform, TruncatedNormal
from ._sparse import Sparse
from ._stft import STFT
from ._timm_init import TimmTruncNormalTF
from ._torch_default import TorchDefault
from ._torch_orthogonal import TorchOrthogonal
from ._torch_trunc import TorchTruncNormal
from ._variance_scaling import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    VarianceScaling,
)
from ._xavier import XavierNormal, XavierUniform

__all__ = [
    "BUILTIN_CLASSES",
    "BUILTIN_KEYS",
    "FRAMEWORK_CLASSES",
    "FRAMEWORK_KEYS",
    "FRAMEWORK_PACKAGE",
    "canonical_name",
    "lookup_builtin",
    "lookup_registered",
    "register_initializer",
    "registered_name_of",
]

BUILTIN_CLASSES: tuple[type[Initializer], ...] = (
    Initializer,
    Constant,
    Zeros,
    Ones,
    Identity,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    STFT,
)

_LEGACY_ALIASES: dict[str, type[Initializer]] = {
    "zero": Zeros,
    "one": Ones,
    "normal": RandomNormal,
    "uniform": RandomUniform,
    "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal,
    "STFTInitializer": STFT,
}


def snake_case(name: str) -> str:
    """``GlorotUniform`` -> ``glorot_uniform``, ``STFT`` -> ``stft`` (Keras's rule)."""
    step = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", step).lower()


def _build_keys() -> dict[str, type[Initializer]]:
    keys: dict[str, type[Initializer]] = {}
    for cls in BUILTIN_CLASSES:
        keys[cls.__name__] = cls
        keys[snake_case(cls.__name__)] = cls
    keys.update(_LEGACY_ALIASES)
    return keys


BUILTIN_KEYS: dict[str, type[Initializer]] = _build_keys()
_CANONICAL = {cls: cls.__name__ for cls in BUILTIN_CLASSES}

#: the namespace of the initializers from other frameworks (torch.nn.init, jax.nn.initializers, timm)
FRAMEWORK_PACKAGE = "weightinit"
#: initializers beyond Keras's catalog, in the order of the docs' comparison table. They are
#: registered under ``"weightinit>ClassName"`` only: no bare or snake_case alias, so a Keras config
#: never meets a name Keras does not know, and no name can ever collide with a Keras built-in (nor
#: mean JAX's ``kaiming_normal``, a truncated normal, where torch's is not).
FRAMEWORK_CLASSES: tuple[type[Initializer], ...] = (
    KaimingUniform,
    KaimingNormal,
    XavierUniform,
    XavierNormal,
    TorchTruncNormal,
    Dirac,
    Eye,
    Sparse,
    TorchOrthogonal,
    TorchDefault,
    JaxVarianceScaling,
    JaxTruncatedNormal,
    JaxUniform,
    JaxOrthogonal,
    DeltaOrthogonal,
    TimmTruncNormalTF,
)
FRAMEWORK_KEYS: dict[str, type[Initializer]] = {
    f"{FRAMEWORK_PACKAGE}>{cls.__name__}": cls for cls in FRAMEWORK_CLASSES
}
_FRAMEWORK_NAMES = {cls: key for key, cls in FRAMEWORK_KEYS.items()}
for _cls in FRAMEWORK_CLASSES:
    # serialize() writes the class's module: the public one, never a "keras..." module that a
    # Keras loader would resolve as its own built-in
    _cls.__module__ = "weightinit.initializers"

_lock = threading.Lock()
_registered: dict[str, Any] = {}
_names_by_object: dict[int, str] = {}

T = TypeVar("T")


def canonical_name(cls: type) -> str | None:
    """The exported name of a catalog class, or None for anything else."""
    return _CANONICAL.get(cls)


def lookup_builtin(name: str) -> type[Initializer] | None:
    return BUILTIN_KEYS.get(name)


def lookup_registered(key: str) -> Any:
    framework = FRAMEWORK_KEYS.get(key)
    return framework if framework is not None else _registered.get(key)


def registered_name_of(obj: object) -> str | None:
    """``"package>Name"`` if ``obj`` (a class or function) was registered."""
    if isinstance(obj, type) and obj in _FRAMEWORK_NAMES:
        return _FRAMEWORK_NAMES[obj]
    return _names_by_object.get(id(obj))


_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")  # used with fullmatch ("$" admits a final newline)


def register_initializer(package: str = "Custom", name: str | None = None) -> Callable[[T], T]:
    """Class or function decorator: make a user initializer loadable from configs.

    The key is ``"package>Name"`` (``Name`` defaults to ``__name__``). A class
    must define ``get_config``. Built-in names cannot be taken, and a key
    cannot be registered twice for different objects.

    Example:
        >>> import numpy as np, weightinit as wi
        >>> @wi.register_initializer(package="demo")
        ... class Halves(wi.Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return np.full(shape, 0.5, dtype=dtype or "float32")
        ...     def get_config(self):
        ...         return {}
        >>> wi.serialize(Halves())["registered_name"]
        'demo>Halves'
        >>> type(wi.deserialize(wi.serialize(Halves()))).__name__
        'Halves'
    """
    if not isinstance(package, str) or not _PART.fullmatch(package) or ">" in package:
        raise InvalidArgumentError(
            f"Argument `package` must be a non-empty identifier-like str without '>'. "
            f"Received: package={short_repr(package)}"
        )
    if package == FRAMEWORK_PACKAGE:
        raise InvalidArgumentError(
            f"Cannot register under package={package!r}: it is reserved for weightinit's own "
            "initializers (torch.nn.init, jax.nn.initializers and timm semantics)."
        )
    if name is not None and (not isinstance(name, str) or not _PART.fullmatch(name)):
        raise InvalidArgumentError(
            f"Argument `name` must be None or an identifier-like str. Received: name={short_repr(name)}"
        )

    def decorator(obj: T) -> T:
        short = name or getattr(obj, "__name__", None)
        if not isinstance(short, str) or not _PART.fullmatch(short):
            raise InvalidTypeError(f"Cannot register {short_repr(obj)}: it has no usable __name__.")
        if short == "<lambda>":
            raise InvalidTypeError("Cannot register a lambda: give the function a name.")
        if isinstance(obj, type):
            if not issubclass(obj, Initializer) and "__call__" not in dir(obj):
                raise InvalidTypeError(f"Cannot register {obj.__name__}: it is not callable.")
            if not callable(getattr(obj, "get_config", None)):
                raise InvalidArgumentError(
                    f"Cannot register a class that does not have a get_config() method: {obj.__name__}."
                )
        elif not callable(obj):
            raise InvalidTypeError(f"Cannot register {short_repr(obj)}: it is not callable.")
        if short in BUILTIN_KEYS:
            raise InvalidArgumentError(
                f"Cannot register {short!r}: it is a built-in initializer name, and registered "
                "initializers may not shadow built-ins. Pass `name=` to choose another name."
            )
        key = f"{package}>{short}"
        with _lock:
            existing = _registered.get(key)
            if (
                existing is not None
                and existing is not obj
                and getattr(existing, "__qualname__", None) != getattr(obj, "__qualname__", None)
            ):
                raise InvalidArgumentError(f"{key!r} is already registered to {short_repr(existing)}.")
            _registered[key] = obj
            _names_by_object[id(obj)] = key
        return obj

    return decorator
