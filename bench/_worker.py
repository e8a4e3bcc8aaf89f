"""One peer's process: ``python bench/_worker.py PEER THREADS REPEATS CASES_JSON``.

Prints one JSON list of results on stdout. Runs each case in this process, so
the peer's import and warm-up costs are paid once and not timed.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import measure
from _peers import PEERS

ITEMSIZE = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8}


def main() -> None:
    peer, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cases = json.loads(sys.argv[4])
    results = []
    for case in cases:
        try:
            built = PEERS[peer](case, threads)
        except Exception as exc:  # a peer that cannot run a case is reported, not fatal
            results.append(
                {**case, "peer": peer, "threads": threads, "error": f"{type(exc).__name__}: {exc}"}
            )
            continue
        if built is None:
            continue
        fn, sync = built
        numel = math.prod(case["shape"])
        if case.get("rows_fraction"):
            numel //= case["rows_fraction"]
        stats = measure(fn, repeats, sync)
        results.append(
            {
                **case,
                "peer": peer,
                "threads": threads,
                "numel": numel,
                "out_bytes": numel * ITEMSIZE[case["dtype"]],
                **stats,
            }
        )
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
