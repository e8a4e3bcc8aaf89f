"""Identity: ``gain`` on the main diagonal of a 2-D matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._base import BuiltinInitializer
from ._constant import cast_checked
from ._errors import InvalidArgumentError
from ._validation import Region, Shape, check_real, region_shape

__all__ = ["Identity"]


class Identity(BuiltinInitializer):
    """``gain`` at ``[i, i]`` for ``i < min(rows, cols)``, zero elsewhere; 2-D shapes only.

    Unlike Keras, ``gain`` is kept in ``get_config()`` and the output has
    exactly the requested dtype.

    Example:
        >>> import weightinit as wi
        >>> wi.Identity(gain=2.0)((2, 3))
        array([[2., 0., 0.],
               [0., 2., 0.]], dtype=float32)
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = check_real(gain, "gain", type(self).__name__)

    def _check_shape(self, shape: Shape) -> None:
        if len(shape) != 2:
            raise InvalidArgumentError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        out = np.zeros(region_shape(region), dtype=dtype)
        (r0, r1), (c0, c1) = region
        first, last = max(r0, c0), min(r1, c1)
        if first < last:
            diag = np.arange(first, last)
            out[diag - r0, diag - c0] = cast_checked(np.asarray(self.gain), dtype, "Identity", "gain")
        return out

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}
