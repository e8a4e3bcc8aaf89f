"""Random initializers with explicit parameters: RandomNormal, RandomUniform, TruncatedNormal."""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ._base import BuiltinInitializer
from ._dtypes import FLOAT_DTYPES, max_finite
from ._engine import sample, work_dtype
from ._errors import InvalidArgumentError
from ._seed import SeedGenerator, serialize_seed, validate_seed
from ._validation import Region, Shape, check_real

__all__ = [
    "RandomInitializer",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "UnseededReuseWarning",
]


class UnseededReuseWarning(UserWarning):
    """An unseeded initializer instance was called again: it returns the same values."""


class RandomInitializer(BuiltinInitializer):
    """Seed handling shared by every random initializer (not exported by Keras either)."""

    dtypes: ClassVar[tuple[str, ...]] = FLOAT_DTYPES

    def __init__(self, seed: int | SeedGenerator | dict[str, Any] | None = None) -> None:
        self._init_seed, self.seed = validate_seed(seed, type(self).__name__)
        self._whole_calls = 0
        self._count_lock = threading.Lock()

    def _with_seed(self, seed: int) -> Any:
        """A copy seeded with ``seed`` (an int in [0, 2**64), checked by the caller): what
        ``from_config({**self.get_config(), "seed": seed})`` builds, without checking the
        other arguments again (adapters seed one copy per weight)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._init_seed = new.seed = seed
        new._whole_calls = 0
        new._count_lock = threading.Lock()
        return new

    def _next_stream(self, whole: bool, stacklevel: int = 4) -> tuple[int, int]:
        """``(seed, call)`` for this draw; advances a SeedGenerator, warns on unseeded reuse.

        ``stacklevel`` points the warning at the user's call: 4 when called from
        ``_generate``, 5 when called through ``_draw``.
        """
        if isinstance(self.seed, SeedGenerator):
            return self.seed.next()
        if whole and self._init_seed is None:
            with self._count_lock:
                self._whole_calls += 1
                again = self._whole_calls == 2
            if again:
                warnings.warn(
                    f"The initializer {type(self).__name__} is unseeded and is being called again: "
                    "it returns the same values on every call. Pass a seed, or use a new instance "
                    "for each weight.",
                    UnseededReuseWarning,
                    stacklevel=stacklevel,
                )
        return int(self.seed), 0

    def _seed_config(self) -> dict[str, Any]:
        return {"seed": serialize_seed(self._init_seed)}

    def _draw(
        self,
        kind: str,
        shape: Shape,
        region: Region,
        dtype: np.dtype[Any],
        whole: bool,
        a: float,
        b: float,
        what: str | None = None,
    ) -> NDArray[Any]:
        """Sample ``kind`` with parameters ``a, b``; ``what`` names them in an overflow error
        (default: the parameters themselves, e.g. ``mean=..., stddev=...``)."""
        _check_range(type(self).__name__, kind, a, b, dtype, what)
        seed, call = self._next_stream(whole, stacklevel=5)
        return sample(kind, seed, call, shape, region, dtype, a, b)


# Largest |z| the engine's standard normal can return: float32 work precision
# (24-bit inputs) reaches 5.42, float64 (52-bit inputs) 8.21.
_MAX_Z = {np.dtype(np.float32): 5.5, np.dtype(np.float64): 8.3}


@functools.lru_cache(maxsize=256)  # a pure check; only parameters that pass are remembered
def _check_range(
    owner: str, kind: str, a: float, b: float, dtype: np.dtype[Any], what: str | None = None
) -> None:
    """Refuse parameters whose values would overflow to inf in the output dtype."""
    work = work_dtype(dtype)
    if kind == "uniform":
        largest = max(abs(a), abs(b))
        width = b - a
        what = what or f"minval={a}, maxval={b}"
    else:
        z = 2.0 if kind == "truncated_normal" else _MAX_Z[work]
        largest = abs(a) + z * b
        width = 0.0
        what = what or f"mean={a}, stddev={b}"
    refuse_overflow(owner, what, largest, dtype, work, width)


def refuse_overflow(
    owner: str, what: str, largest: float, dtype: np.dtype[Any], work: np.dtype[Any], width: float = 0.0
) -> None:
    """Raise if magnitudes up to ``largest`` (and a range ``width``) overflow ``dtype`` or ``work``."""
    limit = min(max_finite(dtype), max_finite(work))
    if not (largest <= limit and width <= float(np.finfo(work).max)):
        raise InvalidArgumentError(
            f"{owner}: values with {what} would overflow {dtype.name} (largest finite value "
            f"{limit:.6g}). Use a wider dtype or smaller parameters."
        )


class _MeanStddev(RandomInitializer):
    """A (possibly truncated) normal given by ``mean`` and ``stddev``."""

    _kind: ClassVar[str]

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        owner = type(self).__name__
        self.mean = check_real(mean, "mean", owner)
        self.stddev = check_real(stddev, "stddev", owner, nonnegative=True)
        super().__init__(seed)

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        return self._draw(self._kind, shape, region, dtype, whole, self.mean, self.stddev)

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "mean": self.mean, "stddev": self.stddev}


class RandomNormal(_MeanStddev):
    r"""Normal distribution :math:`\mathcal N(\text{mean}, \text{stddev}^2)`.

    Args:
        mean: the mean (finite).
        stddev: the standard deviation (finite, >= 0).
        seed: int in [0, 2**64), None, or a ``SeedGenerator``.

    Example:
        >>> import weightinit as wi
        >>> wi.RandomNormal(stddev=1.0, seed=0)((2, 3))
        array([[ 1.3594568 ,  0.20224407, -0.06382569],
               [-0.08385084,  0.13560186, -0.44864   ]], dtype=float32)
    """

    _kind = "normal"


class TruncatedNormal(_MeanStddev):
    r"""Normal distribution conditioned on :math:`|x - \text{mean}| \le 2\,\text{stddev}`.

    As in Keras, ``stddev`` is the standard deviation *before* truncation, so
    the values' standard deviation is about ``0.88 * stddev``. Sampled by the
    inverse CDF restricted to [-2, 2]: no rejection loop, values never leave
    the bounds.

    Example:
        >>> import weightinit as wi
        >>> x = wi.TruncatedNormal(stddev=1.0, seed=0)((1000,))
        >>> bool(abs(x).max() <= 2.0)
        True
    """

    _kind = "truncated_normal"


class RandomUniform(RandomInitializer):
    """Uniform distribution on ``[minval, maxval)``.

    Values are computed in float32 (float64 for float64 outputs) and then
    rounded to the output dtype; a value that would round up to ``maxval`` is
    replaced by the largest representable value below it, so ``maxval`` is
    never returned. ``minval == maxval`` gives that constant.

    Example:
        >>> import weightinit as wi
        >>> x = wi.RandomUniform(-1.0, 1.0, seed=0)((4,), dtype="float64")
        >>> bool(((x >= -1) & (x < 1)).all())
        True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None) -> None:
        owner = type(self).__name__
        self.minval = check_real(minval, "minval", owner)
        self.maxval = check_real(maxval, "maxval", owner)
        if not self.minval <= self.maxval:
            raise InvalidArgumentError(
                f"{owner}: Argument `minval` must be <= `maxval`. "
                f"Received: minval={self.minval}, maxval={self.maxval}"
            )
        if not np.isfinite(self.maxval - self.minval):
            raise InvalidArgumentError(
                f"{owner}: `maxval - minval` must be finite. "
                f"Received: minval={self.minval}, maxval={self.maxval}"
            )
        super().__init__(seed)

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        return self._draw("uniform", shape, region, dtype, whole, self.minval, self.maxval)

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "minval": self.minval, "maxval": self.maxval}
