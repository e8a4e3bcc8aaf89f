"""Exception classes raised by weightinit.

Every class subclasses the built-in exception a Keras user would catch
(``ValueError`` or ``TypeError``), so ``except ValueError`` keeps working while
callers that want to be precise can catch ours.
"""

from __future__ import annotations

import reprlib

__all__ = [
    "ConfigError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "ResourceLimitError",
    "UnknownInitializerError",
    "UnsafeConfigError",
    "WeightinitError",
    "short_repr",
]


class WeightinitError(Exception):
    """Base class of every exception weightinit raises on purpose."""


class InvalidArgumentError(WeightinitError, ValueError):
    """An argument has the right type but a value that is not allowed."""


class InvalidTypeError(WeightinitError, TypeError):
    """An argument has a type that is not allowed."""


class ResourceLimitError(InvalidArgumentError):
    """A call would need more memory (or work) than the configured cap."""


class ConfigError(InvalidArgumentError):
    """A serialized config is malformed (unknown keys, wrong nesting, bad values)."""


class UnknownInitializerError(ConfigError):
    """An identifier names no initializer of the catalog or the registry."""


class UnsafeConfigError(ConfigError):
    """A config asks for something that would execute code (modules, lambdas)."""


class _ShortRepr(reprlib.Repr):
    """``reprlib.Repr`` that names huge ints instead of formatting them (Python refuses to
    format an int of more than 4300 digits, and a message should not hold thousands anyway)."""

    def repr_int(self, x: int, level: int) -> str:
        return short_int(x)


def short_int(value: int) -> str:
    """``str(value)``, or ``<int of N digits>`` when it has more than 40 digits."""
    if abs(value).bit_length() <= 132:  # at most 40 decimal digits
        return str(value)
    digits = int(abs(value).bit_length() * 0.30102999566398) + 1
    return f"<{'-' if value < 0 else ''}int of about {digits} digits>"


_REPR = _ShortRepr()
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlist = 8
_REPR.maxtuple = 8
_REPR.maxdict = 6
_REPR.maxset = 6
_REPR.maxlevel = 3


def short_repr(value: object) -> str:
    """``repr`` of ``value`` truncated so error messages stay short."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a hostile __repr__ must not hide the real error
        text = f"<{type(value).__name__} object>"
    if len(text) > 200:
        text = text[:197] + "..."
    return text
