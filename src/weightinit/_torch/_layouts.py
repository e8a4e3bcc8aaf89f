"""Weight layouts: which torch axis holds which Keras axis.

Keras stores a kernel as ``(*kernel, in, out)`` (transposed convolutions:
``(*kernel, out, in)``); torch stores ``Linear`` / ``ConvNd`` weights as
``(out, in, *kernel)`` and ``ConvTransposeNd`` weights as ``(in, out, *kernel)``.
Both torch layouts are the Keras array with its last two axes moved to the
front in reverse order, so one permutation serves both: torch axis ``j`` is
Keras axis ``perm[j]``. Values are generated in the Keras layout and permuted,
never reshaped, so a torch layer gets exactly the numbers of its Keras twin.

>>> torch_to_keras_perm("torch", 4)     # Conv2d (out, in, kh, kw) <- (kh, kw, in, out)
(3, 2, 0, 1)
>>> keras_shape((8, 3, 5, 5), (3, 2, 0, 1))
(5, 5, 3, 8)
"""

from __future__ import annotations

from .._errors import InvalidArgumentError, InvalidTypeError, short_repr

__all__ = ["LAYOUTS", "keras_shape", "torch_to_keras_perm"]

#: layout names init_ accepts
LAYOUTS = ("keras", "torch", "torch_transposed")


def torch_to_keras_perm(layout: object, rank: int) -> tuple[int, ...]:
    """``perm`` with torch axis ``j`` = Keras axis ``perm[j]`` for a tensor of ``rank``.

    ``"keras"``: identity (any rank). ``"torch"``: (out, in, *kernel), rank >= 1
    (rank 1 is a bias: identity). ``"torch_transposed"``: (in, out, *kernel) of a
    transposed convolution, rank >= 3; it is the same permutation as "torch"
    because Keras also swaps in and out for transposed kernels.
    """
    if not isinstance(layout, str):
        raise InvalidTypeError(
            f"Argument `layout` must be a str, one of {list(LAYOUTS)}. Received: layout={short_repr(layout)}"
        )
    if layout not in LAYOUTS:
        raise InvalidArgumentError(
            f"Argument `layout` must be one of {list(LAYOUTS)}. Received: layout={short_repr(layout)}"
        )
    if layout == "keras" or (layout == "torch" and rank == 1):
        return tuple(range(rank))
    least = 2 if layout == "torch" else 3
    if rank < least:
        raise InvalidArgumentError(
            f"layout={layout!r} needs a tensor of rank >= {least} "
            f"({'(out, in, *kernel)' if layout == 'torch' else '(in, out, *kernel)'}; rank 1 is a bias "
            f"with layout='torch'). Received: a tensor of rank {rank}. Use layout='keras' for tensors "
            "already in Keras order."
        )
    return (rank - 1, rank - 2, *range(rank - 2))


def keras_shape(torch_shape: tuple[int, ...], perm: tuple[int, ...]) -> tuple[int, ...]:
    """The Keras shape whose permutation by ``perm`` is ``torch_shape``."""
    out = [0] * len(perm)
    for j, k in enumerate(perm):
        out[k] = torch_shape[j]
    return tuple(out)
