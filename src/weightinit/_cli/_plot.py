"""Figures with matplotlib (the ``[plot]`` extra), imported only when ``--plot`` is used.

Figures are built with :class:`matplotlib.figure.Figure` directly, so no GUI
backend or global pyplot state is involved. Sizes are fixed (inches x DPI) so a
PNG's pixel size is predictable: see ``SIZES``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .._laws._theory import Discrete, matrix_dims, tight_bounds
from ._errors import CliError
from ._text import fmt

if TYPE_CHECKING:
    from ._propagate import Propagation
    from ._show import Report

__all__ = ["DPI", "SIZES", "plot_compare", "plot_propagate", "plot_show"]

DPI = 100
#: (width, height) in inches per figure kind; pixels are these times DPI
SIZES = {"show": (9.0, 5.5), "compare": (10.0, 6.0), "propagate": (12.0, 5.0)}
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
#: line styles cycle too, so that curves lying on top of each other stay visible
STYLES = ("-", "--", "-.", ":")
#: deterministic initializers with more distinct values than this are drawn as histograms
MAX_STEMS = 24


def _figure(kind: str) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise CliError("--plot needs matplotlib: pip install 'weightinit[plot]'") from None
    return Figure(figsize=SIZES[kind], dpi=DPI, layout="constrained")


def _save(fig: Any, path: str) -> None:
    """Write the figure to exactly ``path``: its suffix names the format (PNG when it has none;
    matplotlib would otherwise append ".png" to a name without one)."""
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise CliError(f"cannot write {path!r}: the folder {str(target.parent)!r} does not exist")
    suffix = target.suffix.lower().lstrip(".")
    formats = fig.canvas.get_supported_filetypes()
    if suffix and suffix not in formats:
        raise CliError(
            f"cannot write {path!r}: unknown image format {suffix!r}; use one of {', '.join(sorted(formats))}"
        )
    try:
        fig.savefig(target, dpi=DPI, format=suffix or "png")
    except OSError as exc:
        raise CliError(f"cannot write {path!r}: {exc.strerror or exc}") from None


def _title(report: Report) -> str:
    r = report.resolved
    seed = f", seed {r.seed}" if r.seed is not None else ""
    return f"{r.label}  ({r.class_name}) on shape {report.shape}, {report.dtype}{seed}"


def _curve_x(report: Report) -> np.ndarray:
    dist = report.theory.distribution
    low, high = float(report.edges[0]), float(report.edges[-1])
    if dist is not None and tight_bounds(dist):
        pad = 0.04 * (dist.upper - dist.lower)
        low, high = min(low, dist.lower - pad), max(high, dist.upper + pad)
    x = np.linspace(low, high, 801)
    if dist is not None and tight_bounds(dist):  # draw the jumps at the bounds sharply
        x = np.sort(
            np.concatenate(
                [x, [dist.lower, dist.upper], np.nextafter([dist.lower, dist.upper], [-np.inf, np.inf])]
            )
        )
    return x


def _bins(report: Report) -> np.ndarray:
    n = report.values.size
    count = int(min(80, max(10, round(2 * n ** (1 / 3)))))
    return np.linspace(float(report.edges[0]), float(report.edges[-1]), count + 1)


def _info(report: Report) -> str:
    dist, stats = report.theory.distribution, report.stats
    lines = [f"fan_in {report.theory.fan_in}, fan_out {report.theory.fan_out}"]
    if dist is not None:
        lines.append(f"std: expected {fmt(dist.std)}, sample {fmt(stats.std)}")
        lines.append(f"mean: expected {fmt(dist.mean)}, sample {fmt(stats.mean)}")
    if report.fit is not None:
        lines.append(f"KS D = {fmt(report.fit.statistic)}, p = {fmt(report.fit.p_value, 2)}")
    lines.append(f"n = {stats.n:,}")
    return "\n".join(lines)


def _draw_values(ax: Any, report: Report, color: str, label: str | None) -> None:
    """The sample (histogram or point shares) and the formula (density or point masses).

    ``label`` None draws the single-initializer style (filled bars, black curve);
    otherwise the overlay style (steps and a dashed curve in the same colour).
    """
    dist = report.theory.distribution
    values = report.values
    overlay = label is not None
    if isinstance(dist, Discrete) and dist.points.size > MAX_STEMS:
        bins = _bins(report)
        ax.hist(
            values,
            bins=bins,
            color=color,
            alpha=0.45 if not overlay else 1.0,
            histtype="step" if overlay else "bar",
            weights=np.full(values.size, 1.0 / values.size),
            label=label or f"sample ({values.size:,} values)",
        )
        ax.hist(
            dist.points,
            bins=bins,
            weights=dist.weights,
            histtype="step",
            linewidth=1.5,
            color=color if overlay else "black",
            linestyle="--" if overlay else "-",
            label=None if overlay else "formula (exact values)",
        )
        return
    if isinstance(dist, Discrete):
        points, counts = np.unique(values, return_counts=True)
        shares = counts / max(1, values.size)
        ax.vlines(
            points, 0, shares, colors=color, linewidth=3, label=label or f"sample ({values.size:,} values)"
        )
        ax.plot(
            dist.points,
            dist.weights,
            "o",
            mfc="none",
            ms=9,
            color="black" if not overlay else color,
            label=None if overlay else "formula",
        )
        return
    if overlay:
        ax.hist(
            values, bins=_bins(report), density=True, color=color, histtype="step", linewidth=1.4, label=label
        )
    else:
        ax.hist(
            values,
            bins=_bins(report),
            density=True,
            color=color,
            alpha=0.45,
            edgecolor="white",
            linewidth=0.3,
            label=f"sample ({values.size:,} values)",
        )
    if dist is not None:
        x = _curve_x(report)
        ax.plot(
            x,
            dist.pdf(x),
            color=color if overlay else "black",
            linewidth=1.2 if overlay else 2,
            linestyle="--" if overlay else "-",
            label=None if overlay else "density from the formula",
        )


def plot_show(report: Report, path: str) -> None:
    """Histogram with the formula's density, or the singular values for Orthogonal/Identity."""
    fig = _figure("show")
    ax = fig.add_subplot()
    if report.theory.singular_value is not None:
        _singular(ax, report)
    elif report.values.size == 0:
        ax.text(0.5, 0.5, "empty tensor", ha="center", va="center", transform=ax.transAxes)
    else:
        _draw_values(ax, report, COLORS[0], None)
        dist = report.theory.distribution
        if dist is not None and dist.continuous:
            for bound in (dist.lower, dist.upper) if tight_bounds(dist) else ():
                ax.axvline(bound, color="gray", linestyle=":", linewidth=1)
            ax.axvspan(
                dist.mean - 2 * dist.std,
                dist.mean + 2 * dist.std,
                color="gray",
                alpha=0.07,
                label="mean +- 2 std (formula)",
            )
        ax.set_xlabel("weight value")
        ax.set_ylabel("density" if dist is None or dist.continuous else "share of values")
        ax.legend(loc="upper left", fontsize=9, frameon=False)
        ax.text(
            0.99,
            0.98,
            _info(report),
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=9,
            family="monospace",
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "edgecolor": "0.8"},
        )
        ax.set_ylim(bottom=0)
    ax.set_title(_title(report), fontsize=11)
    ax.grid(alpha=0.25)
    _save(fig, path)


def _singular(ax: Any, report: Report) -> None:
    expected = report.theory.singular_value or 0.0
    sv = report.singular
    if sv is None:
        ax.text(
            0.5,
            0.5,
            f"singular values {report.singular_note}",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        return
    index = np.arange(1, sv.size + 1)
    ax.axhline(
        expected,
        color=COLORS[1],
        linestyle="--",
        linewidth=1.5,
        label=f"formula: all = |gain| = {fmt(expected, 6)}",
        zorder=1,
    )
    ax.plot(
        index,
        sv,
        "o",
        color=COLORS[0],
        markersize=max(1.5, min(5.0, 400 / sv.size)),
        label=f"singular values of the drawn {' x '.join(map(str, _dims(report)))} matrix",
        zorder=2,
    )
    spread = max(float(np.max(np.abs(sv - expected))), 0.05 * max(expected, 1e-12))
    ax.set_ylim(
        min(0.0, float(sv.min())) if spread > expected else expected - 4 * spread, expected + 4 * spread
    )
    ax.set_xlabel("index (largest first)")
    ax.set_ylabel("singular value")
    deviation = float(np.max(np.abs(sv - expected)))
    ax.legend(loc="lower left", fontsize=9, frameon=False)
    ax.text(
        0.99,
        0.98,
        f"max |s - |gain|| = {deviation:.2e}\n{sv.size} singular values",
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=9,
        family="monospace",
    )


def _dims(report: Report) -> tuple[int, int]:
    return matrix_dims(report.shape)


def plot_compare(reports: list[Report], path: str) -> None:
    """Every initializer's histogram (steps) and density (dashed) on one axis."""
    fig = _figure("compare")
    ax = fig.add_subplot()
    for i, report in enumerate(reports):
        if report.values.size:
            _draw_values(ax, report, COLORS[i % len(COLORS)], report.resolved.label)
    ax.plot([], [], color="gray", linestyle="--", linewidth=1.2, label="dashed: density from the formula")
    first = reports[0]
    ax.set_title(f"{len(reports)} initializers on shape {first.shape}, {first.dtype}", fontsize=11)
    ax.set_xlabel("weight value")
    ax.set_ylabel("density")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.25)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    _save(fig, path)


def plot_propagate(result: Propagation, path: str) -> None:
    """Activation std and gradient std by depth, one line per initializer, log scale."""
    fig = _figure("propagate")
    left, right = fig.subplots(1, 2, sharex=True)
    depths = np.arange(result.depth + 1)
    for i, run in enumerate(result.runs):
        style = {"color": COLORS[i % len(COLORS)], "linestyle": STYLES[i % len(STYLES)], "linewidth": 2}
        left.plot(
            depths, _positive(run.activation_std), label=f"{run.label} ({run.forward_verdict})", **style
        )
        right.plot(
            depths, _positive(run.gradient_std), label=f"{run.label} ({run.backward_verdict})", **style
        )
    for ax, what in ((left, "activation std (forward)"), (right, "gradient std (backward)")):
        ax.set_yscale("log")
        ax.axhline(1.0, color="gray", linestyle=":", linewidth=1)
        ax.set_xlabel("depth (layer)")
        ax.set_ylabel(what)
        ax.grid(alpha=0.25, which="both")
        ax.legend(fontsize=8, frameon=False)
    left.set_title("unit-variance inputs pushed forward", fontsize=10)
    right.set_title("unit-variance gradient pushed back from the top", fontsize=10)
    fig.suptitle(
        f"{result.depth} dense layers of width {result.width}, {result.activation}, "
        f"batch {result.batch}, seed {result.seed}",
        fontsize=11,
    )
    _save(fig, path)


def _positive(values: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.asarray(values, dtype=np.float64).copy()
    out[~np.isfinite(out) | (out <= 0)] = np.nan
    return out
