"""Dirac and Eye: torch.nn.init.dirac_ and eye_, in Keras order."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._base import BuiltinInitializer
from ._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._identity import Identity
from ._validation import Region, Shape, region_shape

__all__ = ["Dirac", "Eye", "check_count"]


def check_count(value: object, name: str, owner: str, minimum: int = 1) -> int:
    """An int (not bool) >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise InvalidTypeError(
            f"{owner}: Argument `{name}` must be an int. Received: {name}={short_repr(value)} "
            f"of type {type(value).__name__}"
        )
    if int(value) < minimum:
        raise InvalidArgumentError(
            f"{owner}: Argument `{name}` must be >= {minimum}. Received: {name}={value}"
        )
    return int(value)


class Dirac(BuiltinInitializer):
    """torch's ``dirac_``: an identity convolution (per group), for 3-, 4- and 5-D kernels.

    For a Keras-order kernel ``(*k, in, out)`` (torch ``(out, in, *k)``), with
    ``n = out // groups`` outputs per group: ``W[c, d, g * n + d] = 1`` at the
    centre tap ``c = (k1 // 2, ...)`` for every group ``g`` and
    ``d < min(n, in)``, zero elsewhere, so each group's first channels pass
    through unchanged. ``out`` must be divisible by ``groups``. The centre is
    ``k // 2`` as in torch (JAX's DeltaOrthogonal uses ``(k - 1) // 2``; they
    differ for even kernels).

    Example:
        >>> import weightinit as wi
        >>> w = wi.Dirac()((3, 2, 2))     # torch Conv1d weight (2, 2, 3)
        >>> w[1].tolist(), float(w.sum())
        ([[1.0, 0.0], [0.0, 1.0]], 2.0)
    """

    def __init__(self, groups: int = 1) -> None:
        self.groups = check_count(groups, "groups", type(self).__name__)

    def _check_shape(self, shape: Shape) -> None:
        if len(shape) not in (3, 4, 5):
            raise InvalidArgumentError(
                f"Dirac: Only tensors with 3, 4, or 5 dimensions are supported. Received: shape={shape}"
            )
        if shape[-1] % self.groups != 0:
            raise InvalidArgumentError(
                f"Dirac: the output axis (last, torch's dim 0) must be divisible by groups={self.groups}. "
                f"Received: shape={shape}"
            )

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        out = np.zeros(region_shape(region), dtype=dtype)
        per_group = shape[-1] // self.groups
        count = min(per_group, shape[-2])
        centre = tuple(k // 2 for k in shape[:-2])
        if count == 0 or not all(lo <= c < hi for c, (lo, hi) in zip(centre, region[:-2], strict=True)):
            return out
        d = np.tile(np.arange(count), self.groups)
        o = np.repeat(np.arange(self.groups) * per_group, count) + d
        (i0, i1), (o0, o1) = region[-2:]
        keep = (d >= i0) & (d < i1) & (o >= o0) & (o < o1)
        taps = tuple(c - lo for c, (lo, _) in zip(centre, region[:-2], strict=True))
        where: tuple[Any, ...] = (*taps, d[keep] - i0, o[keep] - o0)
        out[where] = 1
        return out

    def _work_bytes(self, shape: Shape) -> int:
        return 16 * self.groups * min(shape[-1] // self.groups, shape[-2]) if math.prod(shape) else 0

    def get_config(self) -> dict[str, Any]:
        return {"groups": self.groups}


class Eye(Identity):
    """torch's ``eye_``: the identity matrix (2-D only); ``Identity(gain=1)`` without arguments.

    Example:
        >>> import weightinit as wi
        >>> wi.Eye()((2, 3)).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """

    def __init__(self) -> None:
        super().__init__(gain=1.0)

    def get_config(self) -> dict[str, Any]:
        return {}
