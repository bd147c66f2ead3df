"""Progress of a command that plays several runs: which one, how many are left, how long it has taken.

On stderr only, so stdout keeps one result line per run. On a terminal, one status line is redrawn in place every
half second by a small thread (a run blocks the main thread for seconds); elsewhere (CI logs, pipes) each run gets
one plain line when it starts. A dozen lines of ANSI are cheaper than a dependency (rich, tqdm) for this.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable, TextIO


class Progress:
    """``with Progress(total) as p: p.start(label); ...; p.done(line)`` for each run."""

    def __init__(self, total: int, stream: TextIO | None = None, out: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, interval: float = 0.5) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.out = out or sys.stdout
        self.clock = clock
        self.interval = interval
        self.live = total > 1 and _isatty(self.stream)
        self.index = 0
        self.label = ""
        self.began = clock()
        self.run_began = self.began
        self._lock = threading.Lock()
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
        """The live status line: the current run, how long it has taken, how many are left, total elapsed."""
        now = self.clock()
        left = self.total - self.index
        return (f"[{self.index}/{self.total}] {self.label} · {_mmss(now - self.run_began)} this run · "
                f"{left} left after it · {_mmss(now - self.began)} elapsed")

    def plain(self) -> str:
        """The line logged when a run starts, where nothing can be redrawn."""
        left = self.total - self.index
        return f"[{self.index}/{self.total}] {self.label} ({left} left after it, {_mmss(self.clock() - self.began)} elapsed)"

    def start(self, label: str) -> None:
        """A run begins."""
        with self._lock:
            self.index += 1
            self.label = label
            self.run_began = self.clock()
            if self.total <= 1:
                return
            if self.live:
                self._draw()
            else:
                print(self.plain(), file=self.stream, flush=True)

    def done(self, line: str) -> None:
        """A run ended: print its result line on stdout, above the status line."""
        with self._lock:
            self._clear()
            print(line, file=self.out, flush=True)  # the next start() draws the status line again

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
