"""Terminal output: number formatting, aligned tables, text histograms and sparklines."""

from __future__ import annotations

import math
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Glyphs",
    "fmt",
    "fmt_count",
    "fmt_pct",
    "glyphs_for",
    "histogram_lines",
    "sparkline",
    "table",
    "wrapped_pairs",
]


class Glyphs:
    """Characters for bars; ASCII where the terminal cannot show block elements."""

    def __init__(self, unicode: bool) -> None:
        self.unicode = unicode
        self.full = "\u2588" if unicode else "#"
        self.partial = (
            ("", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589") if unicode else ("",)
        )
        self.marker = "\u253c" if unicode else "|"
        self.levels = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588" if unicode else "_.-:=+*#"
        self.rule = "\u2500" if unicode else "-"


def glyphs_for(stream: TextIO | None = None, force_ascii: bool = False) -> Glyphs:
    """Unicode glyphs if ``stream`` can encode them."""
    if force_ascii:
        return Glyphs(False)
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        "\u2588\u258f\u253c\u2581\u2500".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return Glyphs(False)
    return Glyphs(True)


def fmt(value: float | None, digits: int = 3) -> str:
    """A short number: 3 significant digits, '-' for missing, 'inf' spelled out."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def fmt_count(n: int) -> str:
    return f"{n:,}"


def fmt_pct(p: float | None) -> str:
    if p is None or math.isnan(p):
        return "-"
    if p == 0:
        return "0%"
    return f"{100 * p:.3g}%"


def table(
    rows: Sequence[Sequence[str]], indent: int = 2, gap: int = 3, right: Sequence[bool] = ()
) -> list[str]:
    """Rows aligned in columns; ``right[i]`` right-aligns column ``i``."""
    if not rows:
        return []
    columns = max(len(r) for r in rows)
    widths = [max((len(r[i]) for r in rows if i < len(r)), default=0) for i in range(columns)]
    lines = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            align_right = i < len(right) and right[i]
            cells.append(cell.rjust(widths[i]) if align_right else cell.ljust(widths[i]))
        lines.append((" " * indent + (" " * gap).join(cells)).rstrip())
    return lines


def wrapped_pairs(
    rows: Sequence[tuple[str, str]], indent: int = 4, gap: int = 3, keep: Sequence[str] = ()
) -> list[str]:
    """``key   value`` lines, values wrapped to the terminal width (keys in ``keep`` never wrap)."""
    if not rows:
        return []
    columns = max(60, shutil.get_terminal_size((100, 24)).columns - 1)
    key_width = max(len(k) for k, _ in rows)
    lead = indent + key_width + gap
    lines = []
    for key, value in rows:
        if key in keep or len(value) + lead <= columns:
            parts = [value]
        else:
            parts = textwrap.wrap(value, max(30, columns - lead), break_on_hyphens=False) or [""]
        lines.append(f"{' ' * indent}{key.ljust(key_width)}{' ' * gap}{parts[0]}".rstrip())
        lines.extend(f"{' ' * lead}{part}" for part in parts[1:])
    return lines


def _bar(length: float, glyphs: Glyphs) -> str:
    whole = int(length)
    eighths = round((length - whole) * 8) if glyphs.unicode else 0
    if eighths == 8:
        whole, eighths = whole + 1, 0
    return glyphs.full * whole + (glyphs.partial[eighths] if eighths else "")


def histogram_lines(
    edges: NDArray[np.float64],
    counts: NDArray[np.int64],
    expected: NDArray[np.float64] | None,
    glyphs: Glyphs,
    width: int = 44,
    indent: int = 2,
) -> list[str]:
    """One line per bin: left edge, bar, count; a marker where the formula expects the bar to end."""
    peak = max(
        float(counts.max(initial=0)), float(expected.max(initial=0)) if expected is not None else 0.0, 1.0
    )
    scale = width / peak
    labels = [fmt(float(e), 3) for e in edges[:-1]]
    label_width = max(len(s) for s in labels)
    count_width = max(len(fmt_count(int(c))) for c in counts)
    lines = []
    for i, count in enumerate(counts):
        cells = list(_bar(float(count) * scale, glyphs).ljust(width + 1))
        if expected is not None and math.isfinite(float(expected[i])):
            position = min(width, round(float(expected[i]) * scale))
            cells[position] = glyphs.marker
        bar = "".join(cells).rstrip()
        number = fmt_count(int(count)).rjust(count_width)
        lines.append(f"{' ' * indent}{labels[i].rjust(label_width)}  {bar.ljust(width + 1)}  {number}")
    return lines


def sparkline(heights: Sequence[float], glyphs: Glyphs) -> str:
    """Heights in [0, 1] (NaN for missing) as one line of block levels."""
    levels = glyphs.levels
    out = []
    for h in heights:
        if not math.isfinite(h):
            out.append(" ")
        elif h <= 0:
            out.append(" ")
        else:
            out.append(levels[min(len(levels) - 1, int(h * len(levels)))])
    return "".join(out)
