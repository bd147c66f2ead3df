"""The browser driver: one Chromium, one context, the pages of a run, and the probes that feed the timeline.

Actions return when the page has observed them (the ``offline`` event has fired, the reload has loaded the SDK, the
tab has seen its ``visibilitychange``), never after a fixed sleep. Page-side facts arrive through a binding with the
time they happened in the page.

Three browser modes (``DriverOptions.mode``):

* ``real`` -- a Chromium the harness launches itself (harness/browser/real_chromium.py) and drives in its default
  context, without Playwright's focus emulation: tab visibility, focus, freeze and resume are the browser's own.
  Needs a full Chromium (the old-headless shell has no tab strip).
* ``emulated`` -- a plain Playwright launch: every page stays visible and focused whatever happens; tab actions fail.
* ``simulated`` -- a plain Playwright launch plus an init-script override of visibility and focus
  (harness/browser/simulated_tabs.js), for machines without a full Chromium; results say ``simulated``.

A driver may also be **attached** to a context someone else made (``BrowserSource.context``: a pytest-playwright
test's own): it adds its probes to that context and acts on its page, in ``emulated`` or ``simulated`` mode only
(the context is Playwright's ``new_context``, so Playwright pins visibility and focus), starts no trace (the context's
owner traces it), and at close only turns the network back on, leaving the context, its browser and its Playwright
to their owner.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from weakref import WeakKeyDictionary
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, ViewportSize, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from harness.browser.discovery import ENV_VAR, BrowserInfo, find_browser, is_headless_shell_name
from harness.browser.flips import NetworkFlips
from harness.browser.pool import Reaper
from harness.browser.real_chromium import RealChromium
from harness.browser.tabs import FIRST_TAB_JS, SIMULATED_TABS_JS, RealTabs, SimulatedTabs
from harness.errors import BrowserNotFound, HarnessError, one_line
from harness.mock.tokens import peek, peek_header
from harness.timeline import Event, Timeline

PROBE_JS = (Path(__file__).parent / "probe.js").read_text()
# The page's Date, shifted by the `clock` step (installed on first use: a run that never sets the clock runs unshimmed).
CLOCK_SHIM_JS = (Path(__file__).parent / "clock_shim.js").read_text()

# Playwright sets navigator.webdriver, and clerk-js then counts itself offline on any failed request (its
# isValidBrowser() check): the bug would reproduce for the wrong reason. Masked by default.
MASK_WEBDRIVER_JS = ("Object.defineProperty(Navigator.prototype, 'webdriver', "
                     "{get: () => false, configurable: true});")
# clerk-js <= 6.0.0 counts rtt === 0 or downlink === 0 as offline. The headless shell always reports 0 while a user's
# browser does not; keep the browser's own values when they are non-zero, and report a plausible link otherwise,
# unless navigator.onLine is false (then 0, as Chromium reports when offline).
PIN_CONNECTION_JS = """(() => {
  const proto = window.NetworkInformation && NetworkInformation.prototype;
  if (!proto) return;
  for (const [key, fallback] of [['rtt', 100], ['downlink', 1.5]]) {
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (!d || !d.get) continue;
    Object.defineProperty(proto, key, {configurable: true, get() {
      const v = d.get.call(this); return v ? v : (navigator.onLine ? fallback : 0); }});
  }
})();"""

BrowserMode = Literal["emulated", "real", "simulated"]
BROWSER_MODES: tuple[str, ...] = ("real", "emulated", "simulated")
TAB_TIMEOUT = 10.0  # seconds for a page to observe a tab action (they take ~1-300 ms)


@dataclass(frozen=True)
class BrowserChoice:
    """The browser and mode a run will use, and why the mode differs from the one asked for (if it does)."""

    info: BrowserInfo
    mode: BrowserMode
    requested: BrowserMode
    note: str | None = None  # set when falling back: print it once, keep it in every result


def choose_browser(mode: BrowserMode = "real", explicit: str | None = None, *, strict: bool = False,
                   explicit_source: str | None = None) -> BrowserChoice:
    """Find the browser for ``mode``. ``real`` needs a full Chromium; without one it falls back to ``simulated`` and
    says so in ``note`` -- unless ``strict`` (the user asked for real explicitly), then it raises BrowserNotFound."""
    if mode != "real":
        return BrowserChoice(find_browser(explicit, explicit_source=explicit_source), mode, mode)
    try:
        return BrowserChoice(find_browser(explicit, need_tabs=True, explicit_source=explicit_source), "real", "real")
    except BrowserNotFound as err:
        if strict:
            raise
        info = find_browser(explicit, explicit_source=explicit_source)
        why = str(err).split(";")[0]
        return BrowserChoice(info, "simulated", "real",
                             f"real tabs unavailable ({why}); using SIMULATED tab visibility and focus")


class BrowserChooser:
    """The browser for each mode a front door needs, found once per mode. The mode is the one asked for on the
    command line, else the scenario's ``setup.browser_mode``, else real; only an explicit ``real`` is strict.
    ``on_note`` hears a fallback (real → simulated) once, the first time it happens."""

    def __init__(self, explicit: str | None, asked: BrowserMode | None, *, explicit_source: str | None = None,
                 on_note: Callable[[str], None] | None = None) -> None:
        self.explicit, self.asked, self.explicit_source, self.on_note = explicit, asked, explicit_source, on_note
        self._found: dict[str, BrowserChoice] = {}

    def choose(self, scenario_mode: BrowserMode | None = None) -> BrowserChoice:
        mode = self.asked or scenario_mode or "real"
        if mode not in self._found:
            choice = choose_browser(mode, self.explicit, strict=self.asked == "real",
                                    explicit_source=self.explicit_source)
            if choice.note and self.on_note is not None:
                self.on_note(choice.note)
            self._found[mode] = choice
        return self._found[mode]


@dataclass
class DriverOptions:
    executable: Path
    mode: BrowserMode = "emulated"  # runs default to real (RunConfig); a bare driver stays a plain Playwright launch
    headless: bool = True
    slowmo: float = 0
    mask_webdriver: bool = True
    # Each run passes its adapter's patterns (harness/engine/run.py); this default, the first adapter's (Clerk's)
    # session cookies, is for a driver built by hand, as the watcher's own tests build one.
    watch_cookies: tuple[str, ...] = ("__session", "__session_*")
    watch_storage: tuple[str, ...] = ()  # localStorage keys the probe watches (an SDK whose session lives there)
    storage_renewal: str | None = None  # the stored record's renewing field, fingerprinted as `renewal` per write
    storage_area: str = "localStorage"  # where watch_storage's keys live: "localStorage" or "indexedDB"
    storage_place: tuple[str, str] | None = None  # indexedDB: (database, object store) holding the keys
    storage_identity: str | None = None  # dotted path to the record's token that stands for a write (access_token)
    init_scripts: tuple[str, ...] = ()  # SDK-specific observation scripts (functions taking no argument)
    tracing: bool = False
    viewport: ViewportSize = field(default_factory=lambda: ViewportSize(width=1000, height=700))


@dataclass
class BrowserSource:
    """Where a run's browser comes from, when not from the driver itself (the run engine supplies these so that
    launching and closing stay off the run's critical path). Every field is optional; an empty source means: start
    Playwright, launch a browser, and close both at the end, as a bare driver does.

    * ``playwright`` -- the calling thread's Playwright (the driver leaves it running at close);
    * ``chromium`` -- real mode: a spawned, fresh Chromium from a :class:`~harness.browser.pool.ChromiumPool`;
      the driver connects to it, and at close hands it to ``reaper`` (or kills it);
    * ``browser`` -- emulated/simulated mode: a launched browser shared by the runs of one thread; the run gets a
      new context in it (its own cookies and storage) and closes only that context;
    * ``cdp_endpoint`` -- a Chromium started elsewhere (``--remote-debugging-port``), driven in its default context
      (real tab visibility): left as found at close (extra tabs closed, cookies cleared), never killed;
    * ``context`` (and optionally ``page``) -- a context someone else made and owns (a pytest-playwright test's),
      attached to: probes added, steps act on ``page`` (else its first page); at close the network is turned back
      on and everything else is left to its owner. Only on the thread whose Playwright made it.
    """

    playwright: Playwright | None = None
    chromium: RealChromium | None = None
    browser: Browser | None = None
    cdp_endpoint: str | None = None
    reaper: Reaper | None = None
    context: BrowserContext | None = None
    page: Page | None = None

    @property
    def attached(self) -> bool:
        return self.context is not None


class BrowserDriver:
    """Launches Chromium, owns the context and pages, and turns what the browser does into timeline events."""

    def __init__(self, timeline: Timeline, options: DriverOptions, source: BrowserSource | None = None) -> None:
        self.timeline = timeline
        self.options = options
        self.source = source or BrowserSource()
        self._pw: Playwright | None = None
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self.pages: list[Page] = []  # every tab ever opened, in order: tab n is pages[n - 1]
        self.page: Page | None = None  # the tab the steps act on
        self.real: RealChromium | None = None  # the self-launched Chromium (real mode)
        self.launched_pid: int | None = None  # emulated/simulated: the Playwright-launched browser's process
        self.tabs: RealTabs | SimulatedTabs | None = None  # how tab actions happen (None: emulated)
        self._front: Page | None = None  # the tab on show in the window
        self._recent: list[Page] = []  # open tabs, the most recently brought to front last
        self._frozen: dict[Page, dict[str, Any]] = {}  # frozen tab -> its state before the freeze
        self.page_offset = 0.0  # seconds the page's clock is ahead of the timeline's (measure_clock)
        # Whether the tab had focus when its window was minimised: restoring gives focus back only then.
        self._focus_at_minimise: dict[Page, bool] = {}
        self.flips: NetworkFlips | None = None  # network flips armed on a trigger (harness/browser/flips.py)
        self.date_offset: float | None = None  # seconds the pages' Date is set ahead (clock step); None: not shimmed

    # -- life cycle -------------------------------------------------------------------------------------------

    def start(self) -> "BrowserDriver":
        try:
            if not self.source.attached:  # an attached context brings its owner's Playwright along
                self._pw = self.source.playwright or sync_playwright().start()
            self.context = self._open_context()
        except PlaywrightError as err:
            self.close()
            raise HarnessError(f"could not start Chromium at {self.options.executable}: {one_line(err)} "
                               "(check the path, or set HARNESS_CHROMIUM)") from None
        except BaseException:
            self.close()
            raise
        try:
            return self._prepare()
        except BaseException:
            self.close()  # a half-started browser must not outlive the error
            raise

    def _prepare(self) -> "BrowserDriver":
        assert self.context is not None
        if self.options.mode == "simulated":
            self.context.add_init_script(script=f"({SIMULATED_TABS_JS})()")
        self.context.expose_binding("__harnessEvent", self._on_page_event)
        watched = {"cookies": list(self.options.watch_cookies), "storage": list(self.options.watch_storage),
                   "renewal": self.options.storage_renewal, "area": self.options.storage_area,
                   "place": list(self.options.storage_place or ()), "identity": self.options.storage_identity}
        self.context.add_init_script(script=f"({PROBE_JS})({json.dumps(watched)})")
        if self.options.mask_webdriver:
            self.context.add_init_script(script=MASK_WEBDRIVER_JS)
        self.context.add_init_script(script=PIN_CONNECTION_JS)
        for script in self.options.init_scripts:
            self.context.add_init_script(script=f"({script})()")
        if self.options.tracing:
            self.context.tracing.start(screenshots=True, snapshots=True, sources=False)
        self.context.on("page", self._watch_page)
        self.page = self.source.page or (self.context.pages[0] if self.context.pages else self.context.new_page())
        if self.page not in self.pages:
            self._watch_page(self.page)
        self._set_front(self.page)
        if self.options.mode == "real":
            self.tabs = RealTabs(self.context, headless=self.options.headless)
        elif self.options.mode == "simulated":
            self.tabs = SimulatedTabs(self.context)
            self.page.add_init_script(script=FIRST_TAB_JS)  # starts unfocused, as in the real mode
        self.timeline.emit("browser", "browser.mode", mode=self.options.mode,
                           pid=self.real.pid if self.real else None)
        return self

    def _open_context(self) -> BrowserContext:
        if self.options.mode not in BROWSER_MODES:
            raise HarnessError(f"unknown browser mode {self.options.mode!r}; use one of {', '.join(BROWSER_MODES)}")
        if self.source.context is not None:
            return self._attached_context(self.source.context)
        assert self._pw is not None
        if self.source.cdp_endpoint:
            return self._remote_context(self.source.cdp_endpoint)
        if self.options.mode == "real":
            if is_headless_shell_name(self.options.executable):
                raise HarnessError(f"{self.options.executable} is an old-headless shell, which has no real tabs; "
                                   f"point {ENV_VAR} at a full Chromium, or use browser mode simulated")
            if self.source.chromium is not None:
                self.real = self.source.chromium
                self.browser = self.real.connect(self._pw, slow_mo=self.options.slowmo)
            else:
                width, height = self.options.viewport["width"], self.options.viewport["height"]
                self.real = RealChromium(self.options.executable, headless=self.options.headless,
                                         window_size=(width, height))
                self.browser = self.real.launch(self._pw, slow_mo=self.options.slowmo)
            # The default context: a new_context() would bring Playwright's focus emulation back.
            return self.browser.contexts[0]
        if self.source.browser is not None:
            self.launched_pid = browser_pid(self.source.browser)
            return self.source.browser.new_context(viewport=self.options.viewport)
        self.browser = self._pw.chromium.launch(executable_path=str(self.options.executable),
                                                headless=self.options.headless, slow_mo=self.options.slowmo)
        self.launched_pid = browser_pid(self.browser)
        return self.browser.new_context(viewport=self.options.viewport)

    def _attached_context(self, context: BrowserContext) -> BrowserContext:
        if self.options.mode == "real":
            raise HarnessError("browser mode real needs a Chromium the harness launches itself; an attached context "
                               "is Playwright-made, so its visibility and focus are pinned: use emulated or simulated")
        if self.options.tracing:
            raise HarnessError("an attached context is traced by its owner (pytest-playwright's --tracing), not the "
                               "harness")
        self.browser = context.browser
        return context

    @property
    def owns_browser_process(self) -> bool:
        """Whether :meth:`kill_browser` can end the browser: not one started elsewhere (``--cdp-endpoint``)."""
        return self.real is not None or self.launched_pid is not None

    def kill_browser(self) -> None:
        """End the browser process this run drives, from any thread (no Playwright call): a blocked Playwright call
        then fails. A browser started elsewhere is not ours to end: nothing happens."""
        if self.real is not None:
            self.real.kill()
        elif self.launched_pid is not None:
            try:
                os.kill(self.launched_pid, signal.SIGKILL)  # a shared browser: the worker launches a new one
            except (ProcessLookupError, PermissionError):
                pass

    def _remote_context(self, endpoint: str) -> BrowserContext:
        """A browser started elsewhere, in its default context (real tab visibility, as in real mode), emptied of
        what an earlier run may have left: extra tabs, cookies."""
        assert self._pw is not None
        self.browser = self._pw.chromium.connect_over_cdp(endpoint, no_defaults=True,
                                                          slow_mo=self.options.slowmo or None)
        if not self.browser.contexts:
            raise HarnessError(f"the browser at {endpoint} has no default context to drive")
        context = self.browser.contexts[0]
        _reset_context(context)
        return context

    def close(self, trace_path: Path | None = None) -> None:
        if self.flips is not None:
            try:
                self.flips.close()  # first: nothing may fire into a browser that is going away
            except Exception:
                pass
        try:
            if self.context is not None and self.options.tracing and trace_path is not None:
                self.context.tracing.stop(path=str(trace_path))
        except Exception:
            pass
        closers = self._closers()
        interrupted: BaseException | None = None
        for closer in closers:  # closing must always get to the end: no Chromium left behind
            try:
                closer()
            except Exception:
                pass
            except BaseException as err:  # Ctrl-C while closing: finish closing first, then let it through
                interrupted = interrupted or err
                if self.real is not None:
                    self.real.kill()
        self.context = self.browser = self._pw = None
        self.tabs = None
        if interrupted is not None:
            raise interrupted

    def _closers(self) -> list[Callable[[], Any]]:
        """What to close, in order, by where the browser came from (see :class:`BrowserSource`)."""
        real, source = self.real, self.source
        closers: list[Callable[[], Any]]

        def reset_context() -> None:
            if self.context:
                _reset_context(self.context)

        def close_context() -> None:
            if self.context:
                self.context.close()

        def close_browser() -> None:
            if self.browser:
                self.browser.close()

        def stop_playwright() -> None:
            if self._pw:
                self._pw.stop()

        def detach() -> None:
            if self.context:
                self.context.remove_listener("page", self._watch_page)  # later tabs are the owner's alone
                if self.context.pages:  # still open: the owner's test goes on with it, online
                    self.context.set_offline(False)

        if source.attached:  # someone else's context: their test may go on with it, they close it
            return [detach]
        if source.cdp_endpoint:  # someone else's browser: leave it as found, only disconnect
            closers = [reset_context, close_browser]
        elif real is not None:  # disconnecting leaves the process running: end its whole process group
            reaper = source.reaper if source.chromium is not None else None
            closers = [real.disconnect, (lambda: reaper.reap(real)) if reaper is not None else real.kill]
        elif source.browser is not None:  # a shared browser: only this run's context goes
            closers = [close_context]
        else:
            closers = [close_context, close_browser]
        if source.playwright is None:
            closers.append(stop_playwright)
        return closers

    def __enter__(self) -> "BrowserDriver":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- probes -----------------------------------------------------------------------------------------------

    def _watch_page(self, page: Page) -> None:
        if page in self.pages:
            return
        self.pages.append(page)
        tab = len(self.pages)

        def on_console(msg: ConsoleMessage) -> None:
            self.timeline.emit("browser", "console", tab=tab, type=msg.type, text=msg.text[:500])

        def on_pageerror(err: PlaywrightError) -> None:
            self.timeline.emit("browser", "pageerror", tab=tab, text=str(err)[:500])

        def on_crash(_: Page) -> None:
            self.timeline.emit("browser", "page.crashed", tab=tab)

        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        page.on("requestfailed", lambda req: self._on_request_failed(tab, req))
        page.on("close", lambda _: self._on_tab_closed(page, tab))
        page.on("crash", on_crash)

    def _on_tab_closed(self, page: Page, tab: int) -> None:
        self.timeline.emit("browser", "tab.closed", tab=tab)
        if page in self._recent:
            self._recent.remove(page)
        self._frozen.pop(page, None)
        if self.tabs is not None:
            self.tabs.forget(page)

    def _on_request_failed(self, tab: int, request: Any) -> None:
        timing = request.timing or {}
        start = timing.get("startTime")
        self.timeline.emit("browser", "request.failed", at=start / 1000 - self.page_offset if start and start > 0
                           else None, tab=tab,
                           method=request.method, path=_path(request.url), error=request.failure)

    # -- one clock ----------------------------------------------------------------------------------------------

    def measure_clock(self, label: str) -> float | None:
        """Measure how far the page's clock (``performance.timeOrigin + performance.now()``, which stamps every page
        event) is ahead of the timeline's, as the midpoint of the shortest of three round trips; record it as
        ``clock.offset`` and put page-stamped events on the timeline's base with it from now on. None when there
        is no live page to ask (not loaded yet, frozen, closed)."""
        page = self.page
        if page is None or page.is_closed() or page in self._frozen or not page.url.startswith("http"):
            return None
        best: tuple[float, float] | None = None
        for _ in range(3):
            before = self.timeline.now()
            page_now = float(page.evaluate("performance.timeOrigin + performance.now()")) / 1000
            after = self.timeline.now()
            sample = (page_now - (before + after) / 2, after - before)
            if best is None or sample[1] < best[1]:
                best = sample
        assert best is not None
        offset, rtt = best
        # Applied only when larger than the measurement's own uncertainty (half the round trip): a correction of
        # noise could move a page event to before the moment a step began waiting for it.
        self.page_offset = offset if abs(offset) > rtt / 2 else 0.0
        self.timeline.emit("browser", "clock.offset", label=label, offset_ms=round(offset * 1000, 3),
                           rtt_ms=round(rtt * 1000, 3), applied_ms=round(self.page_offset * 1000, 3))
        return offset

    def _on_page_event(self, source: dict[str, Any], payload: dict[str, Any]) -> None:
        payload = dict(payload)
        kind = payload.pop("kind")
        at = payload.pop("at", None)
        if isinstance(at, (int, float)):
            at -= self.page_offset  # onto the timeline's clock (measure_clock)
        page = source.get("page")
        payload["tab"] = self.pages.index(page) + 1 if page in self.pages else None
        if kind in ("cookie", "storage"):  # a session store's write: label its token by iat/exp
            claims = peek(payload.get("value"))
            if claims:
                payload["iat"], payload["exp"] = claims.get("iat"), claims.get("exp")
                if claims.get("jti"):
                    payload["jti"] = claims["jti"]
                oiat = (peek_header(payload.get("value")) or {}).get("oiat")
                if oiat is not None:
                    payload["oiat"] = oiat  # origin issued-at: which of two tokens is the newer
            payload.pop("value", None)  # tokens stay out of reports; iat/exp identify them
            if isinstance(payload.get("renewal"), str):  # the refresh token: only a fingerprint stays
                payload["renewal"] = fingerprint(payload["renewal"])
        self.timeline.emit("page", kind, at=at, **payload)

    # -- the page's wall clock (the `clock` step) ----------------------------------------------------------------

    def _live_pages(self) -> list[Page]:
        return [p for p in self.pages if not p.is_closed() and p not in self._frozen and p.url.startswith("http")]

    def set_date_offset(self, seconds: float) -> dict[int, float]:
        """Set every page's ``Date`` ``seconds`` ahead of true time (negative: behind), its timers left real: the
        pages open now at once, every later load and tab by an init script. A frozen page takes it when it resumes
        only if :meth:`arm_date_offset` told it before the freeze. Returns the offset each live tab now reads (s)."""
        assert self.context is not None
        ms = json.dumps(seconds * 1000)
        if self.date_offset is None:
            self.context.add_init_script(script=f"({CLOCK_SHIM_JS})({ms})")
        else:  # init scripts run in the order added: the last one sets the offset a new document starts with
            self.context.add_init_script(script=f"window.__harnessClock && window.__harnessClock.set({ms})")
        self.date_offset = seconds
        for page in self._live_pages():
            page.evaluate(f"({CLOCK_SHIM_JS})({ms})")
        return self.observed_date_offsets()

    def arm_date_offset(self, seconds: float) -> None:
        """Have the current page take ``seconds`` as its ``Date`` offset the moment it next resumes (before any of its
        own handlers run): a wall-clock jump made while it is frozen."""
        self._require_running("arm the page clock")
        assert self.page is not None
        self.page.evaluate(f"({CLOCK_SHIM_JS})({json.dumps((self.date_offset or 0.0) * 1000)})")
        self.page.evaluate(f"window.__harnessClock.arm({json.dumps(seconds * 1000)})")

    def observed_date_offsets(self) -> dict[int, float]:
        """Tab number -> how far its ``Date`` reads ahead of its real clock (s), measured in the page."""
        out: dict[int, float] = {}
        for page in self._live_pages():
            try:
                ms = page.evaluate("window.__harnessClock ? window.__harnessClock.observed() : "
                                   "Date.now() - (performance.timeOrigin + performance.now())")
            except PlaywrightError:
                continue  # navigating: it reads the init script's offset once loaded
            out[self.tab_number(page)] = round(float(ms) / 1000, 3)
        return out

    # -- waiting ----------------------------------------------------------------------------------------------

    def pump(self, seconds: float) -> None:
        """Let time pass while Playwright delivers events (the sync API only dispatches while it runs)."""
        page = next((p for p in (self.page, *reversed(self.pages)) if p is not None and not p.is_closed()), None)
        if page is None:
            time.sleep(max(seconds, 0))
            return
        page.wait_for_timeout(max(seconds, 0) * 1000)  # a client-side timer: fine on a frozen page too

    def flush(self, settle: float = 0.05) -> None:
        """Deliver what the pages have already reported: a round trip to each running page (its earlier binding
        calls -- cookie writes, events -- arrive before the answer), then ``settle`` seconds for the rest."""
        for page in self.pages:
            if page.is_closed() or page in self._frozen or not page.url.startswith("http"):
                continue
            try:
                page.evaluate("0")
            except PlaywrightError:
                pass  # navigating or crashed: nothing more will come from it
        self.pump(settle)

    def wait_for_event(self, predicate: Callable[[Event], bool], timeout: float,
                       since: float | None = None) -> Event | None:
        # A page event caused by the action that began the wait can be stamped up to the applied clock correction
        # before it (measure_clock): the window opens that much earlier.
        if since is not None:
            since -= abs(self.page_offset)
        return self.timeline.wait_for(predicate, timeout, since=since, pump=self.pump)

    # -- actions ----------------------------------------------------------------------------------------------

    def set_offline(self, offline: bool, timeout: float = 5.0) -> None:
        """Switch the network off or on; returns when the page has seen its ``offline``/``online`` event."""
        assert self.context is not None
        since = self.timeline.now()
        self.timeline.emit("browser", "network", online=not offline)
        self.context.set_offline(offline)
        kind = "offline" if offline else "online"
        # A frozen page runs no script, so it cannot observe the switch now (it sees the state when resumed).
        if (self.page is not None and not self.page.is_closed() and self.page.url.startswith("http")
                and self.page not in self._frozen):
            if self.wait_for_event(lambda e: e.kind == kind and e.source == "page", timeout, since=since) is None:
                raise HarnessError(f"the page did not report going {kind} within {timeout:g} s")

    def network_flips(self) -> NetworkFlips:
        """The run's armed network flips (made on first use): ``online``/``offline`` on a trigger."""
        if self.flips is None:
            self.flips = NetworkFlips(self)
        return self.flips

    def goto(self, url: str, wait_js: str | None = None, timeout: float = 30.0) -> None:
        self._require_running("goto")
        assert self.page is not None
        self.page.goto(url, wait_until="load", timeout=timeout * 1000)
        if wait_js:
            self.page.wait_for_function(wait_js, timeout=timeout * 1000)

    def reload(self, wait_js: str | None = None, timeout: float = 30.0) -> None:
        self._require_running("reload")
        assert self.page is not None
        self.page.reload(wait_until="load", timeout=timeout * 1000)
        if wait_js:
            self.page.wait_for_function(wait_js, timeout=timeout * 1000)

    def evaluate(self, js: str, arg: Any = None) -> Any:
        self._require_running("evaluate")
        assert self.page is not None
        return self.page.evaluate(js, arg)

    def jar(self) -> dict[str, str]:
        """The browser's cookie jar as the browser itself reports it (for cross-checking the watcher)."""
        assert self.context is not None
        return {c["name"]: c["value"] for c in self.context.cookies()}

    def screenshot(self, path: Path) -> Path | None:
        try:
            assert self.page is not None
            if self.page in self._frozen or self.page.is_closed():
                return None  # a frozen page paints no frame to capture
            self.page.screenshot(path=str(path), timeout=5000)
            return path
        except Exception:
            return None

    # -- tabs: which tab, and its visibility, focus and lifecycle ---------------------------------------------------
    #
    # Each action checks that it can change something (hiding a hidden tab is a scenario mistake, not a no-op),
    # makes the change through the mode's mechanism (harness/browser/tabs.py), and returns once the PAGE reported
    # the change through the probe (visibility / focus / blur / freeze / resume events on the timeline). Every event
    # the page fires is recorded as it comes: bringing a tab to the front may fire `focus` twice, and both stay.

    def tab_number(self, page: Page | None = None) -> int:
        """1-based number of a tab (the ``tab`` field of page events); the current tab by default."""
        page = page or self.page
        if page not in self.pages:
            raise HarnessError("no such tab")
        return self.pages.index(page) + 1

    def tab_state(self, tab: int | None = None) -> dict[str, Any]:
        """What the page itself reports: ``visibility``, ``focused`` (``document.hasFocus()``), plus ``frozen`` and
        ``front`` (the tab on show in its window) as the driver knows them. A frozen page is not asked (it runs no
        script): its visibility is ``hidden``, as Chromium reports for a frozen page."""
        page = self._tab(tab)
        if page in self._frozen:
            state = {"visibility": "hidden", "focused": False}
        elif self.tabs is not None:
            state = self.tabs.state(page)
        else:
            state = page.evaluate("() => ({visibility: document.visibilityState, focused: document.hasFocus()})")
        return {**state, "frozen": page in self._frozen, "front": page is self._front}

    def hide(self, timeout: float = TAB_TIMEOUT) -> None:
        """Background the current tab: bring the most recently used other tab to the front, or open a blank tab if
        there is none. Returns when the page has seen ``visibilitychange:hidden`` (after ``blur`` if it had focus)."""
        tabs, page = self._lifecycle("hide")
        state = self._state_for("hide", page, visibility="visible")
        others = [p for p in self._recent if p is not page and not p.is_closed()]
        since = self._action("hide", page)
        if others:
            other = others[-1]
            tabs.to_front(other, page)
        else:
            assert self.context is not None  # a started driver has its context
            other = self.context.new_page()
            self._watch_page(other)
            self.timeline.emit("browser", "tab.opened", tab=self.tab_number(other), by="hide", url="about:blank")
            tabs.new_tab_opened(page, other)
        self._set_front(other)
        if state["focused"]:
            self._await_page(page, "blur", since, timeout, "hide")
        self._await_page(page, "visibility", since, timeout, "hide", visibility="hidden")

    def show(self, timeout: float = TAB_TIMEOUT) -> None:
        """Bring the current (hidden) tab back to the front. Returns when the page has seen
        ``visibilitychange:visible`` and ``focus`` (in a real headless Chromium often two ``focus`` events)."""
        tabs, page = self._lifecycle("show")
        self._state_for("show", page, visibility="hidden")
        if tabs.window_state(page) == "minimized":
            raise HarnessError(f"show: the window of tab {self.tab_number(page)} is minimised; use `restore`")
        since = self._action("show", page)
        if page is self._front:  # on show but hidden: the state a CDP resume leaves behind
            self._reveal(page, since, timeout, "show", focus=False)
            return
        tabs.to_front(page, self._front)
        self._set_front(page)
        self._await_page(page, "visibility", since, timeout, "show", visibility="visible")
        self._await_page(page, "focus", since, timeout, "show")

    def minimise(self, timeout: float = TAB_TIMEOUT) -> None:
        """Minimise the window of the current tab (which must be on show). Returns when the page has seen
        ``blur`` (if it had focus) and ``visibilitychange:hidden``."""
        tabs, page = self._lifecycle("minimise")
        state = self._state_for("minimise", page, visibility="visible")
        since = self._action("minimise", page)
        tabs.set_window(page, "minimized")
        self._focus_at_minimise[page] = bool(state["focused"])
        if state["focused"]:
            self._await_page(page, "blur", since, timeout, "minimise")
        self._await_page(page, "visibility", since, timeout, "minimise", visibility="hidden")

    def restore(self, timeout: float = TAB_TIMEOUT) -> None:
        """Restore the minimised window of the current tab. Returns when the page has seen
        ``visibilitychange:visible`` and, if it had focus when minimised, ``focus`` (either order)."""
        tabs, page = self._lifecycle("restore")
        if tabs.window_state(page) != "minimized":
            raise HarnessError(f"restore: the window of tab {self.tab_number(page)} is not minimised")
        if page is not self._front:
            raise HarnessError(f"restore: tab {self.tab_number(page)} is not the window's front tab, so restoring "
                               "would not show it; use `switch_tab` first")
        since = self._action("restore", page)
        tabs.set_window(page, "normal")
        self._await_page(page, "visibility", since, timeout, "restore", visibility="visible")
        if self._focus_at_minimise.pop(page, True):
            self._await_page(page, "focus", since, timeout, "restore")

    def freeze(self, timeout: float = TAB_TIMEOUT) -> None:
        """Freeze the current tab (``Page.setWebLifecycleState frozen``: what Chrome does to background tabs).
        Returns when the page has seen ``freeze`` (a real Chromium first blurs and hides it)."""
        tabs, page = self._lifecycle("freeze")
        state = self.tab_state(self.tab_number(page))
        since = self._action("freeze", page)
        tabs.freeze(page)
        self._frozen[page] = state
        self._await_page(page, "freeze", since, timeout, "freeze")

    def resume(self, timeout: float = TAB_TIMEOUT) -> None:
        """Resume the frozen current tab. Returns when the page has seen ``resume``. A real Chromium leaves a
        resumed page hidden; if the tab was on show before the freeze, it is shown again (window minimised and
        restored, recorded as ``tab.revealed``) and this returns once the page has seen it."""
        tabs, page = self._lifecycle("resume", frozen_ok=True)
        if page not in self._frozen:
            raise HarnessError(f"resume: tab {self.tab_number(page)} is not frozen")
        before = self._frozen[page]
        since = self._action("resume", page)
        tabs.resume(page)
        del self._frozen[page]
        self._await_page(page, "resume", since, timeout, "resume")
        if (before.get("visibility") == "visible" and page is self._front
                and tabs.window_state(page) != "minimized"):
            self._reveal(page, since, timeout, "resume", focus=bool(before.get("focused")))

    def blur(self, timeout: float = TAB_TIMEOUT) -> None:
        """Take focus away from the current tab while it stays on show (focus moves to another window). Returns when
        the page has seen ``blur``. Impossible in a real HEADLESS Chromium (see harness/browser/tabs.py)."""
        tabs, page = self._lifecycle("blur")
        self._state_for("blur", page, visibility="visible", focused=True)
        since = self._action("blur", page)
        tabs.blur(page)
        self._await_page(page, "blur", since, timeout, "blur")

    def focus(self, timeout: float = TAB_TIMEOUT) -> None:
        """Give the current tab (on show, unfocused) focus. Returns when the page has seen ``focus``. A tab of a
        self-launched headless Chromium starts unfocused; this is how a scenario gives it focus."""
        tabs, page = self._lifecycle("focus")
        self._state_for("focus", page, visibility="visible", focused=False)
        since = self._action("focus", page)
        tabs.focus(page)
        self._set_front(page)
        self._await_page(page, "focus", since, timeout, "focus")

    def new_tab(self, url: str | None = None, *, switch: bool = True, wait_js: str | None = None,
                timeout: float = 30.0) -> int:
        """Open a tab (it comes to the front, as with Ctrl+T; in real mode the previous tab is hidden), optionally
        load ``url`` in it, and with ``switch`` make it the tab steps act on. Returns its number."""
        assert self.context is not None
        previous = self._front
        watch = previous is not None and previous not in self._frozen and previous.url.startswith("http")
        was_visible = watch and self.tab_state(self.tab_number(previous))["visibility"] == "visible"
        since = self.timeline.now()
        page = self.context.new_page()
        self._watch_page(page)
        number = self.tab_number(page)
        self.timeline.emit("browser", "tab.opened", tab=number, by="new_tab", url=url or "about:blank")
        if self.tabs is not None:
            self.tabs.new_tab_opened(previous, page)
        self._set_front(page)
        if self.tabs is not None and was_visible:
            assert previous is not None  # `was_visible` says so
            self._await_page(previous, "visibility", since, timeout, "new_tab", visibility="hidden")
        if switch:
            self.page = page
        if url:
            page.goto(url, wait_until="load", timeout=timeout * 1000)
            if wait_js:
                page.wait_for_function(wait_js, timeout=timeout * 1000)
        return number

    def close_tab(self, timeout: float = TAB_TIMEOUT) -> int:
        """Close the current tab. The browser shows another one (a real Chromium picks it); that tab becomes the
        one steps act on. Returns its number, once it has seen ``visibilitychange:visible`` (if it was hidden)."""
        page = self.page
        if page is None or page.is_closed():
            raise HarnessError("close_tab: the current tab is already closed; use `switch_tab`")
        remaining = [p for p in self.pages if p is not page and not p.is_closed()]
        if not remaining:
            raise HarnessError(f"close_tab: tab {self.tab_number(page)} is the last tab; closing it would end the "
                               "browser")
        was_front = page is self._front
        since = self._action("close_tab", page)
        page.close()
        if not was_front:
            self.page = self._front if self._front is not None and not self._front.is_closed() else remaining[-1]
            return self.tab_number()
        if isinstance(self.tabs, RealTabs):
            front = self._find_front(remaining, timeout)
        else:
            front = next((p for p in reversed(self._recent) if p in remaining), remaining[-1])
            if self.tabs is not None:
                self.tabs.tab_closed(front)
        self._set_front(front)
        self.page = front
        if self.tabs is not None and front.url.startswith("http") and front not in self._frozen:
            self._await_page(front, "visibility", since, timeout, "close_tab", visibility="visible")
        return self.tab_number(front)

    def switch_tab(self, tab: int, *, front: bool = True, timeout: float = TAB_TIMEOUT) -> None:
        """Make tab ``tab`` (1-based) the one steps act on; with ``front`` also bring it to the front, as a click on
        the tab does (then it returns once the page has seen ``visibilitychange:visible`` and ``focus``)."""
        page = self._tab(tab)
        self.page = page
        if not front or page is self._front or self.tabs is None:
            if front and self.tabs is None and self.options.mode == "emulated":
                page.bring_to_front()
                self._set_front(page)
            return
        if page in self._frozen:
            raise HarnessError(f"switch_tab: tab {tab} is frozen; add a `resume` step for it first")
        since = self._action("switch_tab", page)
        self.tabs.to_front(page, self._front)
        self._set_front(page)
        if page.url.startswith("http"):
            self._await_page(page, "visibility", since, timeout, "switch_tab", visibility="visible")
            self._await_page(page, "focus", since, timeout, "switch_tab")

    # -- tab helpers -------------------------------------------------------------------------------------------------

    def _tab(self, tab: int | None) -> Page:
        if tab is None:
            if self.page is None or self.page.is_closed():
                raise HarnessError("the current tab is closed; use `switch_tab`")
            return self.page
        if not 1 <= tab <= len(self.pages):
            raise HarnessError(f"there is no tab {tab} (tabs: 1-{len(self.pages)})")
        page = self.pages[tab - 1]
        if page.is_closed():
            raise HarnessError(f"tab {tab} was closed")
        return page

    def _lifecycle(self, action: str, frozen_ok: bool = False) -> tuple[RealTabs | SimulatedTabs, Page]:
        if self.tabs is None:
            raise HarnessError(f"{action}: needs browser_mode real or simulated (this run uses "
                               f"{self.options.mode}, where Playwright keeps every page visible and focused)")
        page = self._tab(None)
        if not page.url.startswith("http"):
            raise HarnessError(f"{action}: tab {self.tab_number(page)} shows no web page ({page.url}); "
                               "load one first")
        if page in self._frozen and not frozen_ok:
            raise HarnessError(f"{action}: tab {self.tab_number(page)} is frozen; add a `resume` step first")
        return self.tabs, page

    def _state_for(self, action: str, page: Page, **want: Any) -> dict[str, Any]:
        state = self.tab_state(self.tab_number(page))
        for key, value in want.items():
            if state[key] != value:
                opposite: dict[str, dict[Any, str]] = {"visibility": {"visible": "hidden", "hidden": "visible"},
                                                       "focused": {True: "unfocused", False: "focused"}}
                words = opposite[key]
                raise HarnessError(f"{action}: tab {self.tab_number(page)} is {words[value]} already "
                                   f"(visibility {state['visibility']}, focus {state['focused']})")
        return state

    def _action(self, action: str, page: Page) -> float:
        since = self.timeline.now()
        self.timeline.emit("browser", "tab.action", action=action, tab=self.tab_number(page), mode=self.options.mode)
        return since

    def _set_front(self, page: Page) -> None:
        self._front = page
        if page in self._recent:
            self._recent.remove(page)
        self._recent.append(page)

    def _reveal(self, page: Page, since: float, timeout: float, action: str, focus: bool) -> None:
        # The front tab reports hidden after a CDP resume until its window changes state: minimise and restore it.
        # Focus comes back with it only if the page had focus before (as when restoring a minimised window).
        assert self.tabs is not None
        self.timeline.emit("browser", "tab.revealed", tab=self.tab_number(page), by=action,
                           why="a resumed page stays hidden until its window is minimised and restored")
        self.tabs.set_window(page, "minimized")
        self.tabs.set_window(page, "normal")
        self._await_page(page, "visibility", since, timeout, action, visibility="visible")
        if focus:
            self._await_page(page, "focus", since, timeout, action)

    def _find_front(self, candidates: list[Page], timeout: float) -> Page:
        # Which tab a real Chromium shows after a close is its own choice; ask the pages until one says visible.
        assert self.tabs is not None
        deadline = time.monotonic() + timeout
        while True:
            for page in candidates:
                if page not in self._frozen and not page.is_closed() and \
                        self.tabs.state(page)["visibility"] == "visible":
                    return page
            if time.monotonic() > deadline:
                raise HarnessError(f"close_tab: no remaining tab came to the front within {timeout:g} s")
            self.pump(0.02)

    def _await_page(self, page: Page, kind: str, since: float, timeout: float, action: str, **want: Any) -> Event:
        tab = self.tab_number(page)

        def seen(event: Event) -> bool:
            return (event.source == "page" and event.kind == kind and event.data.get("tab") == tab
                    and all(event.data.get(k) == v for k, v in want.items()))

        hit = self.wait_for_event(seen, timeout, since=since)
        if hit is None:
            what = kind + "".join(f":{v}" for v in want.values())
            hint = ""
            if not self.options.headless and action in ("minimise", "restore"):
                # Window states are the window manager's job: a bare X server (xvfb-run) has none to minimise.
                hint = "; a headed window can only be minimised under a window manager (not bare xvfb-run): " \
                       "run this scenario headless"
            raise HarnessError(f"{action}: tab {tab} did not report `{what}` within {timeout:g} s "
                               f"({self.options.mode} mode){hint}")
        return hit

    def _require_running(self, action: str) -> None:
        if self.page is not None and self.page in self._frozen:
            raise HarnessError(f"{action}: tab {self.tab_number()} is frozen and runs no script; add a `resume` "
                               "step first")


STORAGE_TYPES = "local_storage,indexeddb,cache_storage,service_workers,websql,file_systems"


def fingerprint(secret: str) -> str:
    """A short, stable label for a secret (a refresh token): equal secrets share it; the secret stays out."""
    return hashlib.sha256(secret.encode()).hexdigest()[:10]


def _reset_context(context: BrowserContext) -> None:
    """One blank tab, no cookies and no site data of the origins its tabs show: a reused default context as a
    fresh profile would have it (another run may use the same origin: a fixed --port)."""
    pages = list(context.pages)
    origins = {_origin(p.url) for p in pages if p.url.startswith("http")}
    keep = pages[0] if pages else context.new_page()
    for page in pages[1:]:
        page.close()
    keep.goto("about:blank")
    context.clear_cookies()
    if origins:
        session = context.new_cdp_session(keep)  # a page target's session: the browser's answers "Internal error"
        try:
            for origin in origins:  # localStorage, IndexedDB, caches, service workers
                session.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": STORAGE_TYPES})
        finally:
            session.detach()


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


_BROWSER_PIDS: "WeakKeyDictionary[Browser, int | None]" = WeakKeyDictionary()


def browser_pid(browser: Browser) -> int | None:
    """The process id of a Playwright-launched browser (asked once over CDP, then remembered), so that a watchdog
    can end it without a Playwright call. None if the browser does not say."""
    if browser not in _BROWSER_PIDS:
        pid = None
        try:
            info = browser.new_browser_cdp_session().send("SystemInfo.getProcessInfo")
            pid = next((p["id"] for p in info.get("processInfo", []) if p.get("type") == "browser"), None)
        except PlaywrightError:
            pass
        _BROWSER_PIDS[browser] = pid
    return _BROWSER_PIDS[browser]
