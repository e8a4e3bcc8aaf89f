"""Bounded, strict JSON for configs: size, depth and key-count limits; no NaN/Infinity."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from ._errors import ConfigError, short_repr

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "MAX_JSON_BYTES", "check_structure", "json_depth", "loads"]

MAX_JSON_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_ITEMS = 1 << 20


def json_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """Maximum bracket nesting outside strings, computed without recursion; stops counting
    once it passes ``limit`` (so a hostile document costs one pass at most)."""
    depth = best = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "[" or ch == "{":
            depth += 1
            if depth > best:
                best = depth
                if best > limit:
                    return best
        elif ch == "]" or ch == "}":
            depth -= 1
    return best


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ConfigError(f"Number {short_repr(token)} in JSON config overflows to infinity.")
    return value


def _reject_constant(token: str) -> Any:
    raise ConfigError(f"Non-finite number {token} in JSON config; only finite numbers are allowed.")


def loads(text: str | bytes, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON config with limits: at most ``max_bytes``, depth 32, no NaN/Infinity."""
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            raise ConfigError(f"JSON config is {len(text)} bytes; the limit is {max_bytes}.")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError("JSON config is not valid UTF-8.") from None
    if not isinstance(text, str):
        raise ConfigError(f"Expected JSON text (str or bytes). Received: {short_repr(text)}")
    if len(text) > max_bytes:
        raise ConfigError(f"JSON config is {len(text)} characters; the limit is {max_bytes}.")
    if json_depth(text) > MAX_DEPTH:
        raise ConfigError(f"JSON config is nested deeper than {MAX_DEPTH} levels.")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"Invalid JSON config: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from None
    except ConfigError:
        raise
    except ValueError as exc:  # e.g. an integer longer than Python's int-parsing limit
        raise ConfigError(f"Invalid JSON config: {short_repr(str(exc))}") from None
    check_structure(value)
    return value


_SCALARS = (str, int, float, type(None))


def _is_container(value: Any) -> bool:
    """A dict, list or tuple (scalars are ruled out first: the common, cheap case)."""
    return not isinstance(value, _SCALARS) and isinstance(value, (Mapping, list, tuple))


def check_structure(value: Any) -> None:
    """Reject nesting deeper than ``MAX_DEPTH`` or more than ``MAX_ITEMS`` items (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if _is_container(value) else []
    items = 0
    while stack:
        node, depth = stack.pop()
        # only containers are pushed; a non-empty one at MAX_DEPTH has children one level too deep
        if node and depth >= MAX_DEPTH:
            raise ConfigError(f"Config is nested deeper than {MAX_DEPTH} levels.")
        items += len(node)
        if isinstance(node, Mapping):
            for k in node:
                if not isinstance(k, str):
                    raise ConfigError(f"Config keys must be strings. Received key {short_repr(k)}.")
            children = node.values()
        else:
            children = node
        stack.extend((v, depth + 1) for v in children if _is_container(v))
        if items > MAX_ITEMS:
            raise ConfigError(f"Config has more than {MAX_ITEMS} items.")
