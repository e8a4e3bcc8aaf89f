"""Sparse: torch.nn.init.sparse_ with zero positions drawn from the engine."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._engine import sample
from ._errors import InvalidArgumentError
from ._random import RandomInitializer, _check_range
from ._validation import Region, Shape, check_real

__all__ = ["Sparse"]

F64 = np.dtype(np.float64)


class Sparse(RandomInitializer):
    r"""torch's ``sparse_``: :math:`\mathcal N(0, \text{std}^2)`, ``ceil(sparsity * out)`` zeros per input.

    For a Keras-order matrix ``(in, out)`` (torch ``(out, in)``, whose
    *columns* torch sparsifies): every row ``W[i, :]`` has exactly
    ``ceil(sparsity * out)`` zeros, at positions uniformly random among the
    subsets of that size, as torch's ``randperm`` gives. The nonzero values are
    those of ``RandomNormal(0, std, seed)``; the zeros are where the row's
    ``RandomUniform(0, 1, seed)`` keys (float64) are smallest (ties, which
    need two equal 53-bit keys, go to the lower column). A slice generates the
    keys of its rows only. torch has no default ``sparsity``; 0.1 here.

    Args:
        sparsity: the fraction of each row set to zero, in [0, 1].
        std: the standard deviation of the nonzero values (finite, >= 0).
        seed: int in [0, 2**64), None, or a ``SeedGenerator``.

    Example:
        >>> import weightinit as wi
        >>> w = wi.Sparse(sparsity=0.25, seed=0)((3, 8))
        >>> (w == 0).sum(axis=1).tolist()
        [2, 2, 2]
    """

    def __init__(self, sparsity: float = 0.1, std: float = 0.01, seed: Any = None) -> None:
        owner = type(self).__name__
        self.sparsity = check_real(sparsity, "sparsity", owner, nonnegative=True)
        if self.sparsity > 1.0:
            raise InvalidArgumentError(
                f"{owner}: Argument `sparsity` must be in [0, 1]. Received: sparsity={self.sparsity}"
            )
        self.std = check_real(std, "std", owner, nonnegative=True)
        super().__init__(seed)

    def _check_shape(self, shape: Shape) -> None:
        if len(shape) != 2:
            raise InvalidArgumentError(
                f"Sparse: Only tensors with 2 dimensions are supported. Received: shape={shape}"
            )

    def zeros_per_row(self, shape: Shape) -> int:
        """torch's ``ceil(sparsity * rows)`` of the torch tensor, i.e. ``ceil(sparsity * out)`` here."""
        return min(shape[1], math.ceil(self.sparsity * shape[1]))

    def _work_bytes(self, shape: Shape) -> int:
        return 17 * shape[1] * min(shape[0], 1 << 16) if math.prod(shape) else 0

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        _check_range("Sparse", "normal", 0.0, self.std, dtype)
        seed, call = self._next_stream(whole)
        out = sample("normal", seed, call, shape, region, dtype, 0.0, self.std)
        zeros = self.zeros_per_row(shape)
        if out.size == 0 or zeros == 0:
            return out
        (r0, r1), (c0, c1) = region
        cols = shape[1]
        step = max(1, (1 << 16) // cols)  # rows per batch of keys
        for start in range(r0, r1, step):
            stop = min(r1, start + step)
            keys = sample("uniform", seed, call, shape, ((start, stop), (0, cols)), F64, 0.0, 1.0)
            kth = np.partition(keys, zeros - 1, axis=1)[:, zeros - 1 : zeros]
            below = keys < kth
            tied = keys == kth
            needed = zeros - below.sum(axis=1, keepdims=True)
            mask = below | (tied & (np.cumsum(tied, axis=1) <= needed))
            block = out[start - r0 : stop - r0]
            block[mask[:, c0:c1]] = 0
        return out

    def get_config(self) -> dict[str, Any]:
        return {**self._seed_config(), "sparsity": self.sparsity, "std": self.std}
