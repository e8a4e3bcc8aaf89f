"""The record every reader returns: one weight, where it lives, and which initializer made it.

``to_json()`` is the stable ``--json`` form (documented in the README); keys
are never removed, only added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Candidate", "Check", "InitializerInfo", "Inspection", "WeightRecord"]

Source = Literal["config", "layer default", "config key", "none"]
Status = Literal["ok", "mismatch", "unchecked"]


def _num(value: float | None) -> float | None:
    """JSON-safe float: NaN and infinities become None."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class InitializerInfo:
    """An initializer as a config names it (read as data, never built from a module).

    ``class_name`` is the catalog's canonical name when ``known`` (aliases and
    ``registered_name`` forms such as ``"weightinit>GlorotUniform"`` map to it),
    else the name as written.
    """

    class_name: str
    config: dict[str, Any]
    known: bool
    registered_name: str | None = None
    module: str | None = None

    def describe(self) -> str:
        """``GlorotUniform``, ``RandomUniform(minval=-0.05, maxval=0.05)``, ``Orthogonal(gain=2.0)``."""
        shown = {
            k: v
            for k, v in self.config.items()
            if not (v is None and k in ("seed", "input_axes", "output_axes"))
        }
        args = ", ".join(f"{k}={_short(v)}" for k, v in shown.items())
        text = f"{self.class_name}({args})" if args else self.class_name
        if not self.known:
            text += " [custom, not loaded]"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "class_name": self.class_name,
            "config": self.config,
            "known": self.known,
            "registered_name": self.registered_name,
            "module": self.module,
        }


def _short(value: Any) -> str:
    if isinstance(value, dict) and "class_name" in value:
        return str(value["class_name"])
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Check:
    """``--stats`` for a weight with a known initializer: stored values against the formula."""

    status: Status
    reasons: tuple[str, ...]
    n: int = 0
    size: int = 0
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    expected: str = ""
    expected_mean: float | None = None
    expected_std: float | None = None
    lower: float | None = None
    upper: float | None = None
    ks_p: float | None = None
    orthogonality_error: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reasons": list(self.reasons),
            "sampled": self.n,
            "size": self.size,
            "mean": _num(self.mean),
            "std": _num(self.std),
            "min": _num(self.min),
            "max": _num(self.max),
            "expected": self.expected,
            "expected_mean": _num(self.expected_mean),
            "expected_std": _num(self.expected_std),
            "lower": _num(self.lower),
            "upper": _num(self.upper),
            "ks_p_value": _num(self.ks_p),
            "orthogonality_error": _num(self.orthogonality_error),
        }


@dataclass(frozen=True)
class Candidate:
    """One initializer consistent (or not) with a tensor of a weights-only file."""

    name: str
    p_value: float
    statistic: float
    consistent: bool
    also: tuple[str, ...] = ()  # other names with exactly the same distribution for this shape

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "same_distribution_as": list(self.also),
            "p_value": _num(self.p_value),
            "ks_statistic": _num(self.statistic),
            "consistent": self.consistent,
        }


@dataclass(frozen=True)
class WeightRecord:
    """One weight of one layer.

    ``source`` says where the initializer comes from: ``"config"`` (the layer's
    config names it), ``"layer default"`` (the config omits it; the layer's
    default applies), ``"config key"`` (an unknown layer's ``*_initializer``
    key) or ``"none"`` (no config: weights-only files, or a weight the config
    does not describe).
    """

    layer: str
    weight: str
    layer_class: str | None = None
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    initializer: InitializerInfo | None = None
    default: bool | None = None
    source: Source = "none"
    notes: tuple[str, ...] = ()
    check: Check | None = None
    candidates: tuple[Candidate, ...] | None = None

    @property
    def name(self) -> str:
        """``layer/weight``."""
        return f"{self.layer}/{self.weight}" if self.layer else self.weight

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "layer_class": self.layer_class,
            "weight": self.weight,
            "shape": None if self.shape is None else list(self.shape),
            "dtype": self.dtype,
            "initializer": None if self.initializer is None else self.initializer.to_json(),
            "default": self.default,
            "source": self.source,
            "notes": list(self.notes),
            "check": None if self.check is None else self.check.to_json(),
            "candidates": None if self.candidates is None else [c.to_json() for c in self.candidates],
        }


@dataclass
class Inspection:
    """What a reader found: the format, facts about the file, and one record per weight."""

    format: str
    records: list[WeightRecord]
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "facts": self.facts,
            "notes": list(self.notes),
            "weights": [r.to_json() for r in self.records],
        }
