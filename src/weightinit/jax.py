"""JAX and Flax adapter: the catalog as jit-able initializers with the engine's exact bits.

Needs the ``[jax]`` extra. Everything runs inside XLA, on the device that holds
the output: Threefry-2x32-20, the key derivation and the transforms are ported
to ``jax.numpy`` (``weightinit._jax``) and give bit for bit the values of the
numpy engine on CPU, for every initializer and for float16, bfloat16, float32
and float64 (with ``jax_enable_x64``). Orthogonal follows the engine's law
(the Householder product of its normals) to rounding.

Keys: :func:`initializer` follows ``jax.nn.initializers``: the key selects the
values. A key whose data is the words ``(k0, k1)`` draws what the numpy API
draws with ``seed = (k0 << 32) | k1`` (:func:`seed_of`); ``jax.random.key(s)``
matches ``seed=s``, so

    ``initializer(init)(jax.random.key(s), shape, dtype)``
    equals ``numpy_equivalent(init, jax.random.key(s))(shape, dtype)``.

With ``seed_from="initializer"`` the key is checked but not used: the values
are those of the initializer's own int seed, as when a Keras layer uses it.

Example:
    >>> import jax, numpy as np
    >>> import weightinit as wi
    >>> from weightinit import jax as wjax
    >>> init = wjax.initializer(wi.HeNormal())
    >>> w = jax.jit(init, static_argnums=(1, 2))(jax.random.key(3), (4, 5), jax.numpy.float32)
    >>> bool(np.array_equal(np.asarray(w), wi.HeNormal(seed=3)((4, 5))))
    True
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Initializer
from ._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._jax._keras_layers import keras_defaults
from ._jax._keys import key_data, key_stream, seed_of, stream_of_seed
from ._jax._plan import catalog_class, plan_for
from ._jax._shard import generate_sharded
from ._seed import SeedGenerator
from ._serialization import get

__all__ = [
    "JaxInitializer",
    "initializer",
    "keras_initializers",
    "numpy_equivalent",
    "seed_of",
    "sharded",
]


class JaxInitializer(Protocol):
    """``(key, shape, dtype=jnp.float32) -> jax.Array``, as ``jax.nn.initializers``."""

    def __call__(self, key: Any, shape: Any, dtype: Any = jnp.float32) -> jax.Array: ...


SeedFrom = Literal["key", "initializer"]


def _resolve(init: object, owner: str) -> Initializer:
    if isinstance(init, (str, dict)):
        init = get(init)
    if not isinstance(init, Initializer):
        raise InvalidTypeError(
            f"{owner}: expected a weightinit initializer (or a name / config of one). "
            f"Received: {short_repr(init)} of type {type(init).__name__}"
        )
    catalog_class(init, owner)
    return init


def _own_seed(init: Initializer, owner: str) -> int:
    seed = getattr(init, "seed", None)
    if isinstance(seed, SeedGenerator):
        raise InvalidArgumentError(
            f"{owner}: seed_from='initializer' needs an int seed; a SeedGenerator advances on the "
            "host at every draw, which a traced function cannot do. Use seed_from='key', or an int seed."
        )
    return 0 if seed is None else int(seed)


def initializer(init: Initializer | str | dict[str, Any], *, seed_from: SeedFrom = "key") -> JaxInitializer:
    """A ``jax.nn.initializers``-style function computing ``init``'s values inside XLA.

    Args:
        init: a catalog initializer (``wi.HeNormal()``, ...), or a name/config ``wi.get`` accepts.
        seed_from: ``"key"`` (default): the key selects the values (:func:`seed_of`);
            ``"initializer"``: the initializer's own int seed does (the key is ignored).

    Returns:
        ``f(key, shape, dtype=jnp.float32) -> jax.Array``; traceable under ``jax.jit``
        (``shape`` and ``dtype`` static) and ``jax.vmap`` over keys; usable as a Flax
        ``kernel_init`` / ``bias_init``. Shapes use Keras's layout (Dense ``(in, out)``,
        Conv ``(*window, in, out)``), which is Flax's.

    Raises:
        InvalidTypeError: ``init`` is not of the catalog; at call (trace) time, a first
            argument that is not a key, or a dtype the initializer cannot produce.
        InvalidArgumentError: bad shapes, as the numpy API raises them.
    """
    owner = "weightinit.jax.initializer"
    resolved = _resolve(init, owner)
    if seed_from not in ("key", "initializer"):
        raise InvalidArgumentError(
            f"{owner}: Argument `seed_from` must be one of 'initializer', 'key'. "
            f"Received: seed_from={short_repr(seed_from)}"
        )
    fixed = stream_of_seed(_own_seed(resolved, owner), 0) if seed_from == "initializer" else None

    def init_fn(key: Any, shape: Any, dtype: Any = jnp.float32) -> jax.Array:
        if fixed is None:
            stream = key_stream(key, owner)
        else:
            key_data(key, owner)  # the key is not used, but must be one
            stream = jnp.asarray(fixed)
        plan = plan_for(resolved, shape, dtype, owner)
        return plan.whole(stream)

    init_fn.__doc__ = f"{resolved!r} computed inside XLA by weightinit.jax (key, shape, dtype)."
    init_fn.__name__ = f"{type(resolved).__name__}_jax"
    init_fn.__qualname__ = init_fn.__name__
    return init_fn


def numpy_equivalent(init: Initializer, key: Any) -> Initializer:
    """The numpy-API initializer that draws what ``initializer(init)(key, ...)`` draws.

    >>> import jax, numpy as np, weightinit as wi
    >>> from weightinit import jax as wjax
    >>> key = jax.random.key(11)
    >>> a = wjax.initializer(wi.GlorotUniform())(key, (3, 2))
    >>> b = wjax.numpy_equivalent(wi.GlorotUniform(), key)((3, 2))
    >>> bool(np.array_equal(np.asarray(a), b))
    True
    """
    resolved = _resolve(init, "numpy_equivalent")
    config = resolved.get_config()
    if "seed" not in config:
        return resolved.clone()
    return type(resolved).from_config({**config, "seed": seed_of(key)})


def sharded(
    init: Initializer | str | dict[str, Any],
    shape: Any,
    sharding: jax.sharding.Sharding,
    dtype: Any = None,
) -> jax.Array:
    """The global array ``init(shape, dtype)`` laid out by ``sharding``; each device makes its block.

    The values are the numpy API's for the initializer's own seed (a
    ``SeedGenerator`` advances once, as for one numpy call), bit for bit and
    whatever the mesh: the sharded array equals the unsharded one. With a
    ``NamedSharding`` each device computes only its block (``jax.shard_map``;
    with several processes, each computes its own devices' blocks); Orthogonal
    needs the whole matrix on each device.

    Args:
        init: a catalog initializer, or a name/config ``wi.get`` accepts.
        shape: the global shape.
        sharding: a ``jax.sharding.Sharding``, typically ``NamedSharding(mesh, PartitionSpec(...))``.
        dtype: as in the numpy API (None means ``weightinit.floatx()``).

    Raises:
        InvalidArgumentError: a PartitionSpec longer than the rank, or an axis that the
            mesh axes naming it do not split into equal blocks.

    Example:
        >>> import jax, numpy as np, weightinit as wi
        >>> from weightinit import jax as wjax
        >>> from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
        >>> mesh = Mesh(np.array(jax.devices()[:1]), ("x",))
        >>> w = wjax.sharded(wi.HeUniform(seed=0), (8, 4), NamedSharding(mesh, P("x")))
        >>> bool(np.array_equal(np.asarray(w), wi.HeUniform(seed=0)((8, 4))))
        True
    """
    owner = "weightinit.jax.sharded"
    resolved = _resolve(init, owner)
    if dtype is None:
        from ._dtypes import floatx

        dtype = floatx()
    plan = plan_for(resolved, shape, dtype, owner)
    stream = np.zeros(4, np.uint32)
    if plan.random:
        seed, call = resolved._next_stream(True, stacklevel=3)  # type: ignore[attr-defined]
        stream = stream_of_seed(seed, call)
    return generate_sharded(plan, sharding, stream, owner)


def keras_initializers(layer: str, seed: int = 0, **overrides: Any) -> dict[str, JaxInitializer]:
    """Keras's default initializers of ``layer``, as keyword arguments of the Flax module.

    Each random initializer gets ``seed`` and uses it (``seed_from="initializer"``),
    so the Flax module holds what the Keras layer built with
    ``kernel_initializer=wi.GlorotUniform(seed=seed)`` (etc.) holds.

    ============================  ==============================================
    ``layer``                     Flax arguments (Keras default)
    ============================  ==============================================
    Dense, Conv (Conv1D/2D/3D)    kernel_init (GlorotUniform), bias_init (Zeros)
    Embedding (Embed)             embedding_init (RandomUniform(-0.05, 0.05))
    LayerNormalization,           scale_init (Ones), bias_init (Zeros)
    BatchNormalization
    LSTM                          kernel_init (GlorotUniform), recurrent_kernel_init
                                  (Orthogonal), bias_init (Zeros with Keras's
                                  unit_forget_bias: ones on the forget gate)
    ============================  ==============================================

    The LSTM ones fit fused-gate cells in Keras's layout and gate order (i, f, c, o),
    such as ``flax.nnx.OptimizedLSTMCell`` (kernels ``(in, 4 units)`` and
    ``(units, 4 units)``, bias ``(4 units,)``).

    Args:
        layer: the Keras layer class name.
        seed: the int seed of the random initializers.
        **overrides: Keras argument names (``kernel_initializer="he_normal"``, ...): an
            initializer, or a name/config (random ones then get ``seed``); for LSTM also
            ``unit_forget_bias=False``.

    Example:
        >>> from weightinit import jax as wjax
        >>> kw = wjax.keras_initializers("Dense", seed=1)
        >>> sorted(kw)
        ['bias_init', 'kernel_init']
    """
    return keras_defaults(layer, seed, lambda i: initializer(i, seed_from="initializer"), overrides)
