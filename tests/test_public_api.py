"""The public surface: ``weightinit.initializers`` mirrors ``keras.initializers``; ``__all__`` is pinned."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import weightinit as wi
from weightinit import initializers

#: ``dir(keras.initializers)`` minus dunders, Keras 3.15.1 (spec section 1.1)
KERAS_PUBLIC_NAMES = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "IdentityInitializer",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "OrthogonalInitializer",
    "RandomNormal",
    "RandomUniform",
    "STFT",
    "STFTInitializer",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "constant",
    "deserialize",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "serialize",
    "stft",
    "truncated_normal",
    "variance_scaling",
    "zeros",
]

CLASSES = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "STFT",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
]

#: the classes with torch.nn.init / jax.nn.initializers / timm semantics (docs/frameworks.md), public in
#: both ``weightinit`` and ``weightinit.initializers``, named ``"weightinit>Name"`` in configs
FRAMEWORK_CLASSES = [
    "DeltaOrthogonal",
    "Dirac",
    "Eye",
    "JaxOrthogonal",
    "JaxTruncatedNormal",
    "JaxUniform",
    "JaxVarianceScaling",
    "KaimingNormal",
    "KaimingUniform",
    "Sparse",
    "TimmTruncNormalTF",
    "TorchDefault",
    "TorchOrthogonal",
    "TorchTruncNormal",
    "XavierNormal",
    "XavierUniform",
]

#: alias -> the class it must *be*
ALIASES = {
    "IdentityInitializer": "Identity",
    "OrthogonalInitializer": "Orthogonal",
    "STFTInitializer": "STFT",
    "constant": "Constant",
    "zeros": "Zeros",
    "ones": "Ones",
    "identity": "Identity",
    "random_normal": "RandomNormal",
    "random_uniform": "RandomUniform",
    "truncated_normal": "TruncatedNormal",
    "variance_scaling": "VarianceScaling",
    "glorot_normal": "GlorotNormal",
    "glorot_uniform": "GlorotUniform",
    "he_normal": "HeNormal",
    "he_uniform": "HeUniform",
    "lecun_normal": "LecunNormal",
    "lecun_uniform": "LecunUniform",
    "orthogonal": "Orthogonal",
    "stft": "STFT",
}

#: ``weightinit.__all__``, pinned: adding or removing a public name is a decision
WEIGHTINIT_ALL = [
    "STFT",
    "STREAM_VERSION",
    "ConfigError",
    "Constant",
    "DeltaOrthogonal",
    "Dirac",
    "Eye",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "InvalidArgumentError",
    "InvalidTypeError",
    "JaxOrthogonal",
    "JaxTruncatedNormal",
    "JaxUniform",
    "JaxVarianceScaling",
    "KaimingNormal",
    "KaimingUniform",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "ResourceLimitError",
    "SeedGenerator",
    "Sparse",
    "TimmTruncNormalTF",
    "TorchDefault",
    "TorchOrthogonal",
    "TorchTruncNormal",
    "TruncatedNormal",
    "UnknownInitializerError",
    "UnsafeConfigError",
    "UnseededReuseWarning",
    "VarianceScaling",
    "WeightinitError",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "__version__",
    "calculate_gain",
    "compute_fans",
    "deserialize",
    "engine_info",
    "floatx",
    "get",
    "get_max_bytes",
    "initializers",
    "inspect_model",
    "register_initializer",
    "serialize",
    "set_floatx",
    "set_max_bytes",
]

FORBIDDEN_ON_IMPORT = ("torch", "jax", "jaxlib", "tensorflow", "keras", "matplotlib", "scipy")


def _public(module: object) -> list[str]:
    return sorted(name for name in dir(module) if not name.startswith("_"))


def test_initializers_public_names_are_the_39_keras_names_and_the_framework_classes() -> None:
    assert len(KERAS_PUBLIC_NAMES) == 39
    assert len(FRAMEWORK_CLASSES) == 16
    assert _public(initializers) == sorted(KERAS_PUBLIC_NAMES + FRAMEWORK_CLASSES)


def test_initializers_dunder_all_matches_the_public_names() -> None:
    assert sorted(initializers.__all__) == sorted(KERAS_PUBLIC_NAMES + FRAMEWORK_CLASSES)
    assert len(set(initializers.__all__)) == len(initializers.__all__)


def test_initializers_public_names_match_installed_keras() -> None:
    keras = pytest.importorskip("keras")
    keras_names = sorted(n for n in dir(keras.initializers) if not (n.startswith("__") and n.endswith("__")))
    assert keras_names == sorted(KERAS_PUBLIC_NAMES)
    assert not set(keras_names) & set(FRAMEWORK_CLASSES)  # no framework class shadows a Keras name
    assert sorted(set(_public(initializers)) - set(FRAMEWORK_CLASSES)) == keras_names


@pytest.mark.parametrize("name", FRAMEWORK_CLASSES)
def test_framework_classes_are_public_in_both_modules(name: str) -> None:
    cls = getattr(wi, name)
    assert getattr(initializers, name) is cls
    assert isinstance(cls, type) and issubclass(cls, wi.Initializer) and cls.__name__ == name
    assert cls.__module__ == "weightinit.initializers"


def test_initializers_classes_and_their_kinds() -> None:
    assert len(CLASSES) == 17
    assert len(ALIASES) == 19
    assert sorted([*CLASSES, *ALIASES, "get", "serialize", "deserialize"]) == sorted(KERAS_PUBLIC_NAMES)
    for name in CLASSES:
        cls = getattr(initializers, name)
        assert isinstance(cls, type) and cls.__name__ == name
        assert issubclass(cls, initializers.Initializer)
    for name in ("get", "serialize", "deserialize"):
        assert callable(getattr(initializers, name))
        assert not isinstance(getattr(initializers, name), type)


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_every_alias_is_its_class(alias: str) -> None:
    cls = getattr(initializers, ALIASES[alias])
    assert getattr(initializers, alias) is cls


@pytest.mark.parametrize("name", [*CLASSES, "get", "serialize", "deserialize"])
def test_initializers_names_are_the_top_level_objects(name: str) -> None:
    assert getattr(initializers, name) is getattr(wi, name)


def test_presets_are_variance_scaling_subclasses() -> None:
    for name in ("GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform"):
        assert issubclass(getattr(wi, name), wi.VarianceScaling)
        assert isinstance(getattr(wi, name)(seed=0), wi.VarianceScaling)


def test_dunder_all_is_pinned() -> None:
    assert list(wi.__all__) == WEIGHTINIT_ALL


def test_dunder_all_has_no_duplicates_and_every_name_exists() -> None:
    assert len(set(wi.__all__)) == len(wi.__all__)
    missing = [name for name in wi.__all__ if not hasattr(wi, name)]
    assert missing == []


def test_star_import_gives_exactly_dunder_all() -> None:
    namespace: dict[str, object] = {}
    exec("from weightinit import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(WEIGHTINIT_ALL)


def test_exceptions_subclass_the_builtin_exceptions() -> None:
    assert issubclass(wi.WeightinitError, Exception)
    assert issubclass(wi.InvalidArgumentError, ValueError)
    assert issubclass(wi.InvalidTypeError, TypeError)
    for name in ("ConfigError", "UnknownInitializerError", "UnsafeConfigError", "ResourceLimitError"):
        cls = getattr(wi, name)
        assert issubclass(cls, wi.WeightinitError) and issubclass(cls, ValueError)
    assert issubclass(wi.UnseededReuseWarning, UserWarning)


def test_version_is_a_string() -> None:
    assert isinstance(wi.__version__, str) and wi.__version__.count(".") >= 2


def test_import_weightinit_imports_no_framework() -> None:
    code = textwrap.dedent(
        """
        import weightinit
        import weightinit.initializers
        weightinit.GlorotUniform(seed=0)((4, 4))
        weightinit.Orthogonal(seed=0)((4, 4))
        weightinit.deserialize(weightinit.serialize(weightinit.HeNormal(seed=1)))
        """
    )
    assert not _modules_after(code) & set(FORBIDDEN_ON_IMPORT)


def _modules_after(code: str) -> set[str]:
    src = Path(wi.__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(src)
    script = f"import sys\n{code}\nprint(','.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.strip().split(","))


def test_ml_dtypes_is_imported_only_when_bfloat16_is_used() -> None:
    # some ml_dtypes releases take over a second to import: float16/32/64 work must not pay it
    plain = "import weightinit as wi\nwi.HeNormal(seed=0)((8, 8), 'float16')\nwi.get('orthogonal')((4, 4))"
    assert "ml_dtypes" not in _modules_after(plain)
    assert "ml_dtypes" in _modules_after("import weightinit as wi\nwi.HeNormal(seed=0)((8, 8), 'bfloat16')")
