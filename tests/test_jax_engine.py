"""weightinit.jax in one process (float32 world, x64 off): the ported engine against the numpy one.

Every comparison is bitwise (``view`` of the bytes), except Orthogonal, whose
float32 product is compared with the engine's float64 law to 1e-5.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

import weightinit as wi  # noqa: E402
from conftest import CALLABLE_CLASS_NAMES, NON_DEFAULT_KWARGS  # noqa: E402
from weightinit import jax as wjax  # noqa: E402
from weightinit._engine import sample  # noqa: E402
from weightinit._engine._keys import derive_key  # noqa: E402
from weightinit._engine._threefry import threefry2x32 as np_threefry  # noqa: E402
from weightinit._jax._counters import _add64, _mul64  # noqa: E402
from weightinit._jax._random import draw, stream_key  # noqa: E402
from weightinit._jax._threefry import threefry2x32  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:jax")

DTYPES = ("float32", "float16", "bfloat16")
#: float32 shapes per class (the narrow dtypes use the first); each new shape is one more compilation
SHAPES = {
    "default": [(2, 3), (3, 3, 4, 5)],
    "axes": [(2, 3), (33, 17)],  # explicit fan axes need rank >= 2
    "Identity": [(3, 4), (5, 2)],
    "Orthogonal": [(3, 4), (2, 3, 5)],
    "STFT": [(4, 1, 3), (8, 1, 5)],
}


def _shapes(name: str) -> list[tuple[int, ...]]:
    if name in SHAPES:
        return SHAPES[name]
    return SHAPES["axes" if "input_axes" in NON_DEFAULT_KWARGS[name] else "default"]


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _stream(seed: int, call: int = 0) -> np.ndarray:
    m = 0xFFFFFFFF
    return np.array([seed & m, seed >> 32 & m, call & m, call >> 32 & m], dtype=np.uint32)


def test_threefry_and_key_derivation_equal_the_engine():
    rng = np.random.default_rng(0)
    x0 = rng.integers(0, 2**32, 4096, dtype=np.uint32)
    x1 = rng.integers(0, 2**32, 4096, dtype=np.uint32)
    for key in [(0, 0), (1, 2), (0xFFFFFFFF, 0x12345678)]:
        got = jax.jit(threefry2x32)((jnp.uint32(key[0]), jnp.uint32(key[1])), x0, x1)
        want = np_threefry(key, x0, x1)
        assert all(np.array_equal(np.asarray(g), w) for g, w in zip(got, want, strict=True))
    for seed, call, kind in [
        (0, 0, "normal"),
        (2**64 - 1, 5, "uniform"),
        (123456789012, 2**40, "truncated_normal"),
    ]:
        got = jax.jit(lambda s, kind=kind: stream_key(s, kind))(_stream(seed, call))
        assert tuple(int(w) for w in got) == derive_key(seed, call, kind)


def test_64_bit_counter_arithmetic_equals_uint64():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2**32, 1000, dtype=np.uint64)
    for c in [0, 1, 3, 2**32 - 1, 2**32 + 7, 2**63 + 12345, 2**64 - 1]:
        hi, lo = jax.jit(lambda x, c=c: _mul64(x, c))(a.astype(np.uint32))
        want = (a * np.uint64(c % 2**64)) if c < 2**64 else None
        got = (np.asarray(hi).astype(np.uint64) << np.uint64(32)) | np.asarray(lo).astype(np.uint64)
        assert np.array_equal(got, want)
    b = rng.integers(0, 2**64 - 1, 1000, dtype=np.uint64)
    c = rng.integers(0, 2**64 - 1, 1000, dtype=np.uint64)

    def split(v):
        return (v >> np.uint64(32)).astype(np.uint32), (v & np.uint64(0xFFFFFFFF)).astype(np.uint32)

    hi, lo = _add64(split(b), split(c))
    got = (np.asarray(hi).astype(np.uint64) << np.uint64(32)) | np.asarray(lo).astype(np.uint64)
    assert np.array_equal(got, b + c)


@pytest.mark.parametrize("name", CALLABLE_CLASS_NAMES)
def test_every_initializer_is_bitwise_the_engine_under_jit(name):
    init = getattr(wi, name)(**NON_DEFAULT_KWARGS[name])
    fn = jax.jit(wjax.initializer(init), static_argnums=(1, 2))
    keys = [jax.random.key(0), jax.random.key(2**31 + 5), jax.random.PRNGKey(7)]
    shapes = _shapes(name)
    cases = [(k, shapes[0], "float32") for k in keys] + [(keys[0], s, "float32") for s in shapes[1:]]
    cases += [(keys[1], shapes[0], d) for d in DTYPES[1:]]
    for key, shape, dtype in cases:
        got = np.asarray(fn(key, shape, jnp.dtype(dtype)))
        want = wjax.numpy_equivalent(init, key)(shape, dtype)
        if name == "Orthogonal":
            assert got.dtype == want.dtype and got.shape == want.shape
            tol = 1e-5 if dtype == "float32" else 2.0 ** -(7 if dtype == "bfloat16" else 10)
            np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), atol=tol)
        else:
            assert _same_bits(got, want), (name, shape, dtype)


def _structure(monkeypatch, fused: bool) -> None:
    """Compile draws of every size as one fusion (``fused``) or as several (see ``_random.draw``)."""
    import weightinit._jax._random as random_mod

    monkeypatch.setattr(random_mod, "FUSE_MIN", 0 if fused else 2**62)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "split"])
@pytest.mark.parametrize("kind", ["uniform", "normal", "truncated_normal"])
def test_large_draws_and_extreme_parameters_are_bitwise(kind, fused, monkeypatch):
    _structure(monkeypatch, fused)
    # 2**20 float32 draws reach the far tails of the quantile; tiny or offset parameters in float16
    # and bfloat16 exercise the casts' rounding, subnormal results and the clamp below maxval
    extreme = {"uniform": (1e3, 1e3 + 1e-3), "normal": (5.0, 1e-6), "truncated_normal": (0.0, 1e-6)}[kind]
    cases = [
        (0.0, 1.0, (1024, 1024), "float32"),
        (*extreme, (999,), "float16"),
        (*extreme, (999,), "bfloat16"),
    ]
    if kind == "uniform":
        cases[0] = (-1.0, 1.0, (1024, 1024), "float32")

    def all_cases(stream):
        return [
            draw(kind, a, b, stream, shape, (0,) * len(shape), shape, np.dtype(jnp.dtype(dt)))
            for a, b, shape, dt in cases
        ]

    got = jax.jit(all_cases)(_stream(99))
    for out, (a, b, shape, dt) in zip(got, cases, strict=True):
        want = sample(kind, 99, 0, shape, tuple((0, n) for n in shape), np.dtype(jnp.dtype(dt)), a, b)
        assert _same_bits(out, want), (kind, a, b, dt)


def _quantile_inputs_f32() -> np.ndarray:
    """Every branch of the quantile and its edges: centre, tails, |q| = 0.425 and the extremes."""
    f = np.float32
    edge = np.array([0.425, 0.5 - 2.0**-25, 0.25, 2.0**-25, 0.4772498], f)
    near_edges = np.concatenate([edge, np.nextafter(edge, f(0)), np.nextafter(edge, f(1))])
    # the reference's own inputs: odd multiples of 2**-25, plain and scaled by the truncation mass
    m = np.random.default_rng(3).integers(0, 2**24, 4096).astype(np.int64)
    odd = ((2 * m - (2**24 - 1)) * 2.0**-25).astype(f)
    ladder = (0.5 - 2.0 ** -np.arange(2, 26)).astype(f)
    q = np.concatenate([near_edges, odd, odd * f(0.95449973610364158), ladder])
    q = q[np.abs(q) < 0.5]
    return np.concatenate([q, -q])


def test_quantile_is_bitwise_the_reference_on_every_branch():
    # the JAX quantile evaluates one selected rational function per element (``_special``):
    # its bits must be the reference's on both branches and across the branch boundary
    from weightinit._engine._special import ndtri_q as np_ndtri_q
    from weightinit._jax._exact import opaque_zero
    from weightinit._jax._special import ndtri_q

    q = _quantile_inputs_f32()
    central = np.abs(q) <= np.float32(0.425)
    assert 100 < central.sum() < len(q) - 100  # both branches well represented
    words = np.random.default_rng(4).integers(0, 2**32, len(q), dtype=np.uint32)
    got = jax.jit(lambda q, w: ndtri_q(q, opaque_zero(w), far=False))(q, words)
    assert _same_bits(got, np_ndtri_q(q))


KINDS_DTYPES = [("normal", "float32"), ("uniform", "bfloat16"), ("truncated_normal", "float16")]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "split"])
def test_regions_with_traced_starts_equal_the_engines_index(fused, monkeypatch):
    _structure(monkeypatch, fused)
    # the sharding path: starts are traced, sizes static; odd strides and a shape past 2**32 elements
    cases = [
        ((37, 6, 5), ((3, 10), (0, 6), (0, 5))),
        ((37, 6, 5), ((0, 37), (1, 4), (0, 5))),
        ((37, 6, 5), ((5, 6), (2, 3), (1, 4))),
        ((9, 7), ((2, 5), (3, 7))),
        ((2**21, 2**12 + 1), ((2**21 - 3, 2**21), (2**12 - 6, 2**12 + 1))),  # 8.6e9 elements
    ]
    for i, (shape, region) in enumerate(cases):
        sizes = tuple(b - a for a, b in region)
        starts = np.array([a for a, _ in region], dtype=np.uint32)
        for kind, dtype in [KINDS_DTYPES[i % 3]]:
            nd = np.dtype(jnp.dtype(dtype))
            fn = jax.jit(
                lambda s, o, kind=kind, nd=nd, shape=shape, sizes=sizes: draw(
                    kind, 0.0, 1.0, s, shape, tuple(o[d] for d in range(len(shape))), sizes, nd
                )
            )
            got = fn(_stream(3, 1), starts)
            want = sample(kind, 3, 1, shape, region, nd, 0.0, 1.0)
            assert _same_bits(got, want), (shape, region, kind)


def test_keys_select_the_stream():
    init = wjax.initializer(wi.RandomNormal(stddev=1.0))
    typed, legacy = jax.random.key(42), jax.random.PRNGKey(42)
    a = np.asarray(init(typed, (64,)))
    assert np.array_equal(a, np.asarray(init(legacy, (64,))))
    assert np.array_equal(a, wi.RandomNormal(stddev=1.0, seed=42)((64,)))
    assert np.array_equal(a, np.asarray(init(jax.random.key(42), (64,))))
    b = np.asarray(init(jax.random.key(43), (64,)))
    assert not np.any(a == b)
    # the full 64-bit mapping: data (k0, k1) -> seed (k0 << 32) | k1
    wide = jax.random.wrap_key_data(np.array([0x89ABCDEF, 0x01234567], dtype=np.uint32))
    assert wjax.seed_of(wide) == 0x89ABCDEF01234567
    assert np.array_equal(
        np.asarray(init(wide, (64,))), wi.RandomNormal(stddev=1.0, seed=0x89ABCDEF01234567)((64,))
    )
    assert wjax.seed_of(np.array([0, 9], dtype=np.uint32)) == 9


def test_vmap_over_keys_equals_each_key():
    fn = wjax.initializer(wi.GlorotUniform())
    keys = jax.random.split(jax.random.key(0), 4)
    batch = np.asarray(jax.jit(jax.vmap(lambda k: fn(k, (6, 5))))(keys))
    for i in range(4):
        assert np.array_equal(batch[i], wjax.numpy_equivalent(wi.GlorotUniform(), keys[i])((6, 5)))
    legacy = jax.random.split(jax.random.PRNGKey(1), 3)
    out = np.asarray(jax.vmap(lambda k: fn(k, (2, 2)))(legacy))
    assert np.array_equal(out[2], wi.GlorotUniform(seed=wjax.seed_of(legacy[2]))((2, 2)))
    ortho = wjax.initializer(wi.Orthogonal())
    q = np.asarray(jax.jit(jax.vmap(lambda k: ortho(k, (5, 3))))(keys))
    np.testing.assert_allclose(
        np.einsum("bij,bik->bjk", q, q), np.broadcast_to(np.eye(3), (4, 3, 3)), atol=1e-5
    )


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "split"])
def test_vmap_of_normal_draws_in_both_structures(fused, monkeypatch):
    _structure(monkeypatch, fused)
    init = wi.HeNormal()
    fn = wjax.initializer(init)
    keys = jax.random.split(jax.random.key(3), 3)
    batch = np.asarray(jax.jit(jax.vmap(lambda k: fn(k, (7, 5))))(keys))
    for i in range(3):
        assert _same_bits(batch[i], wjax.numpy_equivalent(init, keys[i])((7, 5)))


def test_seed_from_initializer_uses_the_initializers_seed():
    fn = wjax.initializer(wi.HeNormal(seed=5), seed_from="initializer")
    a = np.asarray(fn(jax.random.key(0), (8, 3)))
    assert np.array_equal(a, np.asarray(fn(jax.random.key(1), (8, 3))))
    assert np.array_equal(a, wi.HeNormal(seed=5)((8, 3)))
    with pytest.raises(wi.InvalidArgumentError, match="SeedGenerator"):
        wjax.initializer(wi.HeNormal(seed=wi.SeedGenerator(1)), seed_from="initializer")
    with pytest.raises(wi.InvalidArgumentError, match="seed_from"):
        wjax.initializer(wi.HeNormal(), seed_from="bogus")  # type: ignore[arg-type]


def test_names_and_configs_are_accepted():
    key = jax.random.key(4)
    a = np.asarray(wjax.initializer("he_uniform")(key, (3, 3)))
    b = np.asarray(wjax.initializer({"class_name": "HeUniform", "config": {}})(key, (3, 3)))
    assert np.array_equal(a, b) and np.array_equal(a, wi.HeUniform(seed=4)((3, 3)))


def test_bad_inputs_raise_clear_errors_at_trace_time():
    fn = jax.jit(wjax.initializer(wi.GlorotNormal()), static_argnums=(1, 2))
    with pytest.raises(wi.InvalidTypeError, match="PRNG key"):
        fn(jnp.zeros(2, jnp.float32), (2, 2), jnp.float32)
    with pytest.raises(wi.InvalidTypeError, match="PRNG key"):
        wjax.initializer(wi.Zeros())(3, (2,))
    with pytest.raises(wi.InvalidTypeError, match="key array of shape"):
        wjax.initializer(wi.Zeros())(jax.random.split(jax.random.key(0), 2), (2,))
    with pytest.raises(wi.InvalidTypeError, match="unsupported dtype 'int32'"):
        fn(jax.random.key(0), (2, 2), jnp.int32)
    with pytest.raises(wi.InvalidTypeError, match="jax_enable_x64"):
        fn(jax.random.key(0), (2, 2), np.float64)
    with pytest.raises(wi.InvalidTypeError, match="expected a weightinit initializer"):
        wjax.initializer(lambda shape, dtype=None: np.zeros(shape))  # type: ignore[arg-type]

    class Mine(wi.RandomNormal):
        def _generate(self, shape, region, dtype, whole):  # type: ignore[no-untyped-def]
            return np.zeros(shape, dtype)

    with pytest.raises(wi.InvalidTypeError, match="catalog"):
        wjax.initializer(Mine(seed=1))
    with pytest.raises(wi.InvalidArgumentError, match="shape"):
        fn(jax.random.key(0), (2, -1), jnp.float32)
    with pytest.raises(wi.InvalidArgumentError, match="two-dimensional"):
        wjax.initializer(wi.Orthogonal())(jax.random.key(0), (4,))
    with pytest.raises(wi.InvalidTypeError, match="words"):
        wjax.initializer(wi.Zeros())(jax.random.key(0, impl="rbg"), (2,))
    with pytest.raises(wi.InvalidTypeError, match="jax_enable_x64"):
        wjax.initializer(wi.Zeros())(jax.random.key(0), (2,), jnp.int64)
    # complex64 is 32-bit parts: no x64 needed
    assert (
        np.asarray(wjax.initializer(wi.Ones())(jax.random.key(0), (2,), jnp.complex64)).dtype == np.complex64
    )
    # integer dtypes stay allowed where the engine allows them
    assert np.array_equal(np.asarray(wjax.initializer(wi.Ones())(jax.random.key(0), (2,), jnp.int32)), [1, 1])
    assert math.isclose(float(wjax.initializer(wi.Constant(2.5))(jax.random.key(0), ())), 2.5)


def _cpu_has_fma() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return " fma " in f.read().replace("\n", " ")
    except OSError:
        return False


@pytest.mark.skipif(not _cpu_has_fma(), reason="the contraction happens only where the CPU has FMA")
def test_without_the_guard_xla_would_fuse_multiply_add(monkeypatch):
    """Pins the finding of ``weightinit._jax._exact``: XLA:CPU contracts ``a * b + c`` into an FMA.

    With ``rounded`` made the identity, the same draw is no longer the engine's; with it, it is
    (the tests above). If this starts failing, XLA stopped contracting: update ``_exact``'s notes.
    """
    import weightinit._jax._special as special
    import weightinit._jax._transforms as transforms

    shape = (256, 256)
    nd = np.dtype(np.float32)
    want = sample("normal", 1, 0, shape, ((0, 256), (0, 256)), nd, 0.5, 3.0)
    guarded = jax.jit(lambda s: draw("normal", 0.5, 3.0, s, shape, (0, 0), shape, nd))(_stream(1))
    assert _same_bits(guarded, want)
    monkeypatch.setattr(special, "rounded", lambda x, zero: x)
    monkeypatch.setattr(transforms, "rounded", lambda x, zero: x)
    unguarded = jax.jit(lambda s: draw("normal", 0.5, 3.0, s, shape, (0, 0), shape, nd))(_stream(1))
    differ = int((np.asarray(unguarded) != want).sum())
    assert differ > 1000  # about a third of the values move by an ulp
    np.testing.assert_allclose(np.asarray(unguarded), want, rtol=1e-6, atol=1e-6)
