"""TimmTruncNormalTF: timm's ``trunc_normal_tf_`` (bounds in standard deviations, then scaled)."""

from __future__ import annotations

from ._torch_trunc import MeanStdBounds

__all__ = ["TimmTruncNormalTF"]


class TimmTruncNormalTF(MeanStdBounds):
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

    _finite_message = "mean + std * a and mean + std * b"

    def _law(self) -> tuple[float, float, float, float, tuple[float, float]]:
        clamp = (self.mean + self.std * self.a, self.mean + self.std * self.b)
        return self.mean, self.std, self.a, self.b, clamp
