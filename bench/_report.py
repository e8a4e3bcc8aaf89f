"""Tables from the benchmark's JSON report: every measurement, and a summary against the targets."""

from __future__ import annotations

import statistics
from typing import Any

from _cases import BASIC, PRESETS, SMALL, SMALL_SHAPES, VARIANCE_SCALING, key, label

__all__ = ["render"]

MIB = 2**20
Row = dict[str, Any]


def _ok(rows: list[Row]) -> list[Row]:
    return [r for r in rows if "seconds" in r]


def _floors(rows: list[Row]) -> dict[tuple[int, ...], float]:
    """Write bandwidth (bytes/s) of numpy's ``fill`` on an existing array, per shape."""
    return {
        tuple(r["shape"]): r["out_bytes"] / r["seconds"]
        for r in rows
        if r["id"] == "fill" and r["peer"] == "numpy"
    }


def _ours(rows: list[Row]) -> dict[tuple[Any, ...], Row]:
    return {(key(r), r["threads"]): r for r in rows if r["peer"] == "weightinit"}


def _mine_for(ours: dict[tuple[Any, ...], Row], r: Row) -> Row | None:
    """weightinit's run to compare ``r`` with: same threads, else weightinit's largest thread count."""
    if (key(r), r["threads"]) in ours:
        return ours[(key(r), r["threads"])]
    runs = [v for (k, _), v in ours.items() if k == key(r)]
    return max(runs, key=lambda v: v["threads"] or 0, default=None)


def _peak(r: Row, field: str) -> str:
    """Peak memory of one call over the output's size ('-': not measured or nothing allocated)."""
    value = r.get(field)
    if value is None or r["id"] == "fill":
        return "-"
    return f"{value / r['out_bytes']:.2f}"


def full_table(report: dict[str, Any]) -> list[str]:
    rows = _ok(report["results"])
    floors, ours = _floors(rows), _ours(rows)
    lines = [
        "| case | peer | threads | ms | ns/element | write bandwidth | peak/output traced | peak/output RSS "
        "| peer time / weightinit time |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    order: list[tuple[Any, ...]] = []
    for r in rows:
        if key(r) not in order:
            order.append(key(r))
    for k in order:
        group = sorted(
            (r for r in rows if key(r) == k),
            key=lambda r: (r["peer"] != "weightinit", r["peer"], r["threads"] or 0),
        )
        for r in group:
            floor = floors.get(tuple(r["shape"]))
            bandwidth = f"{r['out_bytes'] / r['seconds'] / floor:.0%}" if floor else "-"
            mine = _mine_for(ours, r)
            ratio = (
                "-" if r["peer"] == "weightinit" or mine is None else f"{r['seconds'] / mine['seconds']:.2f}"
            )
            lines.append(
                f"| {label(r)} | {r['peer']} | {r['threads'] or 'default'} | {r['seconds'] * 1e3:.1f} "
                f"| {r['seconds'] / r['numel'] * 1e9:.2f} | {bandwidth} | {_peak(r, 'traced_peak_bytes')} "
                f"| {_peak(r, 'rss_peak_bytes')} | {ratio} |"
            )
    return lines


def _get(
    rows: list[Row], peer: str, ident: str, shape: list[int], dtype: str, threads: int | None
) -> Row | None:
    for r in rows:
        if (r["peer"], r["id"], r["shape"], r["dtype"], r["rows"], r["threads"]) == (
            peer,
            ident,
            shape,
            dtype,
            None,
            threads,
        ):
            return r
    return None


def _fastest_peer(rows: list[Row], ident: str, shape: list[int]) -> Row | None:
    """The fastest other peer on the whole float32 tensor, on at most 2 threads."""
    peers = [
        r
        for r in rows
        if r["peer"] != "weightinit" and r["id"] == ident and r["shape"] == shape
        if r["dtype"] == "float32" and r["rows"] is None and (r["threads"] or 2) <= 2
    ]
    return min(peers, key=lambda r: r["seconds"], default=None)


def summary_table(report: dict[str, Any]) -> list[str]:
    """One line per distribution: weightinit (1 and 2 threads) against the fastest peer."""
    rows = _ok(report["results"])
    shapes = sorted({tuple(r["shape"]) for r in rows if r["id"] in BASIC}, key=lambda s: s[0])
    lines = [
        "| float32 | weightinit ns/el, 1 / 2 threads | fastest peer (ns/el) | speed-up, 2 threads "
        "| torch / weightinit, 1 thread |",
        "|---|---:|---|---:|---:|",
    ]
    for shape in shapes:
        for ident in BASIC + PRESETS + VARIANCE_SCALING:
            one = _get(rows, "weightinit", ident, list(shape), "float32", 1)
            two = _get(rows, "weightinit", ident, list(shape), "float32", 2)
            if two is None:
                continue
            ns = 1e9 / two["numel"]
            best = _fastest_peer(rows, ident, list(shape))
            peer_txt = "-"
            if best is not None:
                peer_txt = f"{best['peer']}, {best['threads'] or 'default'} thr. ({best['seconds'] * ns:.2f})"
            speed = "-" if best is None else f"{best['seconds'] / two['seconds']:.1f}x"
            first = "-" if one is None else f"{one['seconds'] * ns:.2f}"
            torch_one = _get(rows, "torch", ident, list(shape), "float32", 1)
            single = "-"
            if one is not None and torch_one is not None:
                single = f"{torch_one['seconds'] / one['seconds']:.1f}x"
            name = f"{ident} {shape[0]}x{shape[1]}"
            lines.append(
                f"| {name} | {first} / {two['seconds'] * ns:.2f} | {peer_txt} | {speed} | {single} |"
            )
    return lines


PAIRED = "2 threads, timed alternately, median of the pairs' ratios"


def _ratio(r: Row, seconds: float) -> float:
    """``r``'s time over the other call's: the median of the ratios of the pairs timed alternately
    (each pair saw the same host), or without pairs, ``r``'s median time over ``seconds``."""
    if "paired_times" in r:
        return statistics.median(t / p for t, p in zip(r["times"], r["paired_times"], strict=True))
    return float(r["seconds"]) / seconds


def targets(report: dict[str, Any]) -> list[str]:
    """The issue's other targets, as measured ratios."""
    rows = _ok(report["results"])
    out = []
    for shape in sorted({tuple(r["shape"]) for r in rows if r["id"] == "normal"}, key=lambda s: s[0]):
        s = list(shape)
        for ident in BASIC:
            base = _get(rows, "weightinit", ident, s, "float32", 2)
            if base is None:
                continue
            ratios, paired_all = [], True
            for dtype in ("float16", "bfloat16", "float64"):
                other = _get(rows, "weightinit", dtype=dtype, ident=ident, shape=s, threads=2)
                if other is not None:  # against the float32 calls timed alternately with it, if any
                    paired_all &= "paired_times" in other
                    ratios.append(f"{dtype} {_ratio(other, base['seconds']):.2f}")
            how = PAIRED if paired_all else "2 threads"
            out.append(f"{ident} {shape[0]}x{shape[1]}, time / float32 time ({how}): " + ", ".join(ratios))
        for r in rows:
            if r["peer"] == "weightinit" and r["rows"] and tuple(r["shape"]) == shape and r["threads"] == 2:
                whole = _get(rows, "weightinit", r["id"], s, r["dtype"], 2)
                # the whole tensor timed alternately with the slice, else its own case
                if "paired_times" in r or whole is not None:
                    share = _ratio(r, whole["seconds"] if whole else 0.0) * shape[0] / r["rows"]
                    how = PAIRED if "paired_times" in r else "2 threads"
                    out.append(f"{label(r)}: {share:.2f} x its share of the whole ({how})")
        trunc = _get(rows, "weightinit", "truncated_normal", s, "float32", 2)
        torch_trunc = _get(rows, "torch", "truncated_normal", s, "float32", 2)
        if trunc and torch_trunc:
            out.append(
                f"truncated_normal {shape[0]}x{shape[1]}: {torch_trunc['seconds'] / trunc['seconds']:.1f}x "
                "faster than torch trunc_normal_ (2 threads)"
            )
    out += _small(rows)
    extra = [
        (r["traced_peak_bytes"] - r["out_bytes"], r)
        for r in rows
        if r["peer"] == "weightinit" and r["id"] != "orthogonal" and r.get("traced_peak_bytes") is not None
    ]
    if extra:
        most, worst = max(extra, key=lambda e: e[0])
        out.append(
            f"largest traced memory beyond the output, every case but Orthogonal: {most / MIB:.2f} MiB "
            f"({label(worst)}, {worst['threads']} thr.)"
        )
    for threads in (1, 2):
        ours = next(
            (
                r
                for r in rows
                if r["peer"] == "weightinit" and r["id"] == "orthogonal" and r["threads"] == threads
            ),
            None,
        )
        theirs = next(
            (r for r in rows if r["peer"] == "torch" and r["id"] == "orthogonal" and r["threads"] == threads),
            None,
        )
        if ours and theirs:
            out.append(
                f"{label(ours)}: weightinit {ours['seconds'] * 1e3:.0f} ms, torch orthogonal_ "
                f"{theirs['seconds'] * 1e3:.0f} ms ({threads} thread{'s' if threads > 1 else ''}): "
                f"{theirs['seconds'] / ours['seconds']:.2f}x"
            )
    return out


def _small(rows: list[Row]) -> list[str]:
    """Small layers: weightinit's time per call (2 threads) against the fastest peer's."""
    out = []
    for shape in SMALL_SHAPES:
        ours = _get(rows, "weightinit", SMALL, shape, "float32", 2)
        best = _fastest_peer(rows, SMALL, shape)
        if ours is None or best is None:
            continue
        out.append(
            f"{SMALL} {shape[0]}x{shape[1]} (one call): weightinit {ours['seconds'] * 1e6:.0f} us, fastest "
            f"peer {best['peer']} ({best['threads'] or 'default'} thr.) {best['seconds'] * 1e6:.0f} us: "
            f"{best['seconds'] / ours['seconds']:.2f}x"
        )
    return out


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    settings = report["settings"]
    rounds = settings.get("rounds", 1)  # JSON of older runs has no rounds: one
    spread = f" in {rounds} rounds" if rounds > 1 else ""
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; median of "
        f"{settings['repeats']}{spread} after warm-up calls (compare ratios within one run)",
        f"BLAS environment: {settings['blas_env']}",
    ]
    for peer, runs in report["peers"].items():
        info = next(iter(runs.values()))
        shown = {k: v for k, v in info.items() if k not in ("numpy_blas", "threads")}
        lines.append(f"{peer}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
        if "numpy_blas" in info:
            lines.append(f"  numpy BLAS in the {peer} process: {info['numpy_blas']}")
    lines += ["", *full_table(report), "", *summary_table(report), ""]
    lines += targets(report)
    lines.append("")
    imports = report["imports"]
    for name, seconds in imports.items():
        lines.append(f"{name}: {seconds * 1e3:.1f} ms")
    if "import numpy" in imports and "import weightinit" in imports:
        more = imports["import weightinit"] - imports["import numpy"]
        lines.append(f"import weightinit costs {more * 1e3:.1f} ms more than import numpy")
    lines += [f"note: {note}" for note in report["notes"]]
    for r in report["results"]:
        if "error" in r:
            lines.append(f"error: {r['peer']} ({r['threads'] or 'default'} threads) {label(r)}: {r['error']}")
    lines.append(
        "write bandwidth: bytes written / time, as a fraction of numpy's fill of an existing float32 "
        "array of the same shape. peak/output: peak memory during one call over the output's size, from "
        "tracemalloc (numpy allocations only; '-' for peers it cannot see) and from the RSS high-water mark "
        "(resource.getrusage after resetting it through /proc/self/clear_refs; below 1 when the "
        "allocator reused memory that was already resident)."
    )
    return "\n".join(lines)
