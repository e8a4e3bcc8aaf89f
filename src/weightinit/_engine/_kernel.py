"""Hook for the compiled kernel (``weightinit._engine._fast``), if it was built.

The kernel implements exactly the reference transforms of ``_transforms`` and
``_bits``; tests compare the two bit for bit. When it is missing (a platform
without a C compiler at install time) everything runs on the numpy reference.
"""

from __future__ import annotations

from typing import Any

__all__ = ["available", "fill_runs"]


def available() -> bool:
    return False


def fill_runs(kind: str, key: tuple[int, int], runs: Any, flat: Any, transform: Any) -> bool:
    """Fill ``flat`` with the values of ``runs``; False if the kernel cannot."""
    return False
