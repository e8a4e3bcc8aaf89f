"""TimmTruncNormalTF: timm's ``trunc_normal_tf_`` (bounds in standard deviations, then scaled)."""

from __future__ import annotations

import math
from typing import Any

from ._errors import InvalidArgumentError
from ._torch_trunc import BoundedNormal, check_interval
from ._validation import check_real

__all__ = ["TimmTruncNormalTF"]


class TimmTruncNormalTF(BoundedNormal):
    r"""``mean + std * Z``, ``Z`` standard normal on ``[a, b]``: timm's ``trunc_normal_tf_``.

    The TensorFlow / JAX convention: ``a`` and ``b`` bound the *standard*
    normal, so the values lie in ``[mean + a std, mean + b std]`` (timm's
    ``trunc_normal_``, torch's, takes absolute bounds: use
    :class:`TorchTruncNormal`). With the default ``a=-2, b=2`` this is
    Keras's ``TruncatedNormal(mean, std)``, value for value.

    Args:
        mean, std: the shift and scale applied after truncation (finite; ``std > 0``).
        a, b: the bounds of the standard normal, finite, ``a < b``.
        seed: int in [0, 2**64), None, or a ``SeedGenerator``.

    Example:
        >>> import weightinit as wi
        >>> x = wi.TimmTruncNormalTF(mean=1.0, std=0.5, a=-1.0, b=1.0, seed=0)((1000,))
        >>> bool((x >= 0.5).all() and (x <= 1.5).all())
        True
    """

    def __init__(
        self, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, seed: Any = None
    ) -> None:
        owner = type(self).__name__
        self.mean = check_real(mean, "mean", owner)
        self.std = check_real(std, "std", owner, positive=True)
        self.a, self.b = check_interval(a, b, ("a", "b"), owner)
        low, high = self.mean + self.std * self.a, self.mean + self.std * self.b
        if not (math.isfinite(low) and math.isfinite(high)):
            raise InvalidArgumentError(
                f"{owner}: mean + std * a and mean + std * b must be finite. "
                f"Received: mean={self.mean}, std={self.std}, a={self.a}, b={self.b}"
            )
        super().__init__(seed)

    def _law(self) -> tuple[float, float, float, float, tuple[float, float]]:
        clamp = (self.mean + self.std * self.a, self.mean + self.std * self.b)
        return self.mean, self.std, self.a, self.b, clamp

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "mean": self.mean, "std": self.std, "a": self.a, "b": self.b}
