"""Pair the weights a config describes (slots) with the weights a file stores.

Files name layers differently (a Keras 3 ``.weights.h5`` numbers variables,
tf.keras drops wrapper names, live Keras 3 models drop the outer model's
name), so a stored weight goes to the unused slot with the same weight name
whose layer path shares the most names with the stored one, the stored
weight's innermost layer name included; ties go to the first in layer order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._config import WILDCARD, Slot
from ._tensor import TensorRef

__all__ = ["FileWeight", "Pair", "assemble"]


@dataclass
class FileWeight:
    """A weight as a file stores it: layer names, weight name (or only its index), the tensor."""

    chain: tuple[str, ...]
    name: str | None
    index: int
    shape: tuple[int, ...] | None
    dtype: str | None
    tensor: TensorRef | None = None


@dataclass
class Pair:
    """A slot, a stored weight, or both."""

    slot: Slot | None
    weight: FileWeight | None


def _score(chain: tuple[str, ...], slot: Slot) -> int:
    """How well a stored layer path fits a slot's (-1: not at all)."""
    target = list(slot.chain)
    own = list(chain)
    if target and target[-1] == WILDCARD:
        target = target[:-1]
        if own and own[-1] not in target:
            own = own[:-1]  # the stored cell name stands for the wildcard
    if not own:
        return 0
    if own[-1] not in target:
        return -1
    return sum(1 for c in own if c in target)


def _matches_name(name: str, slot: Slot) -> bool:
    return name == slot.weight or name in slot.aliases


def assemble(slots: Sequence[Slot], weights: Sequence[FileWeight]) -> list[Pair]:
    """Every slot paired with its stored weight (or None), then stored weights no slot claimed."""
    used: set[int] = set()
    paired: dict[int, FileWeight] = {}
    leftovers: list[FileWeight] = []
    named = [w for w in weights if w.name is not None]
    unnamed = [w for w in weights if w.name is None]
    for w in named:
        best, best_score = -1, -1
        for k, slot in enumerate(slots):
            if k in used or not _matches_name(w.name or "", slot):
                continue
            score = _score(w.chain, slot)
            if score > best_score:
                best, best_score = k, score
        if best < 0:
            leftovers.append(w)
        else:
            used.add(best)
            paired[best] = w
    # numbered variables (Keras 3 .weights.h5): match the layer, then go by creation order
    groups: dict[tuple[str, ...], list[FileWeight]] = {}
    for w in unnamed:
        groups.setdefault(w.chain, []).append(w)
    layers: dict[tuple[str, ...], list[int]] = {}
    for k, slot in enumerate(slots):
        layers.setdefault(slot.chain, []).append(k)
    taken: set[tuple[str, ...]] = set()
    for chain, members in groups.items():
        members.sort(key=lambda w: w.index)
        best_chain, best_score = None, 0
        for layer_chain, ks in layers.items():
            if layer_chain in taken or any(k in used for k in ks):
                continue
            score = _score(chain, slots[ks[0]])
            if score > best_score:
                best_chain, best_score = layer_chain, score
        if best_chain is None:
            leftovers.extend(members)
            continue
        taken.add(best_chain)
        ks = layers[best_chain]
        for w, k in zip(members, ks, strict=False):
            used.add(k)
            paired[k] = w
        leftovers.extend(members[len(ks) :])
    pairs = [Pair(slot, paired.get(k)) for k, slot in enumerate(slots)]
    pairs.extend(Pair(None, w) for w in leftovers)
    return pairs
