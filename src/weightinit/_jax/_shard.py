"""Sharded generation: each device computes only its own block of the tensor.

For a ``NamedSharding`` the generator runs under ``jax.shard_map``: a device
finds its block's start on every axis from ``lax.axis_index`` of the mesh axes
that split it, and builds that block from the counters of its elements (the
engine's layout), so the assembled array equals the unsharded one bit for bit
whatever the mesh. Replicas of a block compute the same block. One program
serves every device (the starts are traced), and with ``jax.distributed`` each
process computes the blocks of its own devices.

STFT (computed by the engine on the host) uses ``jax.make_array_from_callback``
with the engine's ``index=``; Orthogonal needs the whole matrix: each process
computes it once, with the unsharded program, and hands each device its block.
Other ``Sharding`` types go through ``jax.jit`` with ``out_shardings`` (XLA's
partitioner splits the elementwise generator).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.sharding import NamedSharding
from numpy.typing import NDArray

from .._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._plan import HostPlan, OrthogonalPlan, Plan

__all__ = ["block_shape", "generate_sharded"]

PartitionSpec: Any = jax.sharding.PartitionSpec  # untyped constructor
_CACHE: dict[Any, Any] = {}
_CACHE_LIMIT = 64


def _axes_of(entry: object) -> tuple[str, ...]:
    if entry is None:
        return ()
    if isinstance(entry, (tuple, list)):
        return tuple(entry)
    return (entry,)  # type: ignore[return-value]


def block_shape(shape: tuple[int, ...], sharding: NamedSharding, owner: str) -> tuple[int, ...]:
    """The shape of one device's block; raise if the spec does not fit ``shape``."""
    spec = tuple(sharding.spec)
    if len(spec) > len(shape):
        raise InvalidArgumentError(
            f"{owner}: the sharding's PartitionSpec {short_repr(sharding.spec)} has {len(spec)} "
            f"entries but shape={shape} has rank {len(shape)}."
        )
    sizes = dict(sharding.mesh.shape)
    block = []
    for d, dim in enumerate(shape):
        axes = _axes_of(spec[d]) if d < len(spec) else ()
        parts = math.prod(sizes[a] for a in axes)
        if dim % parts:
            raise InvalidArgumentError(
                f"{owner}: axis {d} of shape={shape} has {dim} elements, which the mesh axes "
                f"{axes} split into {parts} equal blocks: it must be a multiple of {parts}."
            )
        block.append(dim // parts)
    return tuple(block)


def _spmd(plan: Plan, sharding: NamedSharding, block: tuple[int, ...]) -> Any:
    mesh = sharding.mesh
    spec = tuple(sharding.spec) + (None,) * (len(plan.shape) - len(tuple(sharding.spec)))
    sizes = dict(mesh.shape)

    def body(stream: Array) -> Array:
        offsets: list[Any] = []
        for d, entry in enumerate(spec):
            axes = _axes_of(entry)
            if not axes:
                offsets.append(0)
                continue
            index = jnp.zeros((), jnp.uint32)
            for name in axes:
                index = index * np.uint32(sizes[name]) + lax.axis_index(name).astype(jnp.uint32)
            offsets.append(index * np.uint32(block[d]))
        return plan.region(stream, offsets, block)

    mapped = jax.shard_map(body, mesh=mesh, in_specs=PartitionSpec(), out_specs=PartitionSpec(*spec))
    return jax.jit(mapped)


def generate_sharded(plan: Plan, sharding: Any, stream: NDArray[np.uint32], owner: str) -> Array:
    """The global array of ``plan`` laid out by ``sharding``."""
    shape = plan.shape
    if not isinstance(sharding, jax.sharding.Sharding):
        raise InvalidTypeError(
            f"{owner}: `sharding` must be a jax.sharding.Sharding (e.g. NamedSharding(mesh, "
            f"PartitionSpec(...))). Received: {short_repr(sharding)}"
        )
    if isinstance(sharding, NamedSharding):
        block = block_shape(shape, sharding, owner)
    else:
        try:
            sharding.shard_shape(shape)
        except ValueError as exc:
            raise InvalidArgumentError(f"{owner}: shape={shape} does not fit the sharding: {exc}") from None
    if isinstance(plan, OrthogonalPlan):
        # the whole matrix is needed: compute it once per process with the unsharded program
        # (so the blocks are bit for bit those of the unsharded array), then hand out the blocks
        full = _whole_program(plan)(jnp.asarray(stream))
        return jax.make_array_from_callback(shape, sharding, lambda index: full[index])
    if isinstance(plan, HostPlan) or math.prod(shape) == 0:

        def host_block(index: Any) -> NDArray[Any]:
            slices = _whole_slices(index, shape)
            if isinstance(plan, HostPlan):
                return plan.host_values(slices)
            return np.zeros(tuple(s.stop - s.start for s in slices), plan.dtype)

        return jax.make_array_from_callback(shape, sharding, host_block)
    replicated: Any = None
    if isinstance(sharding, NamedSharding):
        replicated = NamedSharding(sharding.mesh, PartitionSpec())
    elif hasattr(sharding, "with_spec"):
        replicated = sharding.with_spec(PartitionSpec())
    words = (
        jax.make_array_from_callback((4,), replicated, lambda index: stream[index])
        if replicated is not None
        else jnp.asarray(stream)
    )
    key = (plan.cache_key(), sharding)
    fn = _CACHE.get(key)
    if fn is None:
        if isinstance(sharding, NamedSharding):
            fn = _spmd(plan, sharding, block)
        else:
            fn = jax.jit(plan.whole, out_shardings=sharding)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = fn
    out: Array = fn(words)
    return out


def _whole_program(plan: Plan) -> Any:
    """The jitted unsharded generator of ``plan`` (cached like the sharded ones)."""
    key = (plan.cache_key(), None)
    fn = _CACHE.get(key)
    if fn is None:
        fn = jax.jit(plan.whole)
        _CACHE[key] = fn
    return fn


def _whole_slices(index: Any, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """``index`` (a tuple of slices from ``make_array_from_callback``) with explicit bounds."""
    return tuple(
        slice(0 if s.start is None else s.start, n if s.stop is None else s.stop)
        for s, n in zip(index, shape, strict=True)
    )
