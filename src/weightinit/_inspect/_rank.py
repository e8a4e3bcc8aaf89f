"""Weights-only files (no config): which initializers are consistent with each tensor, best first.

The candidates are an explicit list (:data:`CANDIDATES` documents them): the
catalog with its default arguments, with fans from the shape in the Keras
layout ``(..., in, out)`` and in the torch layout ``(out, in, ...)``, and
PyTorch's own defaults as named candidates. Candidates that give exactly the
same distribution for a shape (GlorotUniform and LecunUniform when
``fan_in == fan_out``; Keras and torch fans of a square matrix) are merged
into one entry that lists every name.

A candidate is *consistent* when no sampled value lies outside its support
and its Kolmogorov-Smirnov p-value is at least :data:`ALPHA`. Exact
candidates (a constant, Identity, Orthogonal by ``QᵀQ``) rank above the
statistical ones; consistent statistical candidates rank by the mean
log-density of the sample (the true law has the highest expected value, by
Gibbs' inequality, and it separates laws of close scale far better than the
KS p-value on small tensors).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._fans import compute_fans
from .._laws._special import ks_pvalue
from .._laws._theory import Distribution, Normal, TruncatedNormalDist, Uniform
from .._variance_scaling import variance_scaling_params
from ._record import Candidate, WeightRecord
from ._tensor import TensorRef, folded_rows_index, read_sample

__all__ = ["ALPHA", "CANDIDATES", "rank_tensor", "rank_weights"]

ALPHA = 1e-3
#: the most candidates a record lists
MAX_LISTED = 6
ORTHO_MAX_VALUES = 1 << 18


@dataclass(frozen=True)
class Context:
    """What the name and neighbours of a tensor tell: torch fan_in of the sibling weight, RNN hidden size."""

    sibling_fan_in: int | None = None
    rnn_hidden: int | None = None


_VS = {
    "GlorotUniform": (1.0, "fan_avg", "uniform"),
    "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"),
    "HeNormal": (2.0, "fan_in", "truncated_normal"),
    "LecunUniform": (1.0, "fan_in", "uniform"),
    "LecunNormal": (1.0, "fan_in", "truncated_normal"),
}
#: torch names of the same distributions (torch fans): shown next to the catalog name
_TORCH_ALIASES = {
    "GlorotUniform": "torch xavier_uniform_",
    "HeUniform": "torch kaiming_uniform_(nonlinearity='relu')",
}


def _vs(name: str, fans: tuple[int, int]) -> Distribution:
    scale, mode, dist = _VS[name]
    kind, param = variance_scaling_params(scale, mode, dist, *fans)
    if kind == "uniform":
        return Uniform(-param, param)
    if kind == "normal":
        return Normal(0.0, param)
    return TruncatedNormalDist(0.0, param)


def torch_fans(shape: tuple[int, ...]) -> tuple[int, int] | None:
    """``(fan_in, fan_out)`` as ``torch.nn.init`` computes them (None below rank 2)."""
    if len(shape) < 2:
        return None
    window = math.prod(shape[2:])
    return shape[1] * window, shape[0] * window


Builder = Callable[[tuple[int, ...], Context], Distribution | None]


def _catalog() -> list[tuple[str, Builder]]:
    out: list[tuple[str, Builder]] = []
    for name in _VS:

        def keras_builder(s: tuple[int, ...], c: Context, n: str = name) -> Distribution | None:
            return _vs(n, compute_fans(s)) if s else None

        out.append((name, keras_builder))
        torch_name = f"{name} (torch fans)"
        if name in _TORCH_ALIASES:
            torch_name += f" = {_TORCH_ALIASES[name]}"

        def torch_builder(s: tuple[int, ...], c: Context, n: str = name) -> Distribution | None:
            fans = torch_fans(s)
            return None if fans is None else _vs(n, fans)

        out.append((torch_name, torch_builder))
    out += [
        ("RandomNormal(stddev=0.05)", lambda s, c: Normal(0.0, 0.05)),
        ("RandomUniform(minval=-0.05, maxval=0.05)", lambda s, c: Uniform(-0.05, 0.05)),
        ("TruncatedNormal(stddev=0.05)", lambda s, c: TruncatedNormalDist(0.0, 0.05)),
    ]
    return out


def _torch_default_weight(s: tuple[int, ...], c: Context) -> Distribution | None:
    fans = torch_fans(s)
    if fans is None:
        return None
    bound = 1.0 / math.sqrt(fans[0]) if fans[0] else 0.0
    return Uniform(-bound, bound) if bound else None


def _torch_default_bias(s: tuple[int, ...], c: Context) -> Distribution | None:
    if len(s) != 1 or not c.sibling_fan_in:
        return None
    bound = 1.0 / math.sqrt(c.sibling_fan_in)
    return Uniform(-bound, bound)


def _torch_rnn(s: tuple[int, ...], c: Context) -> Distribution | None:
    if not c.rnn_hidden:
        return None
    bound = 1.0 / math.sqrt(c.rnn_hidden)
    return Uniform(-bound, bound)


def _torch_normal_fan(mode: str) -> Builder:
    def build(s: tuple[int, ...], c: Context) -> Distribution | None:
        fans = torch_fans(s)
        if fans is None:
            return None
        if mode == "kaiming":
            return Normal(0.0, math.sqrt(2.0 / fans[0]))
        return Normal(0.0, math.sqrt(2.0 / (fans[0] + fans[1])))

    return build


#: every statistical candidate: (name, distribution for a shape and context, or None when it does not apply)
CANDIDATES: list[tuple[str, Builder]] = [
    *_catalog(),
    (
        "torch Linear/Conv default weight: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in))",
        _torch_default_weight,
    ),
    ("torch Linear/Conv default bias: U(+-1/sqrt(fan_in of the weight))", _torch_default_bias),
    ("torch RNN/LSTM/GRU default: U(+-1/sqrt(hidden_size))", _torch_rnn),
    ("torch Embedding default: normal_(std=1)", lambda s, c: Normal(0.0, 1.0)),
    ("torch kaiming_normal_(nonlinearity='relu')", _torch_normal_fan("kaiming")),
    ("torch xavier_normal_", _torch_normal_fan("xavier")),
    ("normal_(std=0.02) / trunc_normal_(std=0.02)", lambda s, c: Normal(0.0, 0.02)),
]
#: exact candidates, checked by structure rather than by a test
EXACT_CANDIDATES = (
    "Zeros",
    "Ones",
    "Constant(value=c)",
    "Identity",
    "Orthogonal(gain=1) (Keras or torch folding)",
)


def _key(dist: Distribution) -> tuple[Any, ...]:
    def r(x: float) -> float:
        return float(f"{x:.9g}")

    return (dist.kind, r(dist.mean), r(dist.std), r(dist.lower), r(dist.upper))


def _ks(sorted_values: NDArray[np.float64], dist: Distribution) -> tuple[float, float]:
    n = sorted_values.size
    probs = np.clip(dist.cdf(sorted_values), 0.0, 1.0)
    ranks = np.arange(1, n + 1, dtype=np.float64)
    d = max(float(np.max(ranks / n - probs)), float(np.max(probs - (ranks - 1.0) / n)), 0.0)
    return d, ks_pvalue(d, n)


def _orthogonal_error(tensor: TensorRef, sample_std: float) -> float | None:
    shape = tensor.shape
    if len(shape) < 2:
        return None
    # entries of an orthogonal matrix with gain 1 have std 1/sqrt(longer side): skip the QᵀQ
    # reads (up to ORTHO_MAX_VALUES values) when the sample's std is far from both foldings'
    expected = [
        1.0 / math.sqrt(max(math.prod(shape[:-1]), shape[-1])),
        1.0 / math.sqrt(max(shape[0], math.prod(shape[1:]))),
    ]
    if not any(0.8 < sample_std / e < 1.25 for e in expected):
        return None
    best: float | None = None
    # Keras folds the leading axes into rows; torch folds the trailing axes into columns
    for rows, cols, layout in (
        (math.prod(shape[:-1]), shape[-1], "keras"),
        (shape[0], math.prod(shape[1:]), "torch"),
    ):
        if min(rows, cols) < 2:
            continue
        if rows > cols and rows * cols > ORTHO_MAX_VALUES:
            continue
        index = folded_rows_index(shape, ORTHO_MAX_VALUES) if layout == "keras" else None
        if layout == "torch":
            per_row = math.prod(shape[1:])
            k = max(1, min(shape[0], ORTHO_MAX_VALUES // max(per_row, 1)))
            if k < shape[0] and rows > cols:
                continue
            index = (slice(0, k), *(slice(0, n) for n in shape[1:]))
        assert index is not None
        values = read_sample(tensor, [index])
        k = values.size // cols
        if k < 2:
            continue
        m = values.reshape(k, cols)
        gram = m @ m.T if k <= cols else m.T @ m
        error = float(np.max(np.abs(gram - np.eye(gram.shape[0]))))
        best = error if best is None else min(best, error)
    return best


def rank_tensor(
    tensor: TensorRef, context: Context = Context(), values: NDArray[np.float64] | None = None
) -> tuple[Candidate, ...]:
    """Consistent candidates for one tensor, best first (empty: none fits)."""
    shape = tensor.shape
    if tensor.dtype.kind not in "fc" or tensor.size == 0:
        return ()
    sample = read_sample(tensor) if values is None else values
    exact: list[Candidate] = []
    if sample.size and np.all(sample == sample[0]):
        value = float(sample[0])
        name = "Zeros" if value == 0 else "Ones" if value == 1 else f"Constant(value={value:.6g})"
        exact.append(Candidate(name, 1.0, 0.0, True))
    if len(shape) == 2 and tensor.size <= ORTHO_MAX_VALUES and not exact:
        whole = read_sample(tensor, [tuple(slice(0, n) for n in shape)]).reshape(shape)
        if np.array_equal(whole, np.eye(*shape)):
            exact.append(Candidate("Identity", 1.0, 0.0, True))
    if not exact:
        error = _orthogonal_error(tensor, float(sample.std()))
        tol = 1e-4 if tensor.dtype.itemsize >= 4 else 2e-2
        if error is not None and error <= tol:
            exact.append(Candidate("Orthogonal(gain=1)", 1.0, error, True))
    if exact:
        return tuple(exact)
    ordered = np.sort(sample)
    lo, hi = float(ordered[0]), float(ordered[-1])
    slack = 4.0 * float(np.spacing(np.float32(max(abs(lo), abs(hi)))))
    groups: dict[tuple[Any, ...], Candidate] = {}
    scores: dict[tuple[Any, ...], float] = {}
    for name, build in CANDIDATES:
        dist = build(shape, context)
        if dist is None or not dist.std > 0:
            continue
        key = _key(dist)
        if key in groups:
            groups[key] = replace(groups[key], also=(*groups[key].also, name))
            continue
        if lo < dist.lower - slack or hi > dist.upper + slack:
            groups[key] = Candidate(name, 0.0, 1.0, False)
            continue
        d, p = _ks(ordered, dist)
        groups[key] = Candidate(name, p, d, p >= ALPHA)
        scores[key] = _log_likelihood(ordered, dist) if p >= ALPHA else -math.inf
    ranked = sorted(groups, key=lambda k: (-scores.get(k, -math.inf), -groups[k].p_value))
    return tuple(groups[k] for k in ranked if groups[k].consistent)[:MAX_LISTED]


def _log_likelihood(values: NDArray[np.float64], dist: Distribution) -> float:
    """Mean log-density: among laws that all pass the test, the true one scores highest on average."""
    inside = np.clip(values, dist.lower, dist.upper)
    with np.errstate(divide="ignore"):
        return float(np.mean(np.log(np.maximum(dist.pdf(inside), 1e-300))))


def _contexts(records: Sequence[WeightRecord]) -> list[Context]:
    """Sibling facts from names: ``fc.bias`` <- ``fc.weight``; ``weight_hh_l0`` -> hidden size."""
    by_key = {(r.layer, r.weight): r for r in records}
    out = []
    for r in records:
        sibling_fan_in = None
        hidden = None
        if r.weight.startswith(("weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l")):
            suffix = r.weight.split("_l", 1)[1]
            hh = by_key.get((r.layer, f"weight_hh_l{suffix}"))
            if hh is not None and hh.shape and len(hh.shape) == 2:
                hidden = hh.shape[1]
        elif r.weight == "bias":
            for wname in ("weight", "kernel"):
                w = by_key.get((r.layer, wname))
                if w is not None and w.shape and len(w.shape) >= 2:
                    fans = torch_fans(w.shape) if wname == "weight" else compute_fans(w.shape)
                    sibling_fan_in = fans[0] if fans else None
        out.append(Context(sibling_fan_in, hidden))
    return out


def rank_weights(records: Sequence[WeightRecord], tensors: Sequence[TensorRef | None]) -> list[WeightRecord]:
    """Records with ``candidates`` filled in (weights-only files, ``--stats``)."""
    out = []
    for record, tensor, context in zip(records, tensors, _contexts(records), strict=True):
        if tensor is None:
            out.append(record)
            continue
        out.append(replace(record, candidates=rank_tensor(tensor, context)))
    return out
