"""Benchmark weightinit against its peers, each in its own process.

    python bench/run.py [--quick] [--json bench/results/latest.json] [--peers weightinit,torch,...]

Prints a table of median time, ns/element, fraction of the write-bandwidth floor,
peak extra memory per output byte, and the ratio of each peer's time to
weightinit's for the same case and thread count (> 1 means weightinit is faster),
then writes everything as JSON. ``--quick`` runs the (4096, 4096) cases (Orthogonal at
(1024, 1024)) with 3 repeats, in under 3 minutes on 2 cores; the full run adds (8192, 8192),
every distribution in every dtype, Orthogonal at (4096, 4096), and 7 repeats.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _peers import REQUIRES  # noqa: E402
from _report import render  # noqa: E402

DISTS = ["uniform", "normal", "truncated_normal", "he_normal", "glorot_uniform", "lecun_normal"]
VARIANTS = ["variance_scaling_untruncated"]


def cases_for(quick: bool) -> list[dict[str, Any]]:
    shapes = [[4096, 4096]] if quick else [[4096, 4096], [8192, 8192]]
    cases: list[dict[str, Any]] = []
    for shape in shapes:
        cases += [{"dist": d, "shape": shape, "dtype": "float32"} for d in ("fill", "empty_fill")]
        cases += [{"dist": d, "shape": shape, "dtype": "float32"} for d in DISTS + VARIANTS]
        narrow_dists = ("normal",) if quick else ("uniform", "normal", "truncated_normal")
        for dtype in ("float16", "bfloat16", "float64"):
            cases += [{"dist": d, "shape": shape, "dtype": dtype} for d in narrow_dists]
        cases += [
            {"dist": d, "shape": shape, "dtype": "float32", "rows_fraction": 8} for d in ("uniform", "normal")
        ]
    cases.append({"dist": "orthogonal", "shape": [1024, 1024] if quick else [4096, 4096], "dtype": "float32"})
    return cases


def run_peer(peer: str, threads: int, repeats: int, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "jax")
    env["WEIGHTINIT_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, str(HERE / "_worker.py"), peer, str(threads), str(repeats), json.dumps(cases)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        print(f"  {peer} ({threads} threads) failed: {tail[0]}", file=sys.stderr)
        return []
    return list(json.loads(proc.stdout))


def import_times(n: int) -> dict[str, float]:
    def best(code: str) -> float:
        times = []
        for _ in range(n):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        return min(times)

    return {
        "import numpy": best("import numpy"),
        "import weightinit": best("import weightinit"),
        "first call (fresh process, he_normal 256x256)": best(
            "import weightinit as wi; wi.HeNormal(seed=0)((256, 256))"
        ),
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from weightinit._engine import _kernel

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": "compiled" if _kernel.available() else "numpy reference",
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="(4096, 4096) only, 3 repeats")
    parser.add_argument(
        "--json", default=str(HERE / "results" / "latest.json"), help="where to write results"
    )
    parser.add_argument("--peers", default=",".join(REQUIRES), help="comma-separated peers to run")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7
    cases = cases_for(args.quick)
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    for peer in args.peers.split(","):
        if importlib.util.find_spec(REQUIRES[peer]) is None:
            notes.append(f"{peer}: not installed, skipped")
            continue
        for threads in (1, 2):
            if peer in ("numpy", "tensorflow", "keras-jax", "jax") and threads == 1:
                continue  # no reliable per-call thread control: measured once, with defaults
            print(f"running {peer} with {threads} thread(s)...", file=sys.stderr)
            results += run_peer(peer, threads, repeats, cases)
    report = {"machine": machine(), "imports": import_times(5), "results": results, "notes": notes}
    print(render(report))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
