"""Browsers made ready ahead of time, and closed behind the run, so that neither sits on a run's critical path.

A real-mode run needs a Chromium of its own: a fresh process with a fresh temporary profile (a ``new_context()``
would bring Playwright's focus emulation back, so only a browser's default context has real tab visibility, and a
default context cannot be shared by two runs). Launching one takes ~0.5 s of a 2-core machine; a run's timeline is
mostly waiting on the SDK's timers. So :class:`ChromiumPool` keeps ``spare`` browsers spawned and waiting on their
DevTools port, and :class:`Reaper` ends used ones in the background.

Invariants:

* every browser handed out by :meth:`ChromiumPool.take` is fresh: spawned for one run, never handed out twice;
* spawning happens on the pool's own long-lived launcher thread -- Linux's PDEATHSIG is tied to the *thread* that
  spawned a process, so that thread lives until the pool closes -- and involves no Playwright call; the run's own
  thread connects to it (Playwright's sync API is bound to its thread);
* :meth:`ChromiumPool.close` kills every spare not taken; :meth:`Reaper.close` waits for every browser it was given
  to be gone. Nothing outlives the pool: ``real_chromium``'s atexit hook and signal guards still cover every launch.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from harness.browser.real_chromium import RealChromium, install_signal_guards
from harness.errors import HarnessError

TAKE_TIMEOUT = 60.0  # seconds a run may wait for a spawned browser (a cold start on a loaded 2-core box: ~1-3 s)


class ChromiumPool:
    """Keeps up to ``spare`` spawned (not yet connected) Chromium processes for one executable and window setup."""

    def __init__(self, executable: Path, *, headless: bool = True, window_size: tuple[int, int] = (1000, 700),
                 spare: int = 1, budget: int | None = None) -> None:
        self.executable = Path(executable)
        self.headless = headless
        self.window_size = window_size
        self.spare = max(1, spare)
        # How many browsers will be wanted in all (None: no end in sight), so none is spawned only to be killed.
        self._unasked = budget
        self._pending = 0  # asked for and not yet taken (spawning, or ready in the queue)
        self._ready: "queue.Queue[RealChromium | HarnessError]" = queue.Queue()
        self._wanted = threading.Semaphore(0)  # one permit per browser the launcher should spawn
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> "ChromiumPool":
        if threading.current_thread() is threading.main_thread():
            install_signal_guards()  # the launcher thread cannot install them itself
        self._thread = threading.Thread(target=self._launcher, name="chromium-pool", daemon=True)
        self._thread.start()
        for _ in range(self.spare):
            self._ask()
        return self

    def _ask(self, *, beyond_budget: bool = False) -> None:
        """Ask the launcher for one more browser, unless the budget is spent."""
        with self._lock:
            if self._unasked is not None and not beyond_budget:
                if self._unasked <= 0:
                    return
                self._unasked -= 1
            self._pending += 1
        self._wanted.release()

    def take(self, timeout: float = TAKE_TIMEOUT) -> RealChromium:
        """A fresh, spawned Chromium for one run (the caller connects, and hands it to a :class:`Reaper` after)."""
        if self._thread is None:
            self.start()
        with self._lock:
            starved = self._pending <= 0
            if starved:  # more takers than the budget said: ask anyway rather than wait forever
                self._pending += 1
            self._pending -= 1
        if starved:
            self._wanted.release()
        try:
            item = self._ready.get(timeout=timeout)
        except queue.Empty:
            raise HarnessError(f"no Chromium came up within {timeout:g} s (the machine may be overloaded; "
                               "try fewer --jobs)") from None
        self._ask()  # replace what was taken
        if isinstance(item, HarnessError):
            raise item
        if not item.running:  # died while waiting (killed from outside): try the next one
            item.kill()
            return self.take(timeout)
        return item

    def _launcher(self) -> None:
        while True:
            self._wanted.acquire()
            if self._closed.is_set():
                return
            chromium = RealChromium(self.executable, headless=self.headless, window_size=self.window_size)
            try:
                chromium.spawn()
            except HarnessError as err:
                self._ready.put(err)
                continue
            with self._lock:
                if self._closed.is_set():
                    chromium.kill()
                    return
                self._ready.put(chromium)

    def close(self) -> None:
        """Kill the spares nobody took; the launcher thread ends. Idempotent."""
        with self._lock:
            self._closed.set()
        self._wanted.release()
        if self._thread is not None:
            self._thread.join(timeout=30)
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, RealChromium):
                item.kill()


class Reaper:
    """Ends used browsers (process group, profile) on a background thread, so a run's result does not wait."""

    def __init__(self) -> None:
        self._queue: "queue.Queue[RealChromium | None]" = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="chromium-reaper", daemon=True)
        self._thread.start()

    def reap(self, chromium: RealChromium) -> None:
        self._queue.put(chromium)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                item.kill()
            except Exception:
                pass

    def close(self) -> None:
        """Wait until every browser handed over is gone."""
        self._queue.put(None)
        self._thread.join(timeout=60)
