"""Benchmark weightinit against its peers, each peer in its own process.

    python bench/run.py [--quick] [--json PATH] [--peers weightinit,numpy,torch,...] [--rounds N]
                        [--keep-blas-env]
    python bench/run.py --only orthogonal,fill --peers weightinit,torch,numpy   # a subset
    python bench/run.py --render PATH     # the tables of an earlier run

Runs every case of ``_cases.py`` in weightinit (1 and 2 threads), numpy
(PCG64, and the ``fill`` write-bandwidth floor), torch.nn.init (1 and 2
threads), jax.random (jitted), Keras on the jax backend, and tensorflow when it
is installed; a peer that is not installed is skipped with a note. Besides the
large tensors, GlorotUniform (Keras's default for Dense and convolution kernels)
at (64, 64) and (512, 512) shows the cost of a call for small layers. Prints the
table (median time, ns/element, fraction of the write-bandwidth floor, peak
memory beyond the output, peer time / weightinit time), a summary against the
targets, the import times, and writes it all as JSON (default
``bench/results/latest.json``).

``--quick``: (4096, 4096) only, the presets and VarianceScaling variants in
float32 only, and the median of 3 timed calls in 2 rounds (2 + 1; under 3
minutes on 2 cores); the full run adds (8192, 8192) and every dtype, and takes
the median of 7 in 3 rounds (3 + 2 + 2). Each round runs every peer in a fresh
process, every other round in reverse order, so that a busy spell of this
shared host does not fall on one peer only (``_rounds.py``). weightinit's
ratios to itself are timed in pairs: an ``index=`` case alternates with calls
for the whole tensor, a float16 / bfloat16 / float64 case of a basic
distribution with the same case in float32, and the ratio is the median of
the pairs' ratios, so it does not depend on when on this noisy host each pair
was measured.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, when set, are removed from the peers'
environment (they make a current numpy fall back to slower BLAS kernels);
``--keep-blas-env`` keeps them. The report says which kernel numpy loaded.
"""

from __future__ import annotations

import argparse
import importlib
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

from _cases import all_cases  # noqa: E402
from _report import render  # noqa: E402
from _rounds import merge, schedule, split_repeats  # noqa: E402
from _system import BLAS_ENV, cpu_name  # noqa: E402
from peers import MODULES, PEERS  # noqa: E402

PEER_TIMEOUT = 3600


def run_peer(
    name: str, threads: int, repeats: int, memory: bool, cases: list[dict[str, Any]], env: dict[str, str]
) -> Any:
    """Run one peer at one thread count in a fresh process; its parsed report, or an error string."""
    peer = importlib.import_module(MODULES[name])
    cmd = [sys.executable, str(HERE / "_worker.py"), name, str(threads), str(repeats), str(int(memory))]
    proc = subprocess.run(
        cmd,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        env={**env, **peer.env(threads or os.cpu_count() or 1)},
        timeout=PEER_TIMEOUT,
        check=False,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return f"exit {proc.returncode}: {tail}"


def _fresh(code: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    return float(out.split()[-1])


def import_times(n: int, env: dict[str, str]) -> dict[str, float]:
    """Import and first-call times in fresh processes (interpreter start-up excluded), min of ``n``.

    Bytecode caching is on (``PYTHONDONTWRITEBYTECODE`` removed) and one untimed
    import fills the caches first, as for any installed package.
    """
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", "import weightinit, weightinit._cli"], env=env, check=True)
    timer = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"
    snippets = {
        "import numpy": timer.format("import numpy"),
        "import weightinit": timer.format("import weightinit"),
        "first call, HeNormal (256, 256), after import": (
            "import time, weightinit as wi; t = time.perf_counter(); wi.HeNormal(seed=0)((256, 256)); "
            "print(time.perf_counter() - t)"
        ),
        "import weightinit + first call": timer.format(
            "import weightinit as wi; wi.HeNormal(seed=0)((256, 256))"
        ),
    }
    times = {name: min(_fresh(code, env) for _ in range(n)) for name, code in snippets.items()}
    for module in ("torch", "jax"):  # seconds each, for scale only: timed once
        if importlib.util.find_spec(module) is not None:
            times[f"import {module} (for comparison)"] = _fresh(timer.format(f"import {module}"), env)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="(4096, 4096) only, median of 3")
    parser.add_argument(
        "--json", default=str(HERE / "results" / "latest.json"), help="where to write the JSON"
    )
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated subset of: " + ",".join(PEERS)
    )
    parser.add_argument(
        "--keep-blas-env", action="store_true", help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE"
    )
    parser.add_argument(
        "--only", metavar="IDS", help="comma-separated case ids to run (e.g. orthogonal,fill)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="rounds the timed calls are spread over, every peer in each (default: 3; --quick: 2)",
    )
    parser.add_argument("--render", metavar="JSON", help="print the tables of an earlier run's JSON and exit")
    args = parser.parse_args(argv)
    if args.render:
        print(render(json.loads(Path(args.render).read_text())))
        return 0
    started = time.perf_counter()
    repeats = 3 if args.quick else 7
    rounds = args.rounds if args.rounds is not None else 2 if args.quick else 3
    if rounds < 1:
        parser.error(f"--rounds must be at least 1, got {rounds}")
    cases = all_cases(args.quick)
    if args.only:
        cases = [c for c in cases if c["id"] in args.only.split(",")]
    env = dict(os.environ)
    removed = {k: env.pop(k) for k in BLAS_ENV if k in env and not args.keep_blas_env}
    blas_env = {k: os.environ[k] for k in BLAS_ENV if k in os.environ}
    notes: list[str] = []
    runs: list[tuple[str, int]] = []
    for name in args.peers.split(","):
        if name not in MODULES:
            parser.error(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
        peer = importlib.import_module(MODULES[name])
        if importlib.util.find_spec(peer.REQUIRES) is None:
            notes.append(f"{name}: {peer.REQUIRES} is not installed, skipped")
            continue
        runs += [(name, threads) for threads in peer.THREADS or (0,)]
    shares = split_repeats(repeats, rounds)
    done: dict[tuple[str, int], list[dict[str, Any]]] = {run: [] for run in runs}
    for r, (name, threads) in schedule(runs, len(shares)):
        print(
            f"[{time.perf_counter() - started:5.0f} s] round {r + 1}/{len(shares)}: {name}, "
            f"threads: {threads or 'default'}",
            file=sys.stderr,
        )
        got = run_peer(name, threads, shares[r], not done[name, threads], cases, env)
        if isinstance(got, str):
            notes.append(f"{name} ({threads or 'default'} threads, round {r + 1}) failed: {got}")
        else:
            done[name, threads].append(got)
    results: list[dict[str, Any]] = []
    peers: dict[str, dict[str, Any]] = {}
    for (name, threads), reports in done.items():
        if reports:
            got = merge(reports)
            peers.setdefault(name, {})[str(threads or "default")] = got["info"]
            results += [{**r, "peer": name, "threads": got["threads"]} for r in got["results"]]
    print(f"[{time.perf_counter() - started:5.0f} s] import times", file=sys.stderr)
    report = {
        "machine": {
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "quick": args.quick,
            "repeats": repeats,
            "rounds": len(shares),
            "blas_env": (
                f"removed for the peers: {removed}"
                if removed
                else f"as set: {blas_env}"
                if blas_env
                else "none set"
            ),
        },
        "peers": peers,
        "results": results,
        "imports": import_times(7 if args.quick else 15, env),
        "notes": notes,
        "wall_seconds": time.perf_counter() - started,
    }
    print(render(report))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
    print(f"\n{report['wall_seconds']:.0f} s; wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
