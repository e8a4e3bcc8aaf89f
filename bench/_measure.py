"""Timing and peak-memory measurement inside one benchmark subprocess."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["measure"]


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset the process's peak RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measure(
    fn: Callable[[], Any], repeats: int, sync: Callable[[Any], Any] = lambda x: x
) -> dict[str, float]:
    """Median wall time of ``repeats`` calls after a warm-up, and peak extra RSS of one call.

    Peak memory: the process's RSS high-water mark during one call minus its RSS
    before the call (Linux ``/proc/self/status`` VmHWM after resetting it), so it
    counts the output, temporaries, and memory of other libraries alike.
    """
    sync(fn())  # warm-up (JIT compilation, thread pools, lazy imports)
    gc.collect()
    peak_kib = float("nan")
    if _reset_peak():
        before = _status_kib("VmRSS")
        out = sync(fn())
        peak_kib = _status_kib("VmHWM") - before
        del out
        gc.collect()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = sync(fn())
        times.append(time.perf_counter() - start)
        del out
    return {"seconds": statistics.median(times), "best": min(times), "peak_bytes": peak_kib * 1024}
