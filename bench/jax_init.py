"""Benchmark of weightinit.jax against jax.nn.initializers, and of sharded generation.

    python bench/jax_init.py [--shape 8192 8192] [--repeat 5] [--devices 8]

One run prints both tables. First, compile time (apart), then ``--repeat``
rounds that each run weightinit and jax.nn.initializers (same distribution)
back to back, jitted: the best wall time of each, the ratio of the bests, the
spread of the per-round ratios (min-max) and the ratio of the best process CPU
times (CPU time counts XLA's threads and leaves out waiting for the CPU, so on a
shared machine it is the steadier figure). This process: one CPU device, XLA's
own threads. Then, from a child with ``--devices`` fake CPU devices, for sharded
generation: the whole array on one device, one device's block alone (per-device
work; the goal is at most ``1/devices + 10 %`` of the whole), measured the same
way in alternating rounds, and the wall time of the whole sharded array (the
fake devices share the machine's cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def _timed(fn: Any, arg: Any) -> tuple[float, float]:
    """(wall, process CPU) seconds of one call."""
    c, t = time.process_time(), time.perf_counter()
    fn(arg).block_until_ready()
    return time.perf_counter() - t, time.process_time() - c


def _warm(fns: list[Any], arg: Any) -> None:
    """Run every program of every case once before any is timed.

    The first large runs of a process are slower (the allocator and XLA's thread
    pool warm up): without this, whichever case comes first looks worse.
    """
    for fn in fns:
        fn(arg).block_until_ready()


def _rounds(fns: list[Any], arg: Any, repeat: int) -> list[list[tuple[float, float]]]:
    """``repeat`` rounds; each runs every function once, in turn."""
    times: list[list[tuple[float, float]]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times, strict=True):
            out.append(_timed(fn, arg))
    return times


Times = list[tuple[float, float]]


def _ratio(num: Times, den: Times) -> tuple[float, float, float, float]:
    """Ratio of the best walls, min and max of the per-round wall ratios, ratio of the best CPU times."""
    per_round = [a[0] / b[0] for a, b in zip(num, den, strict=True)]
    best_wall = min(t[0] for t in num) / min(t[0] for t in den)
    best_cpu = min(t[1] for t in num) / min(t[1] for t in den)
    return best_wall, min(per_round), max(per_round), best_cpu


def _compiled(fn: Any, arg: Any) -> tuple[Any, float]:
    import jax

    t = time.perf_counter()
    compiled = jax.jit(fn).lower(arg).compile()
    return compiled, time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs="+", default=[8192, 8192])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--sharded-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.sharded_only:
        _versus_jax(args)
        import subprocess

        env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={args.devices}")
        cmd = [sys.executable, __file__, "--sharded-only", "--repeat", str(args.repeat), "--shape"]
        subprocess.run([*cmd, *map(str, args.shape)], env=env, check=True)
        return
    _sharded(args)


def _cases() -> list[tuple[str, Any, Any]]:
    import jax

    import weightinit as wi

    return [
        ("he_normal", wi.HeNormal(), jax.nn.initializers.he_normal()),
        ("glorot_uniform", wi.GlorotUniform(), jax.nn.initializers.glorot_uniform()),
        ("truncated_normal", wi.TruncatedNormal(stddev=0.02), jax.nn.initializers.truncated_normal(0.02)),
    ]


def _versus_jax(args: Any) -> None:
    import jax
    import jax.numpy as jnp

    from weightinit import jax as wjax

    shape = tuple(args.shape)
    key = jax.random.key(0)
    print(f"shape {shape} float32, jax {jax.__version__}, {len(jax.devices())} device, {args.repeat} rounds")
    print(
        f"{'case':<18}{'compile wi':>11}{'compile jax':>12}{'weightinit':>12}{'jax.nn':>10}"
        f"{'jax/wi':>8}{'rounds':>13}{'cpu jax/wi':>12}"
    )
    compiled = []
    for name, init, ref in _cases():
        ours, c_ours = _compiled(lambda k, init=init: wjax.initializer(init)(k, shape, jnp.float32), key)
        theirs, c_theirs = _compiled(lambda k, ref=ref: ref(k, shape, jnp.float32), key)
        compiled.append((name, ours, c_ours, theirs, c_theirs))
    _warm([fn for _, ours, _, theirs, _ in compiled for fn in (ours, theirs)], key)
    for name, ours, c_ours, theirs, c_theirs in compiled:
        t_ours, t_theirs = _rounds([ours, theirs], key, args.repeat)
        best, low, high, cpu = _ratio(t_theirs, t_ours)
        print(
            f"{name:<18}{c_ours:>10.2f}s{c_theirs:>11.2f}s{min(t[0] for t in t_ours):>11.3f}s"
            f"{min(t[0] for t in t_theirs):>9.3f}s{best:>7.2f}x{low:>7.2f}-{high:.2f}x{cpu:>11.2f}x"
        )
    sys.stdout.flush()


def _sharded(args: Any) -> None:
    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding

    PartitionSpec: Any = jax.sharding.PartitionSpec  # untyped constructor

    from weightinit._jax._plan import plan_for
    from weightinit._jax._shard import _spmd, block_shape

    shape = tuple(args.shape)
    cases = _cases()
    n = len(jax.devices())
    mesh = Mesh(np.array(jax.devices()), ("d",))
    sharding = NamedSharding(mesh, PartitionSpec("d"))
    print(f"\nsharded over {n} fake CPU devices, PartitionSpec('d'), {args.repeat} rounds:")
    print(
        f"{'case':<18}{'whole':>9}{'1 block':>10}{'block/whole':>13}{'rounds':>14}{'cpu':>8}"
        f"{'sharded wall':>14}"
    )
    stream = np.array([0, 0, 0, 0], np.uint32)
    block = block_shape(shape, sharding, "bench")
    start = (np.uint32(0),) + (0,) * (len(block) - 1)
    programs = []
    for name, init, _ in cases:
        plan = plan_for(init, shape, "float32", "bench")
        whole = jax.jit(plan.whole).lower(stream).compile()
        one = jax.jit(lambda s, plan=plan: plan.region(s, start, block)).lower(stream).compile()
        programs.append((name, [whole, one, _spmd(plan, sharding, block)]))
    _warm([fn for _, fns in programs for fn in fns], stream)
    for name, fns in programs:
        t_whole, t_one, t_spmd = _rounds(fns, stream, args.repeat)
        best, low, high, cpu = _ratio(t_one, t_whole)
        print(
            f"{name:<18}{min(t[0] for t in t_whole):>8.3f}s{min(t[0] for t in t_one):>9.3f}s{best:>12.3f}"
            f"{low:>8.3f}-{high:.3f}{cpu:>8.3f}{min(t[0] for t in t_spmd):>13.3f}s"
        )
    print(f"(goal: block/whole <= 1/{n} + 10% = {1 / n * 1.1:.3f})")


if __name__ == "__main__":
    main()
