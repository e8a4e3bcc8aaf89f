"""STFT: the fixed Fourier kernels of a short-time Fourier transform layer."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ._base import BuiltinInitializer
from ._constant import build_with_array
from ._dtypes import FLOAT_DTYPES, dtype_name, max_finite
from ._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._validation import Region, Shape
from ._windows import MAX_WINDOW_LENGTH, check_window_name, cos_turns, get_window

__all__ = ["STFT"]

_SIDES = ("real", "imag")
_SCALINGS = ("density", "spectrum")

#: elements of (time, frequency) computed per block, bounding temporary memory
_BLOCK = 1 << 18
#: bytes of temporaries per block element (int64 phase index, float64 value, cast copy)
_BYTES_PER_BLOCK_ELEMENT = 24


def _shown(value: object) -> str:
    """A value as Keras prints it in messages (``str`` for short strings)."""
    if isinstance(value, str) and len(value) <= 80:
        return value
    return short_repr(value)


def _window_values(window: object, owner: str) -> list[float]:
    """Validate an array window: 1-D, non-empty, finite reals; return Python floats."""
    if isinstance(window, (list, tuple)):
        if len(window) > MAX_WINDOW_LENGTH:
            raise InvalidArgumentError(
                f"{owner}: Argument `window` must have between 1 and {MAX_WINDOW_LENGTH} values. "
                f"Received: {len(window)} values"
            )
        for item in window:
            if isinstance(item, str):
                raise InvalidTypeError(
                    f"{owner}: Argument `window` must be None, a window name, or a 1-D list of "
                    "numbers; scipy-style tuples with parameters such as ('kaiser', 8.0) are not "
                    f"supported. Received: window={short_repr(window)}"
                )
            if isinstance(item, (list, tuple, np.ndarray)):
                raise InvalidArgumentError(
                    f"{owner}: Argument `window` must be 1-D. Received: window={short_repr(window)}"
                )
            if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Real):
                raise InvalidTypeError(
                    f"{owner}: Argument `window` must contain only real numbers (not bool, None "
                    f"or complex). Received: window={short_repr(window)}"
                )
        try:
            values = np.asarray(window, dtype=np.float64) if window else np.zeros(0)
        except OverflowError:  # a Python int beyond the float64 range
            values = np.array([np.inf])
    elif isinstance(window, np.ndarray) or hasattr(window, "__array__"):
        array = np.asarray(window)
        if array.dtype.kind not in "iuf":
            raise InvalidTypeError(
                f"{owner}: Argument `window` must contain only real numbers. Received: window of "
                f"dtype {array.dtype}"
            )
        if array.ndim != 1:
            raise InvalidArgumentError(
                f"{owner}: Argument `window` must be 1-D. Received: window of shape {array.shape}"
            )
        values = array.astype(np.float64)
    else:
        raise InvalidTypeError(
            f"{owner}: Argument `window` must be None, a window name (str) or a 1-D array-like of "
            f"numbers. Received: window={short_repr(window)} of type {type(window).__name__}"
        )
    if values.size == 0 or values.size > MAX_WINDOW_LENGTH:
        raise InvalidArgumentError(
            f"{owner}: Argument `window` must have between 1 and {MAX_WINDOW_LENGTH} values. "
            f"Received: {values.size} values"
        )
    if not np.all(np.isfinite(values)):
        raise InvalidArgumentError(
            f"{owner}: Argument `window` must contain only finite numbers. "
            f"Received: window={short_repr(values.tolist())}"
        )
    return [float(v) for v in values]


def _normalized(w: NDArray[np.float64], scaling: str) -> NDArray[np.float64] | None:
    """``w / S`` with ``S = sqrt(Σ w²)`` or ``Σ |w|``; None when every value is 0.

    ``w`` is first scaled by a power of two (exact) so that no square or sum
    overflows, and the sums are correctly rounded (``math.fsum``), independent
    of numpy's summation order.
    """
    peak = float(np.max(np.abs(w)))
    if peak == 0.0:
        return None
    r = np.ldexp(w, -math.frexp(peak)[1])
    if scaling == "density":
        norm = math.sqrt(math.fsum(r * r))
    else:
        norm = math.fsum(np.abs(r))
    return r / norm


class STFT(BuiltinInitializer):
    r"""Real or imaginary part of the DFT kernel of an STFT, optionally windowed.

    For a shape ``(T, C, F)`` (frame length, input channels, frequency bins)
    and the FFT length :math:`N = 2 (F - 1)`:

    .. math::

        k[t, c, f] = \frac{w[t]}{S} \cdot
        \begin{cases}
            \cos(-2\pi t f / N) & \text{side = "real"} \\
            \sin(-2\pi t f / N) & \text{side = "imag"}
        \end{cases}

    where ``w`` is the window (all ones when ``window=None``) and ``S`` is
    :math:`\sqrt{\sum_t w[t]^2}` for ``scaling="density"``,
    :math:`\sum_t |w[t]|` for ``"spectrum"`` and 1 for ``None`` (``scaling`` is
    ignored without a window). Every channel ``c`` holds the same values.

    Values are computed in float64 with the phase ``t f mod N`` reduced in
    exact integer arithmetic, then cast once to the requested dtype, so values
    that are exactly 0 or ±1 in real arithmetic are exact.

    Differences from Keras: Keras returns shape ``(T, 1, F)`` whatever ``C``
    is; this returns ``(T, C, F)``. Keras computes in float32 (errors up to
    about 1e-4 for 512-sample frames) and returns float32 for float64
    requests. ``F < 2`` (no FFT length; NaN in Keras), ``T < 1``, a rank other
    than 3, a non-bool ``periodic`` and a window that is all zeros with a
    scaling (0/0 in Keras) are errors here.

    Args:
        side: ``"real"`` or ``"imag"``.
        window: None, the name of a parameter-free scipy window (``"hann"``,
            ``"hamming"``, ``"blackman"``, ..., see
            :data:`weightinit._windows.WINDOW_NAMES`; no scipy needed), or a
            1-D array-like of ``T`` finite real numbers.
        scaling: ``"density"``, ``"spectrum"`` or None.
        periodic: for a named window, True for the periodic (DFT-even) window,
            False for the symmetric one (scipy's ``fftbins``).

    Raises:
        InvalidArgumentError: a bad ``side``, ``scaling``, window name or
            window values (at construction); a shape that is not
            ``(T >= 1, C, F >= 2)`` or that does not match an array window (at
            call time).
        InvalidTypeError: ``periodic`` not a bool, or a window that is not a
            str, None or array-like of real numbers.

    Example:
        >>> import weightinit as wi
        >>> wi.STFT()((4, 1, 3))[:, 0, :]
        array([[ 0.        ,  0.        ,  0.        ],
               [ 0.70710677,  0.        , -0.70710677],
               [ 0.70710677, -0.70710677,  0.70710677],
               [ 0.        ,  0.        , -0.        ]], dtype=float32)
        >>> wi.STFT(window=None)((4, 2, 3), dtype="float64")[:, 1, :]
        array([[ 1.,  1.,  1.],
               [ 1.,  0., -1.],
               [ 1., -1.,  1.],
               [ 1.,  0., -1.]])
    """

    dtypes: ClassVar[tuple[str, ...]] = FLOAT_DTYPES

    def __init__(
        self,
        side: str = "real",
        window: str | Sequence[float] | NDArray[Any] | None = "hann",
        scaling: str | None = "density",
        periodic: bool = False,
    ) -> None:
        owner = type(self).__name__
        if not isinstance(side, str) or side not in _SIDES:
            raise InvalidArgumentError(f"side should be 'real' or 'imag', not {_shown(side)}")
        if window is not None:
            window = str(window) if isinstance(window, str) else _window_values(window, owner)
            if isinstance(window, str):
                check_window_name(window)
        if scaling is not None and (not isinstance(scaling, str) or scaling not in _SCALINGS):
            raise InvalidArgumentError(
                "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                f"Received scaling={_shown(scaling)}"
            )
        if not isinstance(periodic, (bool, np.bool_)):
            raise InvalidTypeError(
                f"{owner}: Argument `periodic` must be a bool. Received: "
                f"periodic={short_repr(periodic)} of type {type(periodic).__name__}"
            )
        if isinstance(window, list) and scaling is not None and not any(window):
            raise InvalidArgumentError(
                f"{owner}: Argument `window` is all zeros, so scaling={scaling!r} would divide "
                "by zero. Use scaling=None or a non-zero window."
            )
        self.side = str(side)
        self.window: str | list[float] | None = window
        self.scaling = None if scaling is None else str(scaling)
        self.periodic = bool(periodic)

    def get_config(self) -> dict[str, Any]:
        window = list(self.window) if isinstance(self.window, list) else self.window
        return {"side": self.side, "window": window, "periodic": self.periodic, "scaling": self.scaling}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> STFT:
        """Rebuild from ``get_config()``; a Keras ``__numpy__``/``__tensor__`` window dict is accepted."""
        return build_with_array(cls, config, "window")

    def _check_shape(self, shape: Shape) -> None:
        owner = type(self).__name__
        if len(shape) != 3:
            raise InvalidArgumentError(
                f"{owner}: expected a shape of rank 3, (frame_length, channels, fft_length // 2 + 1). "
                f"Received: shape={shape} of rank {len(shape)}"
            )
        frame_length, _, bins = shape
        if frame_length < 1:
            raise InvalidArgumentError(
                f"{owner}: the frame length shape[0] must be >= 1. Received: shape={shape}"
            )
        if bins < 2:
            raise InvalidArgumentError(
                f"{owner}: the number of frequency bins shape[2] must be >= 2 (it is "
                f"fft_length // 2 + 1 for an even fft_length >= 2). Received: shape={shape}"
            )
        if isinstance(self.window, list) and len(self.window) != frame_length:
            raise InvalidArgumentError(
                "The shape of `window` must be equal to [frame_length]. Received: window "
                f"shape=({len(self.window)},), frame_length={frame_length} for shape={shape}"
            )
        if isinstance(self.window, str) and frame_length > MAX_WINDOW_LENGTH:
            raise InvalidArgumentError(
                f"{owner}: a named window has at most {MAX_WINDOW_LENGTH} samples. Received: shape={shape}"
            )

    def _work_bytes(self, shape: Shape) -> int:
        frame_length, _, bins = shape
        # the window and its temporaries, the phase table and its temporaries, one block
        block = min(_BLOCK, frame_length * bins)
        return 8 * 12 * (frame_length + 1) + 8 * 12 * 2 * bins + _BYTES_PER_BLOCK_ELEMENT * block

    def _scaled_window(self, frame_length: int) -> NDArray[np.float64] | None:
        """``w / S`` over the whole frame, or None without a window."""
        if self.window is None:
            return None
        if isinstance(self.window, str):
            w = get_window(self.window, frame_length, self.periodic)
        else:
            w = np.asarray(self.window, dtype=np.float64)
        if self.scaling is None:
            return w
        scaled = _normalized(w, self.scaling)
        if scaled is None:
            raise InvalidArgumentError(
                f"{type(self).__name__}: the window {self.window!r} (periodic={self.periodic}) of "
                f"length {frame_length} is all zeros, so scaling={self.scaling!r} would divide by "
                "zero. Use a longer frame, another window, or scaling=None."
            )
        return scaled

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        frame_length, _, bins = shape
        (t0, t1), (c0, c1), (f0, f1) = region
        out = np.empty((t1 - t0, c1 - c0, f1 - f0), dtype=dtype)
        scale = self._scaled_window(frame_length)
        if out.size == 0:
            return out
        n = 2 * (bins - 1)
        # cos(-2π q / N) = cos(2π 4q / 4N); sin(-2π q / N) = cos(2π (4q + N) / 4N)
        shift = 0 if self.side == "real" else n
        table = cos_turns(4 * np.arange(n, dtype=np.int64) + shift, 4 * n)
        freqs = np.arange(f0, f1, dtype=np.int64)
        # a huge custom window without scaling can pass the output dtype's range: check the cast
        check = scale is not None and float(np.max(np.abs(scale), initial=0.0)) > max_finite(dtype) / 2
        rows = max(1, _BLOCK // freqs.size)
        for start in range(t0, t1, rows):
            stop = min(start + rows, t1)
            times = np.arange(start, stop, dtype=np.int64)[:, None] % n
            block = table[(times * freqs) % n]
            if scale is not None:
                block *= scale[start:stop, None]
            with np.errstate(over="ignore"):
                cast = block.astype(dtype)
            if check and not np.all(np.isfinite(cast)):
                raise InvalidArgumentError(
                    f"STFT: with scaling=None the window's values overflow {dtype_name(dtype)} "
                    f"(largest finite value {max_finite(dtype):g}); use a wider dtype or a scaling."
                )
            out[start - t0 : stop - t0] = cast[:, None, :]
        return out
