"""The framework initializers in the catalog machinery: names, configs, index=, dtypes, size cap, seeds."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import conftest
import weightinit as wi
from _support import readme_blocks
from conftest import config_roundtrip
from weightinit._registry import BUILTIN_KEYS, FRAMEWORK_CLASSES, FRAMEWORK_KEYS

#: every framework class with non-default arguments (seeded where random)
FRAMEWORK_KWARGS: dict[str, dict[str, Any]] = {
    "KaimingUniform": {"a": 0.1, "mode": "fan_out", "nonlinearity": "leaky_relu", "seed": 21},
    "KaimingNormal": {
        "a": 0.0,
        "mode": "fan_in",
        "nonlinearity": "tanh",
        "seed": 22,
        "input_axes": [0],
        "output_axes": [1],
    },
    "XavierUniform": {"gain": 5.0 / 3, "seed": 23},
    "XavierNormal": {"gain": 2.0, "seed": 24, "input_axes": (1,), "output_axes": (0,)},
    "TorchTruncNormal": {"mean": 0.5, "std": 2.0, "a": -1.0, "b": 4.0, "seed": 25},
    "Dirac": {"groups": 2},
    "Eye": {},
    "Sparse": {"sparsity": 0.3, "std": 0.5, "seed": 26},
    "TorchOrthogonal": {"gain": 2.0, "seed": 27},
    "TorchDefault": {"layer": "linear", "parameter": "bias", "fan_in": 48, "seed": 28},
    "JaxVarianceScaling": {
        "scale": 2.0,
        "mode": "fan_geo_avg",
        "distribution": "uniform",
        "in_axis": 0,
        "out_axis": [1],
        "batch_axis": (),
        "seed": 29,
    },
    "JaxTruncatedNormal": {"stddev": 0.3, "lower": -1.0, "upper": 3.0, "seed": 30},
    "JaxUniform": {"scale": 4.0, "seed": 31},
    "JaxOrthogonal": {"scale": 1.5, "column_axis": 0, "seed": 32},
    "DeltaOrthogonal": {"scale": 0.5, "column_axis": -1, "seed": 33},
    "TimmTruncNormalTF": {"mean": -1.0, "std": 0.25, "a": -3.0, "b": 1.0, "seed": 34},
}
NAMES = tuple(FRAMEWORK_KWARGS)
RANDOM = tuple(n for n in NAMES if n not in ("Dirac", "Eye"))


def make(name: str, **overrides: Any) -> wi.Initializer:
    return getattr(wi, name)(**{**FRAMEWORK_KWARGS[name], **overrides})


def shape_for(name: str) -> tuple[int, ...]:
    """A small shape every class accepts (Dirac / DeltaOrthogonal need 3-D, Sparse and Eye 2-D)."""
    if name in ("Dirac", "DeltaOrthogonal"):
        return (3, 4, 6)
    if name in ("Sparse", "Eye", "KaimingNormal", "XavierNormal", "JaxVarianceScaling"):
        return (12, 10)
    return (3, 5, 7)


def test_the_list_covers_every_framework_class() -> None:
    assert sorted(cls.__name__ for cls in FRAMEWORK_CLASSES) == sorted(NAMES)
    assert len(FRAMEWORK_CLASSES) == 16


@pytest.mark.parametrize("name", NAMES)
def test_registered_under_the_weightinit_namespace_only(name: str) -> None:
    cls = getattr(wi, name)
    assert FRAMEWORK_KEYS[f"weightinit>{name}"] is cls
    assert wi.get(f"weightinit>{name}").__class__ is cls
    # no bare or snake_case name: a Keras config never meets one, and none can collide with Keras
    assert name not in BUILTIN_KEYS
    for bare in (name, "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")):
        with pytest.raises(wi.UnknownInitializerError):
            wi.get(bare)


@pytest.mark.parametrize("name", NAMES)
def test_serialize_names_the_namespace_and_a_non_keras_module(name: str) -> None:
    cfg = wi.serialize(make(name))
    assert cfg["registered_name"] == f"weightinit>{name}"
    assert cfg["class_name"] == name
    assert cfg["module"] == "weightinit.initializers"
    assert not cfg["module"].startswith("keras")
    json.dumps(cfg, allow_nan=False)


@pytest.fixture
def shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest's value comparison on a shape each framework class accepts (Dirac needs 3-D)."""
    monkeypatch.setattr(conftest, "sample_shape", lambda init: shape_for(type(init).__name__))


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name: str, shapes: None) -> None:
    config_roundtrip(make(name))


@pytest.mark.parametrize("name", NAMES)
def test_default_config_round_trip(name: str, shapes: None) -> None:
    via_config, via_serialize = config_roundtrip(getattr(wi, name)())
    default = conftest.json_roundtrip(getattr(wi, name)().get_config())
    assert conftest.json_roundtrip(via_config.get_config()) == default
    assert conftest.json_roundtrip(via_serialize.get_config()) == default


def test_deserialize_refuses_a_framework_name_as_a_keras_builtin() -> None:
    with pytest.raises(wi.UnknownInitializerError):
        wi.deserialize({"module": "keras.initializers", "class_name": "KaimingUniform", "config": {}})


def test_deserialize_checks_config_keys() -> None:
    with pytest.raises(TypeError):
        wi.deserialize(
            {
                "class_name": "KaimingUniform",
                "registered_name": "weightinit>KaimingUniform",
                "module": "weightinit.initializers",
                "config": {"bogus": 1},
            }
        )


def test_the_weightinit_package_is_reserved() -> None:
    with pytest.raises(wi.InvalidArgumentError, match="reserved"):

        @wi.register_initializer(package="weightinit")
        class KaimingUniform(wi.Initializer):  # would shadow ours
            def get_config(self) -> dict[str, Any]:
                return {}


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("name", NAMES)
def test_index_is_bitwise_the_slice_of_the_whole(name: str, dtype: str) -> None:
    init = make(name)
    shape = shape_for(name)
    whole = init(shape, dtype=dtype)
    assert whole.shape == shape and whole.dtype.name == dtype
    for index in (
        (slice(1, 3),),
        (slice(None), slice(2, 4)),
        tuple(slice(1, d) for d in shape),
        tuple(slice(d // 2, d // 2) for d in shape),
    ):
        part = init(shape, dtype=dtype, index=index)
        expected = whole[index]
        assert part.shape == expected.shape and part.dtype == expected.dtype
        assert part.tobytes() == np.ascontiguousarray(expected).tobytes()


@pytest.mark.parametrize("name", RANDOM)
def test_random_ones_refuse_integer_dtypes(name: str) -> None:
    with pytest.raises(wi.InvalidTypeError):
        make(name)(shape_for(name), dtype="int32")


@pytest.mark.parametrize("name", ["Dirac", "Eye"])
def test_deterministic_ones_give_any_dtype(name: str) -> None:
    for dtype in ("int8", "bool", "complex64", "float16"):
        out = make(name)(shape_for(name), dtype=dtype)
        assert out.dtype == np.dtype(dtype)
        assert np.abs(out.astype(np.complex128)).sum() > 0


@pytest.mark.parametrize("name", NAMES)
def test_size_cap_refuses_before_allocating(name: str) -> None:
    try:
        wi.set_max_bytes(1000)
        big = {"Dirac": (3, 300, 300), "DeltaOrthogonal": (3, 300, 300)}.get(name, (300, 300))
        with pytest.raises(wi.ResourceLimitError):
            make(name)(big)
    finally:
        wi.set_max_bytes(None)  # back to the default (re-setting the old value would pin it)


@pytest.mark.parametrize("name", RANDOM)
def test_seeds_follow_keras(name: str) -> None:
    shape = shape_for(name)
    a, b = make(name), make(name)
    np.testing.assert_array_equal(a(shape), b(shape))
    np.testing.assert_array_equal(a(shape), a(shape))
    other = make(name, seed=FRAMEWORK_KWARGS[name]["seed"] + 1000)
    assert not np.array_equal(other(shape), a(shape))
    gen = make(name, seed=wi.SeedGenerator(5))
    first, second = gen(shape), gen(shape)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("name", RANDOM)
def test_unseeded_reuse_warns(name: str) -> None:
    init = make(name, seed=None)
    init(shape_for(name))
    with pytest.warns(wi.UnseededReuseWarning) as record:
        init(shape_for(name))
    assert record[0].filename == __file__  # the warning points at the caller's line


def test_complex_dtypes_round_trip_through_index() -> None:
    for distribution in ("normal", "uniform", "truncated_normal"):
        init = wi.JaxVarianceScaling(1.0, "fan_avg", distribution, seed=3)
        for dtype in ("complex64", "complex128"):
            whole = init((6, 9), dtype=dtype)
            assert whole.dtype == np.dtype(dtype) and np.iscomplexobj(whole)
            part = init((6, 9), dtype=dtype, index=(slice(2, 5), slice(1, 8)))
            assert part.tobytes() == np.ascontiguousarray(whole[2:5, 1:8]).tobytes()


def test_complex_is_refused_where_jax_has_none() -> None:
    with pytest.raises(wi.InvalidTypeError):
        wi.KaimingNormal(seed=0)((3, 3), dtype="complex64")


@pytest.mark.parametrize(
    ("build", "shape", "pattern"),
    [
        (lambda: wi.KaimingUniform(mode="fan_avg"), None, "mode"),
        (lambda: wi.KaimingUniform(nonlinearity="gelu"), None, "nonlinearity"),
        (lambda: wi.KaimingUniform(a=float("nan")), None, "finite"),
        (lambda: wi.KaimingUniform(seed=0), (5,), "fewer than 2"),
        (lambda: wi.XavierNormal(seed=0), (), "fewer than 2"),
        (lambda: wi.TorchTruncNormal(a=1.0, b=1.0), None, "must be <"),
        (lambda: wi.TorchTruncNormal(std=0.0), None, "positive"),
        (lambda: wi.TorchTruncNormal(a=50.0, b=60.0, seed=0), (4,), "37 standard deviations"),
        (lambda: wi.Dirac(groups=0), None, ">= 1"),
        (lambda: wi.Dirac(groups=True), None, "int"),
        (lambda: wi.Dirac(), (3, 3), "3, 4, or 5"),
        (lambda: wi.Dirac(groups=2), (3, 2, 3), "divisible"),
        (lambda: wi.Eye(), (2, 2, 2), "2D"),
        (lambda: wi.Sparse(sparsity=1.5), None, r"\[0, 1\]"),
        (lambda: wi.Sparse(seed=0), (4,), "2 dimensions"),
        (lambda: wi.TorchOrthogonal(seed=0), (4,), "2 or more"),
        (lambda: wi.TorchDefault(layer="lstm"), None, "layer"),
        (lambda: wi.TorchDefault(layer="norm", parameter="gamma"), None, "parameter"),
        (lambda: wi.TorchDefault(layer="linear", parameter="bias"), None, "fan_in"),
        (lambda: wi.TorchDefault(layer="rnn"), None, "hidden_size"),
        (lambda: wi.TorchDefault(layer="linear", hidden_size=3), None, "rnn"),
        (lambda: wi.TorchDefault(layer="embedding", padding_idx=9, seed=0), (4, 3), "padding_idx"),
        (lambda: wi.JaxVarianceScaling(mode="fan_sum"), None, "mode"),
        (lambda: wi.JaxVarianceScaling(distribution="untruncated_normal"), None, "distribution"),
        (lambda: wi.JaxVarianceScaling(in_axis=1.5), None, "in_axis"),
        (lambda: wi.JaxVarianceScaling(seed=0), (7,), "at least 2D"),
        (lambda: wi.JaxVarianceScaling(in_axis=3, seed=0), (2, 2), "out of range"),
        (lambda: wi.JaxTruncatedNormal(lower=2.0, upper=-2.0), None, "must be <"),
        (lambda: wi.JaxUniform(scale=-1.0), None, ">= 0"),
        (lambda: wi.JaxOrthogonal(seed=0), (5,), "2D"),
        (lambda: wi.JaxOrthogonal(column_axis=2, seed=0), (3, 3), "out of range"),
        (lambda: wi.DeltaOrthogonal(seed=0), (3, 3), "3D, 4D or 5D"),
        (lambda: wi.DeltaOrthogonal(seed=0), (3, 5, 4), "less or equal"),
        (lambda: wi.TimmTruncNormalTF(std=-1.0), None, "positive"),
        (lambda: wi.calculate_gain("gelu"), None, "Unsupported nonlinearity"),
    ],
)
def test_bad_arguments_raise_clear_errors(build: Any, shape: Any, pattern: str) -> None:
    with pytest.raises((ValueError, TypeError), match=pattern) as info:
        init = build()
        if shape is not None:
            init(shape)
    assert isinstance(info.value, wi.WeightinitError)


def test_calculate_gain_rejects_a_bool_slope() -> None:
    with pytest.raises(wi.InvalidTypeError, match="param"):
        wi.calculate_gain("leaky_relu", True)  # type: ignore[arg-type]
    assert wi.calculate_gain("relu", "ignored") == math.sqrt(2.0)  # type: ignore[arg-type]


def test_zero_size_shapes_give_empty_arrays() -> None:
    for init, shape in (
        (wi.KaimingUniform(seed=0), (0, 4)),
        (wi.KaimingNormal(seed=0), (3, 0)),
        (wi.XavierUniform(seed=0), (0, 0)),
        (wi.JaxVarianceScaling(seed=0), (0, 5)),
        (wi.JaxOrthogonal(seed=0), (0, 3)),
        (wi.TorchOrthogonal(seed=0), (4, 0)),
        (wi.Sparse(seed=0), (0, 3)),
        (wi.TorchTruncNormal(seed=0, a=0.0, b=1.0), (0,)),
    ):
        out = init(shape)
        assert out.shape == shape and out.size == 0


DOCS = Path(__file__).resolve().parents[1] / "docs" / "frameworks.md"


def test_the_readme_section_runs() -> None:
    code = "\n".join(readme_blocks("Initializers from torch, JAX and timm"))
    assert "TorchDefault" in code
    exec(compile(code, "README.md", "exec"), {})


def test_the_docs_table_names_every_class() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in NAMES:
        assert f"`{name}" in text, name


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_an_adapters_strided_target_gets_the_same_values(name: str, dtype: str) -> None:
    """``writing_into`` (how weightinit.torch fills a tensor in place): same bits as a plain call."""
    from weightinit._engine import writing_into

    shape = shape_for(name)
    expected = make(name)(shape, dtype=dtype)
    buf = np.zeros(shape[::-1], dtype=dtype).T  # a strided view, like a permuted torch tensor
    with writing_into(buf):
        got = make(name)(shape, dtype=dtype)
    if got is not buf:  # the adapter copies what the engine did not write in place
        buf[...] = got
    np.testing.assert_array_equal(np.ascontiguousarray(buf).view(np.uint8), expected.view(np.uint8))


@st.composite
def _shard_problems(draw: Any) -> tuple[str, tuple[int, ...], str, int, list[int]]:
    name = draw(st.sampled_from(NAMES))
    dims = st.integers(1, 7)
    if name in ("Dirac", "DeltaOrthogonal"):
        k = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
        io = draw(st.tuples(dims, dims))
        shape = (*k, min(io), max(io) * (2 if name == "Dirac" else 1))
    elif name in ("Sparse", "Eye"):
        shape = (draw(dims), draw(dims))
    else:
        shape = tuple(draw(st.lists(dims, min_size=2, max_size=4)))
    axis = draw(st.integers(0, len(shape) - 1))
    cuts = sorted(draw(st.lists(st.integers(0, shape[axis]), max_size=3)))
    return (
        name,
        shape,
        draw(st.sampled_from(["float32", "float64", "bfloat16"])),
        axis,
        [0, *cuts, shape[axis]],
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_shard_problems())
def test_shards_along_any_axis_reassemble_bitwise(
    problem: tuple[str, tuple[int, ...], str, int, list[int]],
) -> None:
    name, shape, dtype, axis, points = problem
    init = make(name)
    lead = (slice(None),) * axis
    shards = [init(shape, dtype, index=(*lead, slice(a, b))) for a, b in itertools.pairwise(points)]
    whole = init(shape, dtype)
    assert np.concatenate(shards, axis=axis).tobytes() == whole.tobytes()


def test_the_unseeded_reuse_warning_points_at_the_callers_line() -> None:
    for dtype in ("float32", "complex64"):
        init = wi.JaxVarianceScaling(distribution="uniform")
        init((4, 4), dtype=dtype)
        with pytest.warns(wi.UnseededReuseWarning) as record:
            init((4, 4), dtype=dtype)
        assert record[0].filename == __file__
