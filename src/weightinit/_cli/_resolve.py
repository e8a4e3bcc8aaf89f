"""Turn what the user typed into an initializer: names, calls, JSON configs, --arg, --seed, --shape.

Accepted forms of an initializer spec:

* a catalog name or alias: ``he_normal``, ``HeNormal``, ``uniform``;
* a call with literal arguments: ``RandomNormal(stddev=1.0)``, ``variance_scaling(2.0, mode=fan_out)``
  (parsed with :mod:`ast`; only literals and bare words are accepted, nothing is evaluated);
* a JSON config (Keras 3 or Keras 2): ``'{"class_name": "HeNormal", "config": {"seed": 1}}'``;
* ``@path/to/config.json``.

JSON goes through :func:`weightinit._jsonsafe.loads` and every form ends in
:func:`weightinit.deserialize`, so the library's validation applies unchanged.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from .._jsonsafe import MAX_JSON_BYTES, loads
from .._registry import BUILTIN_KEYS, FRAMEWORK_KEYS, snake_case
from .._serialization import deserialize, serialize
from ._errors import CliError, UsageError

__all__ = ["DEFAULT_SEED", "Resolved", "parse_arg_pairs", "parse_shape", "resolve", "suggest"]

DEFAULT_SEED = 0
MAX_SPEC_CHARS = 10_000
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Resolved:
    """An initializer built from a spec, with what the command needs to label it."""

    spec: str
    label: str
    initializer: Any
    class_name: str
    seed: int | None  # the seed used, None for deterministic initializers

    def config(self) -> dict[str, Any]:
        result: dict[str, Any] = serialize(self.initializer)
        return result


#: names from other libraries (PyTorch, papers) and the Keras name for the same thing
FOREIGN_NAMES = {
    "xavier": "glorot_uniform",
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "kaiming": "he_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
    "msra": "he_normal",
    "lecun": "lecun_normal",
    "trunc_normal": "truncated_normal",
    "eye": "identity",
    "dirac": "identity",
    "fill": "constant",
    "full": "constant",
}


#: names from torch / jax / timm and the weightinit class with that framework's semantics
FRAMEWORK_HINTS = {
    "kaiming": "KaimingNormal",
    "kaiming_uniform": "KaimingUniform",
    "kaiming_normal": "KaimingNormal",
    "xavier": "XavierUniform",
    "xavier_uniform": "XavierUniform",
    "xavier_normal": "XavierNormal",
    "trunc_normal": "TorchTruncNormal",
    "trunc_normal_tf": "TimmTruncNormalTF",
    "eye": "Eye",
    "dirac": "Dirac",
    "sparse": "Sparse",
    "delta_orthogonal": "DeltaOrthogonal",
}


def _name_for(cls: type, typed: str) -> str:
    """The key for ``cls`` in the style the user typed (snake_case or CamelCase)."""
    return snake_case(cls.__name__) if typed == typed.lower() else cls.__name__


def suggest(name: str) -> str:
    """`` Did you mean 'x'?`` for the closest catalog keys, or an empty string."""
    lowered = {key.lower(): key for key in sorted(BUILTIN_KEYS) if key.lower() != "initializer"}
    folded = name.lower().replace("-", "_").replace(" ", "_").strip("_")
    framework = FRAMEWORK_HINTS.get(folded)
    also = ""
    if framework is not None:
        also = f" With torch / jax / timm semantics: {framework!r} (see 'weightinit list')."
    if folded in FOREIGN_NAMES:
        return f" Keras calls it {FOREIGN_NAMES[folded]!r}.{also}"
    if framework is not None:
        return also
    compact = {key.replace("_", ""): BUILTIN_KEYS[key] for key in lowered.values()}
    if folded.replace("_", "") in compact:
        return f" Did you mean {_name_for(compact[folded.replace('_', '')], name)!r}?"
    close = difflib.get_close_matches(folded, list(lowered), n=8, cutoff=0.6)
    picked: dict[type, str] = {}  # one name per class: the closest
    for key in close:
        cls = BUILTIN_KEYS[lowered[key]]
        picked.setdefault(
            cls,
            _name_for(cls, name) if key in (cls.__name__.lower(), snake_case(cls.__name__)) else lowered[key],
        )
    if not picked:
        return ""
    return f" Did you mean {', '.join(repr(name) for name in list(picked.values())[:3])}?"


def _unknown_name(name: str) -> CliError:
    shown = name if len(name) <= 60 else name[:57] + "..."
    return CliError(f"unknown initializer {shown!r}.{suggest(name)} Run 'weightinit list' to see every name.")


def _scalar(raw: str) -> Any:
    """A --arg value: JSON (2.0, true, null, [1, 2], "x") or else the bare string."""
    try:
        return loads(raw)
    except ConfigError:
        return raw


def parse_arg_pairs(pairs: list[str] | None) -> dict[str, Any]:
    """``["scale=2.0", "mode=fan_out"]`` -> ``{"scale": 2.0, "mode": "fan_out"}``."""
    result: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            raise UsageError(f"--arg {pair!r}: expected KEY=VALUE, e.g. --arg scale=2.0 --arg mode=fan_out")
        if key in result:
            raise UsageError(f"--arg {key!r} given twice")
        result[key] = _scalar(raw.strip())
    return result


def _literal(node: ast.expr, where: str) -> Any:
    if isinstance(node, ast.Name):  # a bare word: mode=fan_out
        return {"True": True, "False": False, "None": None}.get(node.id, node.id)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise CliError(f"{where}: only literal values are allowed (numbers, strings, lists)") from None


def _parse_call(spec: str) -> tuple[str, list[Any], dict[str, Any]]:
    try:
        tree = ast.parse(spec, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise CliError(f"cannot parse {spec[:60]!r}: expected NAME(arg=value, ...)") from None
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise CliError(f"cannot parse {spec[:60]!r}: expected NAME(arg=value, ...)")
    name = call.func.id
    args = [_literal(a, name) for a in call.args]
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise CliError(f"{name}: '**' is not allowed; write arg=value")
        if kw.arg in kwargs:
            raise CliError(f"{name}: keyword argument {kw.arg!r} is given twice")
        kwargs[kw.arg] = _literal(kw.value, name)
    return name, args, kwargs


#: the framework classes by config key (``weightinit>KaimingUniform``) and, on the command line only,
#: by bare class name (``KaimingUniform``)
CLI_FRAMEWORK_NAMES: dict[str, type] = {
    **FRAMEWORK_KEYS,
    **{cls.__name__: cls for cls in FRAMEWORK_KEYS.values()},
}


def _registered_name(cls: type) -> str | None:
    """``weightinit>Name`` for a framework class, None for a Keras one."""
    key = f"weightinit>{cls.__name__}"
    return key if FRAMEWORK_KEYS.get(key) is cls else None


def _spec_of(cls: type, config: dict[str, Any]) -> dict[str, Any]:
    """The config dict for ``cls`` (a framework class gets its ``registered_name``)."""
    spec: dict[str, Any] = {"class_name": cls.__name__, "config": config}
    registered = _registered_name(cls)
    if registered is not None:
        spec["registered_name"] = registered
        spec["module"] = "weightinit.initializers"
    return spec


def _class_of(name: str) -> type:
    cls = BUILTIN_KEYS.get(name) or CLI_FRAMEWORK_NAMES.get(name)
    if cls is None:
        raise _unknown_name(name)
    if cls.__name__ == "Initializer":
        raise CliError(
            f"{name!r} is the abstract base class; pick a concrete initializer (see 'weightinit list')."
        )
    return cls


def _accepts_seed(class_name: Any) -> bool:
    cls = None
    if isinstance(class_name, str):
        cls = BUILTIN_KEYS.get(class_name) or CLI_FRAMEWORK_NAMES.get(class_name)
    return cls is not None and "seed" in inspect.signature(cls).parameters


def _from_json(text: str, source: str) -> dict[str, Any]:
    value = loads(text)
    if isinstance(value, str):
        return _spec_of(_class_of(value), {})
    if not isinstance(value, dict):
        raise CliError(f"{source}: expected a JSON object with 'class_name' (or a name string)")
    return value


def _read_file(path_text: str) -> str:
    """At most the config cap of a regular file: a FIFO, device or terminal is refused before
    any read (opened without blocking, so that a FIFO without a writer cannot hang us)."""
    try:
        fd = os.open(path_text, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise CliError(f"cannot read {path_text!r}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CliError(f"cannot read {path_text!r}: not a regular file (a config must be a file)")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise CliError(f"cannot read {path_text!r}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_JSON_BYTES:
        raise CliError(f"{path_text!r} is larger than {MAX_JSON_BYTES} bytes; not a config")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{path_text!r} is not UTF-8 text") from None


def resolve(spec: str, args: dict[str, Any] | None = None, seed: int | None = None) -> Resolved:
    """Build the initializer ``spec`` names, with ``args`` merged into its config.

    Random initializers get ``seed`` if given, else the config's own int seed,
    else :data:`DEFAULT_SEED`, so that every output is reproducible.
    """
    text = spec.strip()
    if not text:
        raise UsageError("empty initializer name")
    if len(text) > MAX_SPEC_CHARS:
        raise CliError(f"initializer spec is {len(text)} characters long; at most {MAX_SPEC_CHARS} allowed")
    label = text
    if text.startswith(("{", '"')):
        obj = _from_json(text, "JSON config")
        label = str(obj.get("class_name", "config"))
    elif text.startswith("@"):
        obj = _from_json(_read_file(text[1:]), text)
        label = f"{obj.get('class_name', 'config')} ({Path(text[1:]).name})"
    elif "(" in text:
        name, positional, keywords = _parse_call(text)
        cls = _class_of(name)
        params = [
            param
            for param, p in inspect.signature(cls).parameters.items()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
        if len(positional) > len(params):
            raise CliError(f"{name} takes at most {len(params)} positional arguments ({', '.join(params)})")
        call_config = dict(zip(params, positional, strict=False))  # fewer positionals than params
        for key, value in keywords.items():
            if key in call_config:
                raise CliError(f"{name}: argument {key!r} given twice")
            call_config[key] = value
        obj = _spec_of(cls, call_config)
    else:
        obj = _spec_of(_class_of(text), {})
    obj = dict(obj)
    given = obj.get("config")
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise CliError(f"{label}: 'config' must be a JSON object, not {type(given).__name__}")
    config: dict[str, Any] = {**given, **(args or {})}
    used_seed: int | None = None
    if _accepts_seed(obj.get("class_name")):
        current = config.get("seed")
        if seed is not None:
            used_seed = seed
        elif isinstance(current, int) and not isinstance(current, bool):
            used_seed = current
        elif current is None:
            used_seed = DEFAULT_SEED
        if used_seed is not None:
            config["seed"] = used_seed
    obj["config"] = config
    if (
        isinstance(obj.get("class_name"), str)
        and obj["class_name"] not in BUILTIN_KEYS
        and "registered_name" not in obj
    ):
        raise _unknown_name(obj["class_name"])
    initializer = deserialize(obj)
    return Resolved(spec, label, initializer, type(initializer).__name__, used_seed)


_SHAPE_SPLIT = re.compile(r"[\s,x*]+")
_HEX_LIKE = re.compile(r"(?<![0-9])0[xX][0-9a-fA-F]+")


def parse_shape(tokens: list[str]) -> tuple[int, ...]:
    """``["3", "3", "64", "128"]``, ``["3x3x64x128"]`` or ``["(3, 3, 64, 128)"]`` -> a tuple of ints."""
    text = " ".join(tokens).strip().strip("()[]")
    hexlike = _HEX_LIKE.search(text)
    if hexlike:  # "0x10": 0 by 10, or sixteen? refuse rather than guess
        raise UsageError(
            f"bad --shape {' '.join(tokens)!r}: {hexlike.group()!r} is ambiguous (a hex number or "
            "0 x ...?); write the dimensions apart: --shape 0 10"
        )
    parts = [p for p in _SHAPE_SPLIT.split(text) if p]
    dims = []
    for part in parts:
        try:
            dim = int(part)
        except ValueError:
            raise UsageError(
                f"bad --shape {' '.join(tokens)!r}: {part!r} is not an integer (e.g. --shape 3 3 64 128)"
            ) from None
        if dim < 0:
            raise CliError(f"bad --shape {' '.join(tokens)!r}: dimensions must be >= 0, got {dim}")
        dims.append(dim)
    if len(dims) > 64:
        raise CliError(f"bad --shape: rank {len(dims)} is more than 64")
    return tuple(dims)
