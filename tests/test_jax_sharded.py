"""weightinit.jax with 8 fake CPU devices, float64 with x64, and two JAX processes (subprocesses).

Each child does many checks and returns a JSON summary; the assertions run here.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import pytest

from _support import child_env, run_python

pytest.importorskip("jax")

EIGHT = {"XLA_FLAGS": "--xla_force_host_platform_device_count=8", "OMP_NUM_THREADS": "1"}

SHARDED = r"""
import json, numpy as np, jax, jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import weightinit as wi
from weightinit import jax as wjax

devs = np.array(jax.devices())
meshes = {
    "8": Mesh(devs.reshape(8), ("a",)),
    "4x2": Mesh(devs.reshape(4, 2), ("a", "b")),
    "2x4": Mesh(devs.reshape(2, 4), ("a", "b")),
    "2x2x2": Mesh(devs.reshape(2, 2, 2), ("a", "b", "c")),
}
cases = [  # mesh, spec, shape: odd block widths, replicated axes, several mesh axes on one tensor axis
    ("8", P("a"), (24, 7)),
    ("8", P(None, None, "a"), (3, 5, 40)),
    ("4x2", P("a", "b"), (12, 6)),
    ("4x2", P("b", "a"), (6, 20)),
    ("4x2", P(("a", "b")), (16, 3)),
    ("2x4", P("b", None, "a"), (4, 3, 6)),
    ("2x4", P(), (5, 3)),
    ("2x2x2", P("a", "b", "c"), (6, 10, 2)),
    ("2x2x2", P(("c", "a"), None), (12, 9)),
]
inits = [wi.GlorotUniform(seed=1), wi.HeNormal(seed=2), wi.RandomNormal(0.5, 2.0, seed=3),
         wi.TruncatedNormal(seed=4), wi.Zeros(), wi.Constant(0.25)]
bad = []
checked = 0
for i, (mname, spec, shape) in enumerate(cases):
    sharding = NamedSharding(meshes[mname], spec)
    init, dtype = inits[i % len(inits)], ("float32", "bfloat16")[i % 2]
    got = wjax.sharded(init, shape, sharding, dtype)
    want = init(shape, dtype)  # == the unsharded jax array (test_jax_engine), so sharded == unsharded
    ok = got.sharding.is_equivalent_to(sharding, len(shape)) and np.asarray(got).tobytes() == want.tobytes()
    for shard in got.addressable_shards:  # each device holds exactly its block
        ok = ok and np.asarray(shard.data).tobytes() == want[shard.index].tobytes()
    checked += 1
    if not ok:
        bad.append([mname, str(spec), shape, type(init).__name__, dtype])
# Identity, Orthogonal (whole matrix per device) and STFT (host callback)
mesh = meshes["4x2"]
for init, shape in [(wi.Identity(2.0), (8, 6)), (wi.Orthogonal(seed=5), (8, 6)), (wi.STFT(), (16, 1, 6))]:
    spec = P("a", "b") if len(shape) == 2 else P("a", None, "b")
    got = np.asarray(wjax.sharded(init, shape, NamedSharding(mesh, spec)))
    unsharded = jax.jit(wjax.initializer(init, seed_from="initializer"), static_argnums=(1,))
    full = np.asarray(unsharded(jax.random.key(0), shape))
    want = init(shape)
    exact = got.tobytes() == full.tobytes()  # sharded == unsharded, Orthogonal included
    close = bool(np.allclose(got, want, atol=1e-5))
    engine = isinstance(init, wi.Orthogonal) or got.tobytes() == want.tobytes()
    if not (exact and close and engine):
        bad.append([type(init).__name__, exact, close])
# a SeedGenerator advances once per sharded call, as one numpy call
gen_init = wi.RandomUniform(seed=wi.SeedGenerator(9))
sh = NamedSharding(meshes["8"], P("a"))
first, second = (np.asarray(wjax.sharded(gen_init, (8, 2), sh)) for _ in range(2))
ref = wi.RandomUniform(seed=wi.SeedGenerator(9))
seedgen_ok = first.tobytes() == ref((8, 2)).tobytes() and second.tobytes() == ref((8, 2)).tobytes()

# another kind of Sharding goes through jit with out_shardings
single = jax.sharding.SingleDeviceSharding(jax.devices()[3])
on_one = wjax.sharded(wi.LecunNormal(seed=6), (5, 7), single)
lecun = wi.LecunNormal(seed=6)((5, 7))
single_ok = on_one.sharding == single and np.asarray(on_one).tobytes() == lecun.tobytes()

# each device's program only has arrays of its block's size: no global-size buffer anywhere
from weightinit._jax._plan import plan_for
from weightinit._jax._shard import _spmd
plan = plan_for(wi.HeNormal(seed=0), (64, 4096), "float32", "t")
sharding = NamedSharding(meshes["8"], P("a"))
hlo = _spmd(plan, sharding, (8, 4096)).lower(np.zeros(4, np.uint32)).compile().as_text()
local_only = "f32[64,4096]" not in hlo and "f32[8,4096]" in hlo and "u32[64," not in hlo

errors = []
for shape, spec in [((8,), P("a", None)), ((6, 4), P("a")), ((8, 3), P(None, ("a", "b")))]:
    try:
        wjax.sharded(wi.HeNormal(seed=0), shape, NamedSharding(meshes["4x2"], spec))
        errors.append(None)
    except wi.InvalidArgumentError as exc:
        errors.append(str(exc))
try:
    wjax.sharded(wi.HeNormal(seed=0), (4, 4), "not a sharding")
    errors.append(None)
except wi.InvalidTypeError as exc:
    errors.append(str(exc))
print(json.dumps({"bad": bad, "checked": checked, "seedgen": seedgen_ok, "local_only": local_only,
                  "single": single_ok,
                  "errors": errors, "ndev": len(jax.devices())}))
"""


def test_sharded_equals_unsharded_on_8_fake_devices():
    out = run_python(SHARDED, env=EIGHT, timeout=600)
    assert out["ndev"] == 8
    assert out["checked"] == 9 and out["bad"] == []
    assert out["seedgen"] and out["local_only"] and out["single"]
    rank, divide, tuple_divide, kind = out["errors"]
    assert rank and "has 2 entries but shape=(8,) has rank 1" in rank
    assert divide and "axis 0 of shape=(6, 4) has 6 elements" in divide and "multiple of 4" in divide
    assert tuple_divide and "multiple of 8" in tuple_divide
    assert kind and "jax.sharding.Sharding" in kind


X64 = r"""
import json, numpy as np, jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import weightinit as wi
from weightinit import jax as wjax
import conftest

bad, checked = [], 0
key = jax.random.key(77)
for i, name in enumerate(conftest.CALLABLE_CLASS_NAMES):
    init = getattr(wi, name)(**conftest.NON_DEFAULT_KWARGS[name])
    special = {"STFT": [(4, 1, 3)], "Identity": [(3, 4)], "Orthogonal": [(3, 4), (2, 3, 5)]}
    shapes = special.get(name, [(2, 3), (4, 5, 6)])
    ref = wjax.numpy_equivalent(init, key)
    fn = jax.jit(wjax.initializer(init), static_argnums=(1, 2))
    for shape in shapes:
        # float64 on every shape; one narrow dtype per class in turn (all of them: test_jax_engine)
        narrow = [("float32", "float16", "bfloat16")[i % 3]] if shape == shapes[0] else []
        for dtype in ["float64", *narrow]:
            got = np.asarray(fn(key, shape, jnp.dtype(dtype)))
            want = ref(shape, dtype)
            if name == "Orthogonal":
                tol = {"float64": 1e-12, "float32": 1e-6}.get(dtype, 1e-2)
                close = np.allclose(got.astype(float), want.astype(float), rtol=0, atol=tol)
                ok = got.dtype == want.dtype and close
            else:
                ok = got.dtype == want.dtype and got.tobytes() == want.tobytes()
            checked += 1
            if not ok:
                bad.append([name, shape, dtype])
# the float64 tails (far branch of the quantile) on a large draw
from weightinit._jax._random import draw
from weightinit._engine import sample
st = np.array([5, 0, 0, 0], np.uint32)
for kind in ["normal", "truncated_normal", "uniform"]:
    shape = (512, 1024)
    got = jax.jit(lambda s, kind=kind: draw(kind, 0.0, 1.0, s, shape, (0, 0), shape, np.dtype("float64")))(st)
    want = sample(kind, 5, 0, (512, 1024), ((0, 512), (0, 1024)), np.dtype("float64"), 0.0, 1.0)
    checked += 1
    if np.asarray(got).tobytes() != want.tobytes():
        bad.append([kind, "large float64"])
# the float64 quantile on every branch: centre, near tail, far tail (sqrt(-log(1/2 - |q|)) > 5,
# which needs 1/2 - |q| < exp(-25): no random draw reaches it) and the edges between them
from weightinit._engine._special import ndtri_q as np_ndtri_q
from weightinit._jax._exact import opaque_zero
from weightinit._jax._special import ndtri_q
tail = np.exp(-25.0) * np.array([0.5, 0.999999, 1.0, 1.000001, 2.0])
edges = np.concatenate([[0.425], 0.5 - 2.0 ** -np.arange(2.0, 54.0), 0.5 - tail])
edges = np.concatenate([edges, np.nextafter(edges, 0.0), np.nextafter(edges, 1.0)])
qs = np.concatenate([edges, np.random.default_rng(6).uniform(-0.5, 0.5, 4096)])
qs = qs[np.abs(qs) < 0.5]
qs = np.concatenate([qs, -qs])
ws = np.random.default_rng(7).integers(0, 2**32, len(qs), dtype=np.uint32)
z = jax.jit(lambda q, w: ndtri_q(q, opaque_zero(w), far=True))(qs, ws)
far = np.sqrt(-np.log(0.5 - np.abs(qs))) > 5
checked += 1
if np.asarray(z).tobytes() != np_ndtri_q(qs).tobytes() or not 20 < far.sum() < len(qs) - 20:
    bad.append(["float64 quantile", int(far.sum())])
# Orthogonal of a larger matrix, float64 and float32 paths against the engine
q = np.asarray(jax.jit(lambda k: wjax.initializer(wi.Orthogonal())(k, (96, 64), jnp.float64))(key))
ortho64 = float(np.abs(q - wjax.numpy_equivalent(wi.Orthogonal(), key)((96, 64), "float64")).max())
print(json.dumps({"bad": bad, "checked": checked, "ortho64": ortho64}))
"""


def test_float64_and_every_dtype_with_x64_are_bitwise_the_engine():
    from _support import ROOT

    out = run_python(X64, env={"PYTHONPATH": str(ROOT / "tests")}, timeout=600)
    assert out["bad"] == [] and out["checked"] == 50
    assert out["ortho64"] < 1e-12


def test_orthogonal_float32_law_on_a_larger_matrix():
    import jax
    import numpy as np

    import weightinit as wi
    from weightinit import jax as wjax

    key = jax.random.key(8)
    for shape in [(96, 64), (40, 100)]:
        q = np.asarray(
            jax.jit(lambda k, shape=shape: wjax.initializer(wi.Orthogonal(gain=1.5))(k, shape))(key)
        )
        want = wjax.numpy_equivalent(wi.Orthogonal(gain=1.5), key)(shape)
        np.testing.assert_allclose(q, want, atol=1e-5 * 1.5)


TWO_PROCESSES = r"""
import json, sys, numpy as np, jax
pid, port = int(sys.argv[1]), int(sys.argv[2])
jax.config.update("jax_num_cpu_devices", 4)
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid,
                           initialization_timeout=60)
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import weightinit as wi
from weightinit import jax as wjax
mesh = Mesh(np.array(jax.devices()).reshape(2, 4), ("host", "dev"))
results = []
for init, shape, spec in [(wi.HeNormal(seed=3), (8, 12), P("host", "dev")),
                          (wi.RandomUniform(seed=4), (6, 8), P(None, ("host", "dev"))),
                          (wi.TruncatedNormal(seed=5), (4, 4), P("dev"))]:
    arr = wjax.sharded(init, shape, NamedSharding(mesh, spec))
    shards = arr.addressable_shards
    ok = all(np.asarray(s.data).tobytes() == init(shape, index=s.index).tobytes() for s in shards)
    results.append([ok, len(shards), arr.is_fully_addressable])
jax.distributed.shutdown()
print(json.dumps({"pid": pid, "results": results, "global": len(jax.devices()) if False else 8}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_jax_processes_each_make_their_own_shards(tmp_path):
    port = str(_free_port())
    env = child_env({"OMP_NUM_THREADS": "1"})
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(TWO_PROCESSES), str(pid), port],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pid in (0, 1)
    ]
    outs = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=240)
            assert p.returncode == 0, stderr[-4000:]
            outs.append(stdout.strip().splitlines()[-1])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    import json

    for line in outs:
        got = json.loads(line)
        assert got["results"] == [[True, 4, False]] * 3, got
