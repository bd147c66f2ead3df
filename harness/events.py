"""The event kinds: every kind of fact a run's timeline can hold, declared once, and the waits a step can make for them.

A run is one timeline (:class:`harness.timeline.Timeline`) of events ``(t, source, kind, data)``; every oracle and
report is a view of it. Each kind is declared here with :func:`event_kind`: who emits it, what it means, the fields
it carries, whether the report shows it only on request (``minor``) and whether it is a write of the session store.
Everything that reads a kind by name reads this declaration: the ``wait_for`` step's events (:data:`WAITS`, below,
each built from declared kinds), the report's line for each kind (:mod:`harness.report.view`, which refuses at
import to describe a kind not declared here), and the reference docs. ``tests/test_event_kinds.py`` fails when the
package emits a kind that is not declared (it reads every ``emit`` in the Python and JavaScript sources).

A new event kind is one :func:`event_kind` call here, the ``emit`` that makes it, and -- when people should read it
-- one line-maker in :mod:`harness.report.view`; a step can wait for it once it is named in a :func:`wait` here.

Invariant: the names are the ones saved in ``result.json`` files; a kind is renamed only with its old name kept
readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping

from harness.registry import Registry

Source = Literal["page", "mock", "runner", "browser"]


@dataclass(frozen=True)
class EventKind:
    """One declared kind of timeline event."""

    name: str
    source: Source  # who emits it: the page (its probe), the mock server, the runner, the browser driver
    about: str  # what it means, one sentence (the reference, and the report's line when it has no line-maker)
    fields: tuple[str, ...] = ()  # the data it carries (besides ``tab`` and ``url``, which page events may add)
    minor: bool = False  # repeats what a neighbouring row says: the report hides it unless asked
    session_write: bool = False  # a write of the session store (a cookie, or a localStorage key)


EVENTS: Registry[EventKind] = Registry("event kind")


def event_kind(name: str, source: Source, about: str, *fields: str, minor: bool = False,
               session_write: bool = False) -> EventKind:
    """Declare an event kind (see :class:`EventKind`)."""
    return EVENTS.add(name, EventKind(name, source, about, fields, minor, session_write))


def declared(name: str) -> EventKind:
    """The declaration of ``name``; a KeyError naming the module to declare it in when there is none."""
    try:
        return EVENTS[name]
    except KeyError:
        raise KeyError(f"event kind {name!r} is not declared in harness/events.py") from None


# -- the run --------------------------------------------------------------------------------------------------------
event_kind("clock", "runner", "a `clock` step set a party's wall clock or jumped them all (a lid close); each "
           "party's offset against true time, and the offset each tab's Date was measured to read", "change",
           "browser_offset", "auth_offset", "backend_offset", "page_observed")
event_kind("expect.requests", "runner", "an `expect_requests` step: from here, at most `at_most` requests of one kind "
           "in any `within` seconds", "what", "path", "at_most", "within")
event_kind("run.ready", "runner", "the run's mock, app and browser are up", "setup", "app_url", minor=True)
event_kind("step.start", "runner", "a step begins", "index", "name", "label")
event_kind("step.end", "runner", "a step is done", "index", "name", minor=True)
event_kind("step.error", "runner", "a step failed (the run ends in error)", "index", "error")
event_kind("step.hung", "runner", "a step did not return: the runner killed the browser", "why", "step")
event_kind("wait.timeout", "runner", "an optional wait_for ran out without its event", "event", "seconds")
event_kind("harness.stalled", "runner", "the harness fell behind the scenario's pace between two steps",
           "seconds", "after_step", "before_step")
event_kind("screenshot", "runner", "a screenshot was taken", "file", "label", minor=True)
event_kind("clock.offset", "runner", "how far the page's clock leads the timeline's", "offset_ms", "label", "rtt_ms",
           minor=True)
event_kind("sdk.get_token.call", "runner", "the get_token step starts a getToken call", "call", "skip_cache",
           "expect")
event_kind("cookie.jar", "runner", "the browser's own cookie jar after a step (the watcher's cross-check)", "present",
           minor=True)
event_kind("cookie.mismatch", "runner", "the cookie jar disagrees with the page's watcher", "present", "watched")
event_kind("storage.state", "runner", "the page's localStorage after a step (the watcher's cross-check)", "present",
           minor=True)
event_kind("storage.mismatch", "runner", "localStorage disagrees with the page's watcher", "present", "watched")

# -- the browser --------------------------------------------------------------------------------------------------
event_kind("browser.mode", "browser", "how tab visibility and focus are driven (real, emulated, simulated)", "mode")
event_kind("network", "browser", "the harness switches the browser's network", "online", minor=True)
event_kind("network.flip.armed", "browser", "a network switch is armed on a trigger", "flip", "described")
event_kind("network.flip", "browser", "an armed network switch was made", "flip", "online", "trigger")
event_kind("network.flip.error", "browser", "an armed network switch could not be made", "flip", "error")
event_kind("network.flip.disarmed", "browser", "an armed network switch was disarmed unfired", "flip", "described")
event_kind("network.flip.unfired", "browser", "an armed network switch never fired by the end of the run", "flip",
           "described")
event_kind("request", "mock", "a request reached the mock (or left the browser, seen by the browser)", "method",
           "path", "session_cookie")
event_kind("request.failed", "browser", "the browser gave up on a request (offline, or the connection closed)",
           "method", "path", "error")
event_kind("page.crashed", "browser", "a tab's page crashed", "tab")
event_kind("tab.opened", "browser", "a tab was opened", "tab")
event_kind("tab.closed", "browser", "a tab was closed", "tab", minor=True)
event_kind("tab.action", "browser", "a tab step acted (hide, show, minimise, ...)", "action", "tab", "mode")
event_kind("tab.revealed", "browser", "a tab became visible as a side effect of another action", "tab", "by")
event_kind("console", "browser", "the page wrote to its console", "type", "text")
event_kind("pageerror", "browser", "an uncaught error in the page", "text")

# -- the page (its probe, the SDK probe, the app page) ---------------------------------------------------------------
event_kind("probe.ready", "page", "the page's probe started on a fresh document", "url", "cookies", minor=True)
event_kind("online", "page", "the page saw the `online` event", "online")
event_kind("offline", "page", "the page saw the `offline` event", "online")
event_kind("focus", "page", "the page gained focus", "focused")
event_kind("blur", "page", "the page lost focus", "focused")
event_kind("visibility", "page", "the page's visibility changed", "visibility")
event_kind("freeze", "page", "the page was frozen")
event_kind("resume", "page", "the page was resumed")
event_kind("pageshow", "page", "the page was shown", minor=True)
event_kind("pagehide", "page", "the page was hidden", minor=True)
event_kind("cookie", "page", "a session cookie was written or removed in the page", "name", "op", "was_present", "iat",
           "exp", session_write=True)
event_kind("storage", "page", "a session localStorage key was written or removed", "name", "op", "was_present", "via",
           "iat", "exp", session_write=True)
event_kind("fetch.failed", "page", "the page's fetch failed", "path", "online", "error")
event_kind("fetch.failed.next_task", "page", "the page's task after a failed fetch", "path", "online", minor=True)
event_kind("sdk.ready", "page", "the SDK loaded", "status", "user", minor=True)
event_kind("sdk.view", "page", "the SDK's own view of the user after a load (or check_sdk)", "status", "user",
           "client_read")
event_kind("sdk.token.start", "page", "the SDK starts a token attempt", "call", "via", "online", minor=True)
event_kind("sdk.token.end", "page", "the SDK finished a token attempt", "call", "via", "outcome", "error")
event_kind("sdk.session.remove", "page", "the SDK removes its stored session", "online", "visibility")
event_kind("sdk.get_token", "page", "a getToken call settled", "call", "outcome", "error")
event_kind("api.answer", "page", "the page's call to the app's API was answered, or failed", "path", "status",
           "error", "background")

event_kind("sdk.auth_state", "page", "the SDK's own auth-state callback fired (Firebase: onAuthStateChanged)",
           "user", "online")

# -- the mock server ---------------------------------------------------------------------------------------------
event_kind("server.backend", "mock", "which backend judges page loads, and what it reads from each request (the "
           "session store's credential, in the adapter's words)", "backend", "description", "note", "credential",
           minor=True)
event_kind("server.view", "mock", "what the app's backend concluded on a page load", "path", "signed_in", "decision",
           "reason")
event_kind("response", "mock", "the mock answered a request", "method", "path", "status", minor=True)
event_kind("request.refused", "mock", "the mock refused a request (wrong Host, a proxy target)", "method", "path",
           "reason")
event_kind("mock.error", "mock", "a handler of the mock itself raised (a harness bug)", "method", "path", "error")
event_kind("token.minted", "mock", "the mock minted a session token", "jti")
event_kind("session.revoked", "mock", "the server ended the session")
event_kind("fault", "mock", "the mock applied a fault to a request", "kind", "method", "path", minor=True)
event_kind("fault.held", "mock", "the mock started holding a request", "method", "path", minor=True)
event_kind("fault.armed", "mock", "a fault was armed", "name", "kind")
event_kind("fault.released", "mock", "a fault was released", "name", "still_dropping")
event_kind("fault.unreleased", "mock", "a fault was still armed when the run ended", "name")

# -- the user's app under test (harness/app/: the front door, the Backend API mock) ----------------------------------
event_kind("app.unreachable", "mock", "the front door could not reach the user's app (HTTP or its WebSocket)",
           "method", "path", "websocket", "error")
event_kind("backend_api", "mock", "the app's server called the Backend API mock (JWKS, handshake payload, users)",
           "method", "path", "keys", "nonce")
event_kind("mock.unhandled", "mock", "a path the Backend API mock does not serve was asked for (answered 501)",
           "method", "path", "server")


def session_writes() -> frozenset[str]:
    """The kinds that are writes of a session store (whichever store the SDK keeps its session in)."""
    return frozenset(k.name for k in EVENTS.values() if k.session_write)


# -- waits: which events a ``wait_for`` step can wait for, and how --------------------------------------------------

@dataclass(frozen=True)
class Wait:
    """A name ``wait_for`` takes, the declared kinds it waits for and which of them count."""

    name: str
    kinds: tuple[str, ...]  # declared event kinds
    about: str  # the reference's words (the wait_for step's docstring lists them)
    when: Callable[[str, Mapping[str, Any]], bool] | None = None  # (kind, data) -> counts; None: every one
    source: Source | None = None  # only events from this source
    request: str | None = None  # the adapter's named request it keeps to (its ``request_paths`` key)

    def matches(self, kind: str, source: str, data: Mapping[str, Any]) -> bool:
        return kind in self.kinds and (self.source is None or source == self.source) and (
            self.when is None or self.when(kind, data))


WAITS: Registry[Wait] = Registry("wait")


def wait(name: str, kinds: tuple[str, ...], about: str, *,
         when: Callable[[str, Mapping[str, Any]], bool] | None = None, source: Source | None = None,
         request: str | None = None) -> Wait:
    """Declare a ``wait_for`` event name over declared kinds."""
    for kind in kinds:
        declared(kind)  # a wait over an undeclared kind is refused at import
    return WAITS.add(name, Wait(name, kinds, about, when, source, request))


def _op(op: str) -> Callable[[str, Mapping[str, Any]], bool]:
    return lambda kind, d: d.get("op") == op


_STORES = ("cookie", "storage")

wait("token_attempt", ("sdk.token.end",), "the SDK finished a token attempt, whatever its outcome, that began after "
     "the previous step started")
wait("token_request", ("request", "request.failed"), "a token request left the browser (it reached the mock, or "
     "failed in the browser)", request="token")
wait("token_response", ("response", "fault"), "the mock answered a token request (normally or with a status fault; "
     "drops and holds are `fault`/`held`)", when=lambda kind, d: kind == "response" or d.get("kind") == "status",
     request="token")
wait("request", ("request",), "any request that reached the mock (narrow it with `path`)")
wait("request_failed", ("request.failed",), "the browser gave up on a request (offline, or its connection closed)")
wait("cookie_change", ("cookie",), "a session cookie was written or removed")
wait("cookie_removed", ("cookie",), "a session cookie was removed", when=_op("removed"))
wait("cookie_set", ("cookie",), "a session cookie was written", when=_op("set"))
wait("session_removed", _STORES, "the session store (cookie or localStorage) lost its entry", when=_op("removed"))
wait("session_set", _STORES, "the session store (cookie or localStorage) was written", when=_op("set"))
wait("client_request", ("request",), "the SDK's client read reached the mock", request="client")
wait("fault", ("fault", "fault.held"), "the mock applied a fault (status, delay, drop) or started holding a request")
wait("held", ("fault.held",), "the mock started holding a request")
wait("get_token", ("sdk.get_token",), "the last `get_token` call settled, even steps ago")
wait("api_answer", ("api.answer",), "the page's call to the app's API was answered (or failed)")
wait("online", ("online",), "the page saw `online`", source="page")
wait("offline", ("offline",), "the page saw `offline`", source="page")
wait("focus", ("focus",), "the page gained focus", source="page")
wait("blur", ("blur",), "the page lost focus", source="page")
wait("visibility", ("visibility",), "the page's visibility changed", source="page")
wait("network_flipped", ("network.flip", "network.flip.error"), "the next flip armed with `online`/`offline: {when: "
     "...}` was made, whenever that was; an `optional` wait that runs out disarms it", source="browser")
