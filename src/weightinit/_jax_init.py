"""jax.nn.initializers semantics: variance_scaling (fan_geo_avg, axes, complex), truncated_normal, uniform."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from ._dtypes import COMPLEX_DTYPES, FLOAT_DTYPES
from ._engine import sample, work_dtype
from ._engine._special import log_neg
from ._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._random import RandomInitializer, refuse_overflow
from ._torch_trunc import BoundedNormal, check_interval
from ._validation import MAX_RANK, Region, Shape, check_choice, check_real, region_shape
from ._variance_scaling import TRUNCATED_STD

__all__ = ["JaxTruncatedNormal", "JaxUniform", "JaxVarianceScaling", "jax_fans"]

Axes = int | Sequence[int]
JaxMode = Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
JAX_MODES = ("fan_avg", "fan_geo_avg", "fan_in", "fan_out")
JAX_DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")
#: standard deviation of a complex standard normal whose modulus is cut at 2 (JAX's constant)
COMPLEX_TRUNCATED_STD = 0.95311164380491208
#: exp(-4), correctly rounded (decimal arithmetic, the same on every platform)
EXP_MINUS_4 = float(Decimal(-4).exp())


def _check_axes_arg(value: object, name: str, owner: str) -> int | list[int] | tuple[int, ...]:
    """An int, or a list/tuple of ints (JAX's ``in_axis`` / ``out_axis`` / ``batch_axis``)."""

    def one(v: object) -> int:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Integral, np.integer)):
            raise InvalidTypeError(
                f"{owner}: Argument `{name}` must be an int or a list of ints. "
                f"Received: {name}={short_repr(value)}"
            )
        if not -MAX_RANK <= int(v) < MAX_RANK:
            raise InvalidArgumentError(f"{owner}: Argument `{name}` has axis {v}, outside [-64, 64).")
        return int(v)

    if isinstance(value, (list, tuple)):
        if len(value) > MAX_RANK:
            raise InvalidArgumentError(f"{owner}: Argument `{name}` has more than {MAX_RANK} axes.")
        return type(value)(one(v) for v in value)
    return one(value)


def _size(shape: Shape, axes: int | Sequence[int], name: str, owner: str) -> int:
    picked = [axes] if isinstance(axes, int) else list(axes)
    for axis in picked:
        if not -len(shape) <= axis < len(shape):
            raise InvalidArgumentError(f"{owner}: {name}={axes} is out of range for shape={shape}.")
    return math.prod(shape[a] for a in picked)


def jax_fans(
    shape: Shape,
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    owner: str = "jax_fans",
) -> tuple[float, float]:
    """JAX's ``_compute_fans``: ``(in_size * receptive, out_size * receptive)``, as floats.

    ``receptive = prod(shape) / in_size / out_size / batch_size``: every axis
    not named is a receptive-field axis.

    >>> jax_fans((3, 3, 16, 32))
    (144.0, 288.0)
    >>> jax_fans((8, 3, 3, 16, 32), batch_axis=0)
    (144.0, 288.0)
    """
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise InvalidArgumentError(
            f"{owner}: Can't compute input and output sizes of a {len(shape)}-dimensional weights tensor "
            "with default in_axis. Must be at least 2D or specify in_axis explicitly."
        )
    in_size = _size(shape, in_axis, "in_axis", owner)
    out_size = _size(shape, out_axis, "out_axis", owner)
    batch_size = _size(shape, batch_axis, "batch_axis", owner)
    if in_size * out_size * batch_size == 0:
        return 0.0, 0.0
    receptive = math.prod(shape) / in_size / out_size / batch_size
    return in_size * receptive, out_size * receptive


class JaxVarianceScaling(RandomInitializer):
    r"""``jax.nn.initializers.variance_scaling``: :math:`s = \text{scale} / n` with JAX's fans and modes.

    ``n`` is ``fan_in``, ``fan_out``, ``(fan_in + fan_out) / 2`` or
    ``sqrt(fan_in * fan_out)`` (``"fan_geo_avg"``, which Keras lacks), with
    fans from ``in_axis`` / ``out_axis`` / ``batch_axis`` (:func:`jax_fans`),
    and, unlike Keras, not raised to at least 1. Real dtypes:

    * ``"truncated_normal"``: cut at 2 std, std :math:`\sqrt s / 0.8796\ldots` before the cut;
    * ``"normal"``: *untruncated*, std :math:`\sqrt s` (in Keras ``"normal"`` means truncated);
    * ``"uniform"``: :math:`U(-\sqrt{3s}, \sqrt{3s})`.

    Complex dtypes (complex64 / complex128) follow JAX's laws, built from the
    engine's streams with correctly rounded operations only (no libm
    ``cos``/``exp``), so they too are the same on every platform: ``"normal"``
    has independent real and imaginary parts of std :math:`\sqrt{s/2}`;
    ``"uniform"`` is uniform on the disk of radius :math:`\sqrt{2s}`;
    ``"truncated_normal"`` is a complex normal whose modulus is cut at 2, scaled
    by :math:`\sqrt s / 0.9531\ldots`. The direction of the last two is a
    normal pair divided by its length (uniform on the circle, as JAX's
    :math:`e^{i\theta}`), the modulus comes from the uniform stream.

    Example:
        >>> import weightinit as wi
        >>> init = wi.JaxVarianceScaling(2.0, "fan_geo_avg", "normal", seed=0)
        >>> w = init((256, 1024))          # n = sqrt(256 * 1024) = 512
        >>> round(float(w.std()), 3)       # sqrt(2 / 512)
        0.062
        >>> init((4, 4), dtype="complex64").dtype
        dtype('complex64')
    """

    dtypes: ClassVar[tuple[str, ...]] = FLOAT_DTYPES + COMPLEX_DTYPES

    def __init__(
        self,
        scale: float = 1.0,
        mode: JaxMode = "fan_in",
        distribution: Literal["truncated_normal", "normal", "uniform"] = "truncated_normal",
        in_axis: Axes = -2,
        out_axis: Axes = -1,
        batch_axis: Axes = (),
        seed: Any = None,
    ) -> None:
        owner = type(self).__name__
        self.scale = check_real(scale, "scale", owner, positive=True)
        self.mode = check_choice(mode, "mode", JAX_MODES, owner)
        self.distribution = check_choice(distribution, "distribution", JAX_DISTRIBUTIONS, owner)
        self.in_axis = _check_axes_arg(in_axis, "in_axis", owner)
        self.out_axis = _check_axes_arg(out_axis, "out_axis", owner)
        self.batch_axis = _check_axes_arg(batch_axis, "batch_axis", owner)
        super().__init__(seed)

    def fans(self, shape: Shape) -> tuple[float, float]:
        """JAX's ``(fan_in, fan_out)`` for ``shape`` (floats)."""
        return jax_fans(shape, self.in_axis, self.out_axis, self.batch_axis, type(self).__name__)

    def _check_shape(self, shape: Shape) -> None:
        self.fans(shape)

    def variance(self, shape: Shape) -> float:
        """``scale / n``."""
        fan_in, fan_out = self.fans(shape)
        if self.mode == "fan_in":
            n = fan_in
        elif self.mode == "fan_out":
            n = fan_out
        elif self.mode == "fan_avg":
            n = (fan_in + fan_out) / 2
        else:
            n = (fan_in * fan_out) ** 0.5
        return self.scale / n

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        if math.prod(shape) == 0:
            return np.empty(region_shape(region), dtype=dtype)
        variance = self.variance(shape)
        if dtype.kind == "c":
            return self._complex(shape, region, dtype, whole, variance)
        if self.distribution == "truncated_normal":
            return self._draw(
                "truncated_normal", shape, region, dtype, whole, 0.0, math.sqrt(variance) / TRUNCATED_STD
            )
        if self.distribution == "normal":
            return self._draw("normal", shape, region, dtype, whole, 0.0, math.sqrt(variance))
        bound = math.sqrt(3 * variance)
        return self._draw("uniform", shape, region, dtype, whole, -bound, bound)

    def _complex(
        self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool, variance: float
    ) -> NDArray[Any]:
        real = np.dtype(np.float32) if dtype == np.complex64 else np.dtype(np.float64)
        work = work_dtype(real)
        owner = type(self).__name__
        refuse_overflow(owner, f"variance={variance}", 8.3 * math.sqrt(variance) * 1.5, real, work)
        seed, call = self._next_stream(whole, stacklevel=5)  # called from _generate
        pairs = (*shape, 2)
        pair_region = (*region, (0, 2))
        if self.distribution == "normal":
            parts = sample("normal", seed, call, pairs, pair_region, real, 0.0, math.sqrt(variance / 2))
        else:
            parts = sample("normal", seed, call, pairs, pair_region, real, 0.0, 1.0)
            u = sample("uniform", seed, call, shape, region, real, 0.0, 1.0)
            ftype = real.type
            if self.distribution == "uniform":
                radius = np.sqrt(u * ftype(2))
                radius *= ftype(math.sqrt(variance))
            else:
                t = u * ftype(1.0 - EXP_MINUS_4)
                radius = np.sqrt(log_neg(ftype(1) - t))
                radius *= ftype(math.sqrt(variance) / COMPLEX_TRUNCATED_STD)
            length = np.sqrt(parts[..., 0] * parts[..., 0] + parts[..., 1] * parts[..., 1])
            radius /= length
            parts *= radius[..., None]
        out: NDArray[Any] = np.ascontiguousarray(parts).view(dtype).reshape(region_shape(region))
        return out

    def get_config(self) -> dict[str, Any]:
        return {
            **self._seed_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "in_axis": self.in_axis,
            "out_axis": self.out_axis,
            "batch_axis": self.batch_axis,
        }


class JaxTruncatedNormal(BoundedNormal):
    r"""``jax.nn.initializers.truncated_normal``: ``stddev * Z``, ``Z`` standard normal on ``[lower, upper]``.

    Bounds in standard deviations (Keras's TruncatedNormal fixes them at +-2;
    torch's are absolute), and ``stddev`` is the std *before* truncation, with
    no 0.8796 correction (JAX leaves it to the user). With the defaults
    ``(-2, 2)`` the values are those of ``TruncatedNormal(0, stddev)``.

    Example:
        >>> import weightinit as wi
        >>> x = wi.JaxTruncatedNormal(stddev=0.1, lower=-1.0, upper=3.0, seed=0)((1000,))
        >>> bool((x >= -0.1).all() and (x <= 0.3).all())
        True
    """

    def __init__(
        self, stddev: float = 1e-2, lower: float = -2.0, upper: float = 2.0, seed: Any = None
    ) -> None:
        owner = type(self).__name__
        self.stddev = check_real(stddev, "stddev", owner, positive=True)
        self.lower, self.upper = check_interval(lower, upper, ("lower", "upper"), owner)
        if not (math.isfinite(self.stddev * self.lower) and math.isfinite(self.stddev * self.upper)):
            raise InvalidArgumentError(f"{owner}: stddev * lower and stddev * upper must be finite.")
        super().__init__(seed)

    def _law(self) -> tuple[float, float, float, float, tuple[float, float]]:
        return 0.0, self.stddev, self.lower, self.upper, (self.stddev * self.lower, self.stddev * self.upper)

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "stddev": self.stddev, "lower": self.lower, "upper": self.upper}


class JaxUniform(RandomInitializer):
    """``jax.nn.initializers.uniform``: :math:`U[0, \\text{scale})` (Keras's RandomUniform is symmetric).

    The values are those of ``RandomUniform(0, scale)``.

    Example:
        >>> import weightinit as wi
        >>> x = wi.JaxUniform(scale=2.0, seed=0)((1000,))
        >>> bool((x >= 0).all() and (x < 2).all())
        True
    """

    def __init__(self, scale: float = 1e-2, seed: Any = None) -> None:
        self.scale = check_real(scale, "scale", type(self).__name__, nonnegative=True)
        super().__init__(seed)

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        return self._draw("uniform", shape, region, dtype, whole, 0.0, self.scale)

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "scale": self.scale}
