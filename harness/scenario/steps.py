"""The steps a scenario can take, each a small function over a :class:`RunContext`.

Every step returns when its effect has been observed (the page saw ``offline``; the SDK finished its token
attempt), not after a fixed sleep; ``wait`` is the one step that lets a fixed time pass, on purpose.
Steps are registered with :func:`~harness.scenario.step_registry.step` (the registry, in a module of its own); this
module holds the core steps and imports the other step modules, so importing it registers every step.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import secrets
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from harness.duration import parse_duration
from harness.errors import HarnessError
from harness.events import WAITS
from harness.mock.faults.kind import target_in
from harness.scenario.step_registry import (DEFAULT_TIMEOUT, STEPS, WAIT_WINDOWS, NoArgs, RunContext, StepSpec,
                                            WaitWindow, step)
from harness.sdks import SdkAdapter
from harness.timeline import Event, Timeline

# The registry's names, for the importers that read every step from here (importing this module registers them all).
__all__ = ["DEFAULT_TIMEOUT", "STEPS", "NoArgs", "RunContext", "StepSpec", "WaitFor", "WaitWindow", "parse_duration",
           "step", "wait_for"]


class Duration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float

    @field_validator("value", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> float:
        seconds = parse_duration(value)
        if seconds < 0:
            raise ValueError("must not be negative")
        return seconds


# -- the session ---------------------------------------------------------------------------------------------------

@step("signed_in")
def signed_in(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Open the app page and wait until the SDK has loaded with the user signed in and the session stored (the
    adapter's session store written: its session cookie, e.g. Clerk's ``__session``, or its localStorage key). An SDK
    whose page starts signed out signs in through its own API (Supabase: ``signInWithPassword``); the page then shows
    that user. The tab is then visible and focused, as a person's is (``setup.start_focused: false`` leaves a
    self-launched browser's first tab unfocused)."""
    since = ctx.timeline.now()
    ctx.driver.goto(ctx.app_url, wait_js=ctx.sdk.loaded_js, timeout=timeout)
    state = ctx.driver.evaluate(ctx.sdk.sdk_state_js)
    if not state.get("user") and ctx.sdk.sign_in_js:
        answer = ctx.driver.evaluate(ctx.sdk.sign_in_js) or {}
        if answer.get("error"):
            raise HarnessError(f"signing in through the SDK failed: {answer['error']}")
        state = ctx.driver.evaluate(ctx.sdk.sdk_state_js)
        # The page drew the SDK's view when it loaded (signed out); it shows the user the sign-in gave, as an app does.
        ctx.driver.evaluate("(u) => window.__harnessShowUser && window.__harnessShowUser(u)", state.get("user"))
    if not state.get("user"):
        raise HarnessError(f"the SDK loaded but no user is signed in (SDK state: {state})")
    store = ctx.sdk.session_store
    if store.kind != "cookie" or not any(n in ctx.driver.jar() for n in store.names):
        if ctx.driver.wait_for_event(lambda e: e.kind == store.event_kind and e.data.get("name") in store.names
                                     and e.data.get("op") == "set", timeout, since=since) is None:
            raise HarnessError(f"signed in, but the SDK never wrote {store.names[0]}")
    if ctx.start_focused and ctx.driver.tabs is not None:
        tab = ctx.driver.tab_state()
        if tab["visibility"] == "visible" and not tab["focused"]:
            ctx.driver.focus()  # a person's tab has focus; a self-launched browser's first tab starts without it


@step("revoke_session")
def revoke_session(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """The server ends the session: its tokens answer 401 and the client shows no sessions (the negative control)."""
    ctx.server.revoke_session()


# -- the network: `offline` and `online`, now or on a trigger, are in harness/scenario/race_steps.py ---------------

# -- time --------------------------------------------------------------------------------------------------------

@step("wait", Duration)
def wait(ctx: RunContext, args: Duration, timeout: float) -> None:
    """Let a fixed time pass (``wait: 2s``). Prefer ``wait_for`` wherever an event marks the moment."""
    ctx.driver.pump(args.value)


# The events ``wait_for`` takes are declared with the event kinds (harness/events.py, :data:`WAITS`); these two are
# views of those declarations. A wait about one request the SDK's adapter names (its ``request_paths``, the names
# faults' ``on:`` takes) keeps to that request, so a scenario says "the token request" and each adapter says which.
NAMED_WAITS: dict[str, str] = {w.name: w.request for w in WAITS.values() if w.request}
WAIT_EVENTS: dict[str, Callable[[Event], bool]] = {
    w.name: (lambda e, w=w: w.matches(e.kind, e.source, e.data)) for w in WAITS.values()}  # type: ignore[misc]


def _attempt_began(timeline: Timeline, end: Event) -> float:
    """When the token attempt that ``end`` finished began. An attempt already under way when the step before the
    wait started was not caused by it (a poller tick that still read the cache a ``clear_token_cache`` then
    emptied), so ``token_attempt`` does not count it."""
    call, tab = end.data.get("call"), end.data.get("tab")
    starts = [e.at for e in timeline.events("sdk.token.start")
              if e.data.get("call") == call and e.data.get("tab") == tab and (e.at, e.seq) <= (end.at, end.seq)]
    return starts[-1] if starts else end.at  # a page reload restarts the count: the latest start is this one


class WaitFor(BaseModel):
    value: Literal[tuple(WAIT_EVENTS)] = Field(alias="event")  # type: ignore[valid-type]  # Literal built at import
    count: int = Field(1, ge=1, description="wait for the n-th such event")
    path: str | None = Field(None, description="only events about a request whose path matches this glob")
    tab: int | None = Field(None, ge=1, description="only events from this tab's page (1: the first tab)")
    timeout: float | None = Field(None, gt=0)
    optional: bool = Field(False, description="the event may rightly never come (a fixed version, a control): "
                                              "wait up to the timeout, then go on")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @field_validator("value")
    @classmethod
    def _named_request(cls, value: str, info: ValidationInfo) -> str:
        target = target_in(info)
        name = NAMED_WAITS.get(value)
        if name is not None and target is not None and name not in target.request_paths:
            raise ValueError(f"{value} waits for the `{name}` request, which the {target.name} adapter does not make "
                             f"(its requests: {', '.join(target.request_paths)}); wait for `request` with a `path`")
        return value


def named_request_glob(sdk: SdkAdapter, event: str) -> str | None:
    """The path glob a ``wait_for`` event about a named request keeps to (None: the event is not about one)."""
    name = NAMED_WAITS.get(event)
    if name is None:
        return None
    glob = sdk.request_paths.get(name)
    if glob is None:  # validation refuses this at load; a Python-built step may still get here
        raise HarnessError(f"wait_for {event}: the {sdk.name} adapter names no `{name}` request")
    return glob


@step("wait_for", WaitFor)
def wait_for(ctx: RunContext, args: WaitFor, timeout: float) -> None:
    """Wait for an event caused by the step before it or coming later (it counts from the previous step's start,
    and never an event an earlier ``wait_for`` consumed): {events}. A wait about the request the SDK's adapter names
    ``token`` or ``client`` (the names ``on:`` takes) keeps to that request. ``count: n`` waits for the n-th,
    ``path: GLOB`` keeps only requests to matching paths, ``tab: n`` only events from that tab. Fails the run if it
    does not come within the timeout, unless ``optional: true``: then the run goes on after the timeout (recorded as
    ``wait.timeout``), for events only some versions cause."""
    match = WAIT_EVENTS[args.value]
    request_glob = named_request_glob(ctx.sdk, args.value)
    seen: list[int] = []
    after = ctx.last_waited
    window = WAIT_WINDOWS[args.value](ctx, args) if args.value in WAIT_WINDOWS else None
    if window is not None:
        after = (0.0, 0)

    # From the start of the previous step: "do X; wait_for what X causes" must not miss an effect that came while X
    # was still returning (a request held before the wait began); never an event an earlier wait_for consumed.
    since = ctx.previous_step_started_at
    began_after = since - abs(ctx.driver.page_offset)  # page stamps may lead by the clock correction (see driver)

    def nth(event: Event) -> bool:
        if match(event) and (window is None or window.accept(event)) and event.seq not in seen and (
                event.at, event.seq) > after and (
                args.path is None or fnmatch.fnmatchcase(event.data.get("path", ""), args.path)) and (
                request_glob is None or fnmatch.fnmatchcase(event.data.get("path", ""), request_glob)) and (
                args.tab is None or event.data.get("tab") == args.tab) and (
                args.value != "token_attempt" or _attempt_began(ctx.timeline, event) >= began_after):
            seen.append(event.seq)
        return len(seen) >= args.count

    limit = args.timeout or timeout
    if args.value == "get_token":  # the last call (started with `wait: false`) may have settled steps ago
        calls = ctx.timeline.events("sdk.get_token.call")
        if calls:
            since, after = calls[-1].at, (0.0, 0)
    if window is not None:
        since = window.since
    hit = ctx.driver.wait_for_event(nth, limit, since=since)
    if hit is not None and window is not None:
        ctx.last_waited = max(ctx.last_waited, (hit.at, hit.seq))  # an older event must not reopen consumed ones
        window.found(hit)
    elif hit is not None:
        ctx.last_waited = (hit.at, hit.seq)
    elif args.optional:
        ctx.timeline.emit("runner", "wait.timeout", event=args.value, seconds=limit, count=args.count, seen=len(seen),
                          path=args.path)
        if window is not None:
            window.gave_up()
    elif window is not None:
        raise HarnessError(window.missing(limit))
    else:
        what = args.value + (f" on {args.path}" if args.path else "") + (f" (#{args.count})" if args.count > 1 else "")
        raise HarnessError(f"wait_for {what}: no such event within {limit:g} s (saw {len(seen)})")


wait_for.__doc__ = (wait_for.__doc__ or "").replace("{events}", "; ".join(
    f"``{w.name}``: {w.about}" for w in WAITS.values()))
STEPS[wait_for.__name__] = dataclasses.replace(STEPS[wait_for.__name__], doc=(wait_for.__doc__ or "").strip())


# -- the page ----------------------------------------------------------------------------------------------------

@step("reload")
def reload(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Reload the page (the server judges the credential this load carries) and wait for the SDK to load; records
    the SDK's view (the adapter's ``user_view``) and how its client read (``client_read_path``) answered, which
    tells a fallback to the stored session apart."""
    since = ctx.timeline.now()
    ctx.driver.reload(wait_js=ctx.sdk.loaded_js, timeout=timeout)
    _record_sdk_view(ctx, since)


def _record_sdk_view(ctx: RunContext, since: float) -> None:
    """Emit ``sdk.view``: the SDK's own state, plus how the mock answered the client read during the load."""
    view = dict(ctx.driver.evaluate(ctx.sdk.sdk_state_js))
    read_path = ctx.sdk.client_read_path
    reads = [e for e in ctx.timeline.events(since=since) if e.source == "mock" and e.kind in ("response", "fault")
             and read_path and e.data.get("path", "").endswith(read_path) and e.data.get("method") == "GET"]
    if reads:
        last = reads[-1]
        view["client_read"] = last.data.get("status") if last.kind == "response" or last.data.get("kind") == "status" \
            else last.data.get("kind")
        view["client_read_path"] = read_path
    ctx.timeline.emit("page", "sdk.view", **view)


class Navigate(BaseModel):
    value: str = Field("/", alias="path", pattern=r"^/")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@step("navigate", Navigate)
def navigate(ctx: RunContext, args: Navigate, timeout: float) -> None:
    """Go to another page of the app (``navigate: /app/settings``) and wait for the SDK to load."""
    since = ctx.timeline.now()
    ctx.driver.goto(ctx.server.url + args.value, wait_js=ctx.sdk.loaded_js, timeout=timeout)
    _record_sdk_view(ctx, since)


@step("check_sdk")
def check_sdk(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Record the SDK's own view (loaded, status, user) on the timeline."""
    ctx.timeline.emit("page", "sdk.view", **ctx.driver.evaluate(ctx.sdk.sdk_state_js))


# -- the app's API ---------------------------------------------------------------------------------------------------

# A fetch from the page with its cookies, as a single-page app calls its backend; each answer (or the failure of the
# fetch, offline) goes on the timeline as ``api.answer``. Repeated calls run on in the page while the steps go on.
_API_CALL_JS = """([path, every, windowMs]) => {
  const emit = window.__harnessEmit || (() => {});
  const end = performance.now() + windowMs;  // not Date: a `clock` step may move the page's Date
  const once = async () => {
    try { const r = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
          emit('api.answer', { path, status: r.status }); }
    catch (e) { emit('api.answer', { path, error: String(e && e.message || e) }); }
  };
  const loop = async () => { do { await once(); if (!every) return;
    await new Promise((r) => setTimeout(r, every)); } while (performance.now() < end); };
  loop();
  return true;
}"""


class ApiCall(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    value: str = Field("/api/me", alias="path", pattern=r"^/", description="the app's API path")
    every: float | None = Field(None, gt=0, description="repeat every this many seconds (`500ms`, `1s`)...")
    window: float = Field(10.0, gt=0, alias="for", description="...for this long; the steps go on meanwhile")

    @field_validator("every", "window", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)


@step("api_call", ApiCall)
def api_call(ctx: RunContext, args: ApiCall, timeout: float) -> None:
    """Call the app's API from the page with its cookies (``api_call: /api/me``), as a single-page app does; the
    backend answers signed-in or 401, never a handshake. One call waits for its answer; with ``every: 1s`` (and
    ``for: 10s``) the calls repeat in the page while the next steps run. Each answer is ``api.answer``."""
    since = ctx.timeline.now()
    ctx.driver.evaluate(_API_CALL_JS, [args.value, int(args.every * 1000) if args.every else 0,
                                       int(args.window * 1000)])
    if args.every is None and ctx.driver.wait_for_event(
            lambda e: e.kind == "api.answer" and e.data.get("path") == args.value, timeout, since=since) is None:
        raise HarnessError(f"api_call {args.value}: no answer within {timeout:g} s")


# -- the SDK -----------------------------------------------------------------------------------------------------

@step("clear_token_cache")
def clear_token_cache(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Empty the SDK's token cache, so its next poll must fetch a token (a refresh comes due now)."""
    ctx.driver.evaluate(ctx.sdk.clear_token_cache_js)


class GetToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    skip_cache: bool = False
    template: str | None = None
    wait: bool = Field(True, description="false: start the call and go on; it records its result when it settles")
    expect: Literal["token", "error", "empty"] | None = Field(
        None, description="what the call must give; the run's checks fail (outcome reproduced) otherwise")


# Runs the adapter's getToken function in the page without blocking Playwright, and reports its result through the
# probe's channel, so a call stuck on a held request cannot hang the run (page.evaluate has no timeout).
_GET_TOKEN_IN_PAGE = """([src, opts, meta]) => {
  const emit = window.__harnessEmit || (() => {});
  const call = (0, eval)('(' + src + ')');
  const claims = (t) => { try { return JSON.parse(atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))); }
                          catch (e) { return {}; } };
  Promise.resolve().then(() => call(opts)).then((r) => {
    r = r || {};
    if (r.error) emit('sdk.get_token', {...meta, outcome: 'error', error: String(r.error), online: navigator.onLine});
    else if (r.token) { const c = claims(r.token);
      emit('sdk.get_token', {...meta, outcome: 'token', iat: c.iat, exp: c.exp, online: navigator.onLine}); }
    else emit('sdk.get_token', {...meta, outcome: 'empty', online: navigator.onLine});
  }, (e) => emit('sdk.get_token', {...meta, outcome: 'error', error: String(e && (e.code || e.message) || e)}));
  return true;
}"""


@step("get_token", GetToken)
def get_token(ctx: RunContext, args: GetToken, timeout: float) -> None:
    """Call the SDK's ``getToken`` from the page (``skip_cache``, ``template``) and record what it gave: a token, an
    empty result, or the error code. ``wait: false`` lets the call run on while later steps act (``wait_for:
    get_token`` awaits it); ``expect: token|error|empty`` makes a different result fail the run's checks."""
    opts: dict[str, Any] = {"skipCache": args.skip_cache}
    if args.template:
        opts["template"] = args.template
    call = secrets.token_hex(4)
    meta: dict[str, Any] = {"call": call, "skip_cache": args.skip_cache,
                            **({"expect": args.expect} if args.expect else {})}
    ctx.timeline.emit("runner", "sdk.get_token.call", **meta)
    ctx.driver.evaluate(_GET_TOKEN_IN_PAGE, [ctx.sdk.get_token_js, opts, meta])
    if not args.wait:
        return
    if ctx.driver.wait_for_event(lambda e: e.kind == "sdk.get_token" and e.data.get("call") == call, timeout,
                                 since=ctx.step_started_at) is None:
        raise HarnessError(f"get_token: the SDK's getToken did not settle within {timeout:g} s "
                           "(give the step a longer `timeout`, or `wait: false`)")


from harness.scenario import fault_steps, race_steps, tab_steps  # noqa: E402,F401  (register the fault, network and tab steps)
from harness.scenario import bound_steps, clock_steps  # noqa: E402,F401  (register the clock and bound steps)
