"""What runs the engine in this process: the compiled kernel (and which instruction set) or the
numpy reference. Both give the same bits; only the speed differs."""

from __future__ import annotations

from typing import Any

from ._engine import STREAM_VERSION, _kernel

__all__ = ["engine_info", "engine_summary"]


def engine_info() -> dict[str, Any]:
    """A description of the engine in this process.

    Keys: ``kernel`` (True when the compiled kernel runs the samplers), ``isa``
    (its instruction set: ``"avx512"``, ``"avx2"`` or ``"default"``; None without
    the kernel), ``isas`` (every variant built and runnable on this CPU),
    ``threads`` (threads a large call may use now), ``stream_version``, and
    ``reason`` (why the numpy reference runs, or None).

    >>> import weightinit as wi
    >>> info = wi.engine_info()
    >>> sorted(info)
    ['isa', 'isas', 'kernel', 'reason', 'stream_version', 'threads']
    >>> info["stream_version"] == wi.STREAM_VERSION
    True
    """
    fast = _kernel._fast
    built = fast is not None
    on = _kernel.available()
    names: tuple[str | None, ...] = tuple(fast.isas()) if built else ()
    chosen = None
    if on:
        index = _kernel.isa if _kernel.isa >= 0 else int(fast.best_isa())
        chosen = names[index] if 0 <= index < len(names) else None
    if on:
        reason = None
    elif built:
        reason = "disabled by WEIGHTINIT_DISABLE_KERNEL"
    else:
        reason = "the C kernel was not built (no C compiler when installed); same values, slower"
    return {
        "kernel": on,
        "isa": chosen,
        "isas": [n for n in names if n is not None],
        "threads": _kernel.num_threads() if on else 1,
        "stream_version": STREAM_VERSION,
        "reason": reason,
    }


def engine_summary() -> str:
    """One line for ``weightinit --version``: ``engine: compiled kernel (avx2)`` or why not."""
    info = engine_info()
    if info["kernel"]:
        return f"engine: compiled kernel ({info['isa']}), stream version {info['stream_version']}"
    return f"engine: numpy reference ({info['reason']}), stream version {info['stream_version']}"
