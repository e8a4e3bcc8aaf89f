"""``inspect``: the table of weights and initializers, and its JSON form.

Text: a header line (format, Keras version, model class), one row per weight
(layer, weight, shape, dtype, initializer, default?), a layer's path printed
once for its weights; with ``--stats`` a last column says ``ok``,
``MISMATCH: <why>`` or ``-`` (unchecked); for files without a config it lists
the consistent candidates, best first. A summary closes the table. ``--check``
is ``--stats`` with exit status 3 when a weight mismatches its initializer.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .._inspect import Inspection, WeightRecord
from ._errors import EXIT_MISMATCH

__all__ = ["INSPECT_EPILOG", "add_inspect_parser", "inspect_json", "inspect_lines", "run_inspect"]

INSPECT_EPILOG = """\
examples:
  weightinit inspect model.keras
  weightinit inspect model.h5 --stats            # do the stored values match the initializers?
  weightinit inspect model.keras --check         # the same; exit status 3 on a mismatch
  weightinit inspect saved_model_dir/            # tf.keras SavedModel (keras_metadata.pb)
  weightinit inspect config.json --json
  weightinit inspect pytorch_model.bin --stats   # no config: rank the candidate initializers

Files are read as data: nothing in them is imported or executed, and no framework is needed
(HDF5 needs h5py: pip install 'weightinit[h5]'). --stats reads at most 65536 values per tensor
(64 blocks spread over it), so it takes about the same time whatever the model's size."""

MAX_INIT_WIDTH = 44
MAX_LAYER_WIDTH = 44


def _shape(record: WeightRecord) -> str:
    if record.shape is None:
        return "-"
    return "(" + ", ".join(str(n) for n in record.shape) + ("," if len(record.shape) == 1 else "") + ")"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _initializer(record: WeightRecord) -> str:
    if record.initializer is None:
        return "-"
    text = record.initializer.describe()
    if record.source == "layer default":
        text += " (not in config)"
    return _clip(text, MAX_INIT_WIDTH)


def _default(record: WeightRecord) -> str:
    return {True: "yes", False: "no", None: "-"}[record.default]


def _stats_cell(record: WeightRecord) -> str:
    if record.candidates is not None:
        if not record.candidates:
            return "none of the candidates"
        best = record.candidates[0]
        names = [best.name, *best.also]
        text = " = ".join(names)
        if best.p_value < 1.0:
            text += f"  (p={best.p_value:.2g})"
        others = len(record.candidates) - 1
        if others:
            text += f"; also consistent: {', '.join(c.name for c in record.candidates[1:3])}"
            if others > 2:
                text += f" (+{others - 2})"
        return text
    check = record.check
    if check is None:
        return ""
    if check.status == "ok":
        return "ok"
    if check.status == "mismatch":
        more = f" (+{len(check.reasons) - 1} more below)" if len(check.reasons) > 1 else ""
        return "MISMATCH: " + check.reasons[0] + more
    return "- " + (check.reasons[0] if check.reasons else "")


def _header(inspection: Inspection, path: str) -> str:
    facts = inspection.facts
    parts = [inspection.format]
    if facts.get("keras_version"):
        parts.append(f"Keras {facts['keras_version']}")
    if facts.get("model_class"):
        parts.append(str(facts["model_class"]))
    layers = len({r.layer for r in inspection.records})
    return f"{path}: {', '.join(parts)}; {len(inspection.records)} weights in {layers} layers"


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if row is header:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _summary(records: list[WeightRecord], stats: bool) -> list[str]:
    configured = [r for r in records if r.initializer is not None]
    lines = []
    if configured:
        default = sum(1 for r in configured if r.default)
        custom = sum(1 for r in configured if not r.initializer or not r.initializer.known)
        lines.append(
            f"{len(records)} weights: {default} with their layer's default initializer, "
            f"{len(configured) - default} with another one ({custom} of them custom, not loaded), "
            f"{len(records) - len(configured)} with none known"
        )
    else:
        lines.append(f"{len(records)} tensors, no config: initializers are not recorded in this file")
    if stats:
        if configured:
            ok = sum(1 for r in records if r.check and r.check.status == "ok")
            bad = sum(1 for r in records if r.check and r.check.status == "mismatch")
            lines.append(
                f"--stats: {ok} match their initializer, {bad} MISMATCH, "
                f"{len(records) - ok - bad} unchecked (values sampled, at most 65536 per tensor)"
            )
        else:
            found = sum(1 for r in records if r.candidates)
            lines.append(
                f"--stats: {found} of {len(records)} tensors are consistent with a candidate initializer "
                "(best first; 'none' = no candidate fits)"
            )
    return lines


def inspect_lines(inspection: Inspection, path: str, stats: bool) -> list[str]:
    """The text report."""
    records = inspection.records
    has_config = any(r.initializer is not None for r in records)
    lines = [_header(inspection, path)]
    lines += [f"note: {n}" for n in inspection.notes]
    lines.append("")
    if not records:
        return [*lines, "no weights found"]
    dtypes = {r.dtype for r in records}
    one_dtype = len(dtypes) == 1 and None not in dtypes
    if one_dtype:  # say it once in the header line instead of on every row
        lines[0] += f", all {dtypes.pop()}"
    header = ["layer", "weight", "shape"] + ([] if one_dtype else ["dtype"])
    if has_config:
        header += ["class", "initializer", "default"]
    if stats:
        header.append("stats" if has_config else "consistent initializers (best first)")
    rows = []
    previous = None
    for r in records:
        first = r.layer != previous
        previous = r.layer
        layer = (_clip(r.layer, MAX_LAYER_WIDTH) or "(top)") if first else ""
        row = [layer, r.weight, _shape(r)] + ([] if one_dtype else [r.dtype or "-"])
        if has_config:
            row += [(r.layer_class or "-") if first else "", _initializer(r), _default(r)]
        if stats:
            row.append(_stats_cell(r))
        rows.append(row)
    lines += _table(rows, header)
    flagged = [
        r
        for r in records
        if r.check is not None and len(r.check.reasons) > 1 and r.check.status == "mismatch"
    ]
    if flagged:
        lines.append("")
        lines.append("mismatches in full:")
        lines += [f"  {r.name}: {'; '.join(r.check.reasons)}" for r in flagged[:40] if r.check]
    notes = [(r.name, n) for r in records for n in r.notes]
    if notes:
        lines.append("")
        lines += [f"note: {name}: {text}" for name, text in notes[:40]]
        if len(notes) > 40:
            lines.append(f"note: ... and {len(notes) - 40} more")
    lines.append("")
    lines += _summary(records, stats)
    return lines


def inspect_json(inspection: Inspection, path: str, stats: bool) -> dict[str, Any]:
    """The ``--json`` document (see the README for its keys)."""
    document = {"path": path, "stats": stats, "schema": 1}
    document.update(inspection.to_json())
    return document


def add_inspect_parser(commands: Any, formatter: Callable[[str], argparse.HelpFormatter]) -> None:
    """Register ``weightinit inspect``."""
    p = commands.add_parser(
        "inspect",
        help="which initializer every weight of a saved model uses (and do the values match?)",
        description="Every weight of a model file with the initializer its config names, whether it is "
        "the layer's default, and (--stats) whether the stored values match that initializer.",
        epilog=INSPECT_EPILOG,
        formatter_class=formatter,
    )
    p.add_argument("path", metavar="PATH", help="model file, config JSON or SavedModel directory")
    p.add_argument(
        "--stats", action="store_true", help="compare a sample of the stored values with the formula"
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="--stats, then exit with status 3 if the stored values of any weight do not match "
        "the initializer its config names (for scripts and CI)",
    )
    p.add_argument("--json", action="store_true", help="print the records as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="accepted for symmetry (no progress line)")


def run_inspect(
    args: argparse.Namespace, emit: Callable[[list[str]], None], emit_json: Callable[[Any], None]
) -> int:
    """Run the command: read the file, print the table or the JSON document; the exit status."""
    from .._inspect import inspect_source

    stats = args.stats or args.check
    inspection = inspect_source(args.path, stats=stats)
    if args.json:
        emit_json(inspect_json(inspection, args.path, stats))
    else:
        emit(inspect_lines(inspection, args.path, stats))
    mismatch = any(r.check is not None and r.check.status == "mismatch" for r in inspection.records)
    return EXIT_MISMATCH if args.check and mismatch else 0
