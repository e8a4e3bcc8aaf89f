"""``show`` and ``compare``: draw a real tensor and set it against the formula."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._constant import Constant
from .._laws._stats import FitResult, SampleStats, as_float64, ks_test, sample_stats
from .._laws._theory import Discrete, Theory, matrix_dims, theory_of, tight_bounds
from .._limits import check_bytes
from .._orthogonal import Orthogonal
from .._stft import STFT
from ._errors import CliError
from ._progress import Progress
from ._resolve import Resolved
from ._text import Glyphs, fmt, fmt_count, fmt_pct, histogram_lines, sparkline, table

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_MAX_SAMPLE",
    "MAX_SVD_DIM",
    "Report",
    "analyze",
    "compare_json",
    "compare_lines",
    "prefix_index",
    "report_json",
    "show_lines",
]

DEFAULT_BINS = 24
DEFAULT_MAX_SAMPLE = 1 << 22
MAX_SVD_DIM = 4096
#: the most work an Orthogonal draw may take in the command (about a minute on one core)
MAX_ORTHOGONAL_FLOPS = 10**12
FloatArray = NDArray[np.float64]

LAW_NAMES = {
    "normal": "normal",
    "truncated_normal": "truncated normal",
    "uniform": "uniform",
    "orthogonal_entry": "orthogonal entry",
    "deterministic": "deterministic",
}


@dataclass
class Report:
    """A draw and what the formula says about it."""

    resolved: Resolved
    shape: tuple[int, ...]
    dtype: str
    theory: Theory
    values: FloatArray
    sample_shape: tuple[int, ...]
    stats: SampleStats
    fit: FitResult | None
    fit_note: str
    edges: FloatArray
    counts: NDArray[np.int64]
    expected: FloatArray | None
    singular: FloatArray | None = None
    singular_note: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def sliced(self) -> bool:
        return self.sample_shape != self.shape


def prefix_index(shape: tuple[int, ...], max_sample: int) -> tuple[slice, ...] | None:
    """The leading block of ``shape`` (in row-major order) with at most ``max_sample`` elements.

    None when the whole tensor fits. Any slice is bitwise equal to the same part
    of the whole tensor, so this is a real sample of it.
    """
    if math.prod(shape) <= max_sample:
        return None
    index: list[slice] = []
    for axis in range(len(shape)):
        inner = math.prod(shape[axis + 1 :])
        if inner <= max_sample:
            index.append(slice(0, max(1, max_sample // inner)))
            return tuple(index)
        index.append(slice(0, 1))
    return tuple(index)  # pragma: no cover - the last axis always fits (inner == 1)


def _orthogonal_family(init: Any) -> bool:
    """Orthogonal and the framework variants (TorchOrthogonal, JaxOrthogonal, DeltaOrthogonal):
    a whole-matrix Householder product, cubic work."""
    return isinstance(init, Orthogonal) or "Orthogonal" in type(init).__name__


def needs_whole(init: Any) -> bool:
    """Whether the statistics need the whole tensor, not a leading block: singular values of an
    orthogonal matrix, exact value counts of an STFT table or of a broadcast array constant."""
    if isinstance(init, STFT) or _orthogonal_family(init):
        return True
    return isinstance(init, Constant) and np.ndim(init.value) > 0


def check_cost(
    resolved: Resolved, shape: tuple[int, ...], dtype: str | None, max_sample: int, whole: bool
) -> None:
    """Refuse, before anything is drawn, what would exceed ``--max-sample``, the size cap (the
    draw, its float64 copy and the sorted copy of the fit) or the work bound."""
    if max_sample < 1:
        raise CliError(f"--max-sample must be at least 1, got {max_sample}")
    total = math.prod(shape)
    if whole and total > max_sample:
        raise CliError(
            f"{resolved.label} needs the whole tensor for its statistics: shape {shape} has "
            f"{fmt_count(total)} values, more than --max-sample {fmt_count(max_sample)} (raise it, "
            "or show a smaller shape)"
        )
    count = min(total, max_sample)
    itemsize = 8 if dtype in (None, "float64") else 4
    check_bytes(count * (itemsize + 3 * 8), lambda: f"the statistics of {fmt_count(count)} values")
    if _orthogonal_family(resolved.initializer) and shape:
        rows, cols = matrix_dims(shape)
        flops = 2 * rows * cols * min(rows, cols)
        if flops > MAX_ORTHOGONAL_FLOPS:
            raise CliError(
                f"{resolved.label} of shape {shape} needs about {flops:.1e} floating-point operations "
                f"(more than {MAX_ORTHOGONAL_FLOPS:.0e}, minutes of work); show a smaller shape, or call "
                "the library directly"
            )


def _histogram(
    values: FloatArray, theory: Theory, bins: int
) -> tuple[FloatArray, NDArray[np.int64], FloatArray | None]:
    dist = theory.distribution
    if values.size == 0:
        return np.array([0.0, 1.0]), np.zeros(1, dtype=np.int64), None
    low, high = float(values.min()), float(values.max())
    if dist is not None and tight_bounds(dist):
        low, high = min(low, dist.lower), max(high, dist.upper)
    if low == high:
        pad = 0.5 * abs(low) if low else 0.5
        low, high = low - pad, high + pad
    edges = np.linspace(low, high, bins + 1)
    counts, _ = np.histogram(np.clip(values, low, high), bins=edges)
    expected = None
    if dist is not None and dist.continuous:
        expected = values.size * np.diff(dist.cdf(edges))
    elif isinstance(dist, Discrete):
        shares, _ = np.histogram(np.clip(dist.points, low, high), bins=edges, weights=dist.weights)
        expected = values.size * shares
    return edges, counts.astype(np.int64), expected


def _singular_values(values: FloatArray, shape: tuple[int, ...]) -> tuple[FloatArray | None, str]:
    rows, cols = matrix_dims(shape)
    if min(rows, cols) > MAX_SVD_DIM:
        return None, f"skipped: the smaller side {min(rows, cols)} is above {MAX_SVD_DIM}"
    if rows * cols == 0:
        return None, "empty matrix"
    matrix = values.reshape(rows, cols)
    gram = matrix.T @ matrix if cols <= rows else matrix @ matrix.T
    eigenvalues = np.linalg.eigvalsh(gram)
    return np.sqrt(np.clip(eigenvalues, 0.0, None))[::-1].copy(), ""


def analyze(
    resolved: Resolved,
    shape: tuple[int, ...],
    dtype: str | None,
    *,
    max_sample: int = DEFAULT_MAX_SAMPLE,
    bins: int = DEFAULT_BINS,
    singular: bool = True,
    progress: Progress | None = None,
) -> Report:
    """Draw ``shape`` (or a leading block of it), compute the statistics and the fit."""
    init = resolved.initializer
    whole = needs_whole(init)
    check_cost(resolved, shape, dtype, max_sample, whole)
    index = None if whole else prefix_index(shape, max_sample)
    if progress is not None:
        progress.step(f"{resolved.label}: drawing {fmt_count(math.prod(shape))} values")
    drawn = init(shape, dtype=dtype, index=index) if index is not None else init(shape, dtype=dtype)
    drawn = np.asarray(drawn)
    theory = theory_of(init, shape, drawn.dtype)
    values = as_float64(drawn)
    dist = theory.distribution
    if progress is not None:
        progress.step(f"{resolved.label}: statistics", advance=1)
    if dist is not None:
        stats = sample_stats(values, dist.mean, dist.std)
    else:
        stats = sample_stats(values)
    notes = []
    if index is not None:
        notes.append(
            f"statistics use the leading block {tuple(drawn.shape)} ({fmt_count(values.size)} of "
            f"{fmt_count(math.prod(shape))} values; --max-sample changes this)"
        )
    fit: FitResult | None = None
    if dist is None:
        fit_note = "no formula for this tensor" if values.size else "empty tensor"
    elif not dist.continuous:
        fit_note = "deterministic: nothing random to test"
    elif values.size < 2:
        fit_note = "too few values for a test"
    else:
        fit = ks_test(values, dist.cdf)
        fit_note = ""
        if drawn.dtype.name in ("float16", "bfloat16"):
            notes.append(
                f"values are rounded to {drawn.dtype.name}: with many values the KS test "
                "sees the rounding steps"
            )
        if isinstance(init, Orthogonal):
            fit_note = "entries of one orthogonal matrix are weakly dependent; the p-value is approximate"
    if progress is not None:
        progress.step(f"{resolved.label}: histogram", advance=1)
    edges, counts, expected = _histogram(values, theory, bins)
    sv, sv_note = None, ""
    if singular and theory.singular_value is not None:
        if progress is not None:
            progress.step(f"{resolved.label}: singular values", advance=1)
        if index is not None:
            sv_note = "skipped: only a block of the matrix was drawn"
        else:
            sv, sv_note = _singular_values(values, shape)
    if progress is not None:
        progress.advance(1)
    return Report(
        resolved,
        shape,
        drawn.dtype.name,
        theory,
        values,
        tuple(drawn.shape),
        stats,
        fit,
        fit_note,
        edges,
        counts,
        expected,
        sv,
        sv_note,
        notes,
    )


# ---------------------------------------------------------------------------- text


def _header(report: Report) -> list[str]:
    r = report.resolved
    seed = f", seed {r.seed}" if r.seed is not None else ""
    lines = [f"{r.label}  ->  {r.initializer!r}"]
    fans = f"fan_in {report.theory.fan_in}, fan_out {report.theory.fan_out}"
    if len(report.shape) >= 3:
        fans += f" (receptive field {math.prod(report.shape[:-2])})"
    if not report.theory.fans_used:
        fans += f"; {r.class_name} does not use them"
    count = f"{fmt_count(report.size)} value{'' if report.size == 1 else 's'}"
    lines.append(f"  shape {report.shape}, {report.dtype}{seed}: {count}; {fans}")
    return lines


def _bounds_text(low: float, high: float) -> str:
    if math.isinf(low) and math.isinf(high):
        return "none"
    if low == high:
        return fmt(low)
    if low == -high:
        return f"+-{fmt(high)}"
    return f"[{fmt(low)}, {fmt(high)}]"


def _fit_text(report: Report) -> str:
    fit = report.fit
    if fit is None:
        return report.fit_note
    text = f"KS D = {fmt(fit.statistic)}, p = {fmt(fit.p_value, 2)} (n = {fmt_count(fit.n)}): {fit.verdict}"
    if report.fit_note:
        text += f" ({report.fit_note})"
    return text


def show_lines(report: Report, glyphs: Glyphs, histogram: bool = True) -> list[str]:
    """The text report of ``show``."""
    theory, stats, dist = report.theory, report.stats, report.theory.distribution
    lines = _header(report)
    lines.append(f"  rule   {theory.formula}")
    lines.extend(f"         {step}" for step in theory.derivation)
    if dist is not None:
        lines.append(f"  law    {dist.describe()}")
    lines.append("")
    exp = dist
    rows = [
        ["", "expected", "sample"],
        ["mean", fmt(exp.mean) if exp else "-", fmt(stats.mean)],
        ["std", fmt(exp.std) if exp else "-", fmt(stats.std)],
        ["min (bound)", fmt(exp.lower) if exp else "-", fmt(stats.min)],
        ["max (bound)", fmt(exp.upper) if exp else "-", fmt(stats.max)],
        ["beyond 2 std", fmt_pct(exp.beyond(2.0)) if exp else "-", fmt_pct(stats.beyond_2std)],
    ]
    lines.extend(table(rows))
    lines.append("")
    lines.append(f"  fit    {_fit_text(report)}")
    if theory.singular_value is not None:
        lines.append(f"  singular values  {_singular_text(report)}")
    lines.extend(f"  note   {note}" for note in report.notes)
    if histogram and report.values.size:
        lines.append("")
        lines.extend(_distribution_lines(report, glyphs))
    return lines


def _singular_text(report: Report) -> str:
    expected = report.theory.singular_value
    count = report.theory.singular_count
    if report.singular is None:
        return f"expected {count} x {fmt(expected)}; {report.singular_note}"
    sv = report.singular
    return (
        f"{sv.size} values in [{fmt(float(sv.min()), 6)}, {fmt(float(sv.max()), 6)}], "
        f"expected all = |gain| = {fmt(expected, 6)}"
    )


def _distribution_lines(report: Report, glyphs: Glyphs) -> list[str]:
    dist = report.theory.distribution
    values = report.values
    if isinstance(dist, Discrete):
        points, counts = np.unique(values, return_counts=True)
        if points.size <= 12:
            rows = [["value", "count", "expected"]]
            expected_at = dict(zip(dist.points.tolist(), dist.weights.tolist(), strict=True))
            for p, c in zip(points.tolist(), counts.tolist(), strict=True):
                share = expected_at.get(p)
                rows.append(
                    [fmt(p, 6), fmt_count(c), fmt_count(round(share * values.size)) if share else "-"]
                )
            return ["  values", *table(rows, indent=4, right=(False, True, True))]
    legend = f"{glyphs.full} sample count"
    if report.expected is not None:
        legend += f", {glyphs.marker} count the formula gives"
    low, high = fmt(float(report.edges[0])), fmt(float(report.edges[-1]))
    head = f"  histogram, {report.counts.size} bins from {low} to {high} ({legend})"
    return [head, *histogram_lines(report.edges, report.counts, report.expected, glyphs, indent=4)]


def compare_lines(reports: list[Report], glyphs: Glyphs) -> list[str]:
    """Side-by-side table of several initializers on the same shape."""
    first = reports[0]
    seeds = {r.resolved.seed for r in reports} - {None}
    seed = f", seed {seeds.pop()}" if len(seeds) == 1 else ""
    lines = [f"compare on shape {first.shape}, {first.dtype}{seed}: {fmt_count(first.size)} values each", ""]
    labels = [
        r.resolved.label if len(r.resolved.label) <= 28 else r.resolved.label[:25] + "..." for r in reports
    ]

    def row(name: str, cells: list[str]) -> list[str]:
        return [name, *cells]

    def law(r: Report) -> str:
        d = r.theory.distribution
        return LAW_NAMES.get(d.kind, d.kind) if d is not None else "-"

    def fans(r: Report) -> str:
        text = f"{r.theory.fan_in}/{r.theory.fan_out}"
        return text if r.theory.fans_used else f"({text})"

    def exp(r: Report, attr: str) -> str:
        d = r.theory.distribution
        return fmt(getattr(d, attr)) if d is not None else "-"

    def bounds(r: Report) -> str:
        d = r.theory.distribution
        return _bounds_text(d.lower, d.upper) if d is not None else "-"

    rows = [
        row("", labels),
        row("class", [r.resolved.class_name for r in reports]),
        row("law", [law(r) for r in reports]),
        row("fan_in/fan_out", [fans(r) for r in reports]),
        row("expected mean", [exp(r, "mean") for r in reports]),
        row("expected std", [exp(r, "std") for r in reports]),
        row("bounds", [bounds(r) for r in reports]),
        row("sample mean", [fmt(r.stats.mean) for r in reports]),
        row("sample std", [fmt(r.stats.std) for r in reports]),
        row("sample min", [fmt(r.stats.min) for r in reports]),
        row("sample max", [fmt(r.stats.max) for r in reports]),
        row("beyond 2 std", [fmt_pct(r.stats.beyond_2std) for r in reports]),
        row("KS D", [fmt(r.fit.statistic) if r.fit else "-" for r in reports]),
        row("KS p", [fmt(r.fit.p_value, 2) if r.fit else "-" for r in reports]),
    ]
    lines.extend(table(rows))
    notes = [f"{label}: {note}" for label, r in zip(labels, reports, strict=True) for note in r.notes]
    if any(not r.theory.fans_used for r in reports):
        notes.append("fans in parentheses are not used by that initializer")
    lines.extend(f"  note   {n}" for n in notes)
    lines.append("")
    lines.extend(_shapes(reports, labels, glyphs))
    return lines


def _shapes(reports: list[Report], labels: list[str], glyphs: Glyphs, bins: int = 48) -> list[str]:
    nonempty = [r for r in reports if r.values.size]
    if not nonempty:
        return []
    low = min(float(r.values.min()) for r in nonempty)
    high = max(float(r.values.max()) for r in nonempty)
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    width = max(len(s) for s in labels)
    lines = [f"  histograms on a common range [{fmt(low)}, {fmt(high)}], each scaled to its own peak"]
    for label, r in zip(labels, reports, strict=True):
        counts, _ = np.histogram(r.values, bins=edges)
        peak = counts.max(initial=0)
        heights = counts / peak if peak else np.zeros(bins)
        lines.append(f"  {label.ljust(width)}  {sparkline(heights.tolist(), glyphs)}")
    return lines


# ---------------------------------------------------------------------------- json


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def report_json(report: Report) -> dict[str, Any]:
    """The ``show --json`` document (finite floats; None for missing or infinite)."""
    r, theory, dist, stats = report.resolved, report.theory, report.theory.distribution, report.stats
    expected: dict[str, Any] | None = None
    if dist is not None:
        expected = {
            "distribution": dist.kind,
            "description": dist.describe(),
            "formula": theory.formula,
            "derivation": theory.derivation,
            "mean": _num(dist.mean),
            "std": _num(dist.std),
            "lower": _num(dist.lower),
            "upper": _num(dist.upper),
            "beyond_2std": _num(dist.beyond(2.0)),
            "params": dist.params(),
        }
    singular = None
    if theory.singular_value is not None:
        singular = {
            "expected": theory.singular_value,
            "count": theory.singular_count,
            "min": _num(float(report.singular.min())) if report.singular is not None else None,
            "max": _num(float(report.singular.max())) if report.singular is not None else None,
            "note": report.singular_note or None,
        }
    return {
        "spec": r.spec,
        "label": r.label,
        "class_name": r.class_name,
        "initializer": r.config(),
        "shape": list(report.shape),
        "dtype": report.dtype,
        "seed": r.seed,
        "fan_in": theory.fan_in,
        "fan_out": theory.fan_out,
        "fans_used": theory.fans_used,
        "expected": expected,
        "sample": {
            "n": stats.n,
            "shape": list(report.sample_shape),
            "sliced": report.sliced,
            "mean": _num(stats.mean),
            "std": _num(stats.std),
            "min": _num(stats.min),
            "max": _num(stats.max),
            "beyond_2std": _num(stats.beyond_2std),
        },
        "fit": None
        if report.fit is None
        else {
            "test": "kolmogorov-smirnov",
            "statistic": _num(report.fit.statistic),
            "p_value": _num(report.fit.p_value),
            "n": report.fit.n,
            "verdict": report.fit.verdict,
        },
        "fit_note": report.fit_note or None,
        "histogram": {
            "edges": [float(e) for e in report.edges],
            "counts": [int(c) for c in report.counts],
            "expected": None if report.expected is None else [float(e) for e in report.expected],
        },
        "singular_values": singular,
        "notes": report.notes,
    }


def compare_json(reports: list[Report]) -> dict[str, Any]:
    return {"shape": list(reports[0].shape), "initializers": [report_json(r) for r in reports]}
