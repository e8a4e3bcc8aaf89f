"""Keras adapter: weightinit inside Keras 3 (any backend) and tf.keras.

Importing this module (it needs ``keras``; the extra ``weightinit[keras]``)
registers the catalog with Keras serialization, so a model built with
weightinit initializers saves to ``.keras``, ``.h5`` and ``model.to_json()``
and loads back (``safe_mode=True``) with weightinit instances and their
configs. Each is written as Keras writes a registered class::

    {"module": "weightinit._variance_scaling", "class_name": "GlorotUniform",
     "config": {"seed": 1, "input_axes": null, "output_axes": null},
     "registered_name": "weightinit>GlorotUniform"}

Where weightinit is not imported, Keras reads the same entry as its own class
of that name (every layer resolves initializers by ``class_name``), so the file
still loads, and its saved weights are intact. Importing this module imports
``keras`` and nothing else: no backend that Keras would not import itself.

:func:`use_weightinit` is the switch: while it is on, Keras builds weightinit
initializers for every string, config and layer default, and each unseeded one
draws the weight at ``path`` with the seed ``weight_seed(path, seed)``, where
``seed`` is the switch's ``seed`` or the one given to
``keras.utils.set_random_seed``. An unchanged Keras script then starts from
bitwise the same weights on the jax, torch and tensorflow backends, run after
run.

Example:
    >>> import keras
    >>> import weightinit as wi
    >>> import weightinit.keras as wk
    >>> layer = keras.layers.Dense(3, kernel_initializer=wi.HeNormal(seed=1))
    >>> keras.initializers.serialize(layer.kernel_initializer)["registered_name"]
    'weightinit>HeNormal'
    >>> with wk.use_weightinit(seed=0):
    ...     dense = keras.layers.Dense(3)
    ...     dense.build((None, 4))
    >>> type(dense.kernel_initializer).__module__.split(".")[0]
    'weightinit'
    >>> path = dense.kernel.path
    >>> expected = wi.GlorotUniform(seed=wk.weight_seed(path, 0))((4, 3))
    >>> bool(keras.ops.all(dense.kernel == expected))
    True
    >>> type(keras.layers.Dense(3).kernel_initializer).__module__.split(".")[0]
    'keras'
"""

from __future__ import annotations

from ._keras._register import PACKAGE, register_catalog, register_tf_keras, registered_name
from ._keras._seeds import weight_seed
from ._keras._switch import WeightinitScope, active_scope, use_weightinit

__all__ = [
    "PACKAGE",
    "WeightinitScope",
    "active_scope",
    "register_tf_keras",
    "registered_name",
    "use_weightinit",
    "weight_seed",
]

register_catalog()
