"""Which flat element indices a region of a tensor covers, as runs.

A region (one ``(start, stop)`` per axis) of a row-major tensor is a set of
equally long runs of consecutive flat indices. Generating run by run (or, for
short runs, from the flat indices themselves) keeps the cost proportional to
the region, never to the whole tensor.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Runs", "box_tiles", "runs_of"]


@dataclass(frozen=True)
class Runs:
    """``count`` runs of ``length`` flat indices; run ``r`` starts at ``starts(r)``."""

    count: int
    length: int
    outer_sizes: tuple[int, ...]  # extents of the axes that index the runs
    outer_offsets: tuple[int, ...]  # region start on those axes
    outer_strides: tuple[int, ...]  # flat strides of those axes
    base: int  # flat offset contributed by the run axis start

    def starts(self, first: int, stop: int) -> NDArray[np.int64]:
        """Flat start indices of runs ``first .. stop - 1``."""
        r = np.arange(first, stop, dtype=np.int64)
        if not self.outer_sizes:
            return r + self.base  # only one run (first == 0)
        out = np.full(r.shape, self.base, dtype=np.int64)
        for size, offset, stride in zip(
            reversed(self.outer_sizes),
            reversed(self.outer_offsets),
            reversed(self.outer_strides),
            strict=True,
        ):
            coord = r % size
            r //= size
            out += (coord + offset) * stride
        return out

    def batches(self, max_elements: int) -> Iterator[tuple[int, int]]:
        """Split the runs into consecutive batches of at most ``max_elements`` elements."""
        per = max(1, max_elements // max(1, self.length))
        for first in range(0, self.count, per):
            yield first, min(self.count, first + per)


@functools.lru_cache(maxsize=256)
def runs_of(shape: tuple[int, ...], region: tuple[tuple[int, int], ...]) -> Runs:
    """Describe ``region`` of a row-major ``shape`` as runs of flat indices (remembered: a model
    initializes many tensors of few shapes, and ``Runs`` is immutable)."""
    nd = len(shape)
    k = nd - 1
    while k >= 0 and region[k] == (0, shape[k]):
        k -= 1
    strides = [math.prod(shape[d + 1 :]) for d in range(nd)]
    if k < 0:
        return Runs(1, math.prod(shape), (), (), (), 0)
    length = (region[k][1] - region[k][0]) * strides[k]
    outer_sizes = tuple(stop - start for start, stop in region[:k])
    count = math.prod(outer_sizes) if length else 0
    return Runs(
        count=count,
        length=length,
        outer_sizes=outer_sizes,
        outer_offsets=tuple(start for start, _ in region[:k]),
        outer_strides=tuple(strides[:k]),
        base=region[k][0] * strides[k],
    )


def box_tiles(
    region: tuple[tuple[int, int], ...], max_elements: int
) -> Iterator[tuple[tuple[int, int], ...]]:
    """Split ``region`` into boxes of at most ``max_elements`` (at least one element each).

    The boxes are whole on the trailing axes and cut along one axis ``k`` (the
    first whose trailing block fits), single on the axes before it, in row-major
    order, so each is a run of consecutive positions of the region.

    >>> list(box_tiles(((0, 2), (1, 4)), 4))
    [((0, 1), (1, 4)), ((1, 2), (1, 4))]
    """
    ext = [stop - start for start, stop in region]
    if math.prod(ext) == 0:
        return
    if not ext:
        yield region
        return
    k = 0
    while k < len(ext) - 1 and math.prod(ext[k:]) > max_elements:
        k += 1
    step = max(1, max_elements // math.prod(ext[k + 1 :]))
    lead = region[:k]
    for coords in np.ndindex(*ext[:k]):
        head = tuple((lo + c, lo + c + 1) for c, (lo, _) in zip(coords, lead, strict=True))
        lo, hi = region[k]
        for s in range(lo, hi, step):
            yield (*head, (s, min(hi, s + step)), *region[k + 1 :])
