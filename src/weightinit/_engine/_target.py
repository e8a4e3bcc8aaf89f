"""Generating straight into caller memory: the ``out=`` path of ``sample`` and its context.

An adapter that owns a writable array (a torch tensor's memory seen through
numpy, possibly with permuted strides) lets the engine write the values there
instead of into a new array: ``sample(..., out=array)``, or, through an
initializer's ordinary ``__call__``, the context :func:`writing_into`. Inside
it, the first ``sample`` call whose region shape and dtype equal the array's
writes into the array and returns it; every later call allocates as usual. The
values are the same bits either way (tests compare them). So the first ``sample``
call of an initializer must make its output: one that first draws a working
array (Orthogonal's normal matrix) passes it as ``out=``, which keeps it out of
the context's array.

With ``defer=True`` the matching call only prepares the fill (checks, key,
transform, runs) and leaves it in ``Target.job``, a function of no arguments
that the caller runs later: an adapter filling many tensors prepares them all,
then runs the fills back to back, so that its own Python work does not run
again and again on caches the fills have just swept.

>>> import numpy as np, weightinit as wi
>>> from weightinit._engine import writing_into
>>> buf = np.zeros((4, 3), dtype=np.float32).T          # a strided (3, 4) view
>>> with writing_into(buf):
...     got = wi.RandomNormal(seed=0)((3, 4))
>>> got is buf, bool((buf == wi.RandomNormal(seed=0)((3, 4))).all())
(True, True)
>>> later = np.zeros((3, 4), dtype=np.float32)
>>> with writing_into(later, defer=True) as target:
...     got = wi.RandomNormal(seed=0)((3, 4))
>>> bool(got.any()), target.job is not None
(False, True)
>>> target.job()
>>> bool((later == buf).all())
True
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Target", "take_target", "writing_into"]


class Target:
    """One writable array that a single ``sample`` call may fill (``defer``: prepare the fill
    and leave it in ``job``)."""

    __slots__ = ("array", "defer", "job", "used")

    def __init__(self, array: NDArray[Any], defer: bool = False) -> None:
        self.array = array
        self.defer = defer
        self.used = False
        self.job: Callable[[], None] | None = None


_TARGET: contextvars.ContextVar[Target | None] = contextvars.ContextVar("weightinit_target", default=None)


class writing_into:  # a context manager, used like a function (lower-case name)
    """Let the first matching ``sample`` call in this context write into ``array``.

    ``array`` must be writable, with non-negative strides and no two elements
    sharing memory (the caller checks; the engine writes each element once).
    ``Target.used`` tells afterwards whether the array was taken; with
    ``defer=True`` it is filled only when the caller runs ``Target.job`` (None
    when there was nothing to fill). (A class rather than a generator: adapters
    enter one per tensor, and this is the cheaper kind of context.)
    """

    __slots__ = ("_target", "_token")

    def __init__(self, array: NDArray[Any], defer: bool = False) -> None:
        if not isinstance(array, np.ndarray) or not array.flags.writeable:
            raise ValueError("writing_into needs a writable numpy array")
        self._target = Target(array, defer)

    def __enter__(self) -> Target:
        self._token = _TARGET.set(self._target)
        return self._target

    def __exit__(self, *exc: object) -> None:
        _TARGET.reset(self._token)


def take_target(shape: tuple[int, ...], dtype: np.dtype[Any]) -> Target | None:
    """The context's target if its array is unused and has this shape and dtype (then it is
    used)."""
    target = _TARGET.get()
    if target is None or target.used:
        return None
    if target.array.shape != shape or target.array.dtype != dtype:
        return None
    target.used = True
    return target
