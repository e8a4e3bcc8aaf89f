"""What initialized a tensor: records kept beside the tensor objects.

The record belongs to the tensor *object* (a weak mapping: it never keeps a
tensor alive). It survives in-place changes of the values (training steps,
``load_state_dict``, which copies into the same parameters) because it tells
how the parameter was initialized, not what it holds now. It does not travel
with a ``state_dict`` (plain tensors, no provenance) and is gone when a
module replaces its parameter objects: ``to_empty`` and ``fully_shard``
make new ones, which is right, since their values are not those the
initializer made. Initialize after ``to_empty`` / ``fully_shard`` (the FSDP2
recipe) and the records are on the sharded parameters.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["InitRecord", "forget", "record", "record_all", "record_of"]


@dataclass(frozen=True, slots=True)
class InitRecord:
    """How weightinit last initialized a tensor.

    Attributes:
        initializer: the initializer instance, with the seed it was called with.
        layout: how its Keras-layout values were laid out in the tensor
            (``"torch"``, ``"keras"``, ``"torch_transposed"``, or a description
            of a composite layout such as a GRU's gate reordering).
        name: the qualified parameter name (``init_module``), or ``None`` (``init_``).
        keras_shape: the shape the initializer was called with.
    """

    initializer: Any
    layout: str
    name: str | None
    keras_shape: tuple[int, ...]


# id(tensor) -> (weak reference to the tensor, record): keyed by identity, since tensors compare
# elementwise; the reference's callback drops the entry when the tensor dies (if a newer tensor
# has not taken the id meanwhile)
_RECORDS: dict[int, tuple[weakref.ref[torch.Tensor], InitRecord]] = {}


def _forget(key: int, ref: weakref.ref[torch.Tensor]) -> None:
    found = _RECORDS.get(key)
    if found is not None and found[0] is ref:
        del _RECORDS[key]


def record(tensor: torch.Tensor, rec: InitRecord) -> None:
    record_all([(tensor, rec)])


def record_all(pairs: list[tuple[torch.Tensor, InitRecord]]) -> None:
    """:func:`record` for each ``(tensor, record)`` pair."""
    for tensor, rec in pairs:
        key = id(tensor)
        found = _RECORDS.get(key)
        if found is not None and found[0]() is tensor:
            _RECORDS[key] = (found[0], rec)
        else:
            _RECORDS[key] = (weakref.ref(tensor, functools.partial(_forget, key)), rec)


def forget(tensor: torch.Tensor) -> None:
    """Drop ``tensor``'s record, if any."""
    found = _RECORDS.get(id(tensor))
    if found is not None and found[0]() is tensor:
        del _RECORDS[id(tensor)]


def record_of(tensor: torch.Tensor) -> InitRecord | None:
    found = _RECORDS.get(id(tensor))
    if found is None or found[0]() is not tensor:
        return None
    return found[1]
