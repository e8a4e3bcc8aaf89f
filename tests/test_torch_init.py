"""weightinit.torch.init_: layouts, dtypes, in-place writes, device staging, errors, records."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import weightinit as wi  # noqa: E402
from weightinit import torch as wtorch  # noqa: E402
from weightinit._torch import _write  # noqa: E402

DTYPES = {
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.float32: "float32",
    torch.float64: "float64",
}


def _np(t: torch.Tensor) -> np.ndarray:
    t = t.detach()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(wi.initializers.get("zeros")((1,), "bfloat16").dtype)
    return t.numpy()


@pytest.mark.parametrize("dtype", list(DTYPES), ids=str)
@pytest.mark.parametrize(
    "shape,layout,perm",
    [
        ((7, 5), "torch", (1, 0)),  # Linear (out, in) <- (in, out)
        ((6, 3, 4), "torch", (2, 1, 0)),  # Conv1d (out, in, k) <- (k, in, out)
        ((6, 3, 4, 5), "torch", (3, 2, 0, 1)),
        ((2, 3, 2, 3, 4), "torch", (4, 3, 0, 1, 2)),
        ((3, 6, 4, 5), "torch_transposed", (3, 2, 0, 1)),  # ConvTranspose2d (in, out, kh, kw)
        ((9,), "torch", (0,)),
        ((11, 4), "keras", (0, 1)),
        ((), "keras", ()),
    ],
)
def test_values_are_the_engines_keras_layout_permuted(dtype, shape, layout, perm) -> None:
    for init in (wi.GlorotUniform(seed=3), wi.RandomNormal(0.5, 2.0, seed=1), wi.TruncatedNormal(seed=2)):
        t = torch.full(shape, 9.0, dtype=dtype)
        keras_shape = tuple(shape[perm.index(k)] for k in range(len(shape)))
        ref = init(keras_shape, DTYPES[dtype])
        assert wtorch.init_(t, init, layout=layout) is t
        assert _np(t).tobytes() == np.ascontiguousarray(ref.transpose(perm)).tobytes()
        assert wtorch.initializer_of(t) is init
        assert wtorch.init_record(t).layout == layout


@pytest.mark.parametrize(
    "identifier",
    [
        {"class_name": "Orthogonal", "config": {"seed": 1}},
        "ones",
        {"class_name": "Constant", "config": {"value": 2.5}},
    ],
)
def test_initializers_that_do_not_go_through_the_sampler(identifier) -> None:
    t = torch.empty(6, 4, dtype=torch.float64)
    wtorch.init_(t, identifier)
    init = wtorch.initializer_of(t)
    ref = init((4, 6), "float64").T
    np.testing.assert_array_equal(t.numpy(), ref)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=str)
def test_constants_are_filled_with_the_initializers_own_value(dtype) -> None:
    # Zeros / Ones / scalar Constant go through torch's fill_ with the value the initializer
    # makes in the dtype (0.1 and 1/3 round differently in each; True is 1)
    for init in (
        wi.Zeros(),
        wi.Ones(),
        wi.Constant(0.1),
        wi.Constant(1 / 3),
        wi.Constant(True),
        wi.Constant(-7),
        wi.Constant(0.0),
        wi.Constant(-0.0),  # equal to 0.0 as a number, not as bits
    ):
        t = torch.full((5, 3), 9.0, dtype=dtype)
        wtorch.init_(t, init)
        assert _np(t).tobytes() == init((3, 5), DTYPES[dtype]).T.copy().tobytes(), init
    half = torch.full((4,), 9.0, dtype=torch.float16)
    with pytest.raises(wi.InvalidArgumentError, match="overflows float16"):
        wtorch.init_(half, wi.Constant(1e5))
    assert (half == 9.0).all()  # untouched
    rows = torch.full((3, 4), 9.0, dtype=torch.float32)  # a Constant array is broadcast, not filled
    wtorch.init_(rows, wi.Constant([1.0, 2.0, 3.0, 4.0]), layout="keras")
    assert _np(rows).tolist() == [[1.0, 2.0, 3.0, 4.0]] * 3


def test_any_callable_and_torch_results() -> None:
    t = torch.empty(3, 2)
    wtorch.init_(t, lambda shape, dtype=None: np.arange(6, dtype=np.float64).reshape(shape))
    assert t.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]  # Keras (2, 3) arange, transposed
    wtorch.init_(t, lambda shape, dtype=None: torch.ones(shape, dtype=torch.bfloat16), layout="keras")
    assert (t == 1).all()
    with pytest.raises(ValueError, match="returned shape"):
        wtorch.init_(t, lambda shape, dtype=None: np.zeros((5,)))
    assert (t == 1).all()


def test_writes_in_place_into_strided_tensors_and_parameters() -> None:
    big = torch.zeros(8, 10)
    view = big[1:6, 2:9]  # non-contiguous
    wtorch.init_(view, wi.HeUniform(seed=1))
    assert np.array_equal(view.numpy(), wi.HeUniform(seed=1)((7, 5)).T)
    assert (big[0] == 0).all() and (big[:, :2] == 0).all() and (big[:, 9:] == 0).all()
    p = torch.nn.Parameter(torch.zeros(4, 3))
    ptr, version = p.data_ptr(), p._version
    wtorch.init_(p, "glorot_uniform")
    assert p.data_ptr() == ptr and p._version > version and p.requires_grad and p.abs().sum() > 0
    (p.sum() * 2).backward()  # still a leaf that autograd uses normally
    assert torch.equal(p.grad, torch.full((4, 3), 2.0))


def test_no_temporary_of_the_tensor_size_on_the_cpu() -> None:
    w = torch.empty(2048, 1024)  # 8 MiB, Linear layout (transposing)
    wtorch.init_(w, wi.GlorotUniform(seed=0))  # warm-up (imports, caches)
    for layout in ("torch", "keras"):
        tracemalloc.start()
        wtorch.init_(w, wi.GlorotUniform(seed=0), layout=layout)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < (3 << 19), (layout, peak)  # the 1 MiB scratch at most, never 8 MiB
    assert np.array_equal(w.numpy(), wi.GlorotUniform(seed=0)((2048, 1024)))


def test_staged_copy_matches_in_small_chunks() -> None:
    values = wi.RandomNormal(seed=4)((33, 17, 5), "float32")
    dst = torch.zeros(5, 17, 33).permute(2, 1, 0)  # a non-contiguous destination
    _write._to_device(values, dst, stage_bytes=1000)
    assert np.array_equal(dst.numpy(), values)
    small = torch.zeros(3, 2, dtype=torch.bfloat16)
    vals = wi.RandomUniform(seed=1)((3, 2), "bfloat16")
    _write._to_device(vals, small, stage_bytes=4)
    assert _np(small).tobytes() == vals.tobytes()


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool, torch.complex64, torch.uint8])
def test_non_float_tensors_are_refused_untouched(dtype) -> None:
    t = torch.zeros(3, 4, dtype=dtype)
    with pytest.raises(TypeError, match="floating tensors"):
        wtorch.init_(t, "glorot_uniform")
    assert not t.any()


@pytest.mark.parametrize(
    "shape,layout,match",
    [
        ((3, 4), "tf", "must be one of"),
        ((3, 4), "Torch", "must be one of"),
        ((), "torch", "rank >= 2"),
        ((3, 4), "torch_transposed", "rank >= 3"),
        ((4,), "torch_transposed", "rank >= 3"),
    ],
)
def test_bad_layouts_are_refused_untouched(shape, layout, match) -> None:
    t = torch.full(shape, 5.0)
    with pytest.raises(ValueError, match=match):
        wtorch.init_(t, "glorot_uniform", layout=layout)
    assert (t == 5).all()
    with pytest.raises(TypeError, match="layout"):
        wtorch.init_(t, "glorot_uniform", layout=1)  # type: ignore[arg-type]


def test_other_errors_leave_the_tensor_untouched() -> None:
    t = torch.full((5,), 3.0)
    with pytest.raises(ValueError, match="two-dimensional"):
        wtorch.init_(t, "orthogonal", layout="keras")
    with pytest.raises(ValueError, match=r"Unknown|unknown|not"):
        wtorch.init_(t, "no_such_initializer")
    with pytest.raises(ValueError, match="must name an initializer"):
        wtorch.init_(t, None)
    assert (t == 3).all()
    expanded = torch.zeros(1, 3).expand(4, 3)
    with pytest.raises(ValueError, match="share memory"):
        wtorch.init_(expanded, "glorot_uniform")
    assert not expanded.any()
    with pytest.raises(ValueError, match="meta device"):
        wtorch.init_(torch.empty(3, 4, device="meta"), "glorot_uniform")
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        wtorch.init_(np.zeros((3, 4)), "glorot_uniform")  # type: ignore[arg-type]
    assert wtorch.initializer_of(t) is None


def test_seed_generator_advances_per_call_and_unseeded_reuse_warns() -> None:
    gen = wi.RandomNormal(seed=wi.SeedGenerator(5))
    a, b = torch.empty(4, 3), torch.empty(4, 3)
    wtorch.init_(a, gen)
    wtorch.init_(b, gen)
    assert not torch.equal(a, b)
    unseeded = wi.GlorotUniform()
    wtorch.init_(a, unseeded)
    with pytest.warns(wi.UnseededReuseWarning):
        wtorch.init_(b, unseeded)
    assert torch.equal(a, b)


def test_records_die_with_their_tensor_and_never_pass_to_a_new_one() -> None:
    from weightinit._torch import _records

    init = wi.GlorotUniform(seed=3)
    kept = [torch.empty(5, 4) for _ in range(3)]
    for t in kept:
        wtorch.init_(t, init)
        wtorch.init_(t, init)  # a second record of the same tensor replaces the first
    before = len(_records._RECORDS)
    doomed = torch.empty(6, 2)
    wtorch.init_(doomed, init)
    assert len(_records._RECORDS) == before + 1
    key = id(doomed)
    del doomed  # the entry goes with the tensor (reference counting: at once)
    assert key not in _records._RECORDS and len(_records._RECORDS) == before
    fresh = [torch.empty(6, 2) for _ in range(200)]  # some may reuse the freed id
    assert all(wtorch.initializer_of(t) is None for t in fresh)
    assert all(wtorch.initializer_of(t) is init for t in kept)


def test_records_follow_the_parameter_object() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = torch.nn.Linear(4, 3)
    assert wtorch.initializer_of(model.weight) is None  # torch's own init is not recorded
    init = wi.HeNormal(seed=1)
    wtorch.init_(model.weight, init)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    assert wtorch.initializer_of(sd["weight"]) is None  # values travel, provenance does not
    model.load_state_dict(sd)  # copies into the same parameter object
    assert wtorch.initializer_of(model.weight) is init
    with torch.no_grad():
        model.weight.mul_(0.5)  # like a training step: still initialized by init
    assert wtorch.initializer_of(model.weight) is init
    with torch.device("meta"):
        meta = torch.nn.Linear(4, 3)
    meta.to_empty(device="cpu")  # new parameter objects, uninitialized memory
    assert wtorch.initializer_of(meta.weight) is None
