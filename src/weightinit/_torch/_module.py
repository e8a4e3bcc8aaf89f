"""``init_module``: every known layer of a module, like the equivalent Keras layers."""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .. import _serialization
from .._errors import InvalidArgumentError, InvalidTypeError, short_repr
from .._random import RandomInitializer
from .._seed import SeedGenerator, _check_int_seed
from ._records import InitRecord, forget, record_all
from ._rules import ROLES, Weight, weights_of
from ._seeds import derived_seed, param_seed
from ._write import Writer

__all__ = ["InitReport", "UninitializedParametersWarning", "init_module"]

KEYWORDS = tuple(f"{role}_initializer" for role in ROLES)


class UninitializedParametersWarning(UserWarning):
    """``init_module`` left parameters it has no Keras equivalent for untouched."""


@dataclass(frozen=True)
class InitReport:
    """What ``init_module`` did.

    Attributes:
        initialized: qualified tensor name -> :class:`InitRecord` (parameters
            and the BatchNorm running statistics).
        skipped: qualified names of parameters left untouched (no rule knows
            them: custom modules, ``bias_k``/``bias_v`` of attention, LSTM
            projections, lazy parameters not materialized yet).
    """

    initialized: dict[str, InitRecord]
    skipped: tuple[str, ...]

    def __repr__(self) -> str:
        return f"InitReport(initialized={len(self.initialized)} tensors, skipped={list(self.skipped)!r})"


def _template(value: Any, what: str) -> Any:
    init = _serialization.get(value)
    if init is None or not callable(init):
        raise InvalidArgumentError(f"{what} must name an initializer. Received: {short_repr(value)}")
    if isinstance(init, RandomInitializer) and isinstance(init.seed, SeedGenerator):
        raise InvalidArgumentError(
            f"{what}: an initializer seeded by a SeedGenerator gives values that depend on the order of "
            "calls; init_module derives one seed per parameter instead. Pass an int seed or None."
        )
    return init


def _check_keywords(mapping: Mapping[str, Any], what: str) -> dict[str, Any]:
    out = {}
    for key, value in mapping.items():
        if key not in KEYWORDS:
            raise InvalidArgumentError(
                f"Unknown keyword {key!r} in {what}. Valid keywords: {sorted(KEYWORDS)}"
            )
        out[key] = _template(value, f"{what}[{key!r}]")
    return out


def _seeded(template: Any, root: int, name: str) -> Any:
    """``template`` with the seed derived from (its int seed, else the checked ``root``, and
    ``name``)."""
    if not isinstance(template, RandomInitializer):
        return template  # deterministic, or a custom callable: used as given
    base = template._init_seed
    if type(template).__module__.startswith("weightinit.") and (base is None or type(base) is int):
        # a copy: the other arguments are not checked again (nor the seed: its constructor did)
        return template._with_seed(derived_seed(root if base is None else base, name))
    config = template.get_config()  # a subclass of the user's: through its own __init__
    base = config.get("seed")
    config["seed"] = param_seed(root if base is None else int(base), name)
    return type(template).from_config(config)


def init_module(
    module: nn.Module,
    seed: int = 0,
    *,
    per_type: Mapping[type[nn.Module], Mapping[str, Any]] | None = None,
    per_name: Mapping[str, Any] | None = None,
    unit_forget_bias: bool = True,
    warn: bool = True,
    **overrides: Any,
) -> InitReport:
    if not isinstance(module, nn.Module):
        raise InvalidTypeError(f"Argument `module` must be a torch.nn.Module. Received: {short_repr(module)}")
    root = _check_int_seed(seed, "seed", "init_module")
    global_ = _check_keywords(overrides, "init_module keywords")
    types: list[tuple[type[nn.Module], dict[str, Any]]] = []
    for cls, mapping in (per_type or {}).items():
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise InvalidTypeError(f"per_type keys must be nn.Module subclasses. Received: {short_repr(cls)}")
        types.append((cls, _check_keywords(mapping, f"per_type[{cls.__name__}]")))
    names = [
        (str(pattern), _template(value, f"per_name[{pattern!r}]"))
        for pattern, value in (per_name or {}).items()
    ]

    plan, skipped = _weights(module, root, unit_forget_bias, global_, types, names)
    with torch.no_grad():  # (a DTensor's to_local is then its local tensor, not an autograd op)
        writer, initialized, records = _prepare(plan)  # dtype, meta and overlap errors here
        # the plan's objects are freed now, while they are in the caches that the writes sweep;
        # so are the records put in
        del plan
        record_all(records)
        try:
            writer.run()
        except BaseException:  # some tensors hold the new values and some do not: none is vouched for
            for tensor, _ in records:
                forget(tensor)
            raise
    if skipped and warn:
        shown = ", ".join(skipped[:8]) + (f", ... ({len(skipped)} in all)" if len(skipped) > 8 else "")
        warnings.warn(
            f"init_module left {len(skipped)} parameter(s) untouched (no Keras equivalent known): {shown}. "
            "Initialize them with weightinit.torch.init_ or per_name=..., or pass warn=False.",
            UninitializedParametersWarning,
            stacklevel=3,
        )
    return InitReport(initialized, tuple(skipped))


def _weights(
    module: nn.Module,
    root: int,
    unit_forget_bias: bool,
    global_: dict[str, Any],
    types: list[tuple[type[nn.Module], dict[str, Any]]],
    names: list[tuple[str, Any]],
) -> tuple[list[tuple[Weight, Any]], list[str]]:
    """``(plan, skipped)``: every Keras weight of ``module`` with its seeded initializer (tied
    tensors under their first name only), and the parameters no rule knows."""
    plan: list[tuple[Weight, Any]] = []
    defaults: dict[Any, Any] = {}  # Keras's default of each kind, made once, copied per weight
    overridden = bool(global_ or types or names)
    claimed: set[int] = set()
    skipped: list[str] = []
    for prefix, sub in _walk(module):
        weights = weights_of(sub, prefix, unit_forget_bias)
        if weights:
            covered: set[int] = set()
            for w in weights:
                tensors = {id(p.tensor) for p in w.parts}
                if not claimed.isdisjoint(tensors):
                    continue  # a tied tensor, already initialized under its first name
                covered |= tensors
                template = _chosen(w, sub, global_, types, names) if overridden and not w.fixed else None
                if template is None:
                    template = defaults.get(w.default)
                    if template is None:
                        template = defaults[w.default] = w.default()
                plan.append((w, _seeded(template, root, w.seed_name)))
            claimed |= covered
        for local, p in sub._parameters.items():
            if p is not None and id(p) not in claimed:
                skipped.append(f"{prefix}.{local}" if prefix else local)
                claimed.add(id(p))
    return plan, skipped


def _prepare(
    plan: list[tuple[Weight, Any]],
) -> tuple[Writer, dict[str, InitRecord], list[tuple[torch.Tensor, InitRecord]]]:
    """``(writer, records by name, (tensor, record) pairs)``: the writes of ``plan``, planned."""
    writer = Writer()
    initialized: dict[str, InitRecord] = {}
    records: list[tuple[torch.Tensor, InitRecord]] = []
    for w, init in plan:
        writer.add(init, w.shape, w.parts, w.names[0])
        for action in w.after:
            writer.then(action)
        for part, name in _part_names(w):
            if name not in initialized:
                rec = initialized[name] = InitRecord(init, w.layout, name, w.shape)
                records.append((part.tensor, rec))
    return writer, initialized, records


def _walk(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """``list(module.named_modules())``: each module once, under its first qualified name,
    parents before children, children in registration order (without a generator per module)."""
    out: list[tuple[str, nn.Module]] = []
    seen: set[int] = set()
    stack = [("", module)]
    while stack:
        prefix, m = stack.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        out.append((prefix, m))
        children = m._modules
        if children:
            dot = prefix + "." if prefix else ""
            for name, child in reversed(children.items()):
                if child is not None:
                    stack.append((dot + name, child))
    return out


def _part_names(w: Weight) -> list[tuple[Any, str]]:
    """Each part with the qualified name of its tensor."""
    if len(w.parts) == 1:
        return [(w.parts[0], w.names[0])]
    out = []
    seen: dict[int, str] = {}
    names = iter(w.names)
    for part in w.parts:
        key = id(part.tensor)
        if key not in seen:
            seen[key] = next(names, w.names[-1])
        out.append((part, seen[key]))
    return out


def _chosen(
    w: Weight,
    module: nn.Module,
    global_: dict[str, Any],
    types: list[tuple[type[nn.Module], dict[str, Any]]],
    names: list[tuple[str, Any]],
) -> Any:
    """The override of a Keras weight (per_name > per_type > keyword), or None for Keras's
    default."""
    for pattern, init in names:
        if any(fnmatch.fnmatchcase(n, pattern) for n in w.names):
            return init
    key = f"{w.role}_initializer"
    for cls, mapping in types:
        if isinstance(module, cls) and key in mapping:
            return mapping[key]
    return global_.get(key)
