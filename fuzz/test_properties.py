"""Property-based fuzzing of every entry point that takes data from outside.

The contract under test (README "Threat model"): whatever the input, a call
either succeeds with a well-formed result or raises one of weightinit's own
exceptions (``WeightinitError``: a ``ValueError`` or ``TypeError``), quickly,
without touching more memory than the size cap allows. Any other exception is a
bug; each one found is kept as a regression case in ``tests/test_adversarial.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from typing import Any

import numpy as np
import pytest
import strategies as fz
from hypothesis import given
from hypothesis import strategies as st

import weightinit as wi
from weightinit._jsonsafe import loads
from weightinit._validation import region_shape

pytestmark = pytest.mark.timeout(600)

CAP = 1 << 24  # 16 MiB: fuzzed shapes may ask for anything; the cap must hold them off


@pytest.fixture(autouse=True)
def small_cap():
    wi.set_max_bytes(CAP)
    yield
    wi.set_max_bytes(None)


def _quietly(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wi.UnseededReuseWarning)
        return fn(*args, **kwargs)


@fz.FUZZ
@given(fz.configs())
def test_get_and_deserialize_succeed_or_raise_our_errors(config: Any) -> None:
    for entry in (wi.get, wi.deserialize):
        try:
            result = entry(config)
        except wi.WeightinitError as exc:
            assert len(str(exc)) < 3000
            continue
        if result is None:
            continue
        assert callable(result)
        if isinstance(result, wi.Initializer):
            again = wi.deserialize(json.loads(json.dumps(wi.serialize(result))))
            assert type(again) is type(result)


@fz.FUZZ
@given(
    fz.json_values,
    st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.sampled_from([wi.Zeros, wi.Ones]))),
)
def test_deserialize_with_custom_objects(config: Any, custom: Any) -> None:
    with contextlib.suppress(wi.WeightinitError):
        wi.deserialize(config, custom_objects=custom)


@fz.FUZZ
@given(fz.initializers(), fz.shapes, fz.dtypes, fz.indexes)
def test_every_initializer_call_succeeds_or_raises_our_errors(
    init: Any, shape: Any, dtype: Any, index: Any
) -> None:
    try:
        out = _quietly(init, shape, dtype, index=index)
    except wi.WeightinitError as exc:
        assert len(str(exc)) < 3000
        return
    assert isinstance(out, np.ndarray)
    assert out.nbytes <= CAP
    whole_shape = tuple(int(d) for d in shape)
    if index is None:
        assert out.shape == whole_shape
        return
    region = tuple(
        (0 if s.start is None else int(s.start), d if s.stop is None else int(s.stop))
        for s, d in zip(index, whole_shape, strict=False)
    ) + tuple((0, d) for d in whole_shape[len(index) :])
    assert out.shape == region_shape(region)
    seeded = not isinstance(getattr(init, "seed", None), wi.SeedGenerator)
    if seeded and out.size and np.prod(whole_shape) * out.itemsize <= CAP // 4:
        whole = _quietly(init, shape, dtype)
        expected = whole[tuple(slice(a, b) for a, b in region)]
        assert expected.dtype == out.dtype
        assert expected.tobytes() == out.tobytes()


@fz.FUZZ
@given(
    st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300),
        fz.json_values.map(lambda v: json.dumps(v, default=str)),
    )
)
def test_the_json_reader_succeeds_or_raises_our_errors(text: Any) -> None:
    with contextlib.suppress(wi.WeightinitError):
        loads(text)


@fz.FUZZ
@given(fz.argv)
def test_the_command_line_never_crashes(argv: list[str]) -> None:
    from weightinit._cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _quietly(main, argv)
    message = err.getvalue()
    assert code in (0, 1, 2), (code, message)
    assert "unexpected" not in message and "Traceback" not in message, message
    if code != 0 and "usage:" not in message:
        assert len(message.strip().splitlines()) == 1, message
