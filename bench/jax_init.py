"""Benchmark of weightinit.jax against jax.nn.initializers, and of sharded generation.

    python bench/jax_init.py [--shape 8192 8192] [--repeat 3] [--devices 8]

One run prints both tables: compile time (apart), the best of ``--repeat``
jitted runs for weightinit and for jax.nn.initializers with the same
distribution, and their ratio (this process: one CPU device, XLA's own
threads); then, from a child with ``--devices`` fake CPU devices, for sharded
generation: the whole array on one device, one device's block alone (per-device
work; the goal is at most ``1/devices + 10 %`` of the whole), and the wall time
of the whole sharded array (the fake devices share the machine's cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def _best(fn: Any, arg: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn(arg).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return best


def _compiled(fn: Any, arg: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    compiled = jax.jit(fn).lower(arg).compile()
    return compiled, time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs="+", default=[8192, 8192])
    parser.add_argument("--repeat", type=int, default=3)
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
    global jax
    import jax
    import jax.numpy as jnp

    from weightinit import jax as wjax

    shape = tuple(args.shape)
    key = jax.random.key(0)
    print(f"shape {shape} float32, jax {jax.__version__}, {len(jax.devices())} device, best of {args.repeat}")
    print(f"{'case':<18}{'compile wi':>11}{'compile jax':>12}{'weightinit':>12}{'jax.nn':>10}{'jax/wi':>8}")
    for name, init, ref in _cases():
        ours, c_ours = _compiled(lambda k, init=init: wjax.initializer(init)(k, shape, jnp.float32), key)
        theirs, c_theirs = _compiled(lambda k, ref=ref: ref(k, shape, jnp.float32), key)
        t_ours, t_theirs = _best(ours, key, args.repeat), _best(theirs, key, args.repeat)
        print(
            f"{name:<18}{c_ours:>10.2f}s{c_theirs:>11.2f}s{t_ours:>11.3f}s{t_theirs:>9.3f}s"
            f"{t_theirs / t_ours:>7.2f}x"
        )
    sys.stdout.flush()


def _sharded(args: Any) -> None:
    global jax
    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    from weightinit._jax._plan import plan_for
    from weightinit._jax._shard import _spmd, block_shape

    shape = tuple(args.shape)
    cases = _cases()
    n = len(jax.devices())
    mesh = Mesh(np.array(jax.devices()), ("d",))
    sharding = NamedSharding(mesh, PartitionSpec("d"))
    print(f"\nsharded over {n} fake CPU devices, PartitionSpec('d'):")
    print(f"{'case':<18}{'whole':>9}{'1 block':>10}{'block/whole':>13}{'sharded wall':>14}")
    stream = np.array([0, 0, 0, 0], np.uint32)
    for name, init, _ in cases:
        plan = plan_for(init, shape, "float32", "bench")
        block = block_shape(shape, sharding, "bench")
        whole = jax.jit(plan.whole).lower(stream).compile()
        one = jax.jit(
            lambda s, plan=plan, block=block: plan.region(s, (np.uint32(0),) + (0,) * (len(block) - 1), block)
        )
        one = one.lower(stream).compile()
        spmd = _spmd(plan, sharding, block)
        spmd(stream).block_until_ready()
        t_whole, t_one = _best(whole, stream, args.repeat), _best(one, stream, args.repeat)
        t_spmd = _best(spmd, stream, args.repeat)
        print(f"{name:<18}{t_whole:>8.3f}s{t_one:>9.3f}s{t_one / t_whole:>12.3f}{t_spmd:>13.3f}s")
    print(f"(goal: block/whole <= 1/{n} + 10% = {1 / n * 1.1:.3f})")


if __name__ == "__main__":
    sys.exit(main())
