"""Network flips armed on a trigger: the browser goes online (or offline) at a precise point relative to a request.

A step arms a flip (``online: {when: request_failed, path: "*/tokens", after: 0ms}``) and returns; the flip is made
when its trigger comes, with the mechanism the ``offline``/``online`` steps use (``context.set_offline``: CDP
``Network.emulateNetworkConditions`` on every page), so ``navigator.onLine`` and the ``online``/``offline`` events are
the browser's real state. Nothing in the page is overridden. (A second CDP session of our own cannot flip alone:
Chromium keeps the network offline while any session emulates offline, though ``navigator.onLine`` follows the
last session that spoke -- a state no real browser is in.)

Where a trigger is seen, and how the flip gets made:

* in the browser's network layer (``request_sent``, ``response_received``, ``request_failed``): Playwright's request
  events of the tab that was current when the flip was armed -- Chromium's ``Network.requestWillBeSent`` /
  ``responseReceived`` / ``loadingFailed`` on the page's CDP session, relayed by Playwright's driver. The handler
  runs in Playwright's thread and makes the flip itself. Playwright's relay is the fastest path there is (a CDP
  session of our own hears the same events ~2 ms later); that session is kept only for the browser's own timestamp
  of the trigger (``trigger_at``);
* in the page (``fetch_failed``): harness/browser/fetch_watch.js reports the rejection of the page's fetch through
  the probe's binding, in the task in which the page saw it;
* at the mock (``server_received``, ``server_answered``, ``server_dropped``): the mock's thread records the event on
  the timeline; a timeline listener hands the flip to Playwright's event loop (``call_soon_threadsafe``), where it
  runs in a greenlet of its own, as Playwright runs its event handlers. Playwright is never called from another
  thread. The loop runs whenever the runner is inside a Playwright call (every wait pumps through one), so the hand-
  over costs ~0.2 ms; a trigger that comes while the runner does pure Python waits until its next call.

A flip on something the browser saw cannot land in the task in which the page saw it: the trigger leaves the
browser, crosses Playwright's driver to Python and comes back as a command the renderer handles as a task of its own.
A flip on something the mock did races the browser's own handling of it, and can land before the page sees the
failure. What each flip achieved is recorded as one ``network.flip`` event: ``trigger_at`` (from the browser's CDP
timestamp, the mock's clock or the page's), ``seen_at`` (the harness heard it), ``sent_at``, ``applied_at`` (the
browser acknowledged the new state), ``lag_ms`` (trigger to applied), ``wake_ms`` (from when the flip could go to when
it went), ``page_at`` (the page fired ``online``/``offline``), and for a trigger that was a failed request, what the
page saw when its fetch failed and in its next task (``failure_online``, ``next_task_online``) and so where the flip
``landed``: before the failure, by the page's next task, or after it.

Invariants: a flip fires at most once, on the ``count``-th matching trigger after it was armed; every Playwright call
happens in Playwright's thread; a flip that never fires is ``network.flip.unfired`` at close, and a run with one, or
with one that found the browser already in its state (``changed: false``), fails its ``flips-fired`` check
(``error``, never a verdict).
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Protocol
from urllib.parse import urlsplit

import greenlet
from playwright.sync_api import BrowserContext, CDPSession, Page, Request, Response
from playwright.sync_api import Error as PlaywrightError

from harness.errors import HarnessError, one_line
from harness.timeline import Event, Timeline

FETCH_WATCH_JS = (Path(__file__).parent / "fetch_watch.js").read_text()

FlipTo = Literal["online", "offline"]
Trigger = Literal["request_sent", "response_received", "request_failed", "fetch_failed",
                  "server_received", "server_answered", "server_dropped"]
# Seen in the browser's network layer, on the tab current when the flip is armed.
BROWSER_TRIGGERS: tuple[str, ...] = ("request_sent", "response_received", "request_failed")
# Seen on the timeline: the page's own report of a failed fetch, and the mock's record of what it did.
TIMELINE_TRIGGERS: dict[str, Callable[[Event], bool]] = {
    "fetch_failed": lambda e: e.source == "page" and e.kind == "fetch.failed",
    "server_received": lambda e: e.source == "mock" and e.kind == "request",
    # Recorded when the handler returns its answer, just before aiohttp writes it.
    "server_answered": lambda e: e.source == "mock" and (
        e.kind == "response" or (e.kind == "fault" and e.data.get("kind") == "status")),
    # Recorded just before the mock closes the connection (a drop, or a held request released with a drop; not the
    # held requests the mock lets go when the run ends, `after: run-end`).
    "server_dropped": lambda e: e.source == "mock" and e.kind == "fault" and (
        e.data.get("kind") == "drop" or e.data.get("after") in ("hold", "release")),
}
TRIGGERS: tuple[str, ...] = (*BROWSER_TRIGGERS, *TIMELINE_TRIGGERS)
# Triggers that are a failed request: their flip records where it landed relative to the page's failed fetch.
FAILURE_TRIGGERS: tuple[str, ...] = ("request_failed", "fetch_failed", "server_dropped")
_CDP_KINDS = {"Network.requestWillBeSent": "request_sent", "Network.responseReceived": "response_received",
              "Network.loadingFailed": "request_failed"}
PAGE_WAIT_S = 1.0  # how long a fired flip waits for the page's online/offline event (and the trigger's timestamp)
STAMP_WAIT_S = 0.2  # how long it waits for the browser's own timestamp of a network trigger
FAILURE_WAIT_S = 1.0  # how long a flip on the mock's drop waits for the page's report of the failed fetch
Landed = Literal["before_failure", "after_failure"]



class FlipHost(Protocol):
    """What a flip needs from the browser driver (harness/browser/driver.py)."""

    timeline: Timeline
    context: BrowserContext | None
    page: Page | None

    def tab_number(self, page: Page | None = None) -> int: ...

    def pump(self, seconds: float) -> None: ...


@dataclass
class Flip:
    """One armed flip and what became of it."""

    id: str
    to: FlipTo
    when: str
    path: str
    after: float  # seconds after the trigger
    count: int  # fire on the count-th matching trigger
    tab: int  # the tab whose network events count (browser triggers)
    armed_at: float
    landed: Landed | None = None  # where the step requires it to land relative to the page's failed fetch
    seen: int = 0
    state: Literal["armed", "due", "fired", "failed", "disarmed"] = "armed"
    awaited: bool = False  # a `wait_for: network_flipped` has taken it

    def describe(self) -> str:
        nth = f" #{self.count}" if self.count > 1 else ""
        must = f", landing {self.landed.replace('_', ' ')}" if self.landed else ""
        return f"{self.to} when {self.when}{nth} on {self.path}, {self.after * 1000:g} ms after{must}"


@dataclass(frozen=True)
class Hit:
    """A trigger as it reached the harness."""

    when: str
    path: str
    seen_at: float  # when the harness heard of it
    at: float | None  # when it happened at its source, on the timeline's clock (None: not known yet)
    clock: str  # whose clock `at` is: browser (CDP timestamp), mock, page
    url: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class _Stamps:
    """The browser's own time of each network event of one page: a CDP session of ours, its ``timestamp`` (the
    browser's monotonic clock) put on the wall clock -- exactly with the ``wallTime`` of ``requestWillBeSent``, or,
    until one comes, with the clock read through ``Performance.getMetrics`` (to within half its round trip). Used only
    to say when a trigger happened; the trigger itself comes faster through Playwright's own session."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.session: CDPSession = context.new_cdp_session(page)
        self.offset: float | None = None  # wall clock minus the browser's monotonic clock
        self.offset_error_ms = 0.0  # how far off the offset may be (0: from a wallTime)
        self._urls: dict[str, str] = {}
        self._recent: deque[tuple[str, str, float]] = deque(maxlen=512)  # (kind, url, wall time)
        self._calibrate()
        for method in _CDP_KINDS:
            self.session.on(method, self._handler(method))
        self.session.send("Network.enable")

    def _calibrate(self) -> None:
        """The offset from the browser's own clock reading, the best of three round trips."""
        self.session.send("Performance.enable")
        try:
            best: tuple[float, float] | None = None
            for _ in range(3):
                before = time.time()
                metrics = self.session.send("Performance.getMetrics")["metrics"]
                after = time.time()
                mono = next((m["value"] for m in metrics if m["name"] == "Timestamp"), None)
                if mono is not None and (best is None or after - before < best[1]):
                    best = ((before + after) / 2 - mono, after - before)
            if best is not None:
                self.offset, self.offset_error_ms = best[0], round(best[1] * 500, 3)
        finally:
            self.session.send("Performance.disable")

    def _handler(self, method: str) -> Callable[[dict[str, Any]], None]:
        return lambda params: self._on(method, params)

    def _on(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.requestWillBeSent":
            self.offset, self.offset_error_ms = params["wallTime"] - params["timestamp"], 0.0
            url = params["request"]["url"]
            self._urls[params["requestId"]] = url
        elif method == "Network.responseReceived":
            url = params["response"]["url"]
        else:
            url = self._urls.get(params["requestId"], "")
        if self.offset is not None:  # a request that began before this session has no URL here: ""
            self._recent.append((_CDP_KINDS[method], url, params["timestamp"] + self.offset))

    def find(self, when: str, url: str, near: float) -> tuple[float, str] | None:
        """The browser's time of the latest ``when`` event for ``url`` shortly before ``near`` (when the harness heard
        it), and how it was matched: by URL, or -- for a request that began before this session, whose URL it never
        heard -- as the only such event of unknown URL in that window."""
        late = 0.01 + self.offset_error_ms / 1000  # the stamp precedes `near`, give or take the offset's error
        window = [(u, at) for kind, u, at in self._recent if kind == when and near - 1.0 < at <= near + late]
        clock = "browser" + (f" (to within {self.offset_error_ms:g} ms)" if self.offset_error_ms else "")
        by_url = [at for u, at in window if u == url]
        if by_url:
            return by_url[-1], clock
        unknown = [at for u, at in window if not u]
        if len(unknown) == 1:
            return unknown[0], clock + ", matched by time (the request began before the flip was armed)"
        return None

    def close(self) -> None:
        try:
            self.session.detach()
        except PlaywrightError:
            pass


class NetworkFlips:
    """The flips of one run: arm them, fire them on their triggers, record what each achieved."""

    def __init__(self, host: FlipHost) -> None:
        self.host = host
        self.timeline = host.timeline
        self.flips: list[Flip] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_listening: Callable[[], None] | None = None
        self._stamps: dict[int, _Stamps] = {}  # by tab
        self._unwatch: list[Callable[[], None]] = []  # removes the request listeners of a page
        self._timers: list[asyncio.TimerHandle] = []
        self._fetch_watch = False
        self._closed = False

    # -- arming (the runner's thread) ------------------------------------------------------------------------------

    def arm(self, to: FlipTo, when: str, path: str, after: float = 0.0, count: int = 1,
            landed: Landed | None = None) -> Flip:
        """Arm a flip to ``to`` on the ``count``-th ``when`` trigger on a path matching ``path``; returns at once.
        ``landed`` (failure triggers only) is where it must land relative to the page's failed fetch, for the run
        to mean anything (the ``flips-fired`` check holds it to that)."""
        page, context = self.host.page, self.host.context
        if page is None or context is None or page.is_closed() or not page.url.startswith("http"):
            raise HarnessError(f"{to}: {{when: {when}}} needs a loaded page of the app; arm it after `signed_in`")
        if when not in TRIGGERS:
            raise HarnessError(f"{to}: unknown trigger {when!r} (one of {', '.join(TRIGGERS)})")
        if landed is not None and when not in FAILURE_TRIGGERS:
            raise HarnessError(f"{to}: `landed` needs a failure trigger ({', '.join(FAILURE_TRIGGERS)}), not {when}")
        self._loop = self._loop or _loop_of(context)
        tab = self.host.tab_number(page)
        self._install_fetch_watch(context, page)
        if when in BROWSER_TRIGGERS:
            self._watch_page(context, page, tab)
        elif self._stop_listening is None:
            self._stop_listening = self.timeline.listen(self._on_event)
        flip = Flip(id=f"flip{next(self._ids)}", to=to, when=when, path=path, after=after, count=count, tab=tab,
                    armed_at=self.timeline.now(), landed=landed)
        with self._lock:
            self.flips.append(flip)
        self.timeline.emit("browser", "network.flip.armed", flip=flip.id, to=to, when=when, path=path,
                           after_ms=round(after * 1000, 3), count=count, tab=tab, described=flip.describe(),
                           **_only(landed=landed))
        return flip

    def online(self) -> bool:
        """The browser's network state as the harness last set it (the latest ``network`` event)."""
        switches = self.timeline.events("network", source="browser")
        return bool(switches[-1].data.get("online", True)) if switches else True

    def next_unawaited(self) -> Flip | None:
        """The earliest flip no ``wait_for: network_flipped`` has taken yet."""
        with self._lock:
            return next((f for f in self.flips if not f.awaited), None)

    def disarm(self, flip: Flip) -> None:
        """Give up on a flip whose trigger may rightly never come (an ``optional`` wait ran out): it will not fire."""
        with self._lock:
            if flip.state not in ("armed", "due"):
                return
            flip.state = "disarmed"
        self.timeline.emit("browser", "network.flip.disarmed", flip=flip.id, described=flip.describe(),
                           seen=flip.seen)

    def _install_fetch_watch(self, context: BrowserContext, page: Page) -> None:
        if self._fetch_watch:
            return
        script = f"({FETCH_WATCH_JS})()"
        context.add_init_script(script=script)  # the documents loaded from now on
        page.evaluate(script)  # and the one on show
        self._fetch_watch = True

    def _watch_page(self, context: BrowserContext, page: Page, tab: int) -> None:
        if tab in self._stamps:
            return
        self._stamps[tab] = _Stamps(context, page)

        def sent(request: Request) -> None:
            self._on_request("request_sent", tab, request, {})

        def answered(response: Response) -> None:
            self._on_request("response_received", tab, response.request, {"status": response.status})

        def failed(request: Request) -> None:
            self._on_request("request_failed", tab, request, {"error": request.failure})

        page.on("request", sent)
        page.on("response", answered)
        page.on("requestfailed", failed)

        def unwatch() -> None:
            page.remove_listener("request", sent)
            page.remove_listener("response", answered)
            page.remove_listener("requestfailed", failed)

        self._unwatch.append(unwatch)

    # -- triggers --------------------------------------------------------------------------------------------------

    def _on_request(self, when: str, tab: int, request: Request, detail: dict[str, Any]) -> None:
        """A Playwright request event (Playwright's thread, a greenlet of its own): fire a due flip from here."""
        seen_at = time.time()
        path = urlsplit(request.url).path
        flip = self._take(when, path, tab)
        if flip is None:
            return
        hit = Hit(when=when, path=path, seen_at=seen_at, at=None, clock="browser", url=request.url,
                  detail={"method": request.method, **detail})
        delay = seen_at + flip.after - time.time()
        if delay <= 0:
            self._fire(flip, hit)
        else:
            self._later(delay, flip, hit)

    def _on_event(self, event: Event) -> None:
        """A timeline listener (any thread): hand a due flip to Playwright's loop."""
        if self._closed:
            return
        for when, matches in TIMELINE_TRIGGERS.items():
            if not matches(event):
                continue
            path = str(event.data.get("path", ""))
            flip = self._take(when, path)
            if flip is None:
                continue
            hit = Hit(when=when, path=path, seen_at=time.time(), at=event.at, clock=event.source,
                      detail={k: event.data[k] for k in ("method", "kind", "status", "after", "error", "online")
                              if k in event.data})
            self._call_soon(functools.partial(self._schedule, flip, hit))

    def _take(self, when: str, path: str, tab: int | None = None) -> Flip | None:
        """Count a ``when`` trigger (on ``path``; from ``tab``, for a browser trigger) against the armed flips; the
        one it makes due, if any (at most one per trigger)."""
        with self._lock:
            if self._closed:
                return None
            for flip in self.flips:
                if flip.state == "armed" and flip.when == when and (tab is None or flip.tab == tab) \
                        and fnmatch.fnmatchcase(path, flip.path):
                    flip.seen += 1
                    if flip.seen >= flip.count:
                        flip.state = "due"
                        return flip
        return None

    # -- firing (Playwright's thread) ------------------------------------------------------------------------------

    def _call_soon(self, fn: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn)
        except RuntimeError:  # the loop closed meanwhile: the run is over, the flip stays unfired
            pass

    def _schedule(self, flip: Flip, hit: Hit) -> None:
        """On Playwright's loop: fire now, or when ``after`` has passed since the trigger."""
        delay = (hit.at if hit.at is not None else hit.seen_at) + flip.after - time.time()
        if delay <= 0:
            self._spawn(flip, hit)
        else:
            self._later(delay, flip, hit)

    def _later(self, delay: float, flip: Flip, hit: Hit) -> None:
        assert self._loop is not None
        self._timers.append(self._loop.call_later(delay, self._spawn, flip, hit))

    def _spawn(self, flip: Flip, hit: Hit) -> None:
        # On the loop itself no sync call may be made; a greenlet of its own may, as Playwright's event handlers do.
        if not self._closed:
            greenlet.greenlet(lambda: self._fire(flip, hit)).switch()

    def _fire(self, flip: Flip, hit: Hit) -> None:
        """Make the flip and record what it achieved. Never raises: this runs inside Playwright's dispatch."""
        try:
            self._flip(flip, hit)
        except Exception as err:  # noqa: BLE001 -- a raise here would land in Playwright's loop, not in a step
            flip.state = "failed"
            if not self._closed:
                self.timeline.emit("browser", "network.flip.error", flip=flip.id, described=flip.describe(),
                                   error=one_line(err))

    def _flip(self, flip: Flip, hit: Hit) -> None:
        context = self.host.context
        with self._lock:
            if context is None or self._closed or flip.state != "due":  # disarmed meanwhile
                return
        changed = self.online() != (flip.to == "online")
        sent_at = time.time()
        self.timeline.emit("browser", "network", at=sent_at, online=flip.to == "online", by="flip", flip=flip.id)
        context.set_offline(flip.to == "offline")
        applied_at = time.time()
        flip.state = "fired"
        trigger_at, clock = self._trigger_time(flip, hit)
        page_at = self._page_saw(flip, sent_at) if changed else None
        due_at = (hit.at if hit.at is not None else hit.seen_at) + flip.after
        record: dict[str, Any] = {
            "flip": flip.id, "to": flip.to, "when": flip.when, "path": flip.path, "after_ms": _ms(flip.after),
            "described": flip.describe(), "changed": changed,
            "trigger": {"path": hit.path, **hit.detail}, "trigger_at": trigger_at, "trigger_clock": clock,
            "seen_at": hit.seen_at, "sent_at": sent_at, "applied_at": applied_at, "page_at": page_at,
            "lag_ms": _ms(applied_at - trigger_at), "relay_ms": _ms(hit.seen_at - trigger_at),
            "send_ms": _ms(applied_at - sent_at), "late_ms": _ms(applied_at - due_at),
            # From when the flip could go (its moment, or hearing the trigger if later) to when it went: the hand-over
            # to Playwright's loop, or a timer's lateness.
            "wake_ms": _ms(sent_at - max(due_at, hit.seen_at)),
            "page_lag_ms": _ms(page_at - trigger_at) if page_at is not None else None,
            **self._await_failure(flip, hit, trigger_at),
        }
        self.timeline.emit("browser", "network.flip", at=applied_at, **record)

    def _trigger_time(self, flip: Flip, hit: Hit) -> tuple[float, str]:
        """When the trigger happened: its source's own stamp; for a browser network event, the CDP timestamp our
        session hears a little after Playwright's relay (else, labelled, when the harness heard it)."""
        if hit.at is not None:
            return hit.at, hit.clock
        stamps = self._stamps.get(flip.tab)
        deadline = time.monotonic() + STAMP_WAIT_S
        while stamps is not None and hit.url:
            found = stamps.find(hit.when, hit.url, hit.seen_at)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                break
            self.host.pump(0.002)
        return hit.seen_at, "harness (no browser timestamp for the request)"

    def _page_saw(self, flip: Flip, sent_at: float) -> float | None:
        """When the flip's tab fired ``online``/``offline`` for it (None: not within PAGE_WAIT_S, e.g. frozen)."""
        deadline = time.monotonic() + PAGE_WAIT_S
        while True:
            seen = next((e for e in self.timeline.events(flip.to, source="page", since=sent_at - 0.002)
                         if e.data.get("tab") == flip.tab), None)
            if seen is not None:
                return seen.at
            if time.monotonic() > deadline or self._closed:
                return None
            self.host.pump(0.005)

    def _await_failure(self, flip: Flip, hit: Hit, trigger_at: float) -> dict[str, Any]:
        """The page's view of the failure (below). A flip on the mock's drop can beat the page's failure, whose report
        then comes after the flip: wait for it a little (FAILURE_WAIT_S)."""
        deadline = time.monotonic() + (FAILURE_WAIT_S if hit.clock == "mock" else 0.0)
        while True:
            view = self._failure_view(flip, hit, trigger_at)
            if "landed" in view or time.monotonic() > deadline or self._closed:
                if flip.landed is not None:
                    view["landed_required"] = flip.landed
                return view
            self.host.pump(0.005)

    def _failure_view(self, flip: Flip, hit: Hit, trigger_at: float) -> dict[str, Any]:
        """For a failure trigger: the page's own view of the failed fetch nearest the trigger -- ``navigator.onLine``
        when the fetch rejected (what the SDK saw when it decided) and in the page's next task -- and so where the
        flip landed: ``before the failure``, ``by the next task``, or ``after the next task``."""
        if flip.when not in FAILURE_TRIGGERS:
            return {}
        failures = [e for e in self.timeline.events("fetch.failed", source="page", since=trigger_at - 0.5)
                    if e.data.get("path") == hit.path and e.data.get("tab") == flip.tab and e.at <= trigger_at + 2.0]
        if not failures:
            return {}
        failure = min(failures, key=lambda e: abs(e.at - trigger_at))
        later = next((e for e in self.timeline.events("fetch.failed.next_task", source="page", since=failure.at)
                      if e.data.get("path") == hit.path and e.data.get("tab") == flip.tab), None)
        target = flip.to == "online"
        out: dict[str, Any] = {"failure_at": failure.at, "failure_online": failure.data.get("online")}
        if later is not None:
            out.update(next_task_at=later.at, next_task_online=later.data.get("online"))
        if failure.data.get("online") == target:
            out["landed"] = "before the failure"
        elif later is not None:
            out["landed"] = "by the next task" if later.data.get("online") == target else "after the next task"
        return out

    # -- the end ---------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening and cancel what is scheduled; record every flip that never fired. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            unfired = [f for f in self.flips if f.state in ("armed", "due")]
        if self._stop_listening is not None:
            self._stop_listening()
        for timer in self._timers:
            timer.cancel()
        for unwatch in self._unwatch:
            try:
                unwatch()
            except (PlaywrightError, KeyError, ValueError):
                pass
        for stamps in self._stamps.values():
            stamps.close()
        for flip in unfired:
            self.timeline.emit("browser", "network.flip.unfired", flip=flip.id, described=flip.describe(),
                               seen=flip.seen)


def _only(**fields: Any) -> dict[str, Any]:
    """The fields that are set."""
    return {k: v for k, v in fields.items() if v is not None}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _loop_of(context: BrowserContext) -> asyncio.AbstractEventLoop:
    """The event loop of Playwright's sync API. Every sync object carries it (``_loop``); the sync API itself runs
    its calls and its event handlers on it, in the thread that started Playwright."""
    loop = getattr(context, "_loop", None)
    if not isinstance(loop, asyncio.AbstractEventLoop):
        raise HarnessError("this Playwright keeps no event loop on its objects; armed network flips need one "
                           f"(playwright {_playwright_version()})")
    return loop


def _playwright_version() -> str:
    from importlib.metadata import version

    return version("playwright")
