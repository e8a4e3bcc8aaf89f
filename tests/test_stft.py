"""STFT: worked examples (spec 5.3), Keras agreement, channels, slices, dtypes, config, errors."""

from __future__ import annotations

import doctest
import json
import math
import os
import subprocess
import sys
import textwrap
import time
from importlib.util import find_spec

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import weightinit as wi
import weightinit._stft as stft_module
from conftest import config_roundtrip
from weightinit import InvalidArgumentError, InvalidTypeError, ResourceLimitError
from weightinit._dtypes import FLOAT_DTYPES
from weightinit._windows import get_window

STFT = stft_module.STFT

R2 = 1 / math.sqrt(2)
R6 = 1 / math.sqrt(6)

#: spec 5.3, the (4, 1, 3) tables, shown as [:, 0, :]
WORKED_4_1_3 = [
    ({}, [[0, 0, 0], [R2, 0, -R2], [R2, -R2, R2], [0, 0, 0]]),
    ({"periodic": True}, [[0, 0, 0], [R6, 0, -R6], [2 * R6, -2 * R6, 2 * R6], [R6, 0, -R6]]),
    (
        {"side": "imag", "window": "hamming", "scaling": "spectrum", "periodic": True},
        [[0, 0, 0], [0, -0.25, 0], [0, 0, 0], [0, 0.25, 0]],
    ),
    ({"window": None}, [[1, 1, 1], [1, 0, -1], [1, -1, 1], [1, 0, -1]]),
]

#: spec 5.3, STFT()((8, 1, 5))[:, 0, :], float64 reference rounded to 8 digits
WORKED_8_1_5 = [
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [0.11619357, 0.08216126, 0.0, -0.08216126, -0.11619357],
    [0.37727815, 0.0, -0.37727815, 0.0, 0.37727815],
    [0.58665173, -0.41482542, 0.0, 0.41482542, -0.58665173],
    [0.58665173, -0.58665173, 0.58665173, -0.58665173, 0.58665173],
    [0.37727815, -0.26677594, 0.0, 0.26677594, -0.37727815],
    [0.11619357, 0.0, -0.11619357, 0.0, 0.11619357],
    [0.0, 0.0, 0.0, 0.0, 0.0],
]

#: (constructor kwargs, shape) compared with Keras
KERAS_CASES = [
    ({}, (4, 1, 3)),
    ({"periodic": True}, (4, 1, 3)),
    ({"side": "imag", "window": "hamming", "scaling": "spectrum", "periodic": True}, (4, 1, 3)),
    ({"window": None}, (4, 1, 3)),
    ({}, (8, 1, 5)),
    ({"window": None}, (64, 1, 33)),
    ({"window": None, "side": "imag"}, (512, 1, 257)),
    ({}, (512, 1, 257)),
    ({"side": "imag"}, (512, 1, 257)),
    ({"window": "hamming", "scaling": "spectrum", "periodic": True}, (512, 1, 257)),
    ({"side": "imag", "window": "blackman", "periodic": True, "scaling": "spectrum"}, (400, 1, 201)),
    ({"window": [0.5, 1.0, 1.0, 0.5]}, (4, 1, 3)),
    ({"window": [0.5, -2.0, 1.0], "scaling": None, "side": "imag"}, (3, 1, 6)),
    ({"window": "tukey", "scaling": None}, (16, 1, 9)),
    ({"window": "taylor", "side": "imag"}, (32, 1, 17)),
    ({"window": "flattop_periodic"}, (20, 1, 11)),
    ({"window": "hann"}, (1, 1, 2)),
]


def case_id(case):
    kwargs, shape = case
    return f"{shape}-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


def keras_atol(kwargs, shape, ours):
    """Keras evaluates the phase in float32: a few float32 ulps of the largest phase π T."""
    peak = float(np.max(np.abs(ours))) if ours.size else 1.0
    return 1e-6 + 3 * float(np.spacing(np.float32(np.pi * shape[0]))) * max(peak, 1e-3)


def float32_recipe(side, window, scaling, periodic, shape):
    """Spec 5.3's bit-exact float32 recipe of Keras's numpy backend (windows from ``window_fn``)."""
    frame_length, _, bins = shape
    f32 = np.float32
    freq = (np.arange(bins, dtype=f32) / f32(2 * (bins - 1))).reshape(1, 1, bins)
    times = np.arange(frame_length, dtype=f32).reshape(frame_length, 1, 1)
    arg = ((f32(-2) * times) * freq) * np.arccos(f32(-1))
    kernel = np.cos(arg) if side == "real" else np.sin(arg)
    if window is None:
        return kernel
    if isinstance(window, str):
        window = get_window(window, frame_length, periodic)
    w = np.asarray(window, dtype=np.float64).astype(f32).reshape(frame_length, 1, 1)
    if scaling == "density":
        s = np.sqrt(np.sum(np.square(w)))
    elif scaling == "spectrum":
        s = np.sum(np.abs(w))
    else:
        s = f32(1)
    return (kernel * w) / s


def full_kwargs(kwargs):
    return {"side": "real", "window": "hann", "scaling": "density", "periodic": False, **kwargs}


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize(("kwargs", "expected"), WORKED_4_1_3)
def test_worked_examples_4_1_3(kwargs, expected):
    init = STFT(**kwargs)
    np.testing.assert_allclose(init((4, 1, 3))[:, 0, :], expected, rtol=0, atol=1e-7)
    np.testing.assert_allclose(init((4, 1, 3), dtype="float64")[:, 0, :], expected, rtol=0, atol=1e-15)


def test_worked_example_8_1_5():
    for dtype in ("float32", "float64"):
        out = STFT()((8, 1, 5), dtype=dtype)
        np.testing.assert_allclose(out[:, 0, :], WORKED_8_1_5, rtol=0, atol=1e-7)


def test_exact_zeros_and_ones():
    out = STFT(window=None)((16, 1, 9), dtype="float64")[:, 0, :]
    t, f = np.meshgrid(np.arange(16), np.arange(9), indexing="ij")
    quarter = (4 * t * f) % 16 == 0  # the phase is a multiple of a quarter turn
    assert np.all(np.isin(out[quarter], [-1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(out[quarter], np.round(np.cos(-2 * np.pi * t * f / 16))[quarter])
    imag = STFT(side="imag", window=None)((16, 1, 9), dtype="float64")[:, 0, :]
    np.testing.assert_array_equal(imag[quarter], np.round(np.sin(-2 * np.pi * t * f / 16))[quarter])
    windowed = STFT()((4, 1, 3), dtype="float64")[:, 0, :]
    assert windowed[1, 1] == 0.0 and np.all(windowed[[0, 3]] == 0.0)


def test_float64_accuracy_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    shape = (48, 1, 13)
    real = STFT(window=None)(shape, dtype="float64")[:, 0, :]
    imag = STFT(side="imag", window=None)(shape, dtype="float64")[:, 0, :]
    n = 2 * (shape[2] - 1)
    with mpmath.workdps(30):
        for t in range(shape[0]):
            for f in range(shape[2]):
                angle = -2 * mpmath.pi * t * f / n
                assert abs(real[t, f] - float(mpmath.cos(angle))) <= 2.3e-16
                assert abs(imag[t, f] - float(mpmath.sin(angle))) <= 2.3e-16


@pytest.mark.parametrize("scaling", ["density", "spectrum", None])
@pytest.mark.parametrize("window", ["hann", "hamming", "blackman", "flattop", [0.5, -2.0, 3.0, 1e-3, 7.0]])
def test_formula_in_float64(window, scaling):
    shape = (5, 1, 7)
    for side in ("real", "imag"):
        out = STFT(side, window, scaling, True)(shape, dtype="float64")[:, 0, :]
        w = get_window(window, 5, True) if isinstance(window, str) else np.asarray(window)
        s = {"density": math.sqrt(math.fsum(w * w)), "spectrum": math.fsum(abs(w)), None: 1.0}[scaling]
        t, f = np.meshgrid(np.arange(5), np.arange(7), indexing="ij")
        trig = np.cos if side == "real" else np.sin
        expected = trig(-2 * np.pi * t * f / 12) * w[:, None] / s
        np.testing.assert_allclose(out, expected, rtol=0, atol=3e-15 * max(1.0, np.abs(expected).max()))


def test_huge_window_values_do_not_overflow():
    out = STFT(window=[1e300, 1e300, 1e300, 1e300], periodic=True)((4, 1, 3), dtype="float64")
    np.testing.assert_allclose(out, STFT(window=[1.0] * 4)((4, 1, 3), dtype="float64"), rtol=1e-15)
    tiny = STFT(window=[5e-324, 1e-320, 0.0], scaling="spectrum")((3, 1, 2), dtype="float64")
    assert np.all(np.isfinite(tiny)) and tiny[1, 0, 0] > 0.5


def test_window_name_suffix_overrides_periodic():
    np.testing.assert_array_equal(
        STFT(window="hann_periodic")((8, 1, 5)), STFT(window="hann", periodic=True)((8, 1, 5))
    )
    np.testing.assert_array_equal(
        STFT(window="hann_symmetric", periodic=True)((8, 1, 5)), STFT(window="hann")((8, 1, 5))
    )


def test_scaling_is_ignored_without_window():
    for scaling in ("density", "spectrum", None):
        np.testing.assert_array_equal(
            STFT(window=None, scaling=scaling)((6, 1, 4)), STFT(window=None)((6, 1, 4))
        )


def test_all_zero_named_window_without_scaling_gives_zeros():
    out = STFT(scaling=None)((2, 1, 3), dtype="float64")
    np.testing.assert_array_equal(out, np.zeros((2, 1, 3)))


def test_frame_of_one_sample():
    np.testing.assert_array_equal(STFT()((1, 1, 4)), np.ones((1, 1, 4), dtype=np.float32))


# ----------------------------------------------------------------------------- Keras


@pytest.mark.parametrize("case", KERAS_CASES, ids=case_id)
def test_close_to_float32_recipe(case):
    kwargs, shape = case
    ours = STFT(**kwargs)(shape)
    recipe = float32_recipe(**full_kwargs(kwargs), shape=shape)
    np.testing.assert_allclose(ours, recipe, rtol=0, atol=keras_atol(kwargs, shape, ours))


@pytest.mark.parametrize("case", KERAS_CASES, ids=case_id)
def test_close_to_keras(case, keras_module):
    kwargs, shape = case
    theirs = np.asarray(keras_module.initializers.STFT(**kwargs)(shape))
    ours = STFT(**kwargs)(shape)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=keras_atol(kwargs, shape, ours))
    if shape[0] <= 8:
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-6)


def test_channels_close_to_keras(keras_module):
    theirs = np.asarray(keras_module.initializers.STFT()((64, 3, 33)))
    assert theirs.shape == (64, 1, 33)  # Keras ignores the channel axis
    ours = STFT()((64, 3, 33))
    assert ours.shape == (64, 3, 33)
    for c in range(3):
        np.testing.assert_allclose(ours[:, c : c + 1], theirs, rtol=0, atol=2e-6)


def test_keras_config_matches(keras_module):
    for args in [(), ("imag", None, None, True), ("real", [0.5, 1.0, 1.0, 0.5], "spectrum", False)]:
        assert STFT(*args).get_config() == keras_module.initializers.STFT(*args).get_config()
    assert list(STFT().get_config()) == list(keras_module.initializers.STFT().get_config())


@pytest.mark.skipif(find_spec("keras") is None or find_spec("scipy") is None, reason="needs keras and scipy")
def test_recipe_is_bit_exact_on_keras_numpy_backend(tmp_path):
    """Spec 5.3: Keras's numpy backend equals the float32 recipe bit for bit (scipy windows)."""
    cases = KERAS_CASES
    script = textwrap.dedent(
        """
        import json, sys
        import numpy as np
        import keras
        cases = json.loads(sys.argv[1])
        out = {}
        for i, (kwargs, shape) in enumerate(cases):
            out[str(i)] = np.asarray(keras.initializers.STFT(**kwargs)(tuple(shape)))
        np.savez(sys.argv[2], **out)
        """
    )
    target = tmp_path / "keras_numpy.npz"
    env = {**os.environ, "KERAS_BACKEND": "numpy", "JAX_PLATFORMS": "cpu"}
    subprocess.run(
        [sys.executable, "-c", script, json.dumps(cases), str(target)], env=env, check=True, timeout=240
    )
    import scipy.signal

    with np.load(target) as data:
        for i, (kwargs, shape) in enumerate(cases):
            keras_out = data[str(i)]
            full = full_kwargs(kwargs)
            if isinstance(full["window"], str):
                full["window"] = scipy.signal.get_window(full["window"], shape[0], fftbins=full["periodic"])
            np.testing.assert_array_equal(keras_out, float32_recipe(**full, shape=shape), err_msg=str(kwargs))
            ours = STFT(**kwargs)(shape)
            np.testing.assert_allclose(ours, keras_out, rtol=0, atol=keras_atol(kwargs, shape, ours))


# ----------------------------------------------------------------------------- shapes, slices, dtypes


@pytest.mark.parametrize("channels", [0, 1, 2, 5])
def test_channels_are_broadcast(channels):
    out = STFT(side="imag", window="blackman")((8, channels, 5), dtype="float64")
    assert out.shape == (8, channels, 5)
    single = STFT(side="imag", window="blackman")((8, 1, 5), dtype="float64")
    for c in range(channels):
        np.testing.assert_array_equal(out[:, c : c + 1], single)
    assert out.flags.writeable and out.flags.c_contiguous


_WINDOWS = st.sampled_from([None, "hann", "hamming", "flattop", "lanczos", "tukey", (0.5, -1.0, 2.0, 0.25)])


@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_index_gives_the_slice_of_the_whole(data):
    window = data.draw(_WINDOWS, label="window")
    frame_length = 4 if isinstance(window, tuple) else data.draw(st.integers(1, 40), label="T")
    shape = (frame_length, data.draw(st.integers(0, 3), label="C"), data.draw(st.integers(2, 40), label="F"))
    init = STFT(
        side=data.draw(st.sampled_from(["real", "imag"]), label="side"),
        window=list(window) if isinstance(window, tuple) else window,
        scaling=data.draw(st.sampled_from(["density", "spectrum", None]), label="scaling"),
        periodic=data.draw(st.booleans(), label="periodic"),
    )
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES), label="dtype")
    rank = data.draw(st.integers(0, 3), label="index rank")
    index = []
    for dim in shape[:rank]:
        start = data.draw(st.integers(0, dim), label="start")
        index.append(slice(start, data.draw(st.integers(start, dim), label="stop")))
    try:
        whole = init(shape, dtype=dtype)
    except InvalidArgumentError as error:  # e.g. symmetric hann of 2 samples, with a scaling
        assert "all zeros" in str(error) and init.scaling is not None
        with pytest.raises(InvalidArgumentError, match="all zeros"):
            init(shape, dtype=dtype, index=tuple(index))
        return
    part = init(shape, dtype=dtype, index=tuple(index))
    expected = whole[tuple(index)]
    assert part.shape == expected.shape and part.dtype == expected.dtype
    assert part.tobytes() == expected.tobytes()


def test_index_across_blocks():
    init = STFT(side="imag", window="hann", periodic=True)
    shape = (600, 2, 1025)  # several blocks of rows, with different block sizes for the slices
    whole = init(shape, dtype="float64")
    for index in [
        (slice(250, 520), slice(1, 2), slice(3, 1000)),
        (slice(0, 600), slice(0, 2), slice(1024, 1025)),
        (slice(599, 600),),
        (slice(10, 10), slice(0, 2), slice(0, 5)),
    ]:
        part = init(shape, dtype="float64", index=index)
        assert part.tobytes() == whole[index].tobytes()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_every_float_dtype_is_the_float64_result_cast(dtype):
    reference = STFT(window="hamming")((16, 2, 9), dtype="float64")
    out = STFT(window="hamming")((16, 2, 9), dtype=dtype)
    expected_dtype = np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)
    assert out.dtype == expected_dtype and out.shape == (16, 2, 9)
    assert out.tobytes() == reference.astype(expected_dtype).tobytes()


def test_default_dtype_is_float32():
    assert STFT()((4, 1, 3)).dtype == np.float32
    assert STFT()((4, 1, 3), dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "bool", "complex64", "float", "foo", 3])
def test_non_float_dtypes_are_rejected(dtype):
    with pytest.raises(InvalidTypeError, match="unsupported dtype"):
        STFT()((4, 1, 3), dtype=dtype)


def test_size_cap():
    init = STFT()
    try:
        wi.set_max_bytes(16 * 2**20)
        with pytest.raises(ResourceLimitError):
            init((1024, 64, 513))
        part = init((1024, 64, 513), index=(slice(0, 2),))
        np.testing.assert_array_equal(part, STFT()((1024, 1, 513))[:2].repeat(64, axis=1))
    finally:
        wi.set_max_bytes(None)


# ----------------------------------------------------------------------------- config


def test_default_config_in_keras_order():
    config = STFT().get_config()
    assert config == {"side": "real", "window": "hann", "periodic": False, "scaling": "density"}
    assert list(config) == ["side", "window", "periodic", "scaling"]
    assert STFT("imag", None, None, True).get_config() == {
        "side": "imag",
        "window": None,
        "periodic": True,
        "scaling": None,
    }


def test_attributes():
    init = STFT("imag", "hamming", "spectrum", np.bool_(True))
    assert (init.side, init.window, init.scaling, init.periodic) == ("imag", "hamming", "spectrum", True)
    assert type(init.periodic) is bool


@pytest.mark.parametrize(
    "window",
    [
        [0.5, 1.0, 1.0, 0.5],
        (0.5, 1, 1, 0.5),
        np.array([0.5, 1.0, 1.0, 0.5]),
        np.array([1, 2, 2, 1], np.int32),
    ],
)
def test_array_window_is_stored_as_a_plain_list(window):
    config = STFT(window=window).get_config()
    assert type(config["window"]) is list
    assert all(type(v) is float for v in config["window"])
    assert json.loads(json.dumps(config)) == config
    np.testing.assert_array_equal(config["window"], np.asarray(window, dtype=np.float64))


def test_config_is_a_copy():
    init = STFT(window=[0.5, 1.0, 1.0, 0.5])
    init.get_config()["window"][0] = 99.0
    assert init.window[0] == 0.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"side": "imag", "window": "hamming", "scaling": "spectrum", "periodic": True},
        {"window": None, "scaling": None},
        {"window": [0.5, 1.0, 1.0, 0.5], "scaling": "spectrum"},
        {"window": "hann_periodic"},
    ],
)
def test_config_roundtrip(kwargs):
    init = STFT(**kwargs)
    via_config, via_serialize = config_roundtrip(init)
    for copy in (via_config, via_serialize, init.clone()):
        assert copy((4, 2, 3)).tobytes() == init((4, 2, 3)).tobytes()


@pytest.mark.parametrize("class_name", ["__numpy__", "__tensor__"])
def test_from_config_accepts_keras_array_dicts(class_name):
    config = {
        "side": "real",
        "window": {"class_name": class_name, "config": {"value": [0.5, 1.0, 1.0, 0.5], "dtype": "float64"}},
        "periodic": False,
        "scaling": "density",
    }
    init = STFT.from_config(config)
    assert init.window == [0.5, 1.0, 1.0, 0.5]


def test_from_config_errors():
    with pytest.raises(InvalidTypeError, match="Expected 'config' to be a dict"):
        STFT.from_config(["real"])
    with pytest.raises(TypeError, match="unexpected keyword argument 'fft_length'"):
        STFT.from_config({"fft_length": 8})
    with pytest.raises(InvalidArgumentError, match="serialized array"):
        STFT.from_config({"window": {"class_name": "Nope", "config": {}}})


def test_repr():
    assert repr(STFT()) == "STFT(side='real', window='hann', periodic=False, scaling='density')"


# ----------------------------------------------------------------------------- errors

BAD_CONSTRUCTOR_ARGS = [
    ({"side": "REAL"}, InvalidArgumentError, r"^side should be 'real' or 'imag', not REAL$"),
    ({"side": None}, InvalidArgumentError, r"^side should be 'real' or 'imag', not None$"),
    ({"side": 1}, InvalidArgumentError, r"^side should be 'real' or 'imag', not 1$"),
    ({"side": ["real"]}, InvalidArgumentError, r"^side should be 'real' or 'imag', not \['real'\]$"),
    ({"window": "nope"}, InvalidArgumentError, r"^Invalid window name 'nope' in parameter window='nope'!"),
    ({"window": "Hann"}, InvalidArgumentError, r"^Invalid window name 'Hann' in parameter window='Hann'!"),
    ({"window": "hanning"}, InvalidArgumentError, r"^Invalid window name 'hanning'"),
    ({"window": "kaiser"}, InvalidArgumentError, r"^'kaiser' must have parameters, but window='kaiser'!"),
    ({"window": "gaussian"}, InvalidArgumentError, r"^'gaussian' must have parameters"),
    ({"window": "dpss"}, InvalidArgumentError, r"^'dpss' must have parameters"),
    ({"window": "general_hamming"}, InvalidArgumentError, r"^'general_hamming' must have parameters"),
    ({"window": ("kaiser", 8.0)}, InvalidTypeError, r"scipy-style tuples"),
    ({"window": 8.0}, InvalidTypeError, r"Argument `window` must be None, a window name"),
    ({"window": {"a": 1}}, InvalidTypeError, r"Argument `window` must be None, a window name"),
    ({"window": b"hann"}, InvalidTypeError, r"Argument `window` must be None, a window name"),
    ({"window": np.float64(8.0)}, InvalidArgumentError, r"must be 1-D"),
    ({"window": []}, InvalidArgumentError, r"between 1 and \d+ values"),
    ({"window": np.zeros(0)}, InvalidArgumentError, r"between 1 and \d+ values"),
    ({"window": [[1.0, 2.0], [3.0, 4.0]]}, InvalidArgumentError, r"must be 1-D"),
    ({"window": np.ones((2, 2))}, InvalidArgumentError, r"must be 1-D"),
    ({"window": [1.0, float("nan")]}, InvalidArgumentError, r"finite"),
    ({"window": np.array([1.0, np.inf])}, InvalidArgumentError, r"finite"),
    ({"window": [1, 10**400]}, InvalidArgumentError, r"finite"),
    ({"window": [True, False]}, InvalidTypeError, r"only real numbers"),
    ({"window": [1.0, None]}, InvalidTypeError, r"only real numbers"),
    ({"window": [1 + 2j]}, InvalidTypeError, r"only real numbers"),
    ({"window": np.array([1 + 1j])}, InvalidTypeError, r"only real numbers"),
    ({"window": np.array([True])}, InvalidTypeError, r"only real numbers"),
    ({"window": np.array(["a"])}, InvalidTypeError, r"only real numbers"),
    ({"window": [0.0, 0.0, 0.0]}, InvalidArgumentError, r"all zeros"),
    ({"window": [0.0, -0.0], "scaling": "spectrum"}, InvalidArgumentError, r"all zeros"),
    (
        {"scaling": "Density"},
        InvalidArgumentError,
        r"^Scaling is invalid, it must be `None`, 'density' or 'spectrum'\. Received scaling=Density$",
    ),
    ({"scaling": 1}, InvalidArgumentError, r"^Scaling is invalid.*Received scaling=1$"),
    ({"scaling": ""}, InvalidArgumentError, r"^Scaling is invalid"),
    ({"periodic": "yes"}, InvalidTypeError, r"Argument `periodic` must be a bool\. Received: periodic='yes'"),
    ({"periodic": 1}, InvalidTypeError, r"Argument `periodic` must be a bool"),
    ({"periodic": None}, InvalidTypeError, r"Argument `periodic` must be a bool"),
]


@pytest.mark.parametrize(("kwargs", "error", "pattern"), BAD_CONSTRUCTOR_ARGS)
def test_constructor_errors(kwargs, error, pattern):
    start = time.perf_counter()
    with pytest.raises(error, match=pattern):
        STFT(**kwargs)
    assert time.perf_counter() - start < 1.0


def test_too_long_window_is_rejected_before_looking_at_values():
    too_long = [None] * (stft_module.MAX_WINDOW_LENGTH + 1)
    with pytest.raises(InvalidArgumentError, match=r"between 1 and \d+ values"):
        STFT(window=too_long)


def test_keras_value_errors_stay_value_errors():
    for kwargs in ({"side": "REAL"}, {"window": "nope"}, {"window": "kaiser"}, {"scaling": "x"}):
        with pytest.raises(ValueError):
            STFT(**kwargs)


def test_zero_scaling_is_fine_without_scaling():
    assert STFT(window=[0.0, 0.0], scaling=None)((2, 1, 2)).tolist() == [[[0.0, 0.0]], [[0.0, 0.0]]]


def test_huge_arguments_give_short_messages():
    for kwargs in ({"side": "x" * 10**6}, {"window": "x" * 10**6}, {"scaling": "x" * 10**6}):
        with pytest.raises(InvalidArgumentError) as info:
            STFT(**kwargs)
        assert len(str(info.value)) < 2000


BAD_SHAPES = [
    ((4, 3), InvalidArgumentError, r"rank 3.*shape=\(4, 3\) of rank 2"),
    ((4, 1, 3, 1), InvalidArgumentError, r"rank 3.*of rank 4"),
    ((), InvalidArgumentError, r"rank 3.*of rank 0"),
    ((0, 1, 3), InvalidArgumentError, r"frame length shape\[0\] must be >= 1.*shape=\(0, 1, 3\)"),
    ((4, 1, 1), InvalidArgumentError, r"frequency bins shape\[2\] must be >= 2.*shape=\(4, 1, 1\)"),
    ((4, 1, 0), InvalidArgumentError, r"frequency bins shape\[2\] must be >= 2"),
    ((4.0, 1, 3), InvalidTypeError, r"shape"),
    ((-4, 1, 3), InvalidArgumentError, r"shape"),
    (4, InvalidTypeError, r"shape"),
]


@pytest.mark.parametrize(("shape", "error", "pattern"), BAD_SHAPES)
def test_shape_errors(shape, error, pattern):
    with pytest.raises(error, match=pattern):
        STFT()(shape)


def test_array_window_length_must_match_frame_length():
    init = STFT(window=[0.5, 1.0, 1.0, 0.5])
    with pytest.raises(
        InvalidArgumentError,
        match=r"^The shape of `window` must be equal to \[frame_length\]\. Received: window shape=\(4,\), "
        r"frame_length=3",
    ):
        init((3, 1, 3))


@pytest.mark.parametrize("scaling", ["density", "spectrum"])
def test_all_zero_named_window_with_scaling_is_an_error(scaling):
    # the symmetric hann window of 2 samples is [0, 0]: Keras returns NaN (0/0)
    with pytest.raises(InvalidArgumentError, match=r"'hann'.*length 2 is all zeros"):
        STFT(scaling=scaling)((2, 1, 3))
    assert np.all(np.isfinite(STFT(scaling=scaling, periodic=True)((2, 1, 3))))


def test_doctests(monkeypatch):
    monkeypatch.setattr(wi, "STFT", STFT, raising=False)
    result = doctest.testmod(stft_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
