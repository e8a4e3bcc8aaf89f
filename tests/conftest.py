"""Shared fixtures and helpers for the weightinit test suite.

Keras reads ``KERAS_BACKEND`` once, at its first import, so it is set here,
before any test module can import keras. The tests compare against the jax
backend (float32 draws, no TensorFlow needed).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

SRC = Path(__file__).resolve().parents[1] / "src"
if SRC.is_dir() and str(SRC) not in sys.path:
    # lets the suite run from a checkout without `pip install -e .`
    sys.path.insert(0, str(SRC))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import weightinit as wi  # noqa: E402

#: every class of the catalog with arguments that differ from its defaults
#: (seeded where the class is random, explicit axes as tuples and lists)
NON_DEFAULT_KWARGS: dict[str, dict[str, Any]] = {
    "Initializer": {},
    "Constant": {"value": 2.5},
    "Zeros": {},
    "Ones": {},
    "Identity": {"gain": 2.0},
    "RandomNormal": {"mean": 1.0, "stddev": 2.0, "seed": 3},
    "RandomUniform": {"minval": -1.0, "maxval": 2.0, "seed": 4},
    "TruncatedNormal": {"mean": -1.0, "stddev": 0.5, "seed": 5},
    "VarianceScaling": {
        "scale": 2.0,
        "mode": "fan_out",
        "distribution": "uniform",
        "seed": 6,
        "input_axes": [0],
        "output_axes": [1],
    },
    "GlorotNormal": {"seed": 7, "input_axes": (0,), "output_axes": (1,)},
    "GlorotUniform": {"seed": 8, "input_axes": (0,), "output_axes": [1]},
    "HeNormal": {"seed": 9},
    "HeUniform": {"seed": 10, "input_axes": [0], "output_axes": [-1]},
    "LecunNormal": {"seed": 11},
    "LecunUniform": {"seed": 12, "input_axes": [1], "output_axes": [0]},
    "Orthogonal": {"gain": 2.0, "seed": 13},
    "STFT": {"side": "imag", "window": "hamming", "scaling": "spectrum", "periodic": True},
}

CLASS_NAMES: tuple[str, ...] = tuple(NON_DEFAULT_KWARGS)
#: the 16 concrete classes (Initializer itself cannot be called)
CALLABLE_CLASS_NAMES: tuple[str, ...] = tuple(n for n in CLASS_NAMES if n != "Initializer")


def _random_class_names() -> tuple[str, ...]:
    from weightinit._random import RandomInitializer
    from weightinit._registry import FRAMEWORK_CLASSES

    names = [*CALLABLE_CLASS_NAMES, *(cls.__name__ for cls in FRAMEWORK_CLASSES)]
    return tuple(n for n in names if issubclass(getattr(wi, n), RandomInitializer))


#: every random class, Keras's and the other frameworks'
RANDOM_CLASS_NAMES = _random_class_names()


def sample_shape(init: object) -> tuple[int, ...]:
    """A small shape every built-in initializer accepts."""
    if isinstance(init, wi.STFT):
        return (4, 1, 3)
    if isinstance(init, (wi.Identity, wi.Orthogonal)):
        return (3, 4)
    return (2, 3)


def json_roundtrip(obj: Any) -> Any:
    """``obj`` after a trip through strict JSON (tuples become lists, NaN is refused)."""
    return json.loads(json.dumps(obj, allow_nan=False))


def _comparable_values(init: object) -> bool:
    """Whether two rebuilt copies must give the same numbers (not for seed=None)."""
    return getattr(init, "_init_seed", 0) is not None


def assert_same_values(a: Any, b: Any, shape: tuple[int, ...] | None = None) -> None:
    shape = sample_shape(a) if shape is None else shape
    x, y = np.asarray(a(shape)), np.asarray(b(shape))
    assert x.dtype == y.dtype and x.shape == y.shape
    np.testing.assert_array_equal(x, y)


def config_roundtrip(init: wi.Initializer) -> tuple[wi.Initializer, wi.Initializer]:
    """Rebuild ``init`` through JSON twice and check both copies.

    1. ``get_config`` -> JSON -> ``type(init).from_config``;
    2. ``wi.serialize`` -> JSON -> ``wi.deserialize``.

    Each copy must have the same class and (JSON-normalised) config as
    ``init``, and give the same values as a fresh copy when the values are
    reproducible (an int seed, or no seed; a SeedGenerator restarts at draw 0,
    so the two copies are compared with each other). Returns both copies.
    """
    config = init.get_config()
    assert isinstance(config, dict)
    text = json.dumps(config, allow_nan=False)
    via_config = type(init).from_config(json.loads(text))

    serialized = wi.serialize(init)
    assert set(serialized) == {"module", "class_name", "config", "registered_name"}
    via_serialize = wi.deserialize(json.loads(json.dumps(serialized, allow_nan=False)))

    for copy in (via_config, via_serialize):
        assert type(copy) is type(init)
        assert json_roundtrip(copy.get_config()) == json_roundtrip(config)
        assert json_roundtrip(wi.serialize(copy)) == json_roundtrip(serialized)

    if type(init) is not wi.Initializer and _comparable_values(init):
        assert_same_values(via_config, via_serialize)
        if not isinstance(getattr(init, "seed", None), wi.SeedGenerator):
            assert_same_values(init, via_config)
    return via_config, via_serialize


def make(name: str, **overrides: Any) -> wi.Initializer:
    """An instance of catalog class ``name`` with its non-default arguments (the other
    frameworks' classes: their defaults)."""
    return getattr(wi, name)(**{**NON_DEFAULT_KWARGS.get(name, {}), **overrides})


@pytest.fixture
def keras_module() -> Any:
    """``keras`` imported with the backend chosen above (skips if missing)."""
    return pytest.importorskip("keras")
