"""Random kernel calls against the numpy reference, for the sanitizer builds (tools/sanitize.py).

Shapes of rank 1-5 with odd sizes, random ``index=`` regions (empty, one element, whole), the
four dtypes, the three kinds, thread counts 1-5 and every instruction-set variant this CPU
supports; each case compares ``backend="kernel"`` with ``backend="reference"`` bit for bit. A
sanitizer report aborts the process; a mismatch exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from weightinit._dtypes import bfloat16
from weightinit._engine import _kernel
from weightinit._engine._sample import sample

KINDS = ("uniform", "normal", "truncated_normal")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    dtypes = [np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16), bfloat16()]
    isas = [i for i, name in enumerate(_kernel._fast.isas()) if name is not None]
    bad = 0
    for case in range(args.cases):
        rank = int(rng.integers(1, 6))
        budget = int(rng.choice([7, 300, 5000, 70000, 300000]))
        shape = []
        for _ in range(rank):
            shape.append(
                int(rng.integers(0 if rng.random() < 0.05 else 1, max(2, round(budget ** (1 / rank) * 1.5))))
            )
        region = []
        for d in shape:
            a = int(rng.integers(0, d + 1))
            b = int(rng.integers(a, d + 1))
            region.append((a, b) if rng.random() < 0.7 else (0, d))
        kind = KINDS[case % 3]
        dtype = dtypes[int(rng.integers(len(dtypes)))]
        lo, hi = (-1.5, 2.5) if kind == "uniform" else (0.25, 1.75)
        seed, call = int(rng.integers(0, 2**63)), int(rng.integers(0, 4))
        os.environ["WEIGHTINIT_NUM_THREADS"] = str(int(rng.integers(1, 6)))
        _kernel.isa = isas[case % len(isas)]
        got = sample(kind, seed, call, tuple(shape), tuple(region), dtype, lo, hi, backend="kernel")
        want = sample(kind, seed, call, tuple(shape), tuple(region), dtype, lo, hi, backend="reference")
        if got.shape != want.shape or got.tobytes() != want.tobytes():
            bad += 1
            print(
                f"mismatch: {kind} {dtype} shape={shape} region={region} isa={_kernel.isa}", file=sys.stderr
            )
    _kernel.isa = -1
    print(f"sanitize fuzz: {args.cases} cases over isas {isas}, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
