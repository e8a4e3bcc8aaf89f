"""Turn benchmark results into the text table (also used for the README)."""

from __future__ import annotations

from typing import Any

__all__ = ["render"]


def _case_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["dist"], tuple(r["shape"]), r["dtype"], r.get("rows_fraction"))


def _label(key: tuple[Any, ...]) -> str:
    dist, shape, dtype, fraction = key
    text = f"{dist} {shape[0]}x{shape[1]} {dtype}"
    return text + (f" index=1/{fraction} rows" if fraction else "")


def render(report: dict[str, Any]) -> str:
    results = [r for r in report["results"] if "seconds" in r]
    floors = {
        tuple(r["shape"]): r["out_bytes"] / r["seconds"]
        for r in results
        if r["dist"] == "fill" and r["peer"] == "numpy"
    }
    ours = {(_case_key(r), r["threads"]): r["seconds"] for r in results if r["peer"] == "weightinit"}
    m = report["machine"]
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, weightinit kernel: {m['kernel']}",
        "",
        "| case | peer | threads | ms | ns/element | write bandwidth | peak memory / output "
        "| weightinit speed-up |",
        "|---|---|---|---|---|---|---|---|",
    ]
    order: list[tuple[Any, ...]] = []
    for r in results:
        if _case_key(r) not in order:
            order.append(_case_key(r))
    for key in order:
        rows = [r for r in results if _case_key(r) == key]
        rows.sort(key=lambda r: (r["peer"] != "weightinit", r["peer"], r["threads"]))
        for r in rows:
            ns = r["seconds"] / r["numel"] * 1e9
            floor = floors.get(tuple(r["shape"]))
            bw = f"{r['out_bytes'] / r['seconds'] / floor:.0%}" if floor else "-"
            peak = r.get("peak_bytes", float("nan")) / r["out_bytes"]
            # an allocator that reuses cached memory (torch, small numpy outputs) adds no RSS
            peak_txt = "-" if peak != peak else ("cached" if peak < 0.05 else f"{peak:.2f}")
            mine = ours.get((key, r["threads"])) or ours.get((key, 2))
            speed = "-" if r["peer"] == "weightinit" or not mine else f"{r['seconds'] / mine:.1f}x"
            lines.append(
                f"| {_label(key)} | {r['peer']} | {r['threads']} | {r['seconds'] * 1e3:.1f} | {ns:.2f} | "
                f"{bw} | {peak_txt} | {speed} |"
            )
    lines.append("")
    for name, seconds in report["imports"].items():
        lines.append(f"{name}: {seconds * 1e3:.0f} ms")
    for note in report["notes"]:
        lines.append(f"note: {note}")
    errors = [r for r in report["results"] if "error" in r]
    for r in errors:
        lines.append(f"error: {r['peer']} {_label(_case_key(r))}: {r['error']}")
    return "\n".join(lines)
