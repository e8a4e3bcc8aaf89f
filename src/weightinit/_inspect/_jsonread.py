"""Bounded JSON for model configs: size and depth checked before parsing.

Model configs nest deeper than initializer configs (a model inside a model
inside a wrapper), so the depth limit here is :data:`MAX_JSON_DEPTH`. The
non-standard tokens ``NaN``/``Infinity`` that Python's ``json`` writes are
kept as the strings ``"NaN"``/``"Infinity"``: the file is reported, not trusted.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .. import _jsonsafe
from ._common import MAX_JSON_DEPTH, MAX_MEMBER_BYTES, InspectError

__all__ = ["json_depth", "load_json"]


def json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """Bracket nesting outside strings, without recursion; stops counting past ``limit``."""
    return _jsonsafe.json_depth(text, limit)


def _float(token: str) -> Any:
    value = float(token)
    return value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")


def load_json(data: bytes | str, what: str, *, max_bytes: int = MAX_MEMBER_BYTES) -> Any:
    """Parse ``data`` (a config) with a size and depth limit; errors name ``what``."""
    if len(data) > max_bytes:
        raise InspectError(f"{what} is {len(data)} bytes; the limit is {max_bytes}.")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InspectError(f"{what} is not UTF-8 text.") from None
    else:
        text = data
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InspectError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        return json.loads(text, parse_constant=str, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise InspectError(f"{what} is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    except (ValueError, RecursionError) as exc:
        raise InspectError(f"{what} is not valid JSON ({type(exc).__name__}).") from None
