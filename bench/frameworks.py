"""Speed of the framework initializers against torch.nn.init's own, one run, in one process.

    python bench/frameworks.py [--threads 2] [--shape 4096 4096] [--repeat 5]

Each case times weightinit's call (a new numpy array) and torch's in-place
function on a freshly allocated tensor of the same size (float32). Every case
is warmed up first (the first large allocations of a process are slower, and
would otherwise land on the first case); then ``--repeat`` rounds run every
case, weightinit and torch back to back, every other round in reverse order.
The reported times are medians; the ratio is the median of the rounds'
torch / weightinit ratios. The first two rows are Keras classes against the
nearest torch function: the margin the framework classes aim to match. Both
sides use ``--threads`` threads (``WEIGHTINIT_NUM_THREADS``,
``torch.set_num_threads``). Prints a table and writes
``bench/results/frameworks.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def cases(shape: tuple[int, int]) -> list[tuple[str, Callable[[], Any], Callable[[Any], Any]]]:
    """(label, weightinit call, torch call on a tensor): the same distribution on both sides."""
    import torch.nn.init as tinit

    import weightinit as wi

    keras = (shape[1], shape[0])  # torch (out, in) -> Keras (in, out)
    ku, kn = wi.KaimingUniform(seed=1), wi.KaimingNormal(nonlinearity="relu", seed=1)
    t_default = wi.TorchTruncNormal(seed=1)
    t_general = wi.TorchTruncNormal(a=-1.0, b=3.0, seed=1)
    t_timm = wi.TorchTruncNormal(std=0.02, seed=1)
    t_tail = wi.TorchTruncNormal(a=2.5, b=4.0, seed=1)
    xu = wi.XavierUniform(seed=1)
    td = wi.TorchDefault("linear", seed=1)
    gu, hn = wi.GlorotUniform(seed=1), wi.HeNormal(seed=1)
    return [
        ("(Keras) GlorotUniform / xavier_uniform_", lambda: gu(keras), tinit.xavier_uniform_),
        (
            "(Keras) HeNormal / kaiming_normal_(relu)",
            lambda: hn(keras),
            lambda t: tinit.kaiming_normal_(t, nonlinearity="relu"),
        ),
        ("KaimingUniform / kaiming_uniform_", lambda: ku(keras), tinit.kaiming_uniform_),
        (
            "KaimingNormal / kaiming_normal_(relu)",
            lambda: kn(keras),
            lambda t: tinit.kaiming_normal_(t, nonlinearity="relu"),
        ),
        ("XavierUniform / xavier_uniform_", lambda: xu(keras), tinit.xavier_uniform_),
        (
            "TorchDefault(linear) / kaiming_uniform_(a=sqrt 5)",
            lambda: td(keras),
            lambda t: tinit.kaiming_uniform_(t, a=math.sqrt(5)),
        ),
        ("TorchTruncNormal() / trunc_normal_() [+-2 std]", lambda: t_default(keras), tinit.trunc_normal_),
        (
            "TorchTruncNormal(std=.02) / trunc_normal_(std=.02) [+-100 std]",
            lambda: t_timm(keras),
            lambda t: tinit.trunc_normal_(t, std=0.02),
        ),
        (
            "TorchTruncNormal(a=-1, b=3) / trunc_normal_(a=-1, b=3)",
            lambda: t_general(keras),
            lambda t: tinit.trunc_normal_(t, a=-1.0, b=3.0),
        ),
        (
            "TorchTruncNormal(a=2.5, b=4) / trunc_normal_(a=2.5, b=4) [tail]",
            lambda: t_tail(keras),
            lambda t: tinit.trunc_normal_(t, a=2.5, b=4.0),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shape", type=int, nargs=2, default=(4096, 4096))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ["WEIGHTINIT_NUM_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    shape = tuple(args.shape)
    table = cases(shape)
    for _, ours, theirs in table:  # warm-up
        ours()
        theirs(torch.empty(shape))
    t_ours: list[list[float]] = [[] for _ in table]
    t_theirs: list[list[float]] = [[] for _ in table]
    for r in range(args.repeat):
        order = range(len(table)) if r % 2 == 0 else range(len(table) - 1, -1, -1)
        for i in order:
            _, ours, theirs = table[i]
            gc.collect()
            start = time.perf_counter()
            ours()
            t_ours[i].append(time.perf_counter() - start)
            gc.collect()
            start = time.perf_counter()
            theirs(torch.empty(shape))
            t_theirs[i].append(time.perf_counter() - start)
    rows = []
    for (label, _, _), mine, peer in zip(table, t_ours, t_theirs, strict=True):
        a, b = statistics.median(mine), statistics.median(peer)
        ratios = [y / x for x, y in zip(mine, peer, strict=True)]
        ratio, spread = statistics.median(ratios), (min(ratios), max(ratios))
        rows.append(
            {
                "case": label,
                "weightinit_ms": 1e3 * a,
                "torch_ms": 1e3 * b,
                "ratio": ratio,
                "ratio_range": spread,
            }
        )
        print(
            f"{label:66s} {1e3 * a:8.1f} ms {1e3 * b:8.1f} ms  {ratio:6.2f}x "
            f"({spread[0]:.2f}-{spread[1]:.2f})",
            flush=True,
        )
    out = ROOT / "bench" / "results" / "frameworks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"threads": args.threads, "shape": list(shape), "repeat": args.repeat, "torch": torch.__version__}
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
