"""A one-line progress display on stderr for conversions that take a while.

Nothing is shown for the first `delay` seconds (most conversions are done by
then) nor when stderr is not a terminal (pipes and logs get no control
characters). After that a line like

    bridge: writing weights  1.2 / 2.4 GB  (14 s)

is redrawn a few times a second by a daemon thread, and cleared at the end.
The conversion calls stage() when it moves on and advance() as bytes go by.
"""
from __future__ import annotations

import sys
import threading
import time


class Progress:
    def __init__(self, stream=None, enabled=None, delay: float = 1.5, interval: float = 0.25):
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.enabled = enabled
        self.delay, self.interval = delay, interval
        self.start = time.monotonic()
        self.label, self.done, self.total = "starting", 0, 0
        self._shown = False
        self._stop = threading.Event()
        self._thread = None
        if enabled:
            self._thread = threading.Thread(target=self._run, name="bridge-progress", daemon=True)
            self._thread.start()

    # -- called by the conversion ----------------------------------------------
    def stage(self, label: str, total: int = 0) -> None:
        self.label, self.done, self.total = label, 0, total

    def advance(self, n: int) -> None:
        self.done += n

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- drawing ------------------------------------------------------------------
    def line(self) -> str:
        text = f"bridge: {self.label}"
        if self.total:
            text += f"  {_size(self.done)} / {_size(self.total)}"
        return f"{text}  ({time.monotonic() - self.start:.0f} s)"

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if time.monotonic() - self.start < self.delay:
                continue
            self.stream.write("\r\033[K" + self.line())
            self.stream.flush()
            self._shown = True


class Silent:
    """The same interface, doing nothing (library calls)."""

    def stage(self, label: str, total: int = 0) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"
