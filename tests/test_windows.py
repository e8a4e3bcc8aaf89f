"""Window functions (weightinit._windows): values against scipy, names, errors, exact phases."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import weightinit._windows as windows
from weightinit import InvalidArgumentError, InvalidTypeError
from weightinit._windows import (
    MAX_WINDOW_LENGTH,
    PARAMETRIC_WINDOW_NAMES,
    WINDOW_NAMES,
    check_window_name,
    cos_turns,
    get_window,
    sin_turns,
)

LENGTHS = range(1, 71)
#: our windows differ from scipy's by a few ulps of 1 (both are float64 evaluations)
ATOL = 1e-15


# ----------------------------------------------------------------------------- against scipy


@pytest.fixture(scope="module")
def scipy_signal():
    return pytest.importorskip("scipy.signal")


@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_matches_scipy(name, scipy_signal):
    for length in LENGTHS:
        for periodic in (False, True):
            ours = get_window(name, length, periodic)
            theirs = scipy_signal.get_window(name, length, fftbins=periodic)
            assert ours.dtype == np.float64 and ours.shape == (length,)
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL, err_msg=f"{name} {length} {periodic}")


@pytest.mark.parametrize("name", ["hann", "tukey", "taylor", "rect", "triang", "lanczos"])
@pytest.mark.parametrize("suffix", ["_periodic", "_symmetric"])
def test_suffix_overrides_periodic_like_scipy(name, suffix, scipy_signal):
    for length in (1, 2, 5, 8, 33):
        for periodic in (False, True):
            ours = get_window(name + suffix, length, periodic)
            theirs = scipy_signal.get_window(name + suffix, length, fftbins=periodic)
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)
            expected = get_window(name, length, suffix == "_periodic")
            np.testing.assert_array_equal(ours, expected)


def test_name_set_is_scipys(scipy_signal):
    for name in WINDOW_NAMES:
        scipy_signal.get_window(name, 3)  # scipy accepts every name without parameters
    for name in PARAMETRIC_WINDOW_NAMES:
        with pytest.raises(ValueError, match="must have parameters"):
            scipy_signal.get_window(name, 3)
    table = getattr(pytest.importorskip("scipy.signal.windows._windows"), "_WIN_FUNCS", None)
    if table is None:
        pytest.skip("scipy's private window table moved")
    assert set(table) == set(WINDOW_NAMES) | set(PARAMETRIC_WINDOW_NAMES)
    assert not set(WINDOW_NAMES) & set(PARAMETRIC_WINDOW_NAMES)


REJECTED_NAMES = ["Hann", "hanning", "HAMMING", "nope", "", "_periodic", "hann_periodic_periodic", "kaiser_"]


@pytest.mark.parametrize("name", REJECTED_NAMES)
def test_names_scipy_rejects_are_rejected(name, scipy_signal):
    with pytest.raises(ValueError, match="Invalid window name"):
        scipy_signal.get_window(name, 3)
    with pytest.raises(InvalidArgumentError, match="Invalid window name"):
        get_window(name, 3, False)


# ----------------------------------------------------------------------------- structure


@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_symmetric_windows_are_exactly_symmetric(name):
    for length in LENGTHS:
        w = get_window(name, length, False)
        np.testing.assert_array_equal(w, w[::-1])


@pytest.mark.parametrize("name", WINDOW_NAMES)
def test_periodic_is_symmetric_one_longer_truncated(name):
    for length in range(2, 40):
        np.testing.assert_array_equal(
            get_window(name, length, True), get_window(name, length + 1, False)[:length]
        )


@pytest.mark.parametrize("name", WINDOW_NAMES)
@pytest.mark.parametrize("periodic", [False, True])
def test_length_one_is_one(name, periodic):
    np.testing.assert_array_equal(get_window(name, 1, periodic), [1.0])


def test_exact_values():
    np.testing.assert_array_equal(get_window("hann", 5, False), [0.0, 0.5, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(get_window("hann", 4, True), [0.0, 0.5, 1.0, 0.5])
    np.testing.assert_array_equal(get_window("hann", 4, False), [0.0, 0.75, 0.75, 0.0])
    np.testing.assert_allclose(get_window("hamming", 4, True), [0.08, 0.54, 1.0, 0.54], rtol=0, atol=3e-17)
    np.testing.assert_array_equal(get_window("bartlett", 5, False), [0.0, 0.5, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(get_window("triang", 3, False), [0.5, 1.0, 0.5])
    np.testing.assert_array_equal(get_window("boxcar", 3, True), [1.0, 1.0, 1.0])
    assert get_window("cosine", 2, False)[0] == math.sqrt(0.5)


def test_returns_a_new_array():
    a = get_window("hann", 8, True)
    a[:] = 7.0
    assert get_window("hann", 8, True)[0] == 0.0


# ----------------------------------------------------------------------------- errors


def test_parametric_names_need_parameters():
    for name in PARAMETRIC_WINDOW_NAMES:
        with pytest.raises(InvalidArgumentError, match=r"must have parameters, but window="):
            get_window(name, 4, False)
    with pytest.raises(InvalidArgumentError, match=r"^'kaiser' must have parameters, but window='kaiser'!"):
        check_window_name("kaiser")
    pattern = r"^'dpss' must have parameters, but window='dpss_periodic'!"
    with pytest.raises(InvalidArgumentError, match=pattern):
        check_window_name("dpss_periodic")


def test_unknown_name_message_lists_sorted_names():
    with pytest.raises(InvalidArgumentError) as info:
        check_window_name("nope")
    message = str(info.value)
    assert message.startswith("Invalid window name 'nope' in parameter window='nope'!")
    listed = message.split("): ", 1)[1].rstrip(".").split(", ")
    assert listed == [repr(n) for n in sorted(WINDOW_NAMES)]
    pattern = r"^Invalid window name 'nope' in parameter window='nope_symmetric'!"
    with pytest.raises(InvalidArgumentError, match=pattern):
        check_window_name("nope_symmetric")


def test_huge_name_gives_a_short_message():
    with pytest.raises(InvalidArgumentError) as info:
        check_window_name("x" * 1_000_000)
    assert len(str(info.value)) < 2000


@pytest.mark.parametrize(
    ("args", "error", "pattern"),
    [
        ((None, 4, False), InvalidTypeError, "must be a str"),
        ((b"hann", 4, False), InvalidTypeError, "must be a str"),
        ((("kaiser", 8.0), 4, False), InvalidTypeError, "must be a str"),
        (("hann", 0, False), InvalidArgumentError, "between 1 and"),
        (("hann", -3, False), InvalidArgumentError, "between 1 and"),
        (("hann", MAX_WINDOW_LENGTH + 1, False), InvalidArgumentError, "between 1 and"),
        (("hann", 4.0, False), InvalidTypeError, "must be an int"),
        (("hann", True, False), InvalidTypeError, "must be an int"),
        (("hann", None, False), InvalidTypeError, "must be an int"),
        (("hann", 4, "yes"), InvalidTypeError, "`periodic` must be a bool"),
        (("hann", 4, 1), InvalidTypeError, "`periodic` must be a bool"),
        (("hann", 4, None), InvalidTypeError, "`periodic` must be a bool"),
    ],
)
def test_argument_errors(args, error, pattern):
    with pytest.raises(error, match=pattern):
        get_window(*args)


def test_numpy_scalars_are_accepted():
    np.testing.assert_array_equal(get_window("hann", np.int64(4), np.bool_(True)), [0.0, 0.5, 1.0, 0.5])


# ----------------------------------------------------------------------------- exact phases


def test_cos_turns_exact_points():
    q = 24
    p = np.arange(-2 * q, 2 * q + 1)
    c, s = cos_turns(p, q), sin_turns(p, q)
    exact = {0: 1.0, 4: 0.5, 6: 0.0, 8: -0.5, 12: -1.0}  # in 24ths of a turn
    for k, value in exact.items():
        assert np.all(c[(p % q == k) | (p % q == (q - k) % q)] == value)
        assert np.all(s[(p - 6) % q == k] == value)  # sin(x + quarter turn) = cos(x)
    assert np.all(np.abs(c[p % 6 == 3]) == math.sqrt(0.5))
    assert np.all(np.abs(s[p % 6 == 3]) == math.sqrt(0.5))


@given(q=st.integers(1, 10**6), p=st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=20))
@settings(max_examples=200, deadline=None)
def test_cos_turns_symmetries(q, p):
    p = np.asarray(p, dtype=np.int64)
    np.testing.assert_array_equal(cos_turns(p, q), cos_turns(-p, q))
    np.testing.assert_array_equal(cos_turns(p, q), cos_turns(p + 5 * q, q))
    np.testing.assert_array_equal(sin_turns(p, q), -sin_turns(-p, q))
    if q % 2 == 0:
        np.testing.assert_array_equal(np.abs(cos_turns(p, q)), np.abs(cos_turns(p + q // 2, q)))


@given(q=st.integers(1, 10**6), p=st.integers(-(10**9), 10**9))
@settings(max_examples=300, deadline=None)
def test_cos_turns_accuracy(q, p):
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        angle = 2 * mpmath.pi * mpmath.mpf(p) / q
        expected_cos, expected_sin = float(mpmath.cos(angle)), float(mpmath.sin(angle))
    assert abs(float(cos_turns(p, q)) - expected_cos) <= 2.3e-16
    assert abs(float(sin_turns(p, q)) - expected_sin) <= 2.3e-16


def test_cos_turns_rejects_bad_denominator():
    with pytest.raises(InvalidArgumentError, match="q must be >= 1"):
        cos_turns([1], 0)


def test_doctests():
    result = doctest.testmod(windows, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
