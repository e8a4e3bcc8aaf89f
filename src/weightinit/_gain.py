"""``calculate_gain``: the gain torch.nn.init recommends for a nonlinearity."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._errors import InvalidArgumentError, InvalidTypeError, short_repr

__all__ = ["NONLINEARITIES", "calculate_gain"]

_LINEAR = (
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "linear",
    "sigmoid",
)
#: every name ``calculate_gain`` accepts (torch.nn.init's list)
NONLINEARITIES: tuple[str, ...] = (*_LINEAR, "leaky_relu", "relu", "selu", "tanh")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The gain torch.nn.init recommends for ``nonlinearity``, as torch computes it.

    ============================================== ==========================================
    nonlinearity                                   gain
    ============================================== ==========================================
    linear, conv{1,2,3}d, conv_transpose{1,2,3}d   1
    sigmoid                                        1
    tanh                                           5 / 3
    relu                                           :math:`\sqrt 2`
    leaky_relu                                     :math:`\sqrt{2 / (1 + \text{slope}^2)}`
    selu                                           3 / 4
    ============================================== ==========================================

    Args:
        nonlinearity: one of :data:`NONLINEARITIES` (torch's ``nn.functional`` names).
        param: leaky_relu's negative slope (default 0.01, an int or float, not bool);
            ignored by the others, as in torch.

    Returns:
        The gain as a float (torch returns the int 1 for the linear ones; the value is the same).

    Raises:
        InvalidArgumentError: an unknown nonlinearity.
        InvalidTypeError: a leaky_relu ``param`` that is not a real number.

    Example:
        >>> import weightinit as wi
        >>> wi.calculate_gain("tanh")
        1.6666666666666667
        >>> round(wi.calculate_gain("leaky_relu", 0.2), 6)
        1.38675
    """
    if not isinstance(nonlinearity, str) or nonlinearity not in NONLINEARITIES:
        choices = ", ".join(repr(n) for n in sorted(NONLINEARITIES))
        raise InvalidArgumentError(
            f"Unsupported nonlinearity {short_repr(nonlinearity)}. Please use one of: {choices}."
        )
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if param is None:
        slope = 0.01
    elif isinstance(param, (bool, np.bool_)) or not isinstance(param, numbers.Real):
        raise InvalidTypeError(
            f"calculate_gain: Argument `param` (leaky_relu's negative slope) must be an int or float. "
            f"Received: param={short_repr(param)}"
        )
    else:
        slope = float(param)
        if not math.isfinite(slope):
            raise InvalidArgumentError(
                f"calculate_gain: Argument `param` must be finite. Received: param={slope}"
            )
    return math.sqrt(2.0 / (1 + slope**2))
