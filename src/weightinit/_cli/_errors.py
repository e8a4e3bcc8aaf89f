"""The two ways a command fails: a usage mistake (exit 2) or input that cannot be used (exit 1)."""

from __future__ import annotations

__all__ = ["EXIT_BAD_INPUT", "EXIT_USAGE", "CliError", "UsageError"]

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
#: ``inspect --check``: some stored weights do not match their initializer
EXIT_MISMATCH = 3


class CliError(Exception):
    """Input the command understood but cannot use (unknown name, bad shape, bad value)."""

    exit_code = EXIT_BAD_INPUT


class UsageError(CliError):
    """A malformed command line (what argparse would also reject)."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, prog: str | None = None) -> None:
        super().__init__(message)
        self.prog = prog  # the (sub)command whose usage was wrong, when known
