"""A progress line on stderr for steps that take more than about a second.

Nothing is drawn when stderr is not a terminal, under ``--quiet``, or when the
work finishes within ``delay`` seconds; the line is erased when the work ends,
so it never mixes with the command's output.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Context manager: ``with Progress("show", total=4) as p: p.step("drawing")``.

    ``total`` is the number of steps (None for an open-ended spinner). A
    background thread redraws the line every ``interval`` seconds once
    ``delay`` seconds have passed, so a single long step (a big draw, a large Orthogonal)
    still shows that the command is alive.
    """

    SPINNER = "|/-\\"

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        delay: float = 1.0,
        interval: float = 0.1,
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(enabled and callable(isatty) and isatty())
        self.delay, self.interval = delay, interval
        self.done = 0
        self.stage = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = 0.0
        self._drawn = 0
        self._ticks = 0

    def __enter__(self) -> Progress:
        self._start = time.monotonic()
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="weightinit-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self._drawn:
                self._write("\r" + " " * self._drawn + "\r")
                self._drawn = 0

    def step(self, stage: str, advance: int = 0) -> None:
        """Start ``stage`` after finishing ``advance`` more steps."""
        with self._lock:
            self.done += advance
            self.stage = stage

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while True:
            with self._lock:
                self._draw()
            if self._stop.wait(self.interval):
                return

    def render(self) -> str:
        """The current line (without carriage return)."""
        elapsed = self.elapsed
        if self.total:
            fraction = min(1.0, self.done / self.total)
            filled = int(fraction * 20)
            bar = "[" + "#" * filled + "-" * (20 - filled) + "]"
            status = f"{bar} {100 * fraction:3.0f}%"
        else:
            status = self.SPINNER[self._ticks % len(self.SPINNER)]
        stage = f" {self.stage}" if self.stage else ""
        return f"{self.label}: {status}{stage} ({elapsed:.1f}s)"

    def _draw(self) -> None:
        self._ticks += 1
        columns = shutil.get_terminal_size((80, 24)).columns
        line = self.render()[: max(10, columns - 1)]
        padding = " " * max(0, self._drawn - len(line))
        self._write("\r" + line + padding)
        self._drawn = len(line)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not break the command
            self.enabled = False
