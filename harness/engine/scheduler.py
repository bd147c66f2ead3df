"""The engine: plays many runs, several at once, each fully isolated, with browsers made ready ahead of time.

``Engine(options).play(plans)`` is what ``harness run``/``repro`` (and matrix, bisect, fuzz) call; the pytest plugin
and fixtures play one run at a time on the engine's **own thread** (:meth:`Engine.play_on_own_thread`,
:meth:`Engine.run_on_own_thread` with :meth:`Engine.call_on_own_thread`); :meth:`Engine.play_here` plays one on the
calling thread.

Why a thread of its own for pytest. Playwright's sync API refuses to start on a thread where another sync Playwright
is already running ("It looks like you are using Playwright Sync API inside the asyncio loop"): its event loop is
the thread's running loop. pytest-playwright keeps one on pytest's main thread for the whole session (its
``playwright`` fixture), so an engine that kept its own there too made the two ladders exclusive: whichever started
first broke every test of the other. Sharing pytest-playwright's instance was the other choice, and the wrong depth:
it exists only once a test asked for it (scenario items and ``harness_run`` tests may run first, and then
pytest-playwright's own start fails), a suite without pytest-playwright has none, and its life is pytest-playwright's
to end. On a thread of its own the engine's Playwright is nobody else's business, in any order and in one test.
Runs attached to a user's own context (:mod:`harness.pytest_attach`) are the exception by nature: they drive the
user's Playwright objects, so they stay on the thread that owns them.

Concurrency model. ``--jobs N`` worker threads each take the next plan from a queue and play it. A worker has its
own Playwright instance (the sync API is bound to the thread that started it), so runs on different workers share
no Playwright object. Isolation per run: its own mock server (own port, own signing key, own session state), its own
timeline and result folder, and its own browser profile -- in real mode a freshly spawned Chromium from a
:class:`~harness.browser.pool.ChromiumPool` (the default context of a browser is the only one with real tab
visibility, so runs never share a browser); in emulated/simulated mode a fresh context (own cookie jar and storage)
in a browser the worker keeps; with ``--cdp-endpoint`` one remote browser per worker, one run at a time, emptied
between runs. Cookies are scoped by host, not port, which is why no two runs ever share a profile.

The main thread only waits, so Ctrl-C and SIGTERM reach it at once: every Chromium is killed (the signal guards of
``real_chromium`` do it first), workers finish their runs as ``error`` without writing a verdict (their folders stay
``INCOMPLETE``), and :class:`Interrupted` carries the results that did finish.
"""

from __future__ import annotations

import concurrent.futures
import os
import queue
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Sequence, TypeVar

from playwright.sync_api import Browser, Playwright, sync_playwright

from harness.app.session import AppSession, refuse_unsupported
from harness.browser.driver import BrowserChoice, BrowserChooser, BrowserSource
from harness.browser.pool import ChromiumPool, Reaper
from harness.engine.options import RunOptions
from harness.engine.plan import RunPlan
from harness.engine.result import RunResult
from harness.engine.run import Run, RunResources
from harness.errors import HarnessError
from harness.sdks import adapter_class
from harness.sdks.npm import NpmBundleCache

# What signal.signal takes and returns: a function, SIG_DFL / SIG_IGN, or None (a handler not set from Python).
SignalHandler = Callable[[int, FrameType | None], Any] | int | None

T = TypeVar("T")
OnStart = Callable[[RunPlan], None]
OnDone = Callable[[RunPlan, RunResult], None]


def check_endpoints(endpoints: Sequence[str]) -> None:
    """Every ``--cdp-endpoint`` answers as a Chromium DevTools endpoint, and no browser is named twice (two runs in
    one default context would share its network switch and its tabs): bad input, before any run starts."""
    import json
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    seen: dict[str, str] = {}
    for endpoint in endpoints:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname or not parts.port:
            raise HarnessError(f"--cdp-endpoint {endpoint!r} is not a DevTools URL: give http://HOST:PORT (a Chromium "
                               "started with --remote-debugging-port=PORT) or its ws:// URL")
        scheme = "https" if parts.scheme in ("https", "wss") else "http"
        try:
            with urllib.request.urlopen(f"{scheme}://{parts.hostname}:{parts.port}/json/version", timeout=5) as reply:
                browser = json.loads(reply.read().decode()).get("webSocketDebuggerUrl", "")
        except (OSError, ValueError, urllib.error.URLError) as err:
            reason = getattr(err, "reason", err)
            raise HarnessError(f"no browser answers at --cdp-endpoint {endpoint} ({reason}); start Chromium with "
                               "--remote-debugging-port, or check the URL") from None
        if browser in seen:
            raise HarnessError(f"--cdp-endpoint {endpoint} is the same browser as {seen[browser]}; give each browser "
                               "once (one run at a time plays in a browser's default context)")
        seen[browser] = endpoint


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during :meth:`Engine.play`; ``results`` holds the runs that finished."""

    def __init__(self, results: list[RunResult], signum: int | None = None) -> None:
        super().__init__()
        self.results = results
        self.signum = signum


@dataclass
class _Worker:
    slot: int
    playwright: Playwright | None = None
    shared: dict[tuple[str, bool], Browser] | None = None  # emulated/simulated: one browser per binary


class Engine:
    """Owns what runs borrow -- browser discovery, the bundle cache, browser pools, the reaper -- and plays plans."""

    def __init__(self, options: RunOptions, *, cache: NpmBundleCache | None = None,
                 on_note: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.cache = cache or NpmBundleCache()
        self.chooser = BrowserChooser(options.chromium, options.browser_mode, explicit_source=options.chromium_source,
                                      on_note=on_note)
        self._pools: dict[tuple[Path, bool], ChromiumPool] = {}
        self._pool_lock = threading.Lock()
        self._reaper: Reaper | None = None
        self._cancel = threading.Event()
        self._here: _Worker | None = None  # the calling thread's worker, for play_here
        self._own: concurrent.futures.ThreadPoolExecutor | None = None  # the engine's own thread (one worker)
        self._own_worker = _Worker(0)  # its Playwright and shared browsers, used only on that thread
        self._own_run: Run | None = None  # the run in flight there, whose browser an interrupt ends
        self._on_note = on_note
        self.app: AppSession | None = None  # the user's app under test, started once (prepare), stopped by close

    # -- before any run -----------------------------------------------------------------------------------------

    def prepare(self, plans: Sequence[RunPlan]) -> None:
        """Find (and warn about) the browsers and fetch every bundle before any run starts: bad input -- an unknown
        version, no browser -- fails here, with nothing started."""
        for scenario in {id(p.scenario): p.scenario for p in plans}.values():
            self.chooser.choose(scenario.setup.browser_mode)
        for package, version in sorted({(adapter_class(p.scenario.setup.sdk).package, p.version) for p in plans}):
            self.cache.get(package, version)
        if self.options.cdp_endpoints:
            check_endpoints(self.options.cdp_endpoints)
        self.ensure_app(plans)

    def ensure_app(self, plans: Sequence[RunPlan]) -> None:
        """Start the app under test once for the session (the options' spec over the scenarios' ``setup.app``);
        a scenario it cannot play is refused first. Called again for later plans (pytest items, attached runs), it
        only checks."""
        specs = {p.scenario.setup.app for p in plans if p.scenario.setup.app is not None}
        if self.app is None and not specs and self.options.app is None:
            return
        sdks = {p.scenario.setup.sdk for p in plans} | ({self.app.sdk} if self.app is not None else set())
        if len(sdks) > 1:
            raise HarnessError(f"an app is for one SDK, but these scenarios are for {', '.join(sorted(sdks))}; "
                               "pick one SDK's scenarios (--sdk)")
        for scenario in {id(p.scenario): p.scenario for p in plans}.values():
            refuse_unsupported(scenario)
        if self.app is not None:
            return
        if len(specs) > 1 and self.options.app is None:
            raise HarnessError("these scenarios name different apps (setup.app); one app is started per session: "
                               "play them separately, or name the app with --app-* options")
        base = next(iter(specs)) if specs else None
        over = self.options.app
        spec = base.merged(over.model_dump(exclude_defaults=True)) if base and over else (over or base)
        assert spec is not None
        self.app = AppSession(spec, sdks.pop(), self.cache).start()

    def browser_for(self, plan: RunPlan) -> BrowserChoice:
        return self.chooser.choose(plan.scenario.setup.browser_mode)

    # -- many runs ----------------------------------------------------------------------------------------------

    def play(self, plans: Sequence[RunPlan], *, on_start: OnStart | None = None,
             on_done: OnDone | None = None) -> list[RunResult]:
        """Play ``plans`` on ``options.jobs_for(len(plans))`` workers; results in plan order."""
        self.prepare(plans)
        jobs = self.options.jobs_for(len(plans))
        self._warm(plans, jobs)
        todo: "queue.Queue[tuple[int, RunPlan]]" = queue.Queue()
        for item in enumerate(plans):
            todo.put(item)
        results: dict[int, RunResult] = {}
        failures: list[BaseException] = []
        lock = threading.Lock()

        def work(slot: int) -> None:
            worker = _Worker(slot)
            try:
                while not self._cancel.is_set() and not failures:
                    try:
                        index, plan = todo.get_nowait()
                    except queue.Empty:
                        return
                    if on_start is not None:
                        on_start(plan)
                    result = self._play(plan, worker)
                    if self._cancel.is_set():
                        return  # played into an interrupt: no verdict from it
                    with lock:
                        results[index] = result
                    if on_done is not None:
                        on_done(plan, result)
            except BaseException as err:  # bad input found mid-way (a port in use), or a bug: the caller sees it
                failures.append(err)
            finally:
                self._release(worker)

        threads = [threading.Thread(target=work, args=(slot,), name=f"run-worker-{slot}", daemon=True)
                   for slot in range(jobs)]
        restore = self._cancel_on_signals()
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)  # short joins: the main thread stays responsive to signals
        except KeyboardInterrupt as interrupt:
            self._interrupt(threads)
            done = [results[i] for i in sorted(results)]
            raise Interrupted(done, getattr(interrupt, "signum", None)) from None
        finally:
            restore()
        if failures:
            done = [results[i] for i in sorted(results)]
            failures[0].finished = done  # type: ignore[attr-defined]  # ad hoc on any exception; cli.py getattr()s it
            raise failures[0]
        return [results[i] for i in sorted(results)]

    def _cancel_on_signals(self) -> Callable[[], None]:
        """While runs play: SIGINT/SIGTERM first mark the engine cancelled -- before the browsers are killed (by
        real_chromium's guards) and before the main thread hears of it -- so no run judges a browser that was
        killed under it; then the previous handler runs. Returns what restores the previous handlers."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous: dict[int, SignalHandler] = {}

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self._cancel.set()
            handler = previous.get(signum)
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL:  # as if we were not here: SIGINT raises, SIGTERM terminates
                if signum == signal.SIGINT:
                    raise KeyboardInterrupt
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[sig] = signal.signal(sig, on_signal)
            except (ValueError, OSError):
                pass

        def restore() -> None:
            for sig, handler in previous.items():
                if signal.getsignal(sig) is on_signal:
                    signal.signal(sig, handler)

        return restore

    def _interrupt(self, threads: list[threading.Thread]) -> None:
        from harness.browser.real_chromium import kill_all

        self._cancel.set()
        kill_all()  # every Playwright call of every worker now fails fast
        for thread in threads:
            thread.join(10)

    # -- one run ------------------------------------------------------------------------------------------------

    def play_here(self, plan: RunPlan) -> RunResult:
        """Play one plan on the calling thread (pytest items and fixtures), with the engine's pools."""
        return self.run_here(plan).play()

    def run_here(self, plan: RunPlan) -> Run:
        """A :class:`Run` for ``plan`` on the calling thread, not yet started (the caller starts and finishes it)."""
        if self._here is None:
            self._here = _Worker(0)
        self.ensure_app([plan])
        return self._make_run(plan, self._here)

    # -- one run on the engine's own thread -----------------------------------------------------------------------

    def play_on_own_thread(self, plan: RunPlan) -> RunResult:
        """Play one plan on the engine's own thread (pytest items): the caller's thread may run a sync Playwright of
        its own (pytest-playwright's) meanwhile."""
        run = self.run_on_own_thread(plan)
        return self.call_on_own_thread(run.play)

    def run_on_own_thread(self, plan: RunPlan) -> Run:
        """A :class:`Run` for ``plan`` made on the engine's own thread, not yet started; every call on it (start,
        step, finish) must go through :meth:`call_on_own_thread`, where its browser lives."""
        self.ensure_app([plan])
        run = self.call_on_own_thread(self._make_run, plan, self._own_worker)
        self._own_run = run
        return run

    def call_on_own_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the engine's own thread; its result returned, its exception raised here. Ctrl-C while
        waiting marks the engine cancelled and ends the browser of the run in flight there (no Playwright call),
        so the call returns soon; then the interrupt goes on."""
        if self._own is None:
            self._own = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="harness-playwright")
        future = self._own.submit(fn, *args)
        try:
            return future.result()
        except KeyboardInterrupt:
            self._cancel.set()
            run = self._own_run
            if run is not None and run.driver is not None:
                run.driver.kill_browser()
            concurrent.futures.wait([future], timeout=30)
            raise

    def _play(self, plan: RunPlan, worker: _Worker) -> RunResult:
        return self._make_run(plan, worker).play()

    def _make_run(self, plan: RunPlan, worker: _Worker) -> Run:
        choice = self.browser_for(plan)
        if worker.playwright is None:
            worker.playwright = sync_playwright().start()
        source = BrowserSource(playwright=worker.playwright, reaper=self._reaper_now())
        if self.options.cdp_endpoints:
            source.cdp_endpoint = self.options.cdp_endpoints[worker.slot % len(self.options.cdp_endpoints)]
        elif choice.mode == "real":
            try:
                source.chromium = self._pool(choice).take()
            except HarnessError:
                source.chromium = None  # the run launches its own, and says what went wrong if that fails too
        else:
            source.browser = self._shared_browser(worker, choice)
        return Run(plan.scenario, plan.version, self.options, RunResources(choice, self.cache, source, self.app),
                   repeat=plan.repeat, cancelled=self._cancel)

    # -- browsers -----------------------------------------------------------------------------------------------

    def _warm(self, plans: Sequence[RunPlan], jobs: int) -> None:
        """Start spawning real-mode browsers now, as many as will be used, ``jobs`` at a time."""
        if self.options.cdp_endpoints:
            return
        counts: dict[tuple[Path, bool], int] = {}
        for plan in plans:
            choice = self.browser_for(plan)
            if choice.mode == "real":
                key = (choice.info.path, self.options.headless)
                counts[key] = counts.get(key, 0) + 1
        for (path, _), count in counts.items():
            self._pool_for(path, spare=min(jobs, count), budget=count)

    def _pool(self, choice: BrowserChoice) -> ChromiumPool:
        return self._pool_for(choice.info.path, spare=1, budget=None)

    def _pool_for(self, path: Path, *, spare: int, budget: int | None) -> ChromiumPool:
        key = (path, self.options.headless)
        with self._pool_lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = ChromiumPool(path, headless=self.options.headless, spare=spare, budget=budget).start()
                self._pools[key] = pool
            return pool

    def _reaper_now(self) -> Reaper:
        with self._pool_lock:
            if self._reaper is None:
                self._reaper = Reaper()
            return self._reaper

    def _shared_browser(self, worker: _Worker, choice: BrowserChoice) -> Browser:
        assert worker.playwright is not None
        worker.shared = worker.shared or {}
        key = (str(choice.info.path), self.options.headless)
        browser = worker.shared.get(key)
        if browser is None or not browser.is_connected():
            browser = worker.playwright.chromium.launch(executable_path=str(choice.info.path),
                                                        headless=self.options.headless, slow_mo=self.options.slowmo)
            worker.shared[key] = browser
        return browser

    def _release(self, worker: _Worker) -> None:
        for browser in (worker.shared or {}).values():
            try:
                browser.close()
            except Exception:
                pass
        if worker.playwright is not None:
            try:
                worker.playwright.stop()
            except Exception:
                pass
        worker.playwright, worker.shared = None, None

    def close(self) -> None:
        """End every spare browser and wait for used ones to be gone, and stop the app. Idempotent."""
        if self.app is not None:
            unanswered = self.app.unanswered()
            self.app.stop()
            self.app = None
            if unanswered and self._on_note is not None:  # also on each run's timeline, as mock.unhandled
                self._on_note(f"the Backend API mock did not answer {unanswered}: the app's server got a 501 "
                              "(see mock.unhandled in the results)")
        if self._here is not None:
            self._release(self._here)
            self._here = None
        if self._own is not None:
            self._own.submit(self._release, self._own_worker).result()  # Playwright ends on the thread it runs on
            self._own.shutdown(wait=True)
            self._own, self._own_run = None, None
        for pool in list(self._pools.values()):
            pool.close()
        self._pools.clear()
        if self._reaper is not None:
            self._reaper.close()
            self._reaper = None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
