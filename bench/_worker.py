"""One peer's process: ``python bench/_worker.py PEER THREADS REPEATS MEMORY``, the cases as JSON on stdin.

Runs every case the peer can run and prints one line ``RESULT <json>`` on
stdout: the peer's info and, per case, the times, the peak memory (when
``MEMORY`` is 1) and any error.
The peer's import and each case's warm-up are not timed.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import BASIC, numel
from _measure import paired_timing, peak_memory, timing
from _system import blas_info
from peers import MODULES

ITEMSIZE = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8}
MARKER = "RESULT "


def pair_of(name: str, case: dict[str, Any]) -> dict[str, Any] | None:
    """The case weightinit's ratio compares ``case`` with, timed alternately with it (or None).

    ``index=``: the whole tensor; float16 / bfloat16 / float64 of a basic
    distribution: the same case in float32.
    """
    if name != "weightinit":
        return None
    if case["rows"] is not None:
        return {**case, "rows": None}
    if case["dtype"] != "float32" and case["id"] in BASIC:
        return {**case, "dtype": "float32"}
    return None


def run_case(
    name: str, peer: Any, case: dict[str, Any], threads: int, repeats: int, memory: bool
) -> dict[str, Any] | None:
    if case.get("threads") and threads and threads not in case["threads"]:
        return None
    if case.get("peers") and name not in case["peers"]:
        return None
    try:
        fn = peer.build(case)
        if fn is None:
            return None
        record: dict[str, Any] = dict(case)
        pair = pair_of(name, case)
        other = peer.build(pair) if pair is not None else None
        if other is not None:
            record.update(paired_timing(fn, other, peer.sync, repeats))
        else:
            record.update(timing(fn, peer.sync, repeats))
        if memory:
            record.update(peak_memory(fn, peer.sync, peer.TRACED))
    except Exception as exc:  # reported in the table, the other cases go on
        return {**case, "error": f"{type(exc).__name__}: {exc}"[:300]}
    record["numel"] = numel(case)
    record["out_bytes"] = record["numel"] * ITEMSIZE[case["dtype"]]
    return record


def main() -> None:
    name, threads, repeats, memory = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    cases = json.load(sys.stdin)
    peer = importlib.import_module(MODULES[name])
    start = time.perf_counter()
    peer.setup(threads)
    info = {"import_and_setup_seconds": round(time.perf_counter() - start, 3), **peer.info()}
    if name in ("weightinit", "numpy"):
        info["numpy_blas"] = blas_info()
    runs = (run_case(name, peer, case, threads, repeats, memory) for case in cases)
    results = [r for r in runs if r is not None]
    print(MARKER + json.dumps({"peer": name, "threads": threads or None, "info": info, "results": results}))


if __name__ == "__main__":
    main()
