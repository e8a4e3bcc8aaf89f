"""Hypothesis strategies for hostile inputs to weightinit's entry points.

Each strategy mixes well-formed values (so that deep code is reached) with
every kind of malformed one a config or a caller can carry: wrong types, huge
and negative numbers, NaN/inf, deep nesting, unknown keys, huge strings.
"""

from __future__ import annotations

import inspect
import math
import os
import string
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import weightinit as wi
from weightinit._registry import BUILTIN_CLASSES, BUILTIN_KEYS

try:  # the initializers of other frameworks, where this version has them
    from weightinit._registry import FRAMEWORK_CLASSES, FRAMEWORK_KEYS
except ImportError:  # pragma: no cover
    FRAMEWORK_CLASSES, FRAMEWORK_KEYS = (), {}

__all__ = [
    "FUZZ",
    "ALL_CLASSES",
    "argv",
    "configs",
    "dtypes",
    "identifiers",
    "indexes",
    "initializers",
    "json_values",
    "numbers",
    "shapes",
]

#: the budget of each property: ``WEIGHTINIT_FUZZ_PROFILE=ci`` (default, part of the normal test
#: run) or ``long`` (a documented command: ``WEIGHTINIT_FUZZ_PROFILE=long python -m pytest fuzz -q``).
#: Applied per test (not as a global profile, which would change the other suites' Hypothesis tests).
_PROFILES = {"ci": (300, 5000), "long": (30000, 10000)}
_examples, _deadline = _PROFILES[os.environ.get("WEIGHTINIT_FUZZ_PROFILE", "ci")]
FUZZ = settings(
    max_examples=_examples,
    deadline=_deadline,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    database=None,  # no replay of examples saved by an older version of the strategies
    print_blob=True,
)

ALL_CLASSES: tuple[type, ...] = tuple(
    c for c in (*BUILTIN_CLASSES, *FRAMEWORK_CLASSES) if c is not wi.Initializer
)
NAMES: tuple[str, ...] = tuple(sorted({*BUILTIN_KEYS, *FRAMEWORK_KEYS}))

#: numbers at the edges: zero, signs, float limits, NaN/inf, huge ints, numpy-hostile values
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63 - 1, 2**63, 2**64, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [0.0, -0.0, 5e-324, 1e-300, 1e300, 1.7976931348623157e308, math.inf, -math.inf, math.nan]
    ),
    st.booleans(),
)

_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(NAMES),
    st.sampled_from(
        ["", "fan_in", "fan_out", "fan_avg", "uniform", "normal", "truncated_normal", "hann", "real"]
    ),
    st.just("x" * 5000),
)

#: JSON-like values, nested up to a few levels (and occasionally very deep, built directly)
json_values = st.recursive(
    st.one_of(st.none(), numbers, _text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(_text, st.integers()), inner, max_size=5),
    ),
    max_leaves=20,
)

#: keys that the catalog's constructors know, so that configs pass the key check and reach the
#: argument validation
_CONFIG_KEYS = (
    "seed",
    "mean",
    "stddev",
    "minval",
    "maxval",
    "scale",
    "mode",
    "distribution",
    "gain",
    "value",
    "input_axes",
    "output_axes",
    "side",
    "window",
    "scaling",
    "periodic",
    "a",
    "b",
    "std",
    "nonlinearity",
    "groups",
    "sparsity",
    "lower",
    "upper",
    "in_axis",
    "out_axis",
    "batch_axis",
    "column_axis",
    "role",
    "dtype",
)


@st.composite
def configs(draw: st.DrawFn) -> Any:
    """A Keras 3 or Keras 2 config dict (mostly), sometimes a bare name or junk."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(json_values)
    if kind == 1:
        return draw(identifiers)
    class_name = draw(st.one_of(st.sampled_from(NAMES), _text, st.integers()))
    config = draw(
        st.one_of(
            st.dictionaries(
                st.sampled_from(_CONFIG_KEYS), st.one_of(numbers, _text, json_values), max_size=4
            ),
            json_values,
        )
    )
    out: dict[Any, Any] = {"class_name": class_name, "config": config}
    if kind >= 5:  # Keras 3 form
        out["module"] = draw(
            st.one_of(
                st.sampled_from(["keras.initializers", "keras", "weightinit", "os", "builtins", None]), _text
            )
        )
        out["registered_name"] = draw(st.one_of(st.none(), st.sampled_from(NAMES), _text))
    if kind == 9:
        out.update(draw(st.dictionaries(_text, json_values, max_size=2)))
    return out


identifiers = st.one_of(st.sampled_from(NAMES), _text, st.none(), numbers)

#: shapes: mostly small (values are really generated), sometimes huge or malformed
shapes = st.one_of(
    st.lists(st.integers(0, 6), max_size=4).map(tuple),
    st.lists(st.integers(0, 6), max_size=4),
    st.lists(st.one_of(st.integers(-3, 2**64), numbers, st.none(), st.text(max_size=3)), max_size=5).map(
        tuple
    ),
    st.sampled_from([(2**62, 2**62), (0, 2**62), (2**61, 0), (1,) * 65, (), (3, 3, 3, 3, 3)]),
    json_values,
)

_bound = st.one_of(
    st.none(), st.integers(-2, 8), st.sampled_from([2**63, -(2**63), 10**30]), st.floats(0, 4), st.booleans()
)
_slice = st.builds(slice, _bound, _bound, st.one_of(st.none(), st.sampled_from([1, 2, -1, 0, True, 1.0])))
indexes = st.one_of(
    st.none(),
    st.lists(_slice, max_size=4).map(tuple),
    st.lists(st.one_of(_slice, st.integers(-1, 3), st.none(), st.just(Ellipsis)), max_size=4).map(tuple),
    st.lists(_slice, max_size=3),  # a list, not a tuple
)

dtypes = st.one_of(
    st.sampled_from(["float16", "bfloat16", "float32", "float64", None]),
    st.sampled_from(
        ["int8", "uint8", "int64", "bool", "complex64", ">f4", "<f8", "float128", "str", "object", "V8"]
    ),
    st.sampled_from([float, int, bool, complex, "float8_e4m3fn"]),
    _text,
    numbers,
)


@st.composite
def initializers(draw: st.DrawFn) -> Any:
    """An instance of a catalog class built from fuzzed arguments (its defaults where they are refused)."""
    cls = draw(st.sampled_from(ALL_CLASSES))
    accepted = [p for p in inspect.signature(cls).parameters if p not in ("self", "kwargs")]
    kwargs: dict[str, Any] = {}
    if accepted:
        values = st.one_of(numbers, _text, json_values)
        kwargs = draw(st.dictionaries(st.sampled_from(accepted), values, max_size=3))
    # seed=None would take a seed from Python's `random` while Hypothesis draws: give one instead
    fallback = {"seed": draw(st.integers(0, 2**64 - 1))} if "seed" in accepted else {}
    if "seed" in accepted and kwargs.get("seed") is None:
        kwargs["seed"] = fallback["seed"]
    try:
        return cls(**kwargs)
    except wi.WeightinitError:
        return cls(**fallback)  # the arguments were refused cleanly: the class's defaults


_word = st.text(alphabet=string.ascii_letters + string.digits + "_-=.,()'\"{}[]:@ ", max_size=12)

#: command lines: the real subcommands and options with small, mostly valid values, plus junk
argv = st.lists(
    st.one_of(
        st.sampled_from(["list", "show", "compare", "advise", "propagate", "--json", "--quiet", "--ascii"]),
        st.sampled_from(
            ["--shape", "--seed", "--dtype", "--arg", "--bins", "--max-sample", "--depth", "--width"]
        ),
        st.sampled_from(["--batch", "--activation", "--layer", "relu", "gelu", "dense", "conv", "tanh"]),
        st.sampled_from(NAMES),
        st.sampled_from(
            ["3", "0", "-1", "8", "4x4", "2,3", "1e3", "nan", "float16", "int8", "scale=2.0", "mode=fan_out"]
        ),
        st.sampled_from(
            ["RandomNormal(stddev=2.0)", "VarianceScaling(0.5, mode='fan_avg')", '{"class_name": "Zeros"}']
        ),
        _word,
    ),
    max_size=9,
)
