"""Time and peak memory of one call, measured inside a peer's own process."""

from __future__ import annotations

import gc
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

__all__ = ["paired_timing", "peak_memory", "timing"]

Call = Callable[[], Any]
Sync = Callable[[Any], Any]

RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux


WARM_UP = 2
#: a first call slower than this is warm-up enough (Orthogonal: seconds per call)
SLOW_CALL = 0.5


def _warm_up(fn: Call, sync: Sync) -> None:
    for _ in range(WARM_UP):  # compilation, thread pools, lazy imports, the allocator's state
        start = time.perf_counter()
        sync(fn())
        if time.perf_counter() - start > SLOW_CALL:
            break


def _timed(fn: Call, sync: Sync) -> float:
    """One call's wall time; the result is dropped before the next call allocates its own."""
    gc.collect()
    start = time.perf_counter()
    out = sync(fn())
    seconds = time.perf_counter() - start
    del out
    return seconds


def timing(fn: Call, sync: Sync, repeats: int) -> dict[str, Any]:
    """Median and best wall time of ``repeats`` calls after up to ``WARM_UP`` untimed calls.

    ``sync`` waits for the result (jax dispatches asynchronously).
    """
    _warm_up(fn, sync)
    times = [_timed(fn, sync) for _ in range(repeats)]
    return {"seconds": statistics.median(times), "best": min(times), "times": times}


def paired_timing(fn: Call, whole: Call, sync: Sync, repeats: int) -> dict[str, Any]:
    """``timing`` of ``fn``, with a call of ``whole`` before each of its calls.

    For a ratio of two calls (a slice against the whole tensor) on a noisy host:
    measured alternately, both see the same machine. ``paired_seconds`` is the
    median of the ``whole`` calls.
    """
    _warm_up(fn, sync)
    _warm_up(whole, sync)
    times, paired = [], []
    for _ in range(repeats):
        paired.append(_timed(whole, sync))
        times.append(_timed(fn, sync))
    return {
        "seconds": statistics.median(times),
        "best": min(times),
        "times": times,
        "paired_seconds": statistics.median(paired),
        "paired_times": paired,
    }


def _reset_rss_peak() -> bool:
    """Reset the process's RSS high-water mark (Linux: ``5`` to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def peak_memory(fn: Call, sync: Sync, traced: bool) -> dict[str, Any]:
    """Peak memory of one call, in bytes, two ways at once.

    ``rss_peak_bytes``: growth of ``resource.getrusage(RUSAGE_SELF).ru_maxrss``.
    On Linux the high-water mark is reset first, so this is the peak resident
    memory of the call above what was resident before it: the output,
    temporaries, and any library's own buffers alike. Elsewhere it is only the
    growth above the process's earlier peak (``rss_reset`` False).

    ``traced_peak_bytes`` (when ``traced``, else None): the peak of what
    tracemalloc sees during the call (numpy arrays are traced).
    """
    gc.collect()
    reset = _reset_rss_peak()
    if traced:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0] if traced else 0
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = sync(fn())
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = tracemalloc.get_traced_memory()[1] - base if traced else None
        del out
    finally:
        if traced:
            tracemalloc.stop()
    return {"rss_peak_bytes": (after - before) * RSS_UNIT, "rss_reset": reset, "traced_peak_bytes": peak}
