"""TorchTruncNormal: torch.nn.init.trunc_normal_ (absolute bounds), exact and never out of range."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._errors import InvalidArgumentError
from ._random import RandomInitializer
from ._truncation import sample_truncated
from ._validation import Region, Shape, check_real

__all__ = ["BoundedNormal", "MeanStdBounds", "TorchTruncNormal", "check_interval"]


def check_interval(low: object, high: object, names: tuple[str, str], owner: str) -> tuple[float, float]:
    """Two finite reals with ``low < high``."""
    lo = check_real(low, names[0], owner)
    hi = check_real(high, names[1], owner)
    if not lo < hi:
        raise InvalidArgumentError(
            f"{owner}: Argument `{names[0]}` must be < `{names[1]}`. "
            f"Received: {names[0]}={lo}, {names[1]}={hi}"
        )
    return lo, hi


class BoundedNormal(RandomInitializer):
    """Shared call of the truncated normals with explicit bounds: subclasses give the parameters."""

    def _law(self) -> tuple[float, float, float, float, tuple[float, float]]:
        """``(mean, std, lower, upper, (a, b))``: bounds in std units, then absolute."""
        raise NotImplementedError  # pragma: no cover

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        mean, std, lower, upper, clamp = self._law()
        seed, call = self._next_stream(whole)
        return sample_truncated(
            type(self).__name__, seed, call, shape, region, dtype, mean, std, lower, upper, clamp
        )


class MeanStdBounds(BoundedNormal):
    """A bounded normal with parameters ``mean, std, a, b``; subclasses say what ``a, b`` mean."""

    #: the error when the law's bounds overflow (``{mean}`` ... ``{b}`` are filled in)
    _finite_message = ""

    def __init__(
        self, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, seed: Any = None
    ) -> None:
        owner = type(self).__name__
        self.mean = check_real(mean, "mean", owner)
        self.std = check_real(std, "std", owner, positive=True)
        self.a, self.b = check_interval(a, b, ("a", "b"), owner)
        _, _, lower, upper, (low, high) = self._law()
        if not all(math.isfinite(v) for v in (lower, upper, low, high)):
            raise InvalidArgumentError(
                f"{owner}: {self._finite_message} must be finite. "
                f"Received: mean={self.mean}, std={self.std}, a={self.a}, b={self.b}"
            )
        super().__init__(seed)

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "mean": self.mean, "std": self.std, "a": self.a, "b": self.b}


class TorchTruncNormal(MeanStdBounds):
    r"""``N(mean, std^2)`` conditioned on ``a <= x <= b``: torch.nn.init.trunc_normal_.

    Unlike Keras's TruncatedNormal, the bounds ``a`` and ``b`` are absolute
    values (not multiples of ``std``) and ``std`` is the standard deviation
    before truncation. The sampler is the exact inverse CDF for every interval,
    in bounded time (torch 2.13 rejects and redraws in a loop; torch before
    2.x and timm's ``trunc_normal_`` take ``erfinv(2 Phi - 1)`` and clamp, which
    collapses in the tails), and no value ever leaves ``[a, b]``: the bounds
    are rounded inwards to the output dtype (torch keeps values in
    ``[float32(a), float32(b)]``, and ``float32(0.7) < 0.7``); a dtype with no
    value in ``[a, b]`` is refused. See ``_truncation`` for the paths.

    Args:
        mean: the mean before truncation (finite).
        std: the standard deviation before truncation (finite, > 0).
        a, b: the absolute bounds, finite, ``a < b``.
        seed: int in [0, 2**64), None, or a ``SeedGenerator``.

    Example:
        >>> import weightinit as wi
        >>> x = wi.TorchTruncNormal(mean=0.0, std=1.0, a=0.5, b=3.0, seed=0)((1000,))
        >>> bool((x >= 0.5).all() and (x <= 3.0).all())
        True
    """

    _finite_message = "(a - mean) / std and (b - mean) / std"

    def _law(self) -> tuple[float, float, float, float, tuple[float, float]]:
        # torch's own arithmetic for the standardized bounds
        lower, upper = (self.a - self.mean) / self.std, (self.b - self.mean) / self.std
        return self.mean, self.std, lower, upper, (self.a, self.b)
