"""The browser driver: one Chromium, one context, the pages of a run, and the probes that feed the timeline.

Actions return when the page has observed them (the ``offline`` event has fired, the reload has loaded the SDK),
never after a fixed sleep. Page-side facts arrive through a binding with the time they happened in the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from harness.errors import HarnessError
from harness.mock.tokens import peek
from harness.timeline import Event, Timeline

PROBE_JS = (Path(__file__).parent / "probe.js").read_text()

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


@dataclass
class DriverOptions:
    executable: Path
    mode: BrowserMode = "emulated"
    headless: bool = True
    slowmo: float = 0
    mask_webdriver: bool = True
    watch_cookies: tuple[str, ...] = ("__session", "__session_*")
    init_scripts: tuple[str, ...] = ()  # SDK-specific observation scripts (functions taking no argument)
    tracing: bool = False
    viewport: dict[str, int] = field(default_factory=lambda: {"width": 1000, "height": 700})


class BrowserDriver:
    """Launches Chromium, owns the context and pages, and turns what the browser does into timeline events."""

    def __init__(self, timeline: Timeline, options: DriverOptions) -> None:
        self.timeline = timeline
        self.options = options
        self._pw: Playwright | None = None
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self.pages: list[Page] = []
        self.page: Page | None = None  # the tab the steps act on

    # -- life cycle -------------------------------------------------------------------------------------------

    def start(self) -> "BrowserDriver":
        try:
            self._pw = sync_playwright().start()
            self.context = self._open_context()
        except PlaywrightError as err:
            self.close()
            first = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
            raise HarnessError(f"could not start Chromium at {self.options.executable}: {first} "
                               "(check the path, or set HARNESS_CHROMIUM)") from None
        self.context.expose_binding("__harnessEvent", self._on_page_event)
        self.context.add_init_script(script=f"({PROBE_JS})({json.dumps({'cookies': list(self.options.watch_cookies)})})")
        if self.options.mask_webdriver:
            self.context.add_init_script(script=MASK_WEBDRIVER_JS)
        self.context.add_init_script(script=PIN_CONNECTION_JS)
        for script in self.options.init_scripts:
            self.context.add_init_script(script=f"({script})()")
        if self.options.tracing:
            self.context.tracing.start(screenshots=True, snapshots=True, sources=False)
        self.context.on("page", self._watch_page)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        if self.page not in self.pages:
            self._watch_page(self.page)
        return self

    def _open_context(self) -> BrowserContext:
        assert self._pw is not None
        if self.options.mode != "emulated":
            raise HarnessError(f"browser mode {self.options.mode!r} is not available in this build; use 'emulated'")
        self.browser = self._pw.chromium.launch(executable_path=str(self.options.executable),
                                                headless=self.options.headless, slow_mo=self.options.slowmo)
        return self.browser.new_context(viewport=self.options.viewport)

    def close(self, trace_path: Path | None = None) -> None:
        try:
            if self.context is not None and self.options.tracing and trace_path is not None:
                self.context.tracing.stop(path=str(trace_path))
        except PlaywrightError:
            pass
        for closer in (lambda: self.context and self.context.close(), lambda: self.browser and self.browser.close(),
                       lambda: self._pw and self._pw.stop()):
            try:
                closer()
            except Exception:  # closing must always get to the end: no Chromium left behind
                pass
        self.context = self.browser = self._pw = None

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
        page.on("console", lambda msg: self.timeline.emit("browser", "console", tab=tab, type=msg.type,
                                                          text=msg.text[:500]))
        page.on("pageerror", lambda err: self.timeline.emit("browser", "pageerror", tab=tab, text=str(err)[:500]))
        page.on("requestfailed", lambda req: self._on_request_failed(tab, req))
        page.on("close", lambda _: self.timeline.emit("browser", "tab.closed", tab=tab))

    def _on_request_failed(self, tab: int, request: Any) -> None:
        timing = request.timing or {}
        start = timing.get("startTime")
        self.timeline.emit("browser", "request.failed", at=start / 1000 if start and start > 0 else None, tab=tab,
                           method=request.method, path=_path(request.url), error=request.failure)

    def _on_page_event(self, source: dict[str, Any], payload: dict[str, Any]) -> None:
        payload = dict(payload)
        kind = payload.pop("kind")
        at = payload.pop("at", None)
        page = source.get("page")
        payload["tab"] = self.pages.index(page) + 1 if page in self.pages else None
        if kind == "cookie":
            claims = peek(payload.get("value"))
            if claims:
                payload["iat"], payload["exp"] = claims.get("iat"), claims.get("exp")
            payload.pop("value", None)  # tokens stay out of reports; iat/exp identify them
        self.timeline.emit("page", kind, at=at, **payload)

    # -- waiting ----------------------------------------------------------------------------------------------

    def pump(self, seconds: float) -> None:
        """Let time pass while Playwright delivers events (the sync API only dispatches while it runs)."""
        assert self.page is not None
        self.page.wait_for_timeout(max(seconds, 0) * 1000)

    def wait_for_event(self, predicate: Callable[[Event], bool], timeout: float, since: float | None = None) -> Event | None:
        return self.timeline.wait_for(predicate, timeout, since=since, pump=self.pump)

    # -- actions ----------------------------------------------------------------------------------------------

    def set_offline(self, offline: bool, timeout: float = 5.0) -> None:
        """Switch the network off or on; returns when the page has seen its ``offline``/``online`` event."""
        assert self.context is not None
        since = self.timeline.now()
        self.timeline.emit("browser", "network", online=not offline)
        self.context.set_offline(offline)
        kind = "offline" if offline else "online"
        if self.page is not None and not self.page.is_closed() and self.page.url.startswith("http"):
            if self.wait_for_event(lambda e: e.kind == kind and e.source == "page", timeout, since=since) is None:
                raise HarnessError(f"the page did not report going {kind} within {timeout:g} s")

    def goto(self, url: str, wait_js: str | None = None, timeout: float = 30.0) -> None:
        assert self.page is not None
        self.page.goto(url, wait_until="load", timeout=timeout * 1000)
        if wait_js:
            self.page.wait_for_function(wait_js, timeout=timeout * 1000)

    def reload(self, wait_js: str | None = None, timeout: float = 30.0) -> None:
        assert self.page is not None
        self.page.reload(wait_until="load", timeout=timeout * 1000)
        if wait_js:
            self.page.wait_for_function(wait_js, timeout=timeout * 1000)

    def evaluate(self, js: str, arg: Any = None) -> Any:
        assert self.page is not None
        return self.page.evaluate(js, arg)

    def jar(self) -> dict[str, str]:
        """The browser's cookie jar as the browser itself reports it (for cross-checking the watcher)."""
        assert self.context is not None
        return {c["name"]: c["value"] for c in self.context.cookies()}

    def screenshot(self, path: Path) -> Path | None:
        try:
            assert self.page is not None
            self.page.screenshot(path=str(path))
            return path
        except Exception:
            return None


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path
