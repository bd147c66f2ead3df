"""Progress of a command that plays several runs: which are in flight, how many are done, how long it has taken.

On stderr only, so stdout keeps one result line per run, printed as each run finishes (with ``--jobs`` they finish
out of order). On a terminal, one status line is redrawn in place every half second by a small thread; elsewhere
(CI logs, pipes) each run gets one plain line when it starts. Safe to call from any thread (workers report their
own runs). A dozen lines of ANSI are cheaper than a dependency (rich, tqdm) for this.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable, TextIO


class Progress:
    """``with Progress(total) as p: p.start(key, label); ...; p.done(key, line)`` for each run, from any thread.
    ``key`` tells concurrent runs apart; with one run at a time it may be omitted (the label is the key)."""

    def __init__(self, total: int, stream: TextIO | None = None, out: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, interval: float = 0.5) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.out = out or sys.stdout
        self.clock = clock
        self.interval = interval
        self.live = total > 1 and _isatty(self.stream)
        self.started = 0
        self.finished = 0
        self.running: dict[str, tuple[str, float]] = {}  # key -> (label, when it began)
        self.began = clock()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False

    def __enter__(self) -> "Progress":
        if self.live:
            self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1)
        with self._lock:
            self._clear()

    def status(self) -> str:
        """The live status line: the runs in flight (oldest first, with their time so far), what is left, elapsed."""
        now = self.clock()
        left = self.total - self.started
        if len(self.running) == 1:
            label, began = next(iter(self.running.values()))
            return (f"[{self.started}/{self.total}] {label} · {_mmss(now - began)} this run · "
                    f"{left} left after it · {_mmss(now - self.began)} elapsed")
        flight = ", ".join(f"{label} {_mmss(now - began)}" for label, began in self.running.values())
        return (f"[{self.finished}/{self.total} done] {len(self.running)} running: {flight} · {left} waiting · "
                f"{_mmss(now - self.began)} elapsed")

    def plain(self, label: str) -> str:
        """The line logged when a run starts, where nothing can be redrawn."""
        left = self.total - self.started
        flight = f", {len(self.running)} running" if len(self.running) > 1 else ""
        return (f"[{self.started}/{self.total}] {label} ({left} left after it{flight}, "
                f"{_mmss(self.clock() - self.began)} elapsed)")

    def start(self, key: str, label: str | None = None) -> None:
        """A run begins."""
        label = label or key
        with self._lock:
            self.started += 1
            self.running[key] = (label, self.clock())
            if self.total <= 1:
                return
            if self.live:
                self._draw()
            else:
                print(self.plain(label), file=self.stream, flush=True)

    def done(self, key_or_line: str, line: str | None = None) -> None:
        """A run ended: print its result line on stdout, above the status line. ``done(line)`` ends the only run."""
        with self._lock:
            if line is None:
                key, line = next(iter(self.running), ""), key_or_line
            else:
                key = key_or_line
            self.running.pop(key, None)
            self.finished += 1
            self._clear()
            print(line, file=self.out, flush=True)
            if self.live and self.running:
                self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self._drawn:
                    self._draw()

    def _draw(self) -> None:
        self.stream.write("\r\x1b[2K" + self.status()[:_width() - 1])
        self.stream.flush()
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 20)).columns


def _mmss(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
