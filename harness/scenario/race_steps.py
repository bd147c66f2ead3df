"""The network steps, ``offline`` and ``online``: now, or armed on a trigger at a precise point relative to a request.

Bare, they switch the network and return once the page saw it. With ``when:`` they arm the switch (a *flip*) and
return at once; the flip is made the moment its trigger is heard, from Playwright's own thread
(harness/browser/flips.py), and ``wait_for: network_flipped`` waits for it::

    - online: {when: request_failed, path: "*/tokens", after: 0ms}   # back online as the token request fails
    - offline: {when: server_received, path: "*/tokens"}             # offline the moment the mock has the request
    - online: server_dropped                                         # the scalar form sets `when`

The YAML shape stays flat (``when``, ``path``, ``after``, ``count``, ``landed``), so generated timelines can use it.
A flip may be armed in any state (arm it before the request it is about starts, so the page-side witness sees that
request); what counts is the state when it fires.

Invariants: a flip changes the browser's real network state (never a JS override of ``navigator.onLine``); a flip
whose trigger never comes fails the ``wait_for`` that waits for it; a flip that never fired, changed nothing, or
landed on the wrong side of the page's failed fetch (``landed:``) fails the run's ``flips-fired`` check -- the run
ends in ``error``, never in a verdict (an ``optional`` wait disarms a flip whose trigger did not come).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.browser.flips import FAILURE_TRIGGERS, TRIGGERS, Flip, FlipTo, Landed, NetworkFlips
from harness.errors import HarnessError
from harness.duration import parse_duration
from harness.scenario.step_registry import WAIT_WINDOWS, RunContext, WaitArgs, WaitWindow, step
from harness.timeline import Event

MAX_AFTER_S = 60.0


class NetworkArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    value: Literal[TRIGGERS] | None = Field(  # type: ignore[valid-type]  # Literal built from the trigger list
        None, alias="when", description="arm the switch on this trigger instead of making it now: request_sent, "
                                        "response_received, request_failed (the browser's network layer, current "
                                        "tab), fetch_failed (the page's fetch rejected), server_received, "
                                        "server_answered, server_dropped (the mock)")
    path: str = Field("*/tokens", description="with `when`: glob on the path of the request the trigger is about")
    after: float = Field(0.0, ge=0, le=MAX_AFTER_S, description="with `when`: this long after the trigger (`0ms`, "
                                                                "`5ms`, `3s`)")
    count: int = Field(1, ge=1, description="with `when`: on the n-th matching trigger after arming")
    landed: Landed | None = Field(None, description="with a failure trigger: where the flip must land for the run "
                                                    "to count -- before_failure (the page's fetch failed online) or "
                                                    "after_failure (it failed offline); elsewhere the run is error")

    @field_validator("after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)

    @model_validator(mode="after")
    def _when_needed(self) -> "NetworkArgs":
        extra = sorted(self.model_fields_set - {"value"})
        if self.value is None and extra:
            raise ValueError(f"`{'`, `'.join(extra)}` {'needs' if len(extra) == 1 else 'need'} `when` (e.g. "
                             f"{{when: request_failed, {extra[0]}: ...}})")
        if self.landed is not None and self.value not in FAILURE_TRIGGERS:
            raise ValueError(f"`landed` needs a failure trigger ({', '.join(FAILURE_TRIGGERS)}), not {self.value}")
        return self


def _network(ctx: RunContext, args: NetworkArgs, to: FlipTo, timeout: float) -> None:
    if args.value is None:
        ctx.driver.set_offline(to == "offline", timeout=timeout)
    else:
        ctx.driver.network_flips().arm(to, args.value, args.path, args.after, args.count, args.landed)


@step("offline", NetworkArgs)
def offline(ctx: RunContext, args: NetworkArgs, timeout: float) -> None:
    """Take the browser offline (no new connections; ``navigator.onLine`` false); returns once the page saw it. With
    ``when:`` it arms the switch on a trigger instead and returns at once, as ``online`` does (``offline: {when:
    server_received}``: offline the moment the mock has the request)."""
    _network(ctx, args, "offline", timeout)


@step("online", NetworkArgs)
def online(ctx: RunContext, args: NetworkArgs, timeout: float) -> None:
    """Bring the browser back online; returns once the page saw the ``online`` event. With ``when: TRIGGER``
    (``online: {when: request_failed, path: "*/tokens", after: 0ms}``) it arms the switch instead and returns at
    once: it is made, by the browser's own network emulation, as soon as the harness hears the ``count``-th matching
    trigger after arming (``after`` later). ``wait_for: network_flipped`` waits for it; each flip made is a
    ``network.flip`` event with ``trigger_at``, ``applied_at`` and ``lag_ms``, and what the page saw at a failed
    fetch and in its next task (docs/races.md). ``landed: before_failure|after_failure`` (failure triggers) requires
    the page's fetch to have failed online or offline; a flip that landed elsewhere, or found the browser in its
    state already, fails the run's ``flips-fired`` check (``error``)."""
    _network(ctx, args, "online", timeout)


def _flip_window(ctx: RunContext, args: WaitArgs) -> WaitWindow:
    """``wait_for: network_flipped``: the earliest armed flip no wait has taken, however long ago it fired."""
    flips: NetworkFlips | None = getattr(ctx.driver, "flips", None)
    flip = flips.next_unawaited() if flips is not None else None
    if flips is None or flip is None:
        raise HarnessError("wait_for network_flipped: no armed flip to wait for; arm one first, e.g. "
                           "`online: {when: request_failed}`")
    if args.count != 1:
        raise HarnessError("wait_for network_flipped waits for one flip at a time (the next armed one); repeat the "
                           "step instead of giving `count`")
    armed_t = flip.armed_at - ctx.timeline.started_at

    def found(event: Event) -> None:
        flip.awaited = True
        if event.kind == "network.flip.error":
            raise HarnessError(f"wait_for network_flipped: the flip armed at t={armed_t:.2f} s ({flip.describe()}) "
                               f"could not be made: {event.data.get('error')}")

    def missing(seconds: float) -> str:
        flip.awaited = True
        came = "no matching trigger came" if flip.seen == 0 else \
            f"only {flip.seen} of the {flip.count} matching triggers came"
        return (f"wait_for network_flipped: the flip armed at t={armed_t:.2f} s ({flip.describe()}) did not fire "
                f"within {seconds:g} s: {came}")

    def gave_up() -> None:
        flip.awaited = True
        flips.disarm(flip)

    return WaitWindow(since=flip.armed_at, accept=lambda e: _is(flip, e), found=found, missing=missing,
                      gave_up=gave_up)


def _is(flip: Flip, event: Event) -> bool:
    return event.data.get("flip") == flip.id


WAIT_WINDOWS["network_flipped"] = _flip_window
