"""What an initializer of the catalog computes for one (shape, dtype), as JAX operations.

``plan_for`` validates the call exactly as ``Initializer.__call__`` does
(shape, dtype policy, rank rules, parameter ranges, the size cap), then
returns a ``Plan`` whose ``region`` builds any block of the tensor from a
stream (``uint32[4]``: seed and draw counter words, possibly traced):

* random draws (RandomNormal/Uniform, TruncatedNormal, VarianceScaling and its
  presets) run the ported engine: bit for bit the numpy values;
* Zeros, Ones, Constant and Identity are built on the device from their value,
  cast on the host exactly as the engine casts it;
* STFT is computed by the engine on the host and embedded (its kernels are small
  and fixed);
* Orthogonal builds the engine's Householder product on the device (``_orthogonal``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from numpy.typing import NDArray

from .._base import BuiltinInitializer, Initializer
from .._constant import Constant, Ones, Zeros, cast_checked
from .._dtypes import resolve_dtype
from .._errors import InvalidArgumentError, InvalidTypeError, short_repr
from .._identity import Identity
from .._orthogonal import Orthogonal
from .._random import RandomNormal, RandomUniform, TruncatedNormal, _check_range
from .._stft import STFT
from .._validation import check_output_size, normalize_shape
from .._variance_scaling import VarianceScaling, variance_scaling_params
from ._counters import Offset
from ._random import draw

__all__ = ["Plan", "catalog_class", "plan_for", "resolve_jax_dtype"]

#: the catalog classes whose computation is ported (or embedded), most specific first
_PORTED: tuple[type[BuiltinInitializer], ...] = (
    VarianceScaling,
    TruncatedNormal,
    RandomNormal,
    RandomUniform,
    Orthogonal,
    Identity,
    Constant,
    Zeros,
    Ones,
    STFT,
)
#: an axis this long or longer cannot be counted in uint32 words
MAX_AXIS = 2**32


def catalog_class(init: object, owner: str) -> type[BuiltinInitializer]:
    """The catalog class whose computation ``init`` uses; raise for anything else."""
    if isinstance(init, Initializer):
        cls: Any = type(init)
        for base in _PORTED:
            if isinstance(init, base):
                if cls.__call__ is BuiltinInitializer.__call__ and cls._generate is base._generate:
                    return base
                break
    raise InvalidTypeError(
        f"{owner}: expected an initializer of the weightinit catalog (RandomNormal, GlorotUniform, "
        f"Orthogonal, ...; subclasses must not override __call__ or _generate). "
        f"Received: {short_repr(init)} of type {type(init).__name__}"
    )


def resolve_jax_dtype(dtype: object, allowed: tuple[str, ...], owner: str) -> np.dtype[Any]:
    """Map a JAX/numpy dtype or name to a numpy dtype in ``allowed``; 64-bit needs x64."""
    if dtype is None:
        dtype = "float32"
    if not isinstance(dtype, str):
        try:
            dtype = np.dtype(dtype).name  # type: ignore[call-overload]
        except TypeError:
            pass
    resolved = resolve_dtype(dtype, allowed, owner)
    if resolved.itemsize == (16 if resolved.kind == "c" else 8):
        if not jax.config.jax_enable_x64:  # type: ignore[attr-defined]
            raise InvalidTypeError(
                f"{owner}: dtype {resolved.name} needs 64-bit JAX types; enable them with "
                "jax.config.update('jax_enable_x64', True). Received: dtype="
                f"{short_repr(dtype)}"
            )
    return resolved


@dataclass(frozen=True)
class Plan:
    """How to build any region of one tensor (the shape and dtype are fixed)."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    random: bool

    def region(self, stream: Array, offsets: Sequence[Offset], sizes: Sequence[int]) -> Array:
        raise NotImplementedError  # pragma: no cover

    def whole(self, stream: Array) -> Array:
        return self.region(stream, (0,) * len(self.shape), self.shape)

    def cache_key(self) -> tuple[Any, ...]:
        """A hashable description (compiled generators are cached by it)."""
        parts: list[Any] = [type(self).__name__]
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                value = (value.dtype, value.shape, value.tobytes())
            elif isinstance(value, Initializer):
                value = id(value)
            parts.append(value)
        return tuple(parts)


@dataclass(frozen=True)
class RandomPlan(Plan):
    kind: str
    a: float
    b: float

    def region(self, stream: Array, offsets: Sequence[Offset], sizes: Sequence[int]) -> Array:
        return draw(self.kind, self.a, self.b, stream, self.shape, offsets, sizes, self.dtype)


def _dynamic_block(full: Array, offsets: Sequence[Offset], sizes: Sequence[int]) -> Array:
    if tuple(sizes) == full.shape:
        return full
    starts = [jnp.asarray(o, dtype=jnp.int32) for o in offsets]
    return lax.dynamic_slice(full, starts, tuple(sizes))


@dataclass(frozen=True, eq=False)
class FillPlan(Plan):
    """``value`` (already cast to the dtype on the host) broadcast to the shape."""

    value: NDArray[Any]

    def region(self, stream: Array, offsets: Sequence[Offset], sizes: Sequence[int]) -> Array:
        value = jnp.asarray(self.value)
        if value.ndim == 0:
            return jnp.full(tuple(sizes), value, dtype=value.dtype)
        lead = len(self.shape) - value.ndim
        starts, lens = [], []
        for d in range(value.ndim):
            whole = value.shape[d] == self.shape[lead + d]
            starts.append(offsets[lead + d] if whole else 0)
            lens.append(sizes[lead + d] if whole else 1)
        return jnp.broadcast_to(_dynamic_block(value, starts, lens), tuple(sizes))


@dataclass(frozen=True, eq=False)
class IdentityPlan(Plan):
    gain: NDArray[Any]

    def region(self, stream: Array, offsets: Sequence[Offset], sizes: Sequence[int]) -> Array:
        rows = lax.broadcasted_iota(jnp.uint32, tuple(sizes), 0) + jnp.asarray(offsets[0], jnp.uint32)
        cols = lax.broadcasted_iota(jnp.uint32, tuple(sizes), 1) + jnp.asarray(offsets[1], jnp.uint32)
        gain = jnp.asarray(self.gain)
        return jnp.where(rows == cols, gain, jnp.zeros((), gain.dtype))


@dataclass(frozen=True, eq=False)
class HostPlan(Plan):
    """Values computed by the engine on the host (STFT), embedded as a constant."""

    init: Initializer

    def host_values(self, index: tuple[slice, ...] | None = None) -> NDArray[Any]:
        builtin: Any = self.init
        out: NDArray[Any] = builtin(self.shape, self.dtype, index=index)
        return out

    def region(self, stream: Array, offsets: Sequence[Offset], sizes: Sequence[int]) -> Array:
        return _dynamic_block(jnp.asarray(self.host_values()), offsets, sizes)


@dataclass(frozen=True)
class OrthogonalPlan(Plan):
    gain: float

    def region(self, stream: Array, offsets: Sequence[Offset], sizes: Sequence[int]) -> Array:
        from ._orthogonal import orthogonal

        return _dynamic_block(orthogonal(stream, self.shape, self.gain, self.dtype), offsets, sizes)


def plan_for(init: Initializer, shape: object, dtype: object, owner: str) -> Plan:
    """Validate ``init(shape, dtype)`` as the engine would, and say how to compute it."""
    base = catalog_class(init, owner)
    name = type(init).__name__
    shape_t = normalize_shape(shape, name)
    resolved = resolve_jax_dtype(dtype, init.dtypes, name)  # type: ignore[attr-defined]
    init._check_shape(shape_t)  # type: ignore[attr-defined]
    check_output_size(shape_t, resolved, f"{name} of shape ", init._work_bytes(shape_t))  # type: ignore[attr-defined]
    if any(d >= MAX_AXIS for d in shape_t):
        raise InvalidArgumentError(
            f"{owner}: axes of 2**32 elements or more are not supported. Received: shape={shape_t}"
        )
    shape_t = tuple(shape_t)
    if base is VarianceScaling:
        fan_in, fan_out = init.fans(shape_t)  # type: ignore[attr-defined]
        kind, param = variance_scaling_params(
            init.scale,  # type: ignore[attr-defined]
            init.mode,  # type: ignore[attr-defined]
            init.distribution,  # type: ignore[attr-defined]
            fan_in,
            fan_out,
        )
        a, b = (-param, param) if kind == "uniform" else (0.0, param)
    elif base is RandomUniform:
        kind, a, b = "uniform", init.minval, init.maxval  # type: ignore[attr-defined]
    elif base in (RandomNormal, TruncatedNormal):
        kind, a, b = base._kind, init.mean, init.stddev  # type: ignore[attr-defined]
    elif base is Orthogonal:
        from .._haar import F64
        from .._random import refuse_overflow

        refuse_overflow("Orthogonal", f"gain={init.gain}", abs(init.gain), resolved, F64)  # type: ignore[attr-defined]
        return OrthogonalPlan(shape_t, resolved, True, float(init.gain))  # type: ignore[attr-defined]
    elif base is Identity:
        gain = cast_checked(np.asarray(init.gain), resolved, "Identity", "gain")  # type: ignore[attr-defined]
        return IdentityPlan(shape_t, resolved, False, gain)
    elif base in (Constant, Zeros, Ones):
        value = np.asarray(init.value)  # type: ignore[attr-defined]
        # the engine checks broadcasting and the cast; run it on a tiny region to raise its errors
        builtin: Any = init
        builtin(shape_t, resolved, index=tuple(slice(0, min(1, d)) for d in shape_t))
        return FillPlan(shape_t, resolved, False, cast_checked(value, resolved, name, "value"))
    else:
        return HostPlan(shape_t, resolved, False, init)
    _check_range(name, kind, float(a), float(b), resolved)
    return RandomPlan(shape_t, resolved, True, kind, float(a), float(b))
