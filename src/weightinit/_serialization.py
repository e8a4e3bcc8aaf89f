"""``get``, ``serialize`` and ``deserialize``: Keras 3 and Keras 2 config formats, as data.

Deserialization builds only catalog classes, registered initializers and the
objects the caller passes in ``custom_objects``. It never imports a module a
config names, never evaluates code (no lambdas), rejects unknown keys, and
bounds nesting depth and size before doing anything else.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._base import Initializer
from ._constant import cast_checked
from ._dtypes import ANY_DTYPES, resolve_dtype
from ._errors import (
    ConfigError,
    InvalidArgumentError,
    InvalidTypeError,
    UnknownInitializerError,
    UnsafeConfigError,
    WeightinitError,
    short_repr,
)
from ._jsonsafe import check_structure
from ._registry import (
    BUILTIN_KEYS,
    canonical_name,
    lookup_builtin,
    lookup_registered,
    registered_name_of,
)
from ._seed import SeedGenerator, serialize_seed
from ._validation import check_output_size, normalize_shape

__all__ = ["deserialize", "get", "serialize"]

TOP_LEVEL_KEYS = ("class_name", "config", "module", "registered_name", "shared_object_id")
#: ``registered_name`` prefix of the catalog classes registered with Keras by ``weightinit.keras``
OWN_PREFIX = "weightinit>"
BUILTIN_MODULES = (
    "keras.initializers",
    "keras",
    "weightinit",
    "weightinit.initializers",
    "tensorflow.keras.initializers",
)


def _serialize_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, SeedGenerator):
        return serialize_seed(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_serialize_value(v) for v in value)
    if isinstance(value, list):
        return [_serialize_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _serialize_value(v) for k, v in value.items()}
    if isinstance(value, Initializer):
        return serialize(value)
    raise InvalidTypeError(f"Cannot serialize {short_repr(value)} of type {type(value).__name__}.")


def serialize(initializer: Any) -> Any:
    """The Keras 3 dict of an initializer: ``module``, ``class_name``, ``config``, ``registered_name``.

    ``None``, strings and numbers are returned unchanged; named functions are
    written as Keras writes them; lambdas are refused (they could never be
    loaded back as data).

    >>> import weightinit as wi
    >>> cfg = wi.serialize(wi.GlorotUniform(seed=3))
    >>> cfg["module"], cfg["class_name"], cfg["registered_name"]
    ('keras.initializers', 'GlorotUniform', None)
    >>> cfg["config"]
    {'seed': 3, 'input_axes': None, 'output_axes': None}
    """
    if initializer is None or isinstance(initializer, (str, bool, int, float)):
        return initializer
    cls = type(initializer)
    if isinstance(initializer, type):
        raise InvalidTypeError(
            f"Cannot serialize the class {short_repr(initializer.__name__)}: serialize an instance "
            f"(e.g. {initializer.__name__}()) instead."
        )
    if isinstance(initializer, Initializer) or hasattr(initializer, "get_config"):
        config = initializer.get_config()
        if not isinstance(config, dict):
            raise InvalidTypeError(
                f"The `get_config()` method of {cls.__name__} should return a dict. "
                f"Received: {short_repr(config)}"
            )
        builtin = canonical_name(cls)
        if builtin is not None:
            module: str | None = "keras" if cls is Initializer else "keras.initializers"
            registered = None
        else:
            module = None if cls.__module__ == "__main__" else cls.__module__
            registered = registered_name_of(cls) or cls.__name__
        return {
            "module": module,
            "class_name": builtin or cls.__name__,
            "config": _serialize_value(config),
            "registered_name": registered,
        }
    if inspect.isfunction(initializer) or inspect.isbuiltin(initializer):
        if initializer.__name__ == "<lambda>":
            raise InvalidTypeError(
                "Cannot serialize a lambda initializer: configs are data and lambdas could never be "
                "loaded back. Use a named function registered with weightinit.register_initializer."
            )
        key = registered_name_of(initializer)
        return {
            "module": "builtins",
            "class_name": "function",
            "config": key or initializer.__name__,
            "registered_name": "function",
        }
    raise InvalidTypeError(
        f"Cannot serialize object {short_repr(initializer)} of type {cls.__name__}. To be "
        "serializable, a class must implement the `get_config()` method."
    )


def _unknown(name: object, custom_objects: Mapping[str, Any]) -> UnknownInitializerError:
    choices = sorted(set(BUILTIN_KEYS) | set(custom_objects))
    hint = ""
    if isinstance(name, str) and len(name) <= 200:  # difflib is O(len): no hints for huge names
        close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
        close += [c for c in choices if c.lower() == name.lower() and c not in close]
        if close:
            hint = f" Did you mean {', '.join(repr(c) for c in close[:3])}?"
    return UnknownInitializerError(
        f"Could not interpret initializer identifier: {short_repr(name)}.{hint} "
        f"Valid names: {', '.join(choices)}. A custom initializer must be registered with "
        "weightinit.register_initializer() or passed in custom_objects."
    )


class ConfigTypeError(ConfigError, TypeError):
    """A config's keys do not fit the constructor: a ``ConfigError`` that is also the
    ``TypeError`` Keras raises there ("could not be deserialized properly")."""


def _instantiate(cls: Any, config: Any, label: str, builtin: bool) -> Any:
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError(
            f"Expected 'config' to be a dict for {label}, instead got {type(config).__name__}: "
            f"{short_repr(config)}"
        )
    if builtin:
        if "dtype" in config:
            config = {k: v for k, v in config.items() if k != "dtype"}  # TF 1.x configs carry a dtype
        accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs")]
        unknown = sorted(str(k) for k in config if k not in accepted)
        if unknown:
            raise ConfigTypeError(
                f"{label}: unknown config key(s) {', '.join(short_repr(k) for k in unknown[:5])}. "
                f"Accepted keys: {', '.join(sorted(accepted)) or '(none)'}."
            )
    if not hasattr(cls, "from_config"):
        raise ConfigError(f"{label} has no from_config(); it cannot be built from a config.")
    try:
        return cls.from_config(config)
    except WeightinitError:
        raise
    except TypeError as exc:
        raise ConfigTypeError(f"{label} could not be built from its config: {short_repr(str(exc))}") from None


def _from_dict(obj: Mapping[str, Any], custom_objects: Mapping[str, Any]) -> Any:
    extra = sorted(str(k) for k in obj if k not in TOP_LEVEL_KEYS)
    if extra:
        raise ConfigError(
            f"Unknown key(s) {', '.join(short_repr(k) for k in extra[:5])} in an initializer config. "
            f"Accepted keys: {', '.join(TOP_LEVEL_KEYS)}."
        )
    if "class_name" not in obj:
        raise ConfigError(f"Unknown `config` as a `dict` (no 'class_name'): {short_repr(dict(obj))}")
    class_name = obj["class_name"]
    if not isinstance(class_name, str):
        raise ConfigError(f"'class_name' must be a str. Received: {short_repr(class_name)}")
    module = obj.get("module", "keras.initializers")
    registered = obj.get("registered_name")
    config = obj.get("config")
    if module is not None and not isinstance(module, str):
        raise ConfigError(f"'module' must be a str or None. Received: {short_repr(module)}")
    if registered is not None and not isinstance(registered, str):
        raise ConfigError(f"'registered_name' must be a str or None. Received: {short_repr(registered)}")
    if (
        registered == OWN_PREFIX + class_name
        and canonical_name(lookup_builtin(class_name) or object) == class_name
    ):
        # the catalog as Keras writes it after `import weightinit.keras`: module is where the
        # class lives (never imported), registered_name "weightinit>ClassName"
        registered = None
        if module is None or module.split(".")[0] == "weightinit":
            module = "weightinit"
    if class_name == "__lambda__":
        raise UnsafeConfigError(
            "Refusing to load a lambda initializer: configs are data and lambdas would execute code."
        )
    if class_name == "function":
        name = config if isinstance(config, str) else registered
        target = custom_objects.get(name) if isinstance(name, str) else None
        if target is None and isinstance(name, str):
            target = lookup_registered(name)
        if target is None:
            raise UnsafeConfigError(
                f"Function initializer {short_repr(name)} is neither registered nor in custom_objects; "
                "functions named in configs are never imported."
            )
        return target
    for key in (registered, class_name):
        if isinstance(key, str) and key in custom_objects:
            return _instantiate(custom_objects[key], config, key, builtin=False)
    if isinstance(registered, str):
        target = lookup_registered(registered)
        if target is not None:
            return _instantiate(target, config, registered, builtin=False)
    cls = lookup_builtin(class_name)
    if cls is None:
        raise _unknown(class_name, custom_objects)
    if module is None:
        raise UnsafeConfigError(
            f"Cannot deserialize object of type `{class_name}` with 'module': None: only registered "
            "initializers have no module. If it is a custom class, register it with "
            "weightinit.register_initializer()."
        )
    if not (
        module in BUILTIN_MODULES or module.startswith(("keras.src.initializers", "keras.initializers."))
    ):
        raise UnsafeConfigError(
            f"Built-in initializer {class_name!r} with unexpected module {short_repr(module)}; "
            f"accepted: {', '.join(BUILTIN_MODULES)} (modules are never imported)."
        )
    if registered is not None and registered != class_name and lookup_builtin(registered) is not cls:
        raise ConfigError(
            f"'registered_name'={short_repr(registered)} is not registered and does not match the "
            f"built-in class {class_name!r}."
        )
    return _instantiate(cls, config, class_name, builtin=True)


def _check_custom_objects(custom_objects: Mapping[str, Any] | None) -> dict[str, Any]:
    """``custom_objects`` as a dict whose keys are all strings."""
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, Mapping):
        raise InvalidTypeError(
            f"Argument `custom_objects` must be a dict of names to classes or functions. "
            f"Received: {short_repr(custom_objects)} of type {type(custom_objects).__name__}"
        )
    bad = next((k for k in custom_objects if not isinstance(k, str)), None)
    if bad is not None:
        raise InvalidTypeError(
            f"Argument `custom_objects` must have str keys. Received key: {short_repr(bad)} "
            f"of type {type(bad).__name__}"
        )
    return dict(custom_objects)


def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Build an initializer from a name or a Keras 3 / Keras 2 config dict.

    ``custom_objects`` maps names to classes or functions the caller trusts.
    Unknown names raise :class:`UnknownInitializerError` (Keras returns the
    string instead).

    >>> import weightinit as wi
    >>> init = wi.deserialize({"class_name": "VarianceScaling",
    ...                        "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal"}})
    >>> init.scale, init.mode, init.distribution
    (2.0, 'fan_in', 'truncated_normal')
    """
    custom = _check_custom_objects(custom_objects)
    if config is None:
        return None
    if isinstance(config, str):
        if config in custom:
            return custom[config]
        target = lookup_registered(config)
        if target is not None:
            return target
        cls = lookup_builtin(config)
        if cls is None:
            raise _unknown(config, custom)
        return cls()
    if isinstance(config, Mapping):
        check_structure(config)
        return _from_dict(config, custom)
    raise InvalidTypeError(
        f"Could not interpret initializer identifier: {short_repr(config)} "
        f"(expected None, a str or a dict; got {type(config).__name__})."
    )


def _array_initializer(value: np.ndarray | np.generic) -> Callable[..., np.ndarray]:
    """An initializer returning ``value`` (Keras accepts a tensor as its own initializer).

    The array must hold finite real numbers or bools; the cast to the requested dtype
    refuses values that do not fit (no wrap-around, no overflow to inf).
    """
    array = np.asarray(value)
    owner = "array initializer"
    if array.dtype.kind not in "biuf":
        raise InvalidTypeError(
            f"An array used as an initializer must hold real numbers or bools. Received an array of "
            f"dtype {short_repr(str(array.dtype))}."
        )
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise InvalidArgumentError(
            "An array used as an initializer must hold only finite values (no NaN, inf)."
        )

    def from_array(shape: Any, dtype: Any = None) -> np.ndarray:
        shape = normalize_shape(shape, owner)
        if shape != array.shape:
            raise InvalidArgumentError(
                f"Expected `shape` to be {array.shape} for direct tensor as initializer. "
                f"Received shape={short_repr(shape)}"
            )
        resolved = resolve_dtype(dtype, ANY_DTYPES, owner)
        check_output_size(shape, resolved, f"{owner} of shape ")
        return cast_checked(array, resolved, owner, "value")

    return from_array


#: packages whose ``Initializer`` base marks a Keras initializer (Keras 3, tf.keras / Keras 2, TF 1)
_KERAS_PACKAGES = ("keras", "tf_keras", "tensorflow")


def _is_keras_initializer(obj: object) -> bool:
    """Whether ``obj`` is a Keras initializer class or instance (duck-typed: no Keras import)."""
    cls = obj if isinstance(obj, type) else type(obj)
    return any(
        base.__name__ == "Initializer" and base.__module__.split(".")[0] in _KERAS_PACKAGES
        for base in cls.__mro__
    )


def _from_keras(obj: Any) -> Initializer:
    """The catalog equivalent of a Keras initializer class or instance, through its config."""
    cls = obj if isinstance(obj, type) else type(obj)
    target = lookup_builtin(cls.__name__) if cls.__module__.split(".")[0] in _KERAS_PACKAGES else None
    if target is None or target is Initializer:
        raise UnknownInitializerError(
            f"Cannot convert the Keras initializer {cls.__module__}.{cls.__qualname__}: only the "
            "classes of keras.initializers have weightinit equivalents. Write it as a "
            "weightinit.Initializer subclass, or pass it to Keras directly."
        )
    if obj is cls:
        return target()
    config = obj.get_config()
    if cls.__module__.startswith("tensorflow") and cls.__name__ == "RandomUniform":
        if config.get("maxval", 0) is None:  # TF 1's random_uniform_initializer: None means 1
            config = {**config, "maxval": 1.0}
    return deserialize({"class_name": cls.__name__, "config": config})  # type: ignore[no-any-return]


def get(identifier: Any) -> Any:
    """Turn any identifier into an initializer (Keras's ``get``).

    Accepts None, a Keras string alias, a Keras 2 or Keras 3 config dict, an
    ``Initializer`` instance (returned as is) or class (instantiated), a Keras
    (3, 2 or tf.keras) initializer instance or class of the catalog (converted
    through its config; other Keras initializers raise), a numpy
    array or scalar (an initializer that returns it), or any callable
    ``(shape, dtype=None)``.

    >>> import weightinit as wi
    >>> wi.get("he_normal")
    HeNormal(seed=None, input_axes=None, output_axes=None)
    """
    if identifier is None:
        return None
    if _is_keras_initializer(identifier):
        return _from_keras(identifier)
    if isinstance(identifier, (dict, str)):
        result = deserialize(identifier)
    elif isinstance(identifier, (np.ndarray, np.generic)) and not isinstance(identifier, np.bool_):
        return _array_initializer(identifier)
    else:
        result = identifier
    if isinstance(result, type):
        try:
            result = result()  # then it must be callable, like any other initializer
        except WeightinitError:
            raise
        except TypeError as exc:
            raise InvalidTypeError(
                f"Could not instantiate initializer class {short_repr(result.__name__)} without "
                f"arguments: {short_repr(str(exc))}. Pass an instance instead."
            ) from None
    if callable(result) and not isinstance(result, (bool, int, float)):
        return result
    raise UnknownInitializerError(f"Could not interpret initializer identifier: {short_repr(identifier)}")
