"""Helpers shared by the adapter and inspection tests.

- :func:`run_python` runs a script in a fresh interpreter (its own framework
  import, environment and timeout) and returns what it printed as JSON on its
  last line, so each framework / backend / distributed test is isolated from
  the others and cannot hang the suite.
- :func:`readme_blocks` returns the ```python blocks of one README section,
  so the tests run the examples users read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
README = ROOT / "README.md"

#: variables a child never inherits: the parent's backend/device choices must not leak into a test
#: that sets its own (the test passes what it wants in ``env``)
_SCRUBBED = ("KERAS_BACKEND", "XLA_FLAGS", "CUDA_VISIBLE_DEVICES")


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment, minus framework selectors, plus ``env``; ``src`` on the path."""
    out = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), out.get("PYTHONPATH", "")) if p)
    out.setdefault("JAX_PLATFORMS", "cpu")
    out.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out.update(env or {})
    return out


def run_python(
    code: str,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 240.0,
    args: tuple[str, ...] = (),
    cwd: str | os.PathLike[str] | None = None,
) -> Any:
    """Run ``code`` in a new interpreter and return the JSON value on its last stdout line.

    The script must ``print(json.dumps(...))`` last. A non-zero exit, a timeout
    or a last line that is not JSON fails with the child's output in the message.
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=child_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"child exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
            f"\n--- stderr\n{proc.stderr[-6000:]}"
        )
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise AssertionError(f"child printed nothing\n--- stderr\n{proc.stderr[-6000:]}")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise AssertionError(f"child's last line is not JSON: {lines[-1][:500]!r}") from exc


def readme_blocks(heading: str, language: str = "python") -> list[str]:
    """The fenced ``language`` blocks of the README section titled ``heading`` (any level).

    The section runs to the next heading of the same or a higher level; lines inside fenced
    blocks are never headings (a ``# comment`` in a code block does not end the section).
    """
    lines = README.read_text(encoding="utf-8").splitlines(keepends=True)
    level = 0
    fence: str | None = None
    blocks: list[str] = []
    current: list[str] | None = None
    for line in lines:
        stripped = line.rstrip("\n")
        if fence is not None:  # inside a fenced block
            if stripped.startswith("```"):
                if current is not None and level:
                    blocks.append("".join(current))
                fence, current = None, None
            elif current is not None:
                current.append(line)
            continue
        if stripped.startswith("```"):
            fence = stripped[3:].strip()
            current = [] if (level and fence == language) else None
            continue
        match = re.match(r"(#+) (.*?)\s*$", stripped)
        if match:
            depth = len(match.group(1))
            if level and depth <= level:
                break
            if not level and match.group(2) == heading:
                level = depth
    if not level:
        raise AssertionError(f"README has no section {heading!r}")
    if not blocks:
        raise AssertionError(f"README section {heading!r} has no {language} block")
    return blocks
