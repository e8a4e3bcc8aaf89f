"""The adversarial corpus: every bad input we know of is rejected quickly with a clear error.

Rows S*, P*, D*, C* adapt the corpus of ``docs/security-notes`` section 4
(measured against Keras 3.15.1); I*, J*, L*, T*, A* add index, JSON, size-limit,
STFT and axis inputs. Every case asserts

* the exception type: our own subclass, which also is the ``ValueError`` /
  ``TypeError`` a Keras user catches;
* a message that names the argument (regex);
* a message shorter than 1,000 characters, whatever the size of the input;
* that the call returns within one second (inputs are built before the clock
  starts), with ``pytest-timeout`` as a backstop against hangs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from weightinit._jsonsafe import loads

pytestmark = pytest.mark.timeout(60)

SRC = str(Path(__file__).resolve().parents[1] / "src")
MAX_SECONDS = 1.0
MAX_MESSAGE = 1000

InvArg, InvType = wi.InvalidArgumentError, wi.InvalidTypeError
Limit, Config = wi.ResourceLimitError, wi.ConfigError
Unknown, Unsafe = wi.UnknownInitializerError, wi.UnsafeConfigError


@dataclass(frozen=True)
class Case:
    id: str
    prepare: Callable[[], Callable[[], object]]  # builds the (possibly huge) input, returns the call
    exc: type[Exception]  # our class; `base` below is the builtin it must also be
    match: str  # regex the message must contain: names the argument

    @property
    def base(self) -> type[Exception]:
        return TypeError if issubclass(self.exc, TypeError) else ValueError


def call(fn: Callable[[], object]) -> Callable[[], Callable[[], object]]:
    """A case whose input is cheap: nothing to prepare."""
    return lambda: fn


def _nested_dict(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {"class_name": "RandomNormal", "config": {}}
    node = root
    for _ in range(depth):
        node["config"] = {"class_name": "RandomNormal", "config": {}}
        node = node["config"]
    return root


def _with_keys(n: int, top_level: bool) -> dict[str, Any]:
    keys = {f"k{i}": 1 for i in range(n)}
    if top_level:
        return {"class_name": "Zeros", **keys}
    return {"class_name": "RandomNormal", "config": keys}


def given(build: Callable[[], Any], use: Callable[[Any], object]) -> Callable[[], Callable[[], object]]:
    """A case with a big input: ``build()`` runs before the clock starts, ``use(input)`` is timed."""

    def prepare() -> Callable[[], object]:
        value = build()
        return lambda: use(value)

    return prepare


def _small_cap(fn: Callable[[], object]) -> Callable[[], Callable[[], object]]:
    """Run ``fn`` under a 1 MB cap (the fixture restores the default afterwards)."""

    def prepare() -> Callable[[], object]:
        wi.set_max_bytes(10**6)
        return fn

    return prepare


HUGE = 10**7  # characters in the "huge string" inputs

CASES: list[Case] = [
    # --- 4a shapes ------------------------------------------------------------------------------
    Case("S1-negative-dim", call(lambda: wi.RandomNormal(seed=1)((-1, 3))), InvArg, r"`shape`.*\(-1, 3\)"),
    Case("S1-negative-dim-zeros", call(lambda: wi.Zeros()((-1, 3))), InvArg, r"Zeros.*`shape`"),
    Case("S1-negative-last-dim", call(lambda: wi.GlorotUniform(seed=1)((3, -5))), InvArg, r"`shape`"),
    Case(
        "S3-integral-float-dim", call(lambda: wi.GlorotUniform(seed=1)((2.0, 3))), InvType, r"`shape`.*float"
    ),
    Case("S3-float-dim", call(lambda: wi.HeNormal(seed=1)((2.5, 3))), InvType, r"`shape`"),
    Case("S4-str-dim", call(lambda: wi.Zeros()(("a", 3))), InvType, r"`shape`"),
    Case("S4-none-dim", call(lambda: wi.Zeros()((None, 3))), InvType, r"`shape`.*None"),
    Case("S5-bool-dim", call(lambda: wi.Ones()((True, 3))), InvType, r"`shape`.*bool"),
    Case("S6-bare-int", call(lambda: wi.Zeros()(3)), InvType, r"`shape` must be a tuple or list"),
    Case("S7-none-shape", call(lambda: wi.RandomNormal(seed=1)(None)), InvType, r"`shape`.*NoneType"),
    Case("S7-str-shape", call(lambda: wi.Zeros()("abc")), InvType, r"`shape`"),
    Case("S7-float-array-shape", call(lambda: wi.Zeros()(np.array([2.0, 3.0]))), InvType, r"`shape`"),
    Case(
        "S10-1e6x1e6-normal", call(lambda: wi.RandomNormal(seed=1)((10**6, 10**6))), Limit, r"shape \(1000000"
    ),
    Case("S11-1e5x1e5-ones", call(lambda: wi.Ones()((10**5, 10**5))), Limit, r"Ones of shape.*set_max_bytes"),
    Case("S12-2^32x2^32", call(lambda: wi.Zeros()((2**32, 2**32))), Limit, r"shape \(4294967296"),
    Case("S12-2^62x4", call(lambda: wi.HeUniform(seed=1)((2**62, 4))), Limit, r"shape"),
    Case("S12-2^31x2^31x4", call(lambda: wi.Zeros()((2**31, 2**31, 4))), Limit, r"shape"),
    Case("S13-2^63", call(lambda: wi.Zeros()((2**63,))), Limit, r"shape \(9223372036854775808,\)"),
    Case("S13-2^64", call(lambda: wi.RandomUniform(seed=1)((2**64,))), Limit, r"shape"),
    Case("S14-rank-100", call(lambda: wi.Zeros()((1,) * 100)), InvArg, r"`shape` has rank 100"),
    # (20000, 20000) fits the default cap (a 3.2 GB float64 working matrix) and is computed; from
    # about (38000, 38000) on the output plus the working matrix exceed 16 GiB
    Case("S15-orthogonal-50000^2", call(lambda: wi.Orthogonal(seed=1)((50000, 50000))), Limit, r"Orthogonal"),
    Case("S15-orthogonal-1x1e10", call(lambda: wi.Orthogonal(seed=1)((1, 10**10))), Limit, r"Orthogonal"),
    Case(
        "S15-orthogonal-working-memory",  # the output fits in the cap, its float64 working matrix does not
        _small_cap(lambda: wi.Orthogonal(seed=1)((200, 200))),
        Limit,
        r"Orthogonal of shape \(200, 200\)",
    ),
    Case("S16-identity-1e6x1e6", call(lambda: wi.Identity()((10**6, 10**6))), Limit, r"Identity of shape"),
    Case("S16-identity-bool-huge", call(lambda: wi.Identity()((10**6, 10**6), "bool")), Limit, r"as bool"),
    Case(
        "S-cap-slice", _small_cap(lambda: wi.Zeros()((1000, 1000), index=(slice(0, 300),))), Limit, r"shape"
    ),
    # --- 4b parameter values --------------------------------------------------------------------
    Case("P1-stddev-nan", call(lambda: wi.RandomNormal(stddev=float("nan"))), InvArg, r"`stddev`.*nan"),
    Case("P1-mean-nan", call(lambda: wi.RandomNormal(mean=float("nan"))), InvArg, r"`mean`"),
    Case("P2-stddev-inf", call(lambda: wi.RandomNormal(stddev=float("inf"))), InvArg, r"`stddev`.*inf"),
    Case("P3-stddev-negative", call(lambda: wi.RandomNormal(stddev=-1)), InvArg, r"`stddev` must be >= 0"),
    Case("P3-truncated-stddev-negative", call(lambda: wi.TruncatedNormal(stddev=-1)), InvArg, r"`stddev`"),
    Case("P4-stddev-str", call(lambda: wi.RandomNormal(stddev="abc")), InvType, r"`stddev`.*'abc'"),
    Case("P4-stddev-none", call(lambda: wi.RandomNormal(stddev=None)), InvType, r"`stddev`"),
    Case("P5-truncated-mean-nan", call(lambda: wi.TruncatedNormal(mean=float("nan"))), InvArg, r"`mean`"),
    Case(
        "P5-truncated-stddev-nan", call(lambda: wi.TruncatedNormal(stddev=float("nan"))), InvArg, r"`stddev`"
    ),
    Case(
        "P7-minval-gt-maxval", call(lambda: wi.RandomUniform(1, 0)), InvArg, r"`minval` must be <= `maxval`"
    ),
    Case("P8-maxval-inf", call(lambda: wi.RandomUniform(maxval=float("inf"))), InvArg, r"`maxval`"),
    Case("P8-minval-nan", call(lambda: wi.RandomUniform(minval=float("nan"))), InvArg, r"`minval`"),
    Case("P8-range-overflows", call(lambda: wi.RandomUniform(-1e308, 1e308)), InvArg, r"maxval - minval"),
    Case("P9-scale-0", call(lambda: wi.VarianceScaling(scale=0)), InvArg, r"`scale` must be positive"),
    Case("P9-scale-negative", call(lambda: wi.VarianceScaling(scale=-1.0)), InvArg, r"`scale`"),
    Case("P9-scale-false", call(lambda: wi.VarianceScaling(scale=False)), InvType, r"`scale`.*bool"),
    Case("P10-scale-nan", call(lambda: wi.VarianceScaling(scale=float("nan"))), InvArg, r"`scale`.*finite"),
    Case("P11-scale-inf", call(lambda: wi.VarianceScaling(scale=float("inf"))), InvArg, r"`scale`"),
    Case("P12-scale-str", call(lambda: wi.VarianceScaling(scale="abc")), InvType, r"`scale`"),
    Case(
        "P13-mode-bogus-sorted-choices",
        call(lambda: wi.VarianceScaling(mode="bogus")),
        InvArg,
        r"`mode`.*'fan_avg', 'fan_in', 'fan_out'",
    ),
    Case("P13-mode-list", call(lambda: wi.VarianceScaling(mode=["fan_in"])), InvArg, r"`mode`"),
    Case("P14-mode-upper-case", call(lambda: wi.VarianceScaling(mode="FAN_IN")), InvArg, r"`mode`.*FAN_IN"),
    Case(
        "P15-distribution-bogus",
        call(lambda: wi.VarianceScaling(distribution="bogus")),
        InvArg,
        r"`distribution` argument: 'bogus'\. Please use one of: 'truncated_normal', 'uniform'",
    ),
    Case(
        "P15-distribution-none",
        call(lambda: wi.VarianceScaling(distribution=None)),
        InvType,
        r"`distribution`",
    ),
    Case("P17-constant-str", call(lambda: wi.Constant("abc")), InvType, r"`value`.*'abc'"),
    Case("P17-constant-nan", call(lambda: wi.Constant(float("nan"))), InvArg, r"`value` must be finite"),
    Case("P17-constant-none", call(lambda: wi.Constant(None)), InvType, r"`value`"),
    Case("P17-constant-complex", call(lambda: wi.Constant(1 + 2j)), InvType, r"`value`"),
    Case(
        "P17-constant-no-broadcast", call(lambda: wi.Constant([1, 2])((2, 3))), InvArg, r"`value`.*broadcast"
    ),
    Case(
        "P17-constant-overflows-float16", call(lambda: wi.Constant(1e40)((2,), "float16")), InvArg, r"`value`"
    ),
    Case("P18-identity-rank-3", call(lambda: wi.Identity()((3, 3, 3))), InvArg, r"2D matrices.*rank 3"),
    Case("P18-identity-rank-1", call(lambda: wi.Identity()((3,))), InvArg, r"shape=\(3,\) of rank 1"),
    Case(
        "P20-orthogonal-rank-1", call(lambda: wi.Orthogonal(seed=1)((5,))), InvArg, r"two-dimensional.*rank 1"
    ),
    Case("P20-orthogonal-rank-0", call(lambda: wi.Orthogonal(seed=1)(())), InvArg, r"shape=\(\) of rank 0"),
    Case("P22-orthogonal-gain-nan", call(lambda: wi.Orthogonal(gain=float("nan"))), InvArg, r"`gain`"),
    Case("P22-identity-gain-nan", call(lambda: wi.Identity(gain=float("nan"))), InvArg, r"`gain`"),
    Case("P22-orthogonal-gain-inf", call(lambda: wi.Orthogonal(gain=float("inf"))), InvArg, r"`gain`"),
    Case("P22-identity-gain-str", call(lambda: wi.Identity(gain="2")), InvType, r"`gain`"),
    # --- seeds ----------------------------------------------------------------------------------
    Case("P23-seed-str", call(lambda: wi.RandomNormal(seed="abc")), InvType, r"`seed`.*'abc'"),
    Case("P23-seed-float", call(lambda: wi.RandomNormal(seed=1.5)), InvType, r"`seed`.*float"),
    Case("P23-seed-integral-float", call(lambda: wi.HeNormal(seed=3.0)), InvType, r"`seed`"),
    Case("P23-seed-list", call(lambda: wi.Orthogonal(seed=[1, 2])), InvType, r"`seed`"),
    Case(
        "P24-seed-negative",
        call(lambda: wi.RandomNormal(seed=-1)),
        InvArg,
        r"`seed` must be in \[0, 2\*\*64\)",
    ),
    Case(
        "P24-seed-2^64", call(lambda: wi.RandomUniform(seed=2**64)), InvArg, r"`seed`.*18446744073709551616"
    ),
    Case("P24-seed-2^70", call(lambda: wi.GlorotUniform(seed=2**70)), InvArg, r"`seed`"),
    Case("P25-seed-true", call(lambda: wi.RandomNormal(seed=True)), InvType, r"`seed`.*bool"),
    Case("P25-seed-numpy-bool", call(lambda: wi.RandomNormal(seed=np.bool_(False))), InvType, r"`seed`"),
    Case(
        "seed-dict-wrong-class",
        call(lambda: wi.RandomNormal(seed={"class_name": "Dense", "config": {}})),
        InvArg,
        r"`seed` must be a serialized SeedGenerator",
    ),
    Case("seed-dict-garbage", call(lambda: wi.TruncatedNormal(seed={"bad": 1})), InvArg, r"`seed`"),
    Case(
        "seed-dict-hostile-module",
        call(lambda: wi.RandomNormal(seed={"module": "os", "class_name": "SeedGenerator", "config": {}})),
        InvArg,
        r"`seed`",
    ),
    Case(
        "seed-dict-extra-config-key",
        call(lambda: wi.RandomNormal(seed={"class_name": "SeedGenerator", "config": {"seed": 1, "x": 2}})),
        InvArg,
        r"SeedGenerator config accepts only keys 'name' and 'seed'",
    ),
    Case("seed-generator-float", call(lambda: wi.SeedGenerator(3.0)), InvType, r"SeedGenerator.*`seed`"),
    Case("seed-generator-negative", call(lambda: wi.SeedGenerator(-1)), InvArg, r"`seed`"),
    Case("seed-generator-2^64", call(lambda: wi.SeedGenerator(2**64)), InvArg, r"`seed`"),
    Case("seed-generator-bad-kwarg", call(lambda: wi.SeedGenerator(3, bogus=1)), InvArg, r"bogus"),
    # --- 4c dtypes ------------------------------------------------------------------------------
    Case("D1-normal-int32", call(lambda: wi.RandomNormal(seed=1)((2,), "int32")), InvType, r"dtype 'int32'"),
    Case("D1-glorot-int8", call(lambda: wi.GlorotUniform(seed=1)((2, 2), "int8")), InvType, r"dtype 'int8'"),
    Case("D1-truncated-uint8", call(lambda: wi.TruncatedNormal(seed=1)((2,), np.uint8)), InvType, r"dtype"),
    Case("D2-uniform-bool", call(lambda: wi.RandomUniform(seed=1)((2,), "bool")), InvType, r"dtype 'bool'"),
    Case(
        "D3-normal-complex", call(lambda: wi.RandomNormal(seed=1)((2,), "complex64")), InvType, r"complex64"
    ),
    Case("D4-he-float8", call(lambda: wi.HeNormal(seed=1)((2,), "float8_e4m3fn")), InvType, r"float8_e4m3fn"),
    Case("D5-dtype-string", call(lambda: wi.Zeros()((2,), "string")), InvType, r"dtype 'string'.*int32"),
    Case("D5-dtype-bogus", call(lambda: wi.Ones()((2,), "bogus")), InvType, r"dtype 'bogus'"),
    Case(
        "D5-dtype-float-alias",
        call(lambda: wi.RandomNormal(seed=1)((2,), "float")),
        InvType,
        r"dtype 'float'",
    ),
    Case("D6-uniform-int32", call(lambda: wi.RandomUniform(0, 10, seed=1)((2,), "int32")), InvType, r"dtype"),
    Case("D7-orthogonal-int32", call(lambda: wi.Orthogonal(seed=1)((3, 3), "int32")), InvType, r"Orthogonal"),
    Case(
        "D8-identity-float8",
        call(lambda: wi.Identity()((3, 3), "float8_e4m3fn")),
        InvType,
        r"Identity.*dtype",
    ),
    Case(
        "D11-normal-overflows-float16",
        call(lambda: wi.RandomNormal(stddev=1e6, seed=1)((2,), "float16")),
        InvArg,
        r"stddev=1000000.0 would overflow float16",
    ),
    Case(
        "D11-uniform-overflows-float16",
        call(lambda: wi.RandomUniform(0.0, 1e6, seed=1)((2,), "float16")),
        InvArg,
        r"maxval=1000000.0 would overflow float16",
    ),
    Case(
        "D11-uniform-width-overflows-float32",
        call(lambda: wi.RandomUniform(-3e38, 3e38, seed=1)((2,), "float32")),
        InvArg,
        r"would overflow float32",
    ),
    Case(
        "D12-orthogonal-gain-overflows-float16",
        call(lambda: wi.Orthogonal(gain=1e5, seed=1)((3, 3), "float16")),
        InvArg,
        r"gain=100000.0 would overflow float16",
    ),
    Case(
        "D13-constant-2p63-into-int64",
        call(lambda: wi.Constant(9.223372036854776e18)((2,), "int64")),
        InvArg,
        r"does not fit in int64",
    ),
    Case(
        "D13-constant-2p64-into-uint64",
        call(lambda: wi.Constant(1.8446744073709552e19)((2,), "uint64")),
        InvArg,
        r"does not fit in uint64",
    ),
    Case("P26-mean-huge-int", call(lambda: wi.RandomNormal(mean=10**400)), InvArg, r"`mean` must be finite"),
    Case("P27-constant-huge-int", call(lambda: wi.Constant(10**400)), InvArg, r"`value` must be finite"),
    Case(
        "S17-dim-over-2p63-even-when-empty",
        call(lambda: wi.GlorotUniform()((0, 10**400))),
        Limit,
        r"`shape` is too large",
    ),
    Case(
        "S18-numel-2p70-sliced",
        call(lambda: wi.RandomNormal(seed=1)((2**70,), index=(slice(2**64, 2**64 + 3),))),
        Limit,
        r"`shape` is too large",
    ),
    Case("D10-constant-300-int8", call(lambda: wi.Constant(300)((2,), "int8")), InvArg, r"`value`=300.*int8"),
    Case("D10-constant-negative-uint8", call(lambda: wi.Constant(-1)((2,), "uint8")), InvArg, r"uint8"),
    Case("D-floatx-int", call(lambda: wi.set_floatx("int32")), InvType, r"set_floatx.*dtype 'int32'"),
    # --- 4d identifiers and configs -------------------------------------------------------------
    Case("C1-get-near-miss", call(lambda: wi.get("randomnormal")), Unknown, r"'randomnormal'.*Did you mean"),
    Case("C1-get-int", call(lambda: wi.get(123)), Unknown, r"identifier: 123"),
    Case("C1-get-empty", call(lambda: wi.get("")), Unknown, r"identifier: ''"),
    Case("C1-get-float", call(lambda: wi.get(42.0)), Unknown, r"identifier"),
    Case("C4-no-class-name", call(lambda: wi.deserialize({"config": {}})), Config, r"class_name"),
    Case(
        "C5-unknown-inner-key",
        call(lambda: wi.deserialize({"class_name": "RandomNormal", "config": {"stddev": 1.0, "bogus": 1}})),
        Config,
        r"RandomNormal: unknown config key\(s\) 'bogus'\. Accepted keys: mean, seed, stddev",
    ),
    Case(
        "C5-unknown-top-level-key",
        call(lambda: wi.deserialize({"class_name": "Zeros", "config": {}, "evil": 1})),
        Config,
        r"'evil'",
    ),
    Case(
        "C6-wrong-type-in-config",
        call(lambda: wi.deserialize({"class_name": "RandomNormal", "config": {"stddev": "abc"}})),
        InvType,
        r"`stddev`",
    ),
    Case(
        "C7-config-list",
        call(lambda: wi.deserialize({"class_name": "RandomNormal", "config": [1, 2]})),
        Config,
        r"'config'.*list",
    ),
    Case("C8-class-name-int", call(lambda: wi.deserialize({"class_name": 123})), Config, r"'class_name'"),
    Case("C8-class-name-unknown", call(lambda: wi.deserialize({"class_name": "Nope"})), Unknown, r"'Nope'"),
    Case(
        "C9-nested-lambda-seed",
        call(
            lambda: wi.deserialize(
                {"class_name": "RandomNormal", "config": {"seed": {"class_name": "__lambda__", "config": {}}}}
            )
        ),
        InvArg,
        r"`seed`",
    ),
    Case(
        "C9-nested-lambda-value",
        call(
            lambda: wi.deserialize(
                {"class_name": "Constant", "config": {"value": {"class_name": "__lambda__"}}}
            )
        ),
        InvArg,
        r"value",
    ),
    Case(
        "C10-top-level-lambda",
        call(lambda: wi.deserialize({"class_name": "__lambda__", "config": {"code": "x"}})),
        Unsafe,
        r"lambda",
    ),
    Case(
        "C11-os-system",
        call(lambda: wi.get({"module": "os", "class_name": "system"})),
        Unknown,
        r"'system'",
    ),
    Case(
        "C11-os-function-system",
        call(lambda: wi.get({"module": "os", "class_name": "function", "config": "system"})),
        Unsafe,
        r"'system'.*never imported",
    ),
    Case(
        "C11-subprocess-popen",
        call(lambda: wi.get({"module": "subprocess", "class_name": "Popen", "config": {"args": ["id"]}})),
        Unknown,
        r"'Popen'",
    ),
    Case(
        "C12-builtin-with-hostile-module",
        call(lambda: wi.get({"module": "os", "class_name": "RandomNormal"})),
        Unsafe,
        r"module 'os'",
    ),
    Case(
        "C13-builtins-eval",
        call(
            lambda: wi.deserialize(
                {
                    "module": "builtins",
                    "class_name": "function",
                    "config": "eval",
                    "registered_name": "function",
                }
            )
        ),
        Unsafe,
        r"'eval'",
    ),
    Case(
        "C14-keras-get-file",
        call(lambda: wi.deserialize({"module": "keras.utils", "class_name": "get_file"})),
        Unknown,
        r"'get_file'",
    ),
    Case(
        "C15-func-load",
        call(lambda: wi.deserialize({"module": "keras.src.utils.python_utils", "class_name": "func_load"})),
        Unknown,
        r"'func_load'",
    ),
    Case(
        "C16-registered-name-os-system",
        call(
            lambda: wi.deserialize(
                {"module": "keras.initializers", "class_name": "Zeros", "registered_name": "os.system"}
            )
        ),
        Config,
        r"'registered_name'='os\.system'",
    ),
    Case(
        "C18-json-100000-deep",
        given(lambda: "[" * 100_000 + "]" * 100_000, loads),
        Config,
        r"nested deeper than 32",
    ),
    Case(
        "C18-dict-100000-deep",
        given(lambda: _nested_dict(100_000), wi.deserialize),
        Config,
        r"nested deeper than 32",
    ),
    Case(
        "C18-json-deep-in-config",
        given(lambda: '{"class_name": "Zeros", "config": ' + "[" * 5000 + "]" * 5000 + "}", loads),
        Config,
        r"nested deeper",
    ),
    Case(
        "C19-constant-huge-string",
        given(lambda: "x" * (5 * HUGE), wi.Constant),
        InvType,
        r"`value`",
    ),
    Case(
        "C20-constant-10^7-list",
        given(lambda: list(range(HUGE)), wi.Constant),
        InvArg,
        r"`value` has 10000000 elements",
    ),
    Case(
        "C20-constant-huge-array",
        given(lambda: np.zeros(2**21), wi.Constant),
        InvArg,
        r"`value` has 2097152 elements",
    ),
    Case(
        "C21-10^6-unknown-inner-keys",
        given(lambda: _with_keys(10**6, top_level=False), wi.deserialize),
        Config,
        r"unknown config key\(s\) 'k0', 'k1'",
    ),
    Case(
        "C21-10^6-unknown-top-level-keys",
        given(lambda: _with_keys(10**6, top_level=True), wi.deserialize),
        Config,
        r"Unknown key\(s\) 'k0'",
    ),
    Case(
        "C21-10MB-inner-key",
        given(lambda: {"class_name": "RandomNormal", "config": {"k" * HUGE: 1}}, wi.deserialize),
        Config,
        r"unknown config key",
    ),
    Case(
        "C21-10MB-top-level-key",
        given(lambda: {"class_name": "Zeros", "k" * HUGE: 1}, wi.deserialize),
        Config,
        r"Unknown key",
    ),
    Case(
        "C21-10MB-class-name",
        given(lambda: {"class_name": "x" * HUGE}, wi.deserialize),
        Unknown,
        r"Could not interpret initializer identifier",
    ),
    Case("C21-10MB-identifier", given(lambda: "y" * HUGE, wi.get), Unknown, r"identifier"),
    Case(
        "C21-10MB-module",
        given(lambda: {"class_name": "Zeros", "module": "m" * HUGE}, wi.deserialize),
        Unsafe,
        r"module",
    ),
    Case(
        "C21-10MB-mode",
        given(lambda: "f" * HUGE, lambda mode: wi.VarianceScaling(mode=mode)),
        InvArg,
        r"`mode`",
    ),
    Case("C21-10MB-dtype", given(lambda: "d" * HUGE, lambda d: wi.Zeros()((2,), d)), InvType, r"dtype"),
    Case("C21-10MB-window-name", given(lambda: "w" * HUGE, lambda w: wi.STFT(window=w)), InvArg, r"window"),
    Case("C22-get-non-initializer-class", call(lambda: wi.get(dict)), Unknown, r"identifier: <class 'dict'>"),
    Case(
        "C24-array-identifier-wrong-shape",
        call(lambda: wi.get(np.ones((2, 2)))((3, 3))),
        InvArg,
        r"`shape`.*\(2, 2\)",
    ),
    Case("C-deserialize-list", call(lambda: wi.deserialize([1, 2])), InvType, r"identifier"),
    Case("C-serialize-lambda", call(lambda: wi.serialize(lambda shape, dtype=None: 0)), InvType, r"lambda"),
    Case(
        "C-register-shadows-builtin",
        call(lambda: wi.register_initializer("pkg", "RandomNormal")(wi.Zeros)),
        InvArg,
        r"'RandomNormal'.*built-in",
    ),
    # --- strict JSON ----------------------------------------------------------------------------
    Case(
        "J-nan-token",
        call(lambda: loads('{"class_name": "VarianceScaling", "config": {"scale": NaN}}')),
        Config,
        r"NaN",
    ),
    Case("J-infinity-token", call(lambda: loads('{"value": Infinity}')), Config, r"Infinity"),
    Case("J-minus-infinity-token", call(lambda: loads("[-Infinity]")), Config, r"-Infinity"),
    Case(
        "J-2MB-json",
        given(lambda: json.dumps({"class_name": "Zeros", "config": {}, "pad": " " * 2_000_000}), loads),
        Config,
        r"limit is 1048576",
    ),
    Case("J-2MB-bytes", given(lambda: b" " * 2_000_000, loads), Config, r"bytes; the limit"),
    Case("J-invalid-json", call(lambda: loads("{bad json")), Config, r"Invalid JSON config"),
    Case("J-float-overflows-to-inf", call(lambda: loads("[1e999]")), Config, r"overflows to infinity"),
    Case("J-5000-digit-int", call(lambda: loads("[" + "9" * 5000 + "]")), Config, r"Invalid JSON config"),
    Case(
        "SEED-generator-dict-with-non-dict-config",
        call(lambda: wi.RandomNormal(seed={"class_name": "SeedGenerator", "config": 0})),
        InvArg,
        r"SeedGenerator config",
    ),
    Case("J-invalid-utf8", call(lambda: loads(b"\xff\xfe{}")), Config, r"UTF-8"),
    Case("J-not-text", call(lambda: loads(123)), Config, r"JSON text"),
    Case(
        "J-non-string-key",
        call(lambda: wi.deserialize({"class_name": "Zeros", "config": {1: 2}})),
        Config,
        r"keys must be strings",
    ),
    # --- index ----------------------------------------------------------------------------------
    Case("I-negative-start", call(lambda: wi.Zeros()((4, 4), index=(slice(-1, 2),))), InvArg, r"`index`.*-1"),
    Case(
        "I-negative-stop",
        call(lambda: wi.HeNormal(seed=1)((4, 4), index=(slice(0, -1),))),
        InvArg,
        r"`index`",
    ),
    Case("I-stop-out-of-range", call(lambda: wi.Zeros()((4, 4), index=(slice(0, 5),))), InvArg, r"<= 4"),
    Case("I-start-gt-stop", call(lambda: wi.Ones()((4, 4), index=(slice(3, 1),))), InvArg, r"`index`"),
    Case(
        "I-second-axis-out-of-range",
        call(lambda: wi.RandomNormal(seed=1)((4, 4), index=(slice(None), slice(2, 9)))),
        InvArg,
        r"index\[1\]",
    ),
    Case("I-step-2", call(lambda: wi.Zeros()((4, 4), index=(slice(0, 4, 2),))), InvArg, r"step None or 1"),
    Case("I-step-minus-1", call(lambda: wi.Zeros()((4, 4), index=(slice(None, None, -1),))), InvArg, r"step"),
    Case("I-int-entry", call(lambda: wi.Zeros()((4, 4), index=(1,))), InvType, r"`index`.*slice objects"),
    Case("I-ellipsis", call(lambda: wi.Zeros()((4, 4), index=(Ellipsis,))), InvType, r"`index`"),
    Case("I-newaxis", call(lambda: wi.Zeros()((4, 4), index=(None,))), InvType, r"`index`"),
    Case(
        "I-too-many-entries",
        call(lambda: wi.Zeros()((4, 4), index=(slice(None),) * 3)),
        InvArg,
        r"`index` has 3 entries",
    ),
    Case(
        "I-list-not-tuple", call(lambda: wi.Zeros()((4, 4), index=[slice(None)])), InvType, r"tuple of slices"
    ),
    Case("I-bare-slice", call(lambda: wi.Zeros()((4, 4), index=slice(0, 2))), InvType, r"`index`"),
    Case(
        "I-float-bound", call(lambda: wi.Zeros()((4, 4), index=(slice(0.0, 2),))), InvType, r"[Ss]lice bounds"
    ),
    Case("I-bool-bound", call(lambda: wi.Zeros()((4, 4), index=(slice(True, 2),))), InvType, r"bool"),
    Case(
        "I-orthogonal-out-of-range",
        call(lambda: wi.Orthogonal(seed=1)((3, 3), index=(slice(0, 4),))),
        InvArg,
        r"`index`",
    ),
    # --- size limit settings --------------------------------------------------------------------
    Case("L-max-bytes-negative", call(lambda: wi.set_max_bytes(-1)), InvArg, r"`max_bytes`"),
    Case("L-max-bytes-zero", call(lambda: wi.set_max_bytes(0)), InvArg, r"`max_bytes`"),
    Case("L-max-bytes-float", call(lambda: wi.set_max_bytes(1.5)), InvType, r"`max_bytes`"),
    Case("L-max-bytes-bool", call(lambda: wi.set_max_bytes(True)), InvType, r"`max_bytes`"),
    Case("L-max-bytes-str", call(lambda: wi.set_max_bytes("1GB")), InvType, r"`max_bytes`"),
    # --- STFT -----------------------------------------------------------------------------------
    Case("T-side-upper-case", call(lambda: wi.STFT(side="REAL")), InvArg, r"side should be 'real' or 'imag'"),
    Case("T-window-unknown", call(lambda: wi.STFT(window="nope")), InvArg, r"window='nope'"),
    Case("T-window-needs-parameters", call(lambda: wi.STFT(window="kaiser")), InvArg, r"'kaiser' must have"),
    Case("T-window-nan", call(lambda: wi.STFT(window=[1.0, float("nan")])), InvArg, r"`window`"),
    Case("T-scaling-bogus", call(lambda: wi.STFT(scaling="Density")), InvArg, r"scaling=Density"),
    Case("T-periodic-str", call(lambda: wi.STFT(periodic="yes")), InvType, r"`periodic`"),
    Case("T-one-frequency-bin", call(lambda: wi.STFT()((4, 1, 1))), InvArg, r"shape\[2\] must be >= 2"),
    Case("T-zero-frames", call(lambda: wi.STFT()((0, 1, 3))), InvArg, r"shape\[0\] must be >= 1"),
    Case("T-rank-2", call(lambda: wi.STFT()((4, 3))), InvArg, r"rank 3"),
    Case("T-window-length", call(lambda: wi.STFT(window=[1.0, 2.0])((4, 1, 3))), InvArg, r"`window`"),
    # --- explicit fan axes ----------------------------------------------------------------------
    Case(
        "A-axis-out-of-range",
        call(lambda: wi.VarianceScaling(input_axes=[0], output_axes=[5], seed=1)((2, 3))),
        InvArg,
        r"`input_axes`/`output_axes`.*rank 2",
    ),
    Case(
        "A-bool-axis",
        call(lambda: wi.VarianceScaling(input_axes=[True], output_axes=[0])),
        InvType,
        r"input_axes",
    ),
    Case(
        "A-str-axes",
        call(lambda: wi.GlorotUniform(input_axes="ab", output_axes=[0])),
        InvType,
        r"`input_axes`",
    ),
    Case(
        "A-too-many-axes",
        call(lambda: wi.HeNormal(input_axes=list(range(100)), output_axes=[0])),
        InvArg,
        r"64",
    ),
    Case(
        "A-huge-axis",
        call(lambda: wi.LecunNormal(input_axes=[0], output_axes=[10**20])),
        InvArg,
        r"output_axes",
    ),
    # --- R*: found by the adversarial pass of the robustness issue (each was a wrong answer or an
    # undocumented exception type) ----------------------------------------------------------------
    Case(
        "R-constant-overflows-bfloat16",
        call(lambda: wi.Constant(1e39)((2,), "bfloat16")),
        InvArg,
        r"`value`.*bfloat16",
    ),
    Case(
        "R-identity-gain-overflows-bfloat16",
        call(lambda: wi.Identity(gain=1e39)((2, 2), "bfloat16")),
        InvArg,
        r"`gain`.*bfloat16",
    ),
    Case(
        "R-stft-unscaled-window-overflows-float16",
        call(lambda: wi.STFT(window=[7e4] * 4, scaling=None)((4, 1, 3), "float16")),
        InvArg,
        r"window.*float16",
    ),
    Case(
        "R-stft-unscaled-window-overflows-float32",
        call(lambda: wi.STFT(window=[1e39] * 4, scaling=None)((4, 1, 3), "float32")),
        InvArg,
        r"window.*float32",
    ),
    Case("R-array-wraps-int8", call(lambda: wi.get(np.array([300.0, -1.0]))((2,), "int8")), InvArg, r"int8"),
    Case("R-array-negative-uint8", call(lambda: wi.get(np.array([-1.0]))((1,), "uint8")), InvArg, r"uint8"),
    Case("R-array-nan", call(lambda: wi.get(np.array([np.nan, 1.0]))), InvArg, r"finite"),
    Case("R-array-inf", call(lambda: wi.get(np.array([np.inf]))), InvArg, r"finite"),
    Case("R-array-complex", call(lambda: wi.get(np.array([1 + 2j]))), InvType, r"complex128"),
    Case(
        "R-array-datetime",
        call(lambda: wi.get(np.array(["2020-01-01"], dtype="datetime64[D]"))),
        InvType,
        r"datetime64",
    ),
    Case(
        "R-array-over-cap",
        _small_cap(lambda: wi.get(np.zeros(2**18))((2**18,), "float64")),
        Limit,
        r"array initializer of shape \(262144,\)",
    ),
    Case(
        "R-axes-repeated-fans-overflow-float",
        call(lambda: wi.GlorotUniform(input_axes=[0] * 64, output_axes=[1])((131072, 3))),
        InvArg,
        r"GlorotUniform: the fans.*input_axes",
    ),
    Case(
        "R-shape-4301-digits",
        call(lambda: wi.Zeros()((10**5000,))),
        Limit,
        r"`shape`.*int of about 5001 digits",
    ),
    Case("R-seed-4301-digits", call(lambda: wi.RandomNormal(seed=10**5000)), InvArg, r"`seed`.*5001 digits"),
    Case(
        "R-index-4301-digits",
        call(lambda: wi.Zeros()((3,), index=(slice(0, 10**5000),))),
        InvArg,
        r"`index`.*5001 digits",
    ),
    Case(
        "R-from-config-huge-key",
        given(lambda: {"k" * HUGE: 1}, lambda cfg: wi.GlorotUniform.from_config(cfg)),
        InvType,
        r"GlorotUniform could not be built from its config",
    ),
    Case(
        "R-from-config-int-key",
        call(lambda: wi.HeNormal.from_config({1: 2})),
        InvType,
        r"config keys must be str",
    ),
    Case("R-compute-fans-none", call(lambda: wi.compute_fans(None)), InvType, r"compute_fans.*`shape`"),
    Case(
        "R-serialize-a-class", call(lambda: wi.serialize(wi.GlorotUniform)), InvType, r"serialize an instance"
    ),
    Case(
        "R-get-class-needing-arguments",
        call(lambda: wi.get(type("NeedsArgs", (wi.Initializer,), {"__init__": lambda self, a: None}))),
        InvType,
        r"NeedsArgs.*without arguments",
    ),
    Case(
        "R-timedelta-stddev",
        call(lambda: wi.RandomNormal(stddev=np.timedelta64(1, "s"))),
        InvType,
        r"`stddev`.*timedelta64",
    ),
    Case(
        "R-custom-objects-int-key",
        call(lambda: wi.deserialize("foo", custom_objects={1: wi.Zeros})),
        InvType,
        r"`custom_objects` must have str keys",
    ),
    Case(
        "R-custom-objects-huge-key",
        given(
            lambda: {"k" * HUGE: wi.Zeros, 2: wi.Ones}, lambda co: wi.deserialize("foo", custom_objects=co)
        ),
        InvType,
        r"`custom_objects`",
    ),
    Case(
        "R-empty-but-unrepresentable", call(lambda: wi.Zeros()((2**61, 0))), Limit, r"cannot be represented"
    ),
    Case(
        "R-empty-but-unrepresentable-float16",
        call(lambda: wi.GlorotUniform(seed=1)((0, 2**62), "float16")),
        Limit,
        r"cannot be represented",
    ),
    Case(
        "R-empty-slice-unrepresentable",
        call(lambda: wi.RandomNormal(seed=1)((3, 3074457345618258602), index=(slice(1, 1),))),
        Limit,
        r"index= slice of \(3, 3074457345618258602\).*cannot be represented",
    ),
    Case(
        "R-seed-dict-mixed-key-types",  # found by fuzz/test_properties.py
        call(lambda: wi.RandomNormal(seed={"": None, 0: None})),
        InvArg,
        r"`seed` must be a serialized SeedGenerator",
    ),
    Case("R-big-endian-dtype", call(lambda: wi.Constant(1.0)((2,), np.dtype(">i4"))), InvType, r"byte order"),
    Case(
        "R-package-trailing-newline",
        call(lambda: wi.register_initializer(package="pkg\n")),
        InvArg,
        r"`package`",
    ),
    Case(
        "R-variance-scaling-overflow-names-scale",
        call(lambda: wi.VarianceScaling(scale=1e300, seed=1)((2, 2), "float16")),
        InvArg,
        r"scale=1e\+300",
    ),
    Case(
        "R-index-cap-message-names-the-slice",
        _small_cap(lambda: wi.GlorotUniform(seed=1)((1024, 1024), index=(slice(0, 512),))),
        Limit,
        r"index= slice of \(1024, 1024\), of shape \(512, 1024\)",
    ),
]


def test_the_corpus_has_at_least_60_distinct_cases():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60
    assert all(issubclass(case.exc, wi.WeightinitError) for case in CASES)


@pytest.fixture
def default_limits(monkeypatch):
    """Every case starts (and ends) with the default size cap, whatever the environment."""
    monkeypatch.delenv("WEIGHTINIT_MAX_BYTES", raising=False)
    wi.set_max_bytes(None)
    yield
    wi.set_max_bytes(None)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_rejected_quickly_with_a_short_clear_error(case, default_limits):
    bad_call = case.prepare()
    start = time.perf_counter()
    with pytest.raises(case.exc) as info:
        bad_call()
    elapsed = time.perf_counter() - start
    assert isinstance(info.value, case.base)
    message = str(info.value)
    assert re.search(case.match, message), message[:300]
    assert len(message) < MAX_MESSAGE, f"{len(message)} characters"
    assert elapsed < MAX_SECONDS, f"took {elapsed:.2f} s"


def test_the_abstract_base_class_raises_not_implemented_like_keras():
    # C2: get("Initializer") gives the base class instance; calling it is a programming error
    init = wi.get("Initializer")
    assert type(init) is wi.Initializer
    with pytest.raises(NotImplementedError, match="must implement"):
        init((2,))


def test_zero_size_shapes_are_not_errors():
    # S2: empty tensors are valid (Keras returns them too)
    for init in (
        wi.RandomNormal(seed=1),
        wi.Orthogonal(seed=1),
        wi.Zeros(),
        wi.Identity(),
        wi.HeUniform(seed=2),
    ):
        for shape in ((0, 3), (0, 0), (3, 0)):
            out = init(shape)
            assert out.shape == shape and out.dtype == np.float32


def test_a_small_slice_of_a_huge_tensor_is_fine():
    # the cap applies to what is allocated: a 2x2 shard of an exabyte-sized tensor costs 16 bytes
    init = wi.HeNormal(seed=3)
    part = init((2**40, 2**20), index=(slice(5, 7), slice(2**20 - 2, None)))
    assert part.shape == (2, 2) and np.isfinite(part).all()


# --------------------------------------------------------------------------- size cap settings


def test_set_max_bytes_lowers_and_restores_the_cap(default_limits):
    assert wi.get_max_bytes() == 16 * 2**30
    wi.set_max_bytes(1000)
    assert wi.get_max_bytes() == 1000
    assert wi.Zeros()((250,)).nbytes == 1000  # exactly at the cap is allowed
    with pytest.raises(wi.ResourceLimitError, match=r"1004 bytes.*limit of 1000 B"):
        wi.Zeros()((251,))
    with pytest.raises(ValueError):
        wi.RandomNormal(seed=1)((16, 16))
    assert wi.RandomNormal(seed=1)((16, 16), index=(slice(0, 2),)).shape == (2, 16)
    wi.set_max_bytes(None)
    assert wi.get_max_bytes() == 16 * 2**30
    assert wi.Zeros()((251,)).shape == (251,)


def test_environment_variable_sets_the_cap_and_bad_values_are_rejected(default_limits, monkeypatch):
    monkeypatch.setenv("WEIGHTINIT_MAX_BYTES", "2_000")
    assert wi.get_max_bytes() == 2000
    with pytest.raises(wi.ResourceLimitError):
        wi.Ones()((501,))
    wi.set_max_bytes(10**6)  # an explicit setting wins over the environment
    assert wi.Ones()((501,)).shape == (501,)
    wi.set_max_bytes(None)
    for bad in ("abc", "-5", "0", "1.5", "1e9"):
        monkeypatch.setenv("WEIGHTINIT_MAX_BYTES", bad)
        with pytest.raises(wi.InvalidArgumentError, match="WEIGHTINIT_MAX_BYTES") as info:
            wi.Zeros()((1,))
        assert isinstance(info.value, ValueError) and len(str(info.value)) < MAX_MESSAGE


def _run_python(
    code: str, env_extra: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "WEIGHTINIT_MAX_BYTES"}
    env.update(env_extra)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_environment_variable_is_honoured_in_a_fresh_process():
    code = """
        import weightinit as wi
        assert wi.get_max_bytes() == 4096, wi.get_max_bytes()
        assert wi.Zeros()((1024,)).nbytes == 4096
        try:
            wi.GlorotUniform(seed=1)((33, 32))
        except wi.ResourceLimitError as exc:
            assert "WEIGHTINIT_MAX_BYTES" in str(exc)
        else:
            raise SystemExit("no error above the cap")
        print("ok")
    """
    result = _run_python(code, {"WEIGHTINIT_MAX_BYTES": "4096"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_huge_requests_fail_before_allocating_under_an_address_space_limit():
    # With the address space capped, a request that tried to allocate would die with a
    # MemoryError (or worse); ours must raise ResourceLimitError without touching memory.
    code = """
        import resource
        import weightinit as wi
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = 3 * 2**30
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        calls = [
            lambda: wi.RandomNormal(seed=1)((10**6, 10**6)),
            lambda: wi.Ones()((10**5, 10**5)),
            lambda: wi.TruncatedNormal(seed=1)((2**63,)),
            lambda: wi.Orthogonal(seed=1)((50000, 50000)),
            lambda: wi.Identity()((10**6, 10**6)),
        ]
        for bad in calls:
            try:
                bad()
            except wi.ResourceLimitError:
                continue
            raise SystemExit("no ResourceLimitError")
        print("ok")
    """
    result = _run_python(code, {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_parameters_just_inside_the_dtype_range_give_finite_values():
    # The overflow check must not refuse what fits: |mean| + 2 * stddev <= 65504 for truncated,
    # |mean| + 5.5 * stddev for the untruncated float32-precision normal.
    assert np.isfinite(wi.TruncatedNormal(stddev=3e4, seed=1)((100_000,), "float16")).all()
    assert np.isfinite(wi.RandomNormal(stddev=1e4, seed=1)((100_000,), "float16")).all()
    assert np.isfinite(wi.RandomUniform(-65504.0, 65504.0, seed=1)((100_000,), "float16")).all()


def test_rank_up_to_64_works_for_deterministic_fills():
    # numpy's broadcast_shapes stops at 32 dimensions; our own broadcast check does not
    assert wi.Ones()((1,) * 40).shape == (1,) * 40
    assert wi.Constant([1, 2])((1,) * 38 + (2,)).ravel().tolist() == [1.0, 2.0]


def test_int64_edge_values_that_fit_are_exact():
    assert wi.Constant(2**63 - 1)((2,), "int64").tolist() == [2**63 - 1] * 2
    assert wi.Constant(-(2**63))((1,), "int64").tolist() == [-(2**63)]


def test_tf_keras_call_keywords_are_accepted_when_none_and_refused_otherwise():
    # tf.keras / TensorFlow may call initializer(shape, dtype, partition_info=None) or layout=None
    init = wi.GlorotUniform(seed=3)
    np.testing.assert_array_equal(init((4, 5), "float32", partition_info=None, layout=None), init((4, 5)))
    with pytest.raises(wi.InvalidArgumentError, match="partition_info must be None"):
        init((4, 5), partition_info=object())
    with pytest.raises(wi.InvalidTypeError, match=r"unexpected keyword argument\(s\) \['bogus'\]"):
        init((4, 5), bogus=1)
