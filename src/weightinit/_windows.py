"""Window functions by name, for ``STFT``: scipy's parameter-free windows, in numpy.

``get_window(name, length, periodic)`` accepts the same names as
``scipy.signal.get_window`` (scipy 1.17) for every window that needs no
parameter, and returns the same float64 values (to a few ulps) without
importing scipy.

Conventions (scipy's):

- ``periodic=False`` gives the *symmetric* window of ``length`` samples
  (``w[n] == w[length - 1 - n]``); ``periodic=True`` gives the symmetric window
  of ``length + 1`` samples without its last sample (the "DFT-even" window
  used for spectral analysis, scipy's ``fftbins=True``).
- A window of length 1 is ``[1.0]`` whatever the name and ``periodic``.
- A name may end in ``"_periodic"`` or ``"_symmetric"``; the suffix overrides
  ``periodic``.

Phases are reduced exactly in integer arithmetic before any cosine is taken
(see :func:`cos_turns`), so symmetric windows are exactly symmetric and values
that are exactly 0, 1/2 or 1 in real arithmetic come out exact.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._errors import InvalidArgumentError, InvalidTypeError, short_repr

__all__ = [
    "PARAMETRIC_WINDOW_NAMES",
    "WINDOW_NAMES",
    "check_window_name",
    "cos_turns",
    "get_window",
    "sin_turns",
]

Float64Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: the longest window this module computes (and the longest array window STFT accepts)
MAX_WINDOW_LENGTH = 1 << 24

_SQRT_HALF = math.sqrt(0.5)  # 1/sqrt(2), correctly rounded
_PERIODIC_SUFFIX = "_periodic"
_SYMMETRIC_SUFFIX = "_symmetric"


# --------------------------------------------------------------------------- exact phases


def cos_turns(p: Any, q: int) -> Float64Array:
    r"""``cos(2π p / q)`` for integers ``p`` (array-like) and ``q >= 1``, in float64.

    The angle is first reduced exactly: ``p mod q``, folded by the symmetries
    of the cosine to a remainder whose angle lies in :math:`[0, \pi/4]`, where
    ``cos`` or ``sin`` is evaluated. Hence ``cos_turns(p, q)`` equals
    ``cos_turns(-p, q)`` bit for bit and ``-cos_turns(p + q/2, q)`` in value,
    is exact (``0``, ``±1/2``, ``±1``) where the cosine is rational, is the
    correctly rounded ``±1/√2`` at odd eighth turns, and is otherwise within
    about one ulp of 1 of the true value.
    """
    if q < 1:
        raise InvalidArgumentError(f"cos_turns: q must be >= 1. Received: q={q}")
    p = np.asarray(p, dtype=np.int64)
    shape = p.shape
    p = p.reshape(-1) % q  # [0, q)
    u = np.minimum(p, q - p)  # [0, q/2]: cos is even and 1-periodic in turns
    m = 4 * u  # the angle in units of a quarter turn / q: [0, 2q]
    first = m <= q  # first quadrant: cos(x); second: -sin(x), x in [0, pi/2]
    r = np.where(first, m, m - q)  # x = (pi/2) * r / q, r in [0, q]
    low = 2 * r <= q  # x <= pi/4: use x itself, else use pi/2 - x
    a = np.where(low, r, q - r)  # in [0, q/2]
    arg = (np.pi * a.astype(np.float64)) / (2.0 * q)  # in [0, pi/4]
    cos, sin = np.cos(arg), np.sin(arg)
    sin[3 * a == q] = 0.5  # pi/6
    cos[2 * a == q] = sin[2 * a == q] = _SQRT_HALF  # pi/4: the same value whichever is used
    # first & low: cos(x); first & high: sin(pi/2 - x); second & low: sin(x);
    # second & high: cos(pi/2 - x).
    value = np.where(first == low, cos, sin)
    result: Float64Array = np.where(first, value, -value).reshape(shape)
    return result


def sin_turns(p: Any, q: int) -> Float64Array:
    """``sin(2π p / q)`` for integers ``p`` and ``q >= 1``: ``cos(2π (4p - q) / 4q)``."""
    return cos_turns(4 * np.asarray(p, dtype=np.int64) - q, 4 * q)


# --------------------------------------------------------------------------- symmetric windows
#
# Each function returns the symmetric window of m >= 2 samples; k = 0 .. m-1 and
# c = 2k - (m - 1) (twice the signed distance from the centre, an integer).


def _index(m: int) -> IntArray:
    return np.arange(m, dtype=np.int64)


def _centred(m: int) -> IntArray:
    return 2 * _index(m) - (m - 1)


def _general_cosine(coefficients: tuple[float, ...]) -> Callable[[int], Float64Array]:
    r"""``w[k] = Σ_j (-1)^j a_j cos(2π j k / (m - 1))``."""

    def window(m: int) -> Float64Array:
        k = _index(m)
        w = np.zeros(m, dtype=np.float64)
        for j, a in enumerate(coefficients):
            w += (-a if j % 2 else a) * cos_turns(j * k, m - 1)
        return w

    return window


def _boxcar(m: int) -> Float64Array:
    return np.ones(m, dtype=np.float64)


def _triangle(m: int) -> Float64Array:
    """``1 - |c| / L`` with ``L = m + 1`` (m odd) or ``m`` (m even): never 0 at the ends."""
    length = m + 1 if m % 2 else m
    return (length - np.abs(_centred(m))).astype(np.float64) / length


def _bartlett(m: int) -> Float64Array:
    """``1 - |c| / (m - 1)``: 0 at both ends."""
    return ((m - 1) - np.abs(_centred(m))).astype(np.float64) / (m - 1)


def _cosine(m: int) -> Float64Array:
    """``sin(π (k + 1/2) / m)``."""
    return sin_turns(2 * _index(m) + 1, 4 * m)


def _bohman(m: int) -> Float64Array:
    """``(1 - x) cos(π x) + sin(π x) / π`` with ``x = |c| / (m - 1)``; ends exactly 0."""
    c = np.abs(_centred(m))
    x = c.astype(np.float64) / (m - 1)
    w = (1.0 - x) * cos_turns(c, 2 * (m - 1)) + sin_turns(c, 2 * (m - 1)) / np.pi
    w[0] = w[-1] = 0.0
    return w


def _parzen(m: int) -> Float64Array:
    """Piecewise cubic in ``x = |c| / m``: ``1 - 6x²(1 - x)`` near the centre, ``2(1 - x)³`` outside."""
    c = np.abs(_centred(m))
    x = c.astype(np.float64) / m
    inner = 1.0 - 6.0 * x**2 + 6.0 * x**3
    outer = 2.0 * (1.0 - x) ** 3
    return np.where(2 * c <= m - 1, inner, outer)


def _barthann(m: int) -> Float64Array:
    """``0.62 - 0.48 x + 0.38 cos(2π x)`` with ``x = |k / (m - 1) - 1/2|``."""
    c = np.abs(_centred(m))
    x = c.astype(np.float64) / (2 * (m - 1))
    return 0.62 - 0.48 * x + 0.38 * cos_turns(c, 2 * (m - 1))


def _lanczos(m: int) -> Float64Array:
    """``sinc(c / (m - 1))`` with ``sinc(x) = sin(πx) / (πx)``."""
    c = _centred(m)
    x = c.astype(np.float64) / (m - 1)
    w = np.ones(m, dtype=np.float64)
    nonzero = c != 0
    w[nonzero] = sin_turns(c[nonzero], 2 * (m - 1)) / (np.pi * x[nonzero])
    return w


def _exponential(m: int) -> Float64Array:
    """``exp(-|k - (m - 1)/2|)`` (scipy's defaults ``center=None``, ``tau=1``)."""
    return np.exp(-np.abs(_centred(m)).astype(np.float64) / 2.0)


def _tukey(m: int) -> Float64Array:
    """Tukey with ``alpha = 0.5``: cosine tapers over the outer quarters, 1 in between.

    With ``d = min(k, m - 1 - k)``: ``(1 - cos(4π d / (m - 1))) / 2`` for
    ``d <= floor((m - 1) / 4)``, else 1.
    """
    k = _index(m)
    d = np.minimum(k, m - 1 - k)
    taper = 0.5 - 0.5 * cos_turns(2 * d, m - 1)
    return np.where(d <= (m - 1) // 4, taper, 1.0)


def _taylor(m: int) -> Float64Array:
    r"""Taylor window, scipy's defaults: ``nbar=4``, ``sll=30`` dB, ``norm=True``.

    .. math::

        w[k] = 1 + 2 \sum_{j=1}^{\bar n - 1} F_j \cos\!\left(\frac{2\pi j (k - m/2 + 1/2)}{m}\right)

    with :math:`A = \operatorname{arccosh}(10^{\text{sll}/20}) / \pi`,
    :math:`\sigma^2 = \bar n^2 / (A^2 + (\bar n - 1/2)^2)` and

    .. math::

        F_j = \frac{(-1)^{j+1}
                    \prod_{i=1}^{\bar n-1} \left(1 - \frac{j^2}{\sigma^2 (A^2 + (i - 1/2)^2)}\right)}
                   {2 \prod_{i \ne j} (1 - j^2 / i^2)},

    then divided by its value at the centre, :math:`1 + 2 \sum_j F_j`.
    """
    nbar, sll = 4, 30.0
    a = math.acosh(10.0 ** (sll / 20.0)) / math.pi
    sigma2 = nbar**2 / (a**2 + (nbar - 0.5) ** 2)
    others = np.arange(1, nbar, dtype=np.float64)
    coefficients = []
    for j in range(1, nbar):
        numer = (1.0 if j % 2 else -1.0) * np.prod(1.0 - j**2 / sigma2 / (a**2 + (others - 0.5) ** 2))
        denom = 2.0 * np.prod(1.0 - j**2 / others[others != j] ** 2)
        coefficients.append(numer / denom)
    phase = 2 * _index(m) - m + 1  # 2 (k - m/2 + 1/2)
    w = np.ones(m, dtype=np.float64)
    for j, f in enumerate(coefficients, start=1):
        w += 2.0 * f * cos_turns(j * phase, 2 * m)
    return w / (1.0 + 2.0 * math.fsum(coefficients))


# --------------------------------------------------------------------------- names

_WINDOWS: dict[tuple[str, ...], Callable[[int], Float64Array]] = {
    ("barthann", "brthan", "bth"): _barthann,
    ("bartlett", "bart", "brt"): _bartlett,
    ("blackman", "black", "blk"): _general_cosine((0.42, 0.50, 0.08)),
    ("blackmanharris", "blackharr", "bkh"): _general_cosine((0.35875, 0.48829, 0.14128, 0.01168)),
    ("bohman", "bman", "bmn"): _bohman,
    ("boxcar", "box", "ones", "rect", "rectangular"): _boxcar,
    ("cosine", "halfcosine"): _cosine,
    ("exponential", "poisson"): _exponential,
    ("flattop", "flat", "flt"): _general_cosine(
        (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368)
    ),
    ("hamming", "hamm", "ham"): _general_cosine((0.54, 0.46)),
    ("hann", "han"): _general_cosine((0.5, 0.5)),
    ("lanczos", "sinc"): _lanczos,
    ("nuttall", "nutl", "nut"): _general_cosine((0.3635819, 0.4891775, 0.1365995, 0.0106411)),
    ("parzen", "parz", "par"): _parzen,
    ("taylor", "taylorwin"): _taylor,
    ("triangle", "triang", "tri"): _triangle,
    ("tukey", "tuk"): _tukey,
}

_BY_NAME: dict[str, Callable[[int], Float64Array]] = {
    name: function for names, function in _WINDOWS.items() for name in names
}

#: every name (aliases included) ``get_window`` computes, sorted
WINDOW_NAMES: tuple[str, ...] = tuple(sorted(_BY_NAME))

#: scipy's windows that need parameters (``("kaiser", 8.0)``), with their aliases: not computed here
_PARAMETRIC: tuple[tuple[str, ...], ...] = (
    ("chebwin", "cheb"),
    ("dpss",),
    ("gaussian", "gauss", "gss"),
    ("general cosine", "general_cosine"),
    ("general gaussian", "general_gaussian", "general gauss", "general_gauss", "ggs"),
    ("general hamming", "general_hamming"),
    ("kaiser", "ksr"),
    ("kaiser bessel derived", "kaiser_bessel_derived", "kbd"),
)

#: names scipy knows but only with parameters, sorted
PARAMETRIC_WINDOW_NAMES: tuple[str, ...] = tuple(sorted(name for names in _PARAMETRIC for name in names))


def _split_suffix(name: str) -> tuple[str, bool | None]:
    """``("hann", True)`` for ``"hann_periodic"``; ``None`` when there is no suffix."""
    if name.endswith(_SYMMETRIC_SUFFIX):
        return name[: -len(_SYMMETRIC_SUFFIX)], False
    if name.endswith(_PERIODIC_SUFFIX):
        return name[: -len(_PERIODIC_SUFFIX)], True
    return name, None


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def check_window_name(window: object) -> str:
    """Return ``window`` if ``get_window`` accepts it as a name, else raise.

    Messages start with scipy's wording (which Keras shows):
    ``Invalid window name 'nope' in parameter window='nope'!`` and
    ``'kaiser' must have parameters, but window='kaiser'!``.
    """
    if not isinstance(window, str):
        raise InvalidTypeError(
            f"A window name must be a str. Received: window={short_repr(window)} "
            f"of type {type(window).__name__}"
        )
    base, _ = _split_suffix(window)
    if base in _BY_NAME:
        return window
    if base in PARAMETRIC_WINDOW_NAMES:
        raise InvalidArgumentError(
            f"'{_shown(base)}' must have parameters, but window={short_repr(window)}! "
            "Windows with parameters are not supported by name; pass the window's values "
            "(a 1-D list of length frame_length) instead."
        )
    listed = ", ".join(repr(n) for n in WINDOW_NAMES)
    raise InvalidArgumentError(
        f"Invalid window name '{_shown(base)}' in parameter window={short_repr(window)}! "
        f"Valid names (each may end in '_periodic' or '_symmetric'): {listed}."
    )


def get_window(name: str, length: int, periodic: bool) -> Float64Array:
    """The window ``name`` with ``length`` samples, float64, as ``scipy.signal.get_window``.

    Args:
        name: a parameter-free scipy window name or alias (``"hann"``,
            ``"hamming"``, ``"rect"``, ...), optionally ending in ``"_periodic"``
            or ``"_symmetric"`` (which overrides ``periodic``).
        length: number of samples, ``1 <= length <= 2**24``.
        periodic: True for the periodic (DFT-even) window, False for the
            symmetric one; scipy calls this ``fftbins``.

    Returns:
        A new float64 array of shape ``(length,)``.

    Raises:
        InvalidArgumentError: unknown name, a name that needs parameters, or a
            bad length.
        InvalidTypeError: ``name`` not a str, ``length`` not an int, or
            ``periodic`` not a bool.

    Example:
        >>> from weightinit._windows import get_window
        >>> get_window("hann", 5, periodic=False)
        array([0. , 0.5, 1. , 0.5, 0. ])
        >>> get_window("hann", 4, periodic=True)
        array([0. , 0.5, 1. , 0.5])
    """
    check_window_name(name)
    if isinstance(length, (bool, np.bool_)) or not isinstance(length, numbers.Integral):
        raise InvalidTypeError(
            f"Window `length` must be an int. Received: length={short_repr(length)} "
            f"of type {type(length).__name__}"
        )
    length = int(length)
    if not 1 <= length <= MAX_WINDOW_LENGTH:
        raise InvalidArgumentError(
            f"Window `length` must be between 1 and {MAX_WINDOW_LENGTH}. Received: length={length}"
        )
    if not isinstance(periodic, (bool, np.bool_)):
        raise InvalidTypeError(
            f"Argument `periodic` must be a bool. Received: periodic={short_repr(periodic)} "
            f"of type {type(periodic).__name__}"
        )
    base, forced = _split_suffix(name)
    if forced is not None:
        periodic = forced
    if length == 1:
        return np.ones(1, dtype=np.float64)
    if periodic:
        return _BY_NAME[base](length + 1)[:length].copy()
    return _BY_NAME[base](length)
