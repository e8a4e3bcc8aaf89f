"""Fans as torch.nn.init computes them, for a shape in Keras order ``(*kernel, in, out)``.

A torch weight ``(out, in, *kernel)`` corresponds to the Keras-order shape
``(*kernel, in, out)`` (``weightinit.torch`` permutes between the two), so
torch's ``_calculate_fan_in_and_fan_out`` (``fan_in = in * prod(kernel)``,
``fan_out = out * prod(kernel)``) is Keras's rule for rank >= 2; unlike Keras,
torch refuses tensors of rank 0 and 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._errors import InvalidArgumentError
from ._fans import compute_fans

__all__ = ["torch_fans"]


def torch_fans(
    shape: Sequence[int],
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
    owner: str = "torch_fans",
) -> tuple[int, int]:
    """``(fan_in, fan_out)`` torch gives the corresponding torch tensor.

    Explicit ``input_axes`` and ``output_axes`` (both given) name the axes
    instead, as in every weightinit initializer.

    >>> torch_fans((3, 3, 64, 128))   # torch weight (128, 64, 3, 3)
    (576, 1152)
    >>> torch_fans((10,))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    weightinit._errors.InvalidArgumentError: torch_fans: Fan in and fan out can not be computed ...
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return compute_fans(shape, input_axes, output_axes)
    if len(shape) < 2:
        raise InvalidArgumentError(
            f"{owner}: Fan in and fan out can not be computed for shape={shape} with fewer than 2 "
            "dimensions (torch.nn.init refuses it too)."
        )
    return compute_fans(shape)
