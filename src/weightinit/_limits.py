"""The size cap: how many bytes one call may allocate.

The cap protects against shapes that would exhaust memory (a typo such as
``(10**6, 10**6)``, or a hostile saved config). It is checked before anything
is allocated, against the output (or the requested slice) plus any working
memory an initializer needs (Orthogonal's float64 working matrix, for instance).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ._engine._kernel import getenv
from ._errors import InvalidArgumentError, InvalidTypeError, ResourceLimitError, short_repr

__all__ = ["DEFAULT_MAX_BYTES", "check_bytes", "get_max_bytes", "set_max_bytes"]

DEFAULT_MAX_BYTES = 16 * 2**30
ENV_VAR = "WEIGHTINIT_MAX_BYTES"

_lock = threading.Lock()
_explicit: int | None = None


def _parse_limit(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(
            f"Argument `{name}` must be a positive int (bytes). Received: {name}={short_repr(value)}"
        )
    if value <= 0:
        raise InvalidArgumentError(
            f"Argument `{name}` must be a positive int (bytes). Received: {name}={value}"
        )
    return value


def set_max_bytes(n: int | None) -> None:
    """Set the largest allocation (in bytes) one initializer call may make.

    ``None`` goes back to the environment variable ``WEIGHTINIT_MAX_BYTES`` if
    set, else to the default of 16 GiB.
    """
    global _explicit
    with _lock:
        _explicit = None if n is None else _parse_limit(n, "max_bytes")


def get_max_bytes() -> int:
    """The cap in force: ``set_max_bytes``, else the environment, else 16 GiB."""
    explicit = _explicit
    if explicit is not None:
        return explicit
    raw = getenv(ENV_VAR)
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_BYTES
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise InvalidArgumentError(
            f"Environment variable {ENV_VAR} must be a positive integer number of bytes. "
            f"Received: {short_repr(raw)}"
        ) from None
    return _parse_limit(value, ENV_VAR)


def check_bytes(nbytes: int, what: Callable[[], str]) -> None:
    """Raise ``ResourceLimitError`` if ``nbytes`` exceeds the cap; ``what()`` names the allocation
    in the message (called only then: building it costs more than the check)."""
    limit = get_max_bytes()
    if nbytes > limit:
        raise ResourceLimitError(
            f"{what()} would need {_human(nbytes)} ({nbytes} bytes), more than the limit of "
            f"{_human(limit)}. Raise it with weightinit.set_max_bytes(n) or {ENV_VAR}."
        )


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if size < 1024 or unit == "EiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{n} B"
        size /= 1024
    return f"{n} B"  # pragma: no cover
