"""The steps a scenario can take, each a small function over a :class:`RunContext`.

Every step returns when its effect has been observed (the page saw ``offline``; the SDK finished its token
attempt), not after a fixed sleep; ``wait`` is the one step that lets a fixed time pass, on purpose.
Steps are registered with :func:`step`; the registry validates arguments when a scenario file is loaded, so a typo
fails before any browser starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.errors import HarnessError
from harness.mock.faults import Fault
from harness.timeline import Event, Timeline

DEFAULT_TIMEOUT = 20.0


@dataclass
class RunContext:
    """What a step can touch: the timeline, the browser, the server and the SDK adapter of one run."""

    timeline: Timeline
    driver: Any  # harness.browser.driver.BrowserDriver
    server: Any  # harness.mock.server.MockAuthServer
    sdk: Any  # harness.sdks.clerk.ClerkSdk
    faults: dict[str, Fault] = field(default_factory=dict)
    step_started_at: float = 0.0

    @property
    def app_url(self) -> str:
        return self.server.url + "/"


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class StepSpec:
    name: str
    args: type[BaseModel]
    run: Callable[[RunContext, Any, float], None]
    doc: str


STEPS: dict[str, StepSpec] = {}


def step(name: str, args: type[BaseModel] = NoArgs) -> Callable:
    """Register a step: ``fn(ctx, args, timeout)``; its docstring is the reference text for the README."""

    def register(fn: Callable[[RunContext, Any, float], None]) -> Callable:
        STEPS[name] = StepSpec(name=name, args=args, run=fn, doc=(fn.__doc__ or "").strip())
        return fn

    return register


def parse_duration(value: Any) -> float:
    """``2``, ``2.5``, ``"2s"``, ``"500ms"``, ``"1m"`` → seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m)?\s*", str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration (e.g. 2, 2.5s, 500ms, 1m)")
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


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
    """Open the app page and wait until the SDK has loaded with the user signed in and ``__session`` set."""
    since = ctx.timeline.now()
    ctx.driver.goto(ctx.app_url, wait_js=ctx.sdk.loaded_js, timeout=timeout)
    state = ctx.driver.evaluate(ctx.sdk.sdk_state_js)
    if not state.get("user"):
        raise HarnessError(f"the SDK loaded but no user is signed in (SDK state: {state})")
    names = ctx.sdk.session_cookies
    if not any(n in ctx.driver.jar() for n in names):
        if ctx.driver.wait_for_event(lambda e: e.kind == "cookie" and e.data.get("op") == "set", timeout,
                                     since=since) is None:
            raise HarnessError(f"signed in, but the SDK never wrote {names[0]}")


@step("revoke_session")
def revoke_session(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """The server ends the session: its tokens answer 401 and the client shows no sessions (the negative control)."""
    ctx.server.revoke_session()


# -- the network -----------------------------------------------------------------------------------------------

@step("offline")
def offline(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Take the browser offline (no new connections; ``navigator.onLine`` false); returns once the page saw it."""
    ctx.driver.set_offline(True, timeout=timeout)


@step("online")
def online(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Bring the browser back online; returns once the page saw the ``online`` event."""
    ctx.driver.set_offline(False, timeout=timeout)


# -- time --------------------------------------------------------------------------------------------------------

@step("wait", Duration)
def wait(ctx: RunContext, args: Duration, timeout: float) -> None:
    """Let a fixed time pass (``wait: 2s``). Prefer ``wait_for`` wherever an event marks the moment."""
    ctx.driver.pump(args.value)


WAIT_EVENTS: dict[str, Callable[[Event], bool]] = {
    # The SDK finished a token attempt (the poller, the focus handler or the refresh timer), whatever its outcome.
    "token_attempt": lambda e: e.kind == "sdk.token.end",
    # A token request left the browser: it reached the mock, or failed in the browser (offline).
    "token_request": lambda e: (e.kind in ("request", "request.failed")) and "/tokens" in e.data.get("path", ""),
    "cookie_change": lambda e: e.kind == "cookie",
    "cookie_removed": lambda e: e.kind == "cookie" and e.data.get("op") == "removed",
    "cookie_set": lambda e: e.kind == "cookie" and e.data.get("op") == "set",
    "client_request": lambda e: e.kind == "request" and e.data.get("path", "").endswith("/v1/client"),
    "fault": lambda e: e.kind in ("fault", "fault.held"),
    "held": lambda e: e.kind == "fault.held",
    "focus": lambda e: e.kind == "focus" and e.source == "page",
    "visibility": lambda e: e.kind == "visibility" and e.source == "page",
}


class WaitFor(BaseModel):
    value: Literal[tuple(WAIT_EVENTS)] = Field(alias="event")  # type: ignore[valid-type]
    count: int = Field(1, ge=1, description="wait for the n-th such event since the step began")
    timeout: float | None = Field(None, gt=0)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@step("wait_for", WaitFor)
def wait_for(ctx: RunContext, args: WaitFor, timeout: float) -> None:
    """Wait for an event since the step began: ``token_attempt``, ``token_request``, ``cookie_change``,
    ``cookie_removed``, ``cookie_set``, ``client_request``, ``fault``, ``held``, ``focus``, ``visibility``
    (``count: n`` for the n-th). Fails the run if it does not come within the timeout."""
    match = WAIT_EVENTS[args.value]
    seen: list[int] = []

    def nth(event: Event) -> bool:
        if match(event) and event.seq not in seen:
            seen.append(event.seq)
        return len(seen) >= args.count

    limit = args.timeout or timeout
    if ctx.driver.wait_for_event(nth, limit, since=ctx.step_started_at) is None:
        raise HarnessError(f"wait_for {args.value}: no such event within {limit:g} s")


# -- the page ----------------------------------------------------------------------------------------------------

@step("reload")
def reload(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Reload the page (the server reads ``__session`` from this request) and wait for the SDK to load."""
    ctx.driver.reload(wait_js=ctx.sdk.loaded_js, timeout=timeout)
    ctx.timeline.emit("page", "sdk.view", **ctx.driver.evaluate(ctx.sdk.sdk_state_js))


class Navigate(BaseModel):
    value: str = Field("/", alias="path", pattern=r"^/")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@step("navigate", Navigate)
def navigate(ctx: RunContext, args: Navigate, timeout: float) -> None:
    """Go to another page of the app (``navigate: /app/settings``) and wait for the SDK to load."""
    ctx.driver.goto(ctx.server.url + args.value, wait_js=ctx.sdk.loaded_js, timeout=timeout)
    ctx.timeline.emit("page", "sdk.view", **ctx.driver.evaluate(ctx.sdk.sdk_state_js))


@step("check_sdk")
def check_sdk(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Record the SDK's own view (loaded, status, user) on the timeline."""
    ctx.timeline.emit("page", "sdk.view", **ctx.driver.evaluate(ctx.sdk.sdk_state_js))


# -- the SDK -----------------------------------------------------------------------------------------------------

@step("clear_token_cache")
def clear_token_cache(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Empty the SDK's token cache, so its next poll must fetch a token (a refresh comes due now)."""
    ctx.driver.evaluate(ctx.sdk.clear_token_cache_js)


class GetToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    skip_cache: bool = False
    template: str | None = None


@step("get_token", GetToken)
def get_token(ctx: RunContext, args: GetToken, timeout: float) -> None:
    """Call the SDK's ``getToken`` from the page and record the token or the error code it gave."""
    opts: dict[str, Any] = {"skipCache": args.skip_cache}
    if args.template:
        opts["template"] = args.template
    result = ctx.driver.evaluate(ctx.sdk.get_token_js, opts)
    outcome = {"outcome": "error", "error": result["error"]} if "error" in result else {
        "outcome": "token" if result.get("token") else "empty"}
    ctx.timeline.emit("page", "sdk.get_token", **outcome)


# -- server faults ---------------------------------------------------------------------------------------------------

class FaultArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["status", "delay", "drop", "hold", "hang"]
    path: str = Field("*/tokens", description="glob on the request path")
    method: str | None = None
    name: str | None = None
    calls: list[int] | None = Field(None, description="which matching calls it applies to, 1-based")
    times: int | None = Field(None, ge=1)
    status: int = Field(503, ge=100, le=599)
    error_code: str | None = None
    delay: float = Field(0.0, ge=0)
    at: Literal["headers", "body"] = "headers"

    @field_validator("delay", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)


@step("fault", FaultArgs)
def fault(ctx: RunContext, args: FaultArgs, timeout: float) -> None:
    """Arm a server fault on matching requests: ``status`` (any code), ``delay``, ``drop`` (before the headers or
    mid-body; keeps dropping until released), ``hold`` (until ``release``), ``hang``; ``calls``/``times`` pick
    which calls. ``name`` lets ``release`` refer to it."""
    armed = ctx.server.add_fault(Fault(kind=args.kind, path=args.path, method=args.method,
                                       calls=tuple(args.calls) if args.calls else None, times=args.times,
                                       status=args.status, error_code=args.error_code, delay=args.delay, at=args.at))
    ctx.faults[args.name or armed.id] = armed


class Release(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    value: str = Field("all", alias="fault")
    outcome: Literal["pass", "drop"] = "pass"


@step("release", Release)
def release(ctx: RunContext, args: Release, timeout: float) -> None:
    """Stop a fault (by name, or ``all``); held requests then get their answer (``outcome: pass``) or are dropped."""
    if args.value == "all":
        ctx.server.release(None, args.outcome)
        return
    armed = ctx.faults.get(args.value)
    if armed is None:
        raise HarnessError(f"release: no fault named {args.value!r} (armed: {', '.join(ctx.faults) or 'none'})")
    ctx.server.release(armed.id, args.outcome)
