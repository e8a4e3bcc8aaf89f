"""``propagate``: push unit-variance signals through a deep stack of dense layers.

Forward: inputs ``x ~ N(0, 1)`` of shape ``(batch, width)``; layer ``l`` computes
``z_l = a_{l-1} W_l`` and ``a_l = f(z_l)`` (no bias, the usual setting of the
Glorot and He analyses). Backward: a unit-variance gradient ``dL/da_L`` enters
at the top and flows back, ``dL/da_{l-1} = (dL/da_l * f'(z_l)) W_l^T``. The std
of ``a_l`` and of ``dL/da_l`` at every depth shows whether the initializer keeps
signals alive, or lets them vanish or explode.

Each layer gets its own draw (the initializer's seed becomes a
``SeedGenerator``). Arithmetic is float32 while the signals are of moderate
size and float64 once they grow or shrink past 1e12 / 1e-12 (an exploding
stack reaches 1e60, beyond float32). Numpy only, seeded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._limits import get_max_bytes
from .._random import RandomNormal
from .._seed import SeedGenerator
from .._serialization import serialize
from ._activations import activation
from ._errors import CliError
from ._progress import Progress
from ._resolve import Resolved
from ._text import Glyphs, fmt, sparkline, table

__all__ = ["MAX_BYTES", "Propagation", "Run", "propagate", "propagate_json", "propagate_lines"]

FloatArray = NDArray[np.float64]
#: memory kept for the backward pass (weights and derivatives, float64 at worst)
MAX_BYTES = 4 << 30
#: bounds on the command's running time (about a minute here): layers in all (each costs a draw
#: and Python work whatever the width) and floating-point operations
MAX_DEPTH = 10_000
MAX_STEPS = 20_000
MAX_WORK = 4 * 10**11
#: last/first std ratios that separate the verdicts
EXPLODING, GROWING, SHRINKING, VANISHING = 10.0, 2.0, 0.5, 0.1
SIGNAL_OFFSET = 0x9E3779B97F4A7C15
#: stds float32 arithmetic handles with room to spare (float32 overflows at 3.4e38)
SAFE32 = (1e-12, 1e12)
Activation = Callable[[NDArray[Any]], NDArray[Any]]


@dataclass
class Run:
    """One initializer's trace: index ``l`` is depth ``l`` (0 = the input)."""

    resolved: Resolved
    activation_std: FloatArray
    gradient_std: FloatArray

    @property
    def label(self) -> str:
        return self.resolved.label

    @property
    def forward_verdict(self) -> str:
        return _verdict(self.activation_std[1:])

    @property
    def backward_verdict(self) -> str:
        return _verdict(self.gradient_std[::-1])


@dataclass
class Propagation:
    depth: int
    width: int
    batch: int
    activation: str
    seed: int
    runs: list[Run]
    negative_slope: float = 0.2


def _ratio(trace: FloatArray) -> tuple[float, float]:
    """(last / first, the per-layer factor) of a trace."""
    first, last = float(trace[0]), float(trace[-1])
    if not (math.isfinite(first) and math.isfinite(last)) or first <= 0:
        return math.nan, math.nan
    ratio = last / first
    steps = max(1, trace.size - 1)
    factor = math.exp(math.log(ratio) / steps) if ratio > 0 else 0.0
    return ratio, factor


def _verdict(trace: FloatArray) -> str:
    """The verdict on a trace ordered along the flow: the last std over the first.

    exploding (x10 or more), growing (x2), stable, shrinking (x0.5), vanishing
    (x0.1 or less); overflow when a value is not finite; dead when all zero.
    """
    if trace.size == 0:
        return "empty"
    if not np.all(np.isfinite(trace)):
        return "overflow"
    if float(trace[-1]) == 0.0:
        return "dead (all zero)"
    if trace.size == 1:
        return "stable"
    ratio, _ = _ratio(trace)
    if not math.isfinite(ratio):
        return "dead (all zero)"
    if ratio >= EXPLODING:
        return "exploding"
    if ratio >= GROWING:
        return "growing"
    if ratio <= VANISHING:
        return "vanishing"
    if ratio <= SHRINKING:
        return "shrinking"
    return "stable"


def _per_layer(resolved: Resolved, seed: int) -> Any:
    """The initializer with a SeedGenerator, so that every layer gets a new draw.

    The generator starts from the initializer's own seed (``--seed`` or its
    config's), else from ``seed``.
    """
    init = resolved.initializer
    config = serialize(init)["config"]
    if isinstance(config, dict) and "seed" in config:
        start = resolved.seed if resolved.seed is not None else seed
        return type(init).from_config({**config, "seed": SeedGenerator(start)})
    return init


def _std(x: NDArray[Any]) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(np.std(x, dtype=np.float64))
    return value if math.isfinite(value) else math.inf


def _safe32(std: float) -> bool:
    """Whether float32 can carry a signal of this std without overflow, denormals or lost digits."""
    return std == 0.0 or SAFE32[0] < std < SAFE32[1]


def _trace(
    init: Any,
    f: Activation,
    df: Activation,
    inputs: FloatArray,
    top_gradient: FloatArray,
    depth: int,
    width: int,
    label: str,
    progress: Progress | None,
) -> tuple[FloatArray, FloatArray]:
    """The activation and gradient std at every depth for one initializer.

    Arithmetic is float32 (twice as fast) while the signal's std stays in
    :data:`SAFE32`, and float64 from the first layer where it leaves that range
    (a layer that overflows float32 is recomputed in float64).
    """
    act_std = np.full(depth + 1, np.nan)
    grad_std = np.full(depth + 1, np.nan)
    weights: list[NDArray[Any]] = []
    slopes: list[NDArray[Any]] = []
    a: NDArray[Any] = inputs.astype(np.float32)
    act_std[0] = _std(a)
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        for layer in range(depth):
            if progress is not None:
                progress.step(f"{label}: forward, layer {layer + 1}/{depth}")
            w = np.asarray(init((width, width)))
            weights.append(w)
            z = a @ w.astype(a.dtype, copy=False)
            if z.dtype == np.float32 and not _safe32(_std(z)):
                a = a.astype(np.float64)
                z = a @ w.astype(np.float64)
            a = f(z)
            slopes.append(df(z))
            act_std[layer + 1] = _std(a)
            if a.dtype == np.float32 and not _safe32(act_std[layer + 1]):
                a = a.astype(np.float64)
            if progress is not None:
                progress.advance()
        g: NDArray[Any] = top_gradient.astype(np.float32)
        grad_std[depth] = _std(g)
        for layer in reversed(range(depth)):
            if progress is not None:
                progress.step(f"{label}: backward, layer {layer + 1}/{depth}")
            w = weights[layer]
            dz = g * slopes[layer].astype(g.dtype, copy=False)
            g = dz @ w.T.astype(dz.dtype, copy=False)
            if g.dtype == np.float32 and not _safe32(_std(g)):
                dz = dz.astype(np.float64) if dz.dtype == np.float32 else dz
                g = dz.astype(np.float64) @ w.T.astype(np.float64)
            grad_std[layer] = _std(g)
            if progress is not None:
                progress.advance()
    return act_std, grad_std


def propagate(
    specs: list[Resolved],
    *,
    activation_name: str,
    width: int,
    depth: int,
    batch: int,
    seed: int,
    negative_slope: float = 0.2,
    progress: Progress | None = None,
) -> Propagation:
    """Run the forward and backward pass for every initializer (same inputs for all)."""
    for name, value, low in (("--width", width, 1), ("--depth", depth, 1), ("--batch", batch, 2)):
        if value < low:
            raise CliError(f"{name} must be at least {low}, got {value}")
    if depth > MAX_DEPTH:
        raise CliError(f"--depth must be at most {MAX_DEPTH}, got {depth}")
    # kept for the backward pass: the weights and activation slopes of every layer; transient:
    # the inputs, the top gradient and one layer's products, copies and float64 statistics
    kept = depth * (width * width + batch * width) * 8
    transient = 10 * batch * width * 8
    limit = min(MAX_BYTES, get_max_bytes())
    if kept + transient > limit:
        raise CliError(
            f"depth {depth} x width {width} x batch {batch} would need {(kept + transient) / 2**30:.1f} GiB "
            f"(at most {limit / 2**30:.1f} GiB); use a smaller --width, --depth or --batch"
        )
    work = 4 * depth * batch * width * width * len(specs)  # forward and backward products
    steps = depth * len(specs)
    if work > MAX_WORK or steps > MAX_STEPS:
        raise CliError(
            f"depth {depth} x width {width} x batch {batch} for {len(specs)} initializer(s) is too much "
            f"work for the command (at most {MAX_WORK:.0e} operations and {MAX_STEPS} layers in all); "
            "use a smaller --depth, --width or --batch"
        )
    f, df = activation(activation_name, negative_slope)
    # the signals use their own stream: a RandomNormal kernel seeded like the inputs would equal them
    signals = SeedGenerator((seed + SIGNAL_OFFSET) % 2**64)
    inputs = RandomNormal(0.0, 1.0, seed=signals)((batch, width), dtype="float64")
    top_gradient = RandomNormal(0.0, 1.0, seed=signals)((batch, width), dtype="float64")
    runs = []
    for resolved in specs:
        act_std, grad_std = _trace(
            _per_layer(resolved, seed), f, df, inputs, top_gradient, depth, width, resolved.label, progress
        )
        runs.append(Run(resolved, act_std, grad_std))
    return Propagation(depth, width, batch, activation_name, seed, runs, negative_slope)


def _rows_at(depth: int, every: int | None) -> list[int]:
    step = every if every else max(1, depth // 10)
    rows = sorted({0, 1, depth, *range(0, depth + 1, step)})
    return [r for r in rows if r <= depth]


def _summary(name: str, trace: FloatArray, verdict: str, what: str) -> str:
    ratio, factor = _ratio(trace)
    if verdict == "overflow":
        bad = int(np.argmax(~np.isfinite(trace)))
        return f"{what} overflow (non-finite after {bad} layers)"
    if not math.isfinite(ratio) or verdict.startswith("dead"):
        return f"{what} {verdict}"
    return f"{what} {verdict} ({fmt(float(trace[0]))} -> {fmt(float(trace[-1]))}, x{fmt(factor)} per layer)"


def propagate_lines(result: Propagation, glyphs: Glyphs, every: int | None = None) -> list[str]:
    slope = f" (negative slope {result.negative_slope:g})" if result.activation == "leaky_relu" else ""
    lines = [
        f"propagate: {result.depth} dense layers of width {result.width}, batch {result.batch}, "
        f"activation {result.activation}{slope}, seed {result.seed}",
        "  act std: std of the layer's outputs for unit-variance inputs;",
        "  grad std: std of dL/d(output) when a unit-variance gradient enters at the top",
        "",
    ]
    labels = [r.label if len(r.label) <= 24 else r.label[:21] + "..." for r in result.runs]
    header1 = [""]
    header2 = ["depth"]
    for label in labels:
        header1 += [label, ""]
        header2 += ["act std", "grad std"]
    rows = [header1, header2]
    for d in _rows_at(result.depth, every):
        row = [str(d)]
        for run in result.runs:
            row += [fmt(float(run.activation_std[d])), fmt(float(run.gradient_std[d]))]
        rows.append(row)
    lines.extend(table(rows, right=[True] + [False] * (2 * len(result.runs))))
    lines.append("")
    width = max(len(s) for s in labels)
    for label, run in zip(labels, result.runs, strict=True):
        forward = _summary(label, run.activation_std[1:], run.forward_verdict, "activations")
        backward = _summary(label, run.gradient_std[::-1], run.backward_verdict, "gradients")
        lines.append(f"  {label.ljust(width)}  {forward}; {backward}")
    lines.append("")
    lines.append("  trends by depth, input at the left; log scale, std 1 at half height:")
    traces = [(f"{label} act", run.activation_std) for label, run in zip(labels, result.runs, strict=True)]
    traces += [(f"{label} grad", run.gradient_std) for label, run in zip(labels, result.runs, strict=True)]
    name_width = max(len(name) for name, _ in traces)
    for name, trace in traces:
        line, decades = _trend(trace, glyphs)
        lines.append(f"    {name.ljust(name_width)}  {line}  (+-{decades:g} decades)")
    return lines


def _trend(trace: FloatArray, glyphs: Glyphs) -> tuple[str, int]:
    """A sparkline of log10(std) centred on std 1, spanning at least +-1 decade."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(np.where(np.isfinite(trace) & (trace > 0), trace, np.nan))
    finite = logs[np.isfinite(logs)]
    decades = max(1, math.ceil(float(np.max(np.abs(finite))))) if finite.size else 1
    heights = [0.5 + 0.5 * float(v) / decades if math.isfinite(v) else math.nan for v in logs]
    heights = [min(1.0, max(1e-9, h)) if math.isfinite(h) else h for h in heights]
    return sparkline(heights, glyphs), decades


def _json_list(values: FloatArray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in values]


def propagate_json(result: Propagation) -> dict[str, Any]:
    runs = []
    for run in result.runs:
        fr, ff = _ratio(run.activation_std[1:])
        br, bf = _ratio(run.gradient_std[::-1])
        runs.append(
            {
                "label": run.label,
                "class_name": run.resolved.class_name,
                "initializer": run.resolved.config(),
                "activation_std": _json_list(run.activation_std),
                "gradient_std": _json_list(run.gradient_std),
                "forward": {
                    "verdict": run.forward_verdict,
                    "ratio": _finite(fr),
                    "factor_per_layer": _finite(ff),
                },
                "backward": {
                    "verdict": run.backward_verdict,
                    "ratio": _finite(br),
                    "factor_per_layer": _finite(bf),
                },
            }
        )
    return {
        "depth": result.depth,
        "width": result.width,
        "batch": result.batch,
        "activation": result.activation,
        "negative_slope": result.negative_slope if result.activation == "leaky_relu" else None,
        "seed": result.seed,
        "runs": runs,
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
