"""Register the catalog with Keras serialization, under ``"weightinit>ClassName"``.

Keras then writes a weightinit initializer as
``{"module": <its module>, "class_name": "GlorotUniform", "config": {...},
"registered_name": "weightinit>GlorotUniform"}``. Where weightinit is imported,
Keras looks the registered name up first and rebuilds the weightinit class.
Where it is not, ``keras.initializers.get`` (which every layer uses) goes by
``class_name`` alone and builds Keras's class of the same name; the config keys
are Keras's, so it loads (the saved weights are restored either way).
"""

from __future__ import annotations

import keras

from .. import _registry

__all__ = ["PACKAGE", "register_catalog", "register_tf_keras", "registered_classes", "registered_name"]

PACKAGE = "weightinit"


def registered_name(cls: type) -> str:
    """The key Keras files the catalog class ``cls`` under."""
    return f"{PACKAGE}>{cls.__name__}"


def registered_classes() -> tuple[type, ...]:
    """Keras's catalog and weightinit's own (torch/jax/timm) initializers."""
    return _registry.BUILTIN_CLASSES + tuple(getattr(_registry, "FRAMEWORK_CLASSES", ()))


def register_catalog() -> None:
    """Register every weightinit initializer class with Keras (idempotent).

    The framework initializers (``KaimingUniform``, ...) have no Keras class of
    the same name, so their saved configs load only where weightinit is imported.
    """
    register = keras.saving.register_keras_serializable
    for cls in registered_classes():
        register(package=PACKAGE, name=cls.__name__)(cls)


def register_tf_keras() -> None:
    """Register every weightinit initializer class with tf.keras (``tf_keras``, Keras 2) too.

    Then a tf.keras model built with weightinit initializers saves and loads
    back with them, as with Keras 3. It imports ``tf_keras`` (and TensorFlow),
    so it is a separate call.
    """
    import tf_keras

    register = tf_keras.saving.register_keras_serializable
    for cls in registered_classes():
        register(package=PACKAGE, name=cls.__name__)(cls)
