"""The ``weightinit`` command line: list, show, compare, advise, propagate.

Imported only by the console script (and tests), never by ``import weightinit``;
matplotlib is imported only when a command is given ``--plot``.
"""

from ._app import main as main

__all__ = ["main"]
