"""Benchmark weightinit.torch.init_module on a ~100M-parameter transformer.

    python bench/torch_init.py [--quick] [--json PATH] [--repeat N]

Each measurement runs in its own process (2 threads for torch and for
weightinit, ``OMP_NUM_THREADS=2``) on a model built on the meta device and
allocated with ``to_empty`` whose memory is then touched, so that the
resident set before the init is the model; the peak resident set during the
init (``VmHWM`` after resetting it through ``/proc/self/clear_refs``) minus
that baseline is the init's extra memory. Compared:

* ``reset_parameters``: torch's own construction-time init of every module
  (``kaiming_uniform_`` Linear, ``xavier_uniform_`` attention in-projection,
  ``normal_`` Embedding, ones/zeros norms);
* ``torch.nn.init``: the same Keras defaults written with torch.nn.init
  (``xavier_uniform_`` kernels, ``zeros_`` biases, ``uniform_(-0.05, 0.05)``
  embeddings, ones/zeros norms);
* ``init_module``: weightinit.

Then FSDP2 (gloo on 127.0.0.1, world 2 and 4): each rank initializes its
shard of the meta-built, ``fully_shard``-ed model, the ranks taking turns (as
if each had its own machine: ranks sharing these 2 cores and their memory
bandwidth would slow each other down); the per-rank CPU time
(``time.process_time``, one weightinit thread) is compared with the whole,
unsharded model's init on one thread, which rank 0 also holds and times in
every round after the ranks' turns, so that both sides of the ratio see the
same spells of a noisy host. Prints a table and the goals; writes JSON
(default ``bench/results/torch_init.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# vocab 32000, width 768, 8 encoder layers (heads 12, ff 3072), untied output head: 106.4M parameters
FULL = {"vocab": 32000, "width": 768, "layers": 8, "heads": 12, "ff": 3072}
QUICK = {"vocab": 8000, "width": 512, "layers": 4, "heads": 8, "ff": 2048}
# rounds of timed passes (each rank's shard, then the whole model); the least CPU time of each
# counts (a shared virtual machine's stolen cycles only ever add). 21 rather than 11: on a busy
# host the least of 11 still moved by 1-3 ms of a rank's 32 from run to run
ROUNDS = 21


def build(cfg: dict[str, int]) -> Any:
    import torch
    from torch import nn

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(cfg["vocab"], cfg["width"])
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(cfg["width"], cfg["heads"], cfg["ff"], batch_first=True)
                for _ in range(cfg["layers"])
            )
            self.norm = nn.LayerNorm(cfg["width"])
            self.head = nn.Linear(cfg["width"], cfg["vocab"])

    with torch.device("meta"):
        return LM()


def _rss() -> tuple[int, int]:
    """(current, peak) resident set in bytes."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def torch_reset(model: Any) -> None:
    from torch import nn

    for m in model.modules():
        if isinstance(m, nn.MultiheadAttention):
            m._reset_parameters()
        elif hasattr(m, "reset_parameters") and not isinstance(m, nn.MultiheadAttention):
            m.reset_parameters()


def torch_keras_like(model: Any) -> None:
    import torch
    from torch import nn
    from torch.nn import init

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    init.zeros_(m.bias)
            elif isinstance(m, nn.MultiheadAttention):
                e = m.embed_dim
                for i in range(3):
                    init.xavier_uniform_(m.in_proj_weight[i * e : (i + 1) * e])
                init.zeros_(m.in_proj_bias)
            elif isinstance(m, nn.Embedding):
                init.uniform_(m.weight, -0.05, 0.05)
            elif isinstance(m, nn.LayerNorm):
                init.ones_(m.weight)
                init.zeros_(m.bias)


def weightinit_init(model: Any) -> None:
    from weightinit import torch as wtorch

    wtorch.init_module(model, seed=0)


METHODS = {"reset_parameters": torch_reset, "torch.nn.init": torch_keras_like, "init_module": weightinit_init}


def measure(cfg: dict[str, int], repeat: int) -> dict[str, Any]:
    """In this process: allocate the model, touch it, then time every method in ``repeat`` rounds.

    Each round runs the three methods, every other round in reverse order, so a busy spell
    of the shared host does not fall on one method only; a ratio is the median of the
    rounds' ratios.
    """
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    model = build(cfg).to_empty(device="cpu")
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    for fn in METHODS.values():
        fn(model)  # warm-up: imports, caches, first-call costs
    out: dict[str, Any] = {
        "params": sum(p.numel() for p in model.parameters()),
        "model_bytes": sum(p.numel() * p.element_size() for p in model.parameters()),
    }
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    cpus: dict[str, list[float]] = {m: [] for m in METHODS}
    extras: dict[str, list[int]] = {m: [] for m in METHODS}
    for r in range(repeat):
        order = list(METHODS) if r % 2 == 0 else list(reversed(METHODS))
        for method in order:
            base, _ = _rss()
            _reset_peak()
            t, c = time.perf_counter(), time.process_time()
            METHODS[method](model)
            times[method].append(time.perf_counter() - t)
            cpus[method].append(time.process_time() - c)
            extras[method].append(max(0, _rss()[1] - base))
    for method in METHODS:
        out[method] = {
            "time": statistics.median(times[method]),
            "times": times[method],
            "cpu": statistics.median(cpus[method]),
            "cpu_ratio": statistics.median(
                t / w for t, w in zip(cpus[method], cpus["init_module"], strict=True)
            ),
            "extra": max(extras[method]),
            "ratio": statistics.median(
                t / w for t, w in zip(times[method], times["init_module"], strict=True)
            ),
        }
    return out


def _timed(fn: Any, *args: Any) -> float:
    t = time.process_time()
    fn(*args)
    return time.process_time() - t


def _fsdp_worker(rank: int, world: int, port: int, cfg: dict[str, int], out: str) -> None:
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    from weightinit import torch as wtorch

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        mesh = init_device_mesh("cpu", (world,))
        model = build(cfg)
        for layer in model.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        model.to_empty(device="cpu")
        # rank 0 also holds the whole, unsharded model: it is timed in the same rounds, so that
        # a slow spell of the shared host falls on both sides of the ratio
        whole = build(cfg).to_empty(device="cpu") if rank == 0 else None
        wtorch.init_module(model, seed=0)  # warm-up
        if whole is not None:
            wtorch.init_module(whole, seed=0)
        times, wholes = [], []
        for _ in range(ROUNDS):
            for turn in range(world + 1):  # one at a time, as if each rank had its own machine
                dist.barrier()
                if turn == rank:
                    times.append(_timed(wtorch.init_module, model, 0))
                elif turn == world and whole is not None:
                    wholes.append(_timed(wtorch.init_module, whole, 0))
            dist.barrier()
        with open(f"{out}.{rank}", "w") as f:
            json.dump({"cpu": times, "whole": wholes}, f)
    finally:
        dist.destroy_process_group()


def fsdp(world: int, cfg: dict[str, int], out: str) -> dict[str, Any]:
    """Each rank's CPU time per round, and the whole model's (rank 0, between the ranks' turns)."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.start_processes(
        _fsdp_worker, args=(world, port, cfg, out), nprocs=world, join=True, start_method="spawn"
    )
    found = [json.loads(Path(f"{out}.{r}").read_text()) for r in range(world)]
    for r in range(world):
        Path(f"{out}.{r}").unlink()
    return {"rank_cpu": [f["cpu"] for f in found], "whole_cpu": found[0]["whole"]}


def _child(args: list[str], threads: int) -> Any:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), WEIGHTINIT_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT / "bench"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a ~21M-parameter model")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "torch_init.json"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    if args.child:
        what = args.child[0]
        if what == "measure":
            result: Any = measure(cfg, args.repeat)
        else:
            result = fsdp(int(args.child[1]), cfg, args.child[2])
        print(json.dumps(result))
        return
    flag = ["--quick"] if args.quick else []
    rep = ["--repeat", str(args.repeat)]
    results: dict[str, Any] = {"config": cfg}
    results.update(_child([*flag, *rep, "--child", "measure"], threads=2))
    for world in (2, 4):
        tmp = str(ROOT / "bench" / "results" / f".fsdp{world}")
        results[f"fsdp{world}"] = _child([*flag, "--child", "fsdp", str(world), tmp], threads=1)
    report(results)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=1))


def report(r: dict[str, Any]) -> None:
    ours = r["init_module"]
    mb = r["model_bytes"]
    print(f"model: {r['params'] / 1e6:.1f}M parameters, {mb / 2**20:.0f} MiB (float32); 2 threads")
    print(
        f"{'method':<18} {'time':>9} {'time / init_module':>19} {'CPU time':>10} "
        f"{'CPU / init_module':>18} {'peak / model':>13}"
    )
    for method in METHODS:
        m = r[method]
        print(
            f"{method:<18} {m['time'] * 1e3:7.0f} ms {m['ratio']:18.2f}x {m['cpu'] * 1e3:7.0f} ms "
            f"{m['cpu_ratio']:17.2f}x {(mb + m['extra']) / mb:12.3f}"
        )
    for world in (2, 4):
        f = r[f"fsdp{world}"]
        whole = min(f["whole_cpu"])
        worst = max(min(times) for times in f["rank_cpu"])  # the slowest rank, each at its best
        # the same, round by round: the slowest rank against the whole timed just after it
        rounds = [max(ranks) / w for *ranks, w in zip(*f["rank_cpu"], f["whole_cpu"], strict=True)]
        goal = 1.1 / world  # 1/world of the whole, plus 10 %
        verdict = "met" if worst / whole <= goal else "MISSED"
        print(
            f"FSDP2 world {world}: slowest rank {worst * 1e3:.1f} ms CPU = {worst / whole:.3f} of the whole "
            f"model's {whole * 1e3:.1f} ms (goal <= {goal:.3f}: {verdict}); round by round "
            f"{statistics.median(rounds):.3f} (median), {min(rounds):.3f}-{max(rounds):.3f}"
        )
        # whole = W + F and rank = W / world + F', with F, F' the per-pass costs that do not
        # shrink with the shard (Python work per tensor); F' - F / world is what the rank adds
        print(f"  the rank's cost beyond 1/world of the whole: {(worst - whole / world) * 1e3:.1f} ms")
    speed = r["reset_parameters"]["ratio"]
    print(
        f"goal: init_module >= 3x faster than reset_parameters: {speed:.2f}x "
        f"-> {'met' if speed >= 3 else 'MISSED'}"
    )
    peak = (mb + ours["extra"]) / mb
    print(f"goal: peak <= model + 5 %: {peak:.3f} -> {'met' if peak <= 1.05 else 'MISSED'}")


if __name__ == "__main__":
    main()
