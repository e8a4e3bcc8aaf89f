"""Thread and process safety: shared instances, shared SeedGenerators, fork and spawn.

Every check compares with results computed by one thread first, so a race shows
up as a wrong value (or a duplicated / skipped draw number), not only as a crash.
Kernel thread counts are varied through ``WEIGHTINIT_NUM_THREADS`` in separate
interpreters (the variable is read at each call; changing it while other threads
draw would race on the environment itself, which is not what is tested here).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter

import numpy as np
import pytest

import weightinit as wi
from _support import child_env, run_python

pytestmark = pytest.mark.timeout(300)

THREADS = 8

#: one shared instance per kind of work: kernel samplers (uniform, normal, truncated), the
#: float64 Householder path, deterministic fills and tables; (300, 700) is several kernel chunks
#: (64 Ki elements each), so the kernel runs its own threads inside each Python thread
HAMMER = r"""
import json, os, sys, threading
import numpy as np
import weightinit as wi

THREADS = int(sys.argv[1]); ROUNDS = int(sys.argv[2])
inits = [
    wi.GlorotUniform(seed=1), wi.RandomNormal(seed=2, stddev=3.0), wi.TruncatedNormal(seed=3),
    wi.VarianceScaling(seed=4, distribution="untruncated_normal"), wi.HeNormal(seed=5),
    wi.Orthogonal(seed=6), wi.Constant(0.5), wi.Identity(gain=2.0), wi.STFT(),
]
shapes = [(300, 700), (3, 3, 16, 32), (64,), (257, 129)]
dtypes = ["float32", "float64", "float16", "bfloat16"]
jobs = []
for i, init in enumerate(inits):
    for j, shape in enumerate(shapes):
        if isinstance(init, wi.STFT):
            shape = (shape[0] if len(shape) > 1 else 16, 1, 9)
        elif isinstance(init, (wi.Identity, wi.Orthogonal)) and len(shape) != 2:
            continue
        dtype = dtypes[(i + j) % len(dtypes)]
        index = (slice(1, shape[0] // 2),) if (i + j) % 3 == 0 else None
        jobs.append((init, tuple(shape), dtype, index))
expected = [init(shape, dtype, index=index) for init, shape, dtype, index in jobs]
barrier = threading.Barrier(THREADS)
failures = []

def work(t):
    for r in range(ROUNDS):
        barrier.wait()
        # each thread walks the jobs from a different start, so different calls overlap
        for k in range(len(jobs)):
            n = (k + t * 3 + r) % len(jobs)
            init, shape, dtype, index = jobs[n]
            got = init(shape, dtype, index=index)
            if got.dtype != expected[n].dtype or got.tobytes() != expected[n].tobytes():
                failures.append((t, r, n))

threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
for th in threads: th.start()
for th in threads: th.join()
print(json.dumps({"jobs": len(jobs), "failures": failures[:10], "n_failures": len(failures)}))
"""


@pytest.mark.parametrize("kernel_threads", ["1", "3", ""])
def test_one_instance_called_from_8_threads_gives_the_single_threaded_results(kernel_threads):
    result = run_python(
        HAMMER,
        env={"WEIGHTINIT_NUM_THREADS": kernel_threads},
        args=(str(THREADS), "3"),
        timeout=240,
    )
    assert result["jobs"] >= 30
    assert result["n_failures"] == 0, result["failures"]


def _run_threads(target, n=THREADS):
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def wrapped(t):
        try:
            barrier.wait()
            target(t)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(t,)) for t in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]


def test_a_shared_seed_generator_hands_out_each_draw_number_once():
    gen = wi.SeedGenerator(11)
    per_thread = 2000
    seen: list[list[tuple[int, int]]] = [[] for _ in range(THREADS)]

    def draw(t):
        for _ in range(per_thread):
            seen[t].append(gen.next())

    _run_threads(draw)
    pairs = [p for part in seen for p in part]
    assert Counter(seed for seed, _ in pairs) == {11: THREADS * per_thread}
    assert sorted(k for _, k in pairs) == list(range(THREADS * per_thread))
    assert gen.state == (11, THREADS * per_thread)


def test_an_initializer_on_a_shared_seed_generator_gives_each_draw_exactly_once():
    draws = 40
    shape = (64, 33)
    reference_gen = wi.RandomNormal(seed=wi.SeedGenerator(5))
    expected = Counter(reference_gen(shape).tobytes() for _ in range(THREADS * draws))
    assert len(expected) == THREADS * draws  # every draw number gives different values

    shared = wi.RandomNormal(seed=wi.SeedGenerator(5))
    got: list[bytes] = []
    lock = threading.Lock()

    def draw(t):
        mine = [shared(shape).tobytes() for _ in range(draws)]
        with lock:
            got.extend(mine)

    _run_threads(draw)
    assert Counter(got) == expected


def test_unseeded_reuse_warning_is_counted_once_under_threads():
    init = wi.RandomUniform()  # unseeded: the second whole call warns, exactly once
    with pytest.warns(wi.UnseededReuseWarning) as record:
        _run_threads(lambda t: [init((4, 4)) for _ in range(5)])
    assert len([w for w in record if issubclass(w.category, wi.UnseededReuseWarning)]) == 1


FORK_AND_SPAWN = r"""
import json, multiprocessing as mp, os
import numpy as np
import weightinit as wi

SHAPE = (2048, 1024)  # several kernel chunks: the kernel has run its threads before forking

def draw(_=None):
    return wi.HeNormal(seed=7)(SHAPE).tobytes()

def main():
    parent = draw()
    results = {}
    pid = os.fork()
    if pid == 0:  # the child draws after a fork from a process whose kernel used threads
        os._exit(0 if draw() == parent else 3)
    _, status = os.waitpid(pid, 0)
    results["fork_exit"] = os.waitstatus_to_exitcode(status)
    for method in ("fork", "spawn", "forkserver"):
        with mp.get_context(method).Pool(2) as pool:
            outs = pool.map(draw, range(4))
        results[method] = all(o == parent for o in outs)
    print(json.dumps(results))

if __name__ == "__main__":
    main()
"""


def test_draws_work_in_processes_forked_and_spawned_after_the_kernel_ran_threads(tmp_path):
    script = tmp_path / "procs.py"  # spawn and forkserver re-import __main__: it must be a file
    script.write_text(FORK_AND_SPAWN)
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=child_env({"WEIGHTINIT_NUM_THREADS": "2"}),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"fork_exit": 0, "fork": True, "spawn": True, "forkserver": True}


def test_the_shared_instance_state_is_unchanged_by_threads():
    init = wi.GlorotUniform(seed=3)
    before = init.get_config()
    ref = init((128, 64))
    _run_threads(lambda t: [init((128, 64), index=(slice(t, t + 8),)) for _ in range(10)])
    assert init.get_config() == before
    np.testing.assert_array_equal(init((128, 64)), ref)


SMALL_STACK = r"""
import json, os, threading
import weightinit as wi
from weightinit._engine import _kernel

cases = [
    (wi.HeNormal(seed=1), (300, 700), dtype, index)
    for dtype in ("float32", "float64", "float16", "bfloat16")
    for index in (None, (slice(3, 200), slice(5, 600)), (slice(0, 300), slice(1, 2)))
] + [(wi.RandomUniform(seed=2), (64, 33), "float64", None)]
cases.append((wi.TruncatedNormal(seed=3), (5,), "float32", None))
expected = [init(shape, dtype, index=index).tobytes() for init, shape, dtype, index in cases]
threading.stack_size(32 * 1024)  # Python's smallest; the kernel once kept about 51 KiB on the stack
got = []
thread = threading.Thread(target=lambda: got.extend(init(s, d, index=i).tobytes() for init, s, d, i in cases))
thread.start()
thread.join()
print(json.dumps({"kernel": _kernel.available(), "equal": got == expected, "n": len(got)}))
"""


@pytest.mark.parametrize("kernel_threads", ["1", "4"])
def test_a_draw_works_on_a_32_kib_thread_stack(kernel_threads):
    result = run_python(SMALL_STACK, env={"WEIGHTINIT_NUM_THREADS": kernel_threads}, timeout=120)
    assert result["equal"] and result["n"] == 14
