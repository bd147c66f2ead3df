"""`wait_for` counts what the step before it caused: a token attempt already under way when that step began is not
one (the library's two-tabs-one-hidden flipped 2 in 30 on 6.0.0 when a poller tick that still read the cache
ended just after `clear_token_cache` began, and ended the wait before the attempt that mattered)."""

from __future__ import annotations

import pytest

from harness.errors import HarnessError
from harness.scenario.steps import RunContext, WaitFor, wait_for
from harness.timeline import Timeline


class _Driver:
    page_offset = 0.0

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    def wait_for_event(self, predicate, timeout, since=None):
        return self.timeline.wait_for(predicate, timeout, since=since, pump=lambda s: None)


def _ctx(timeline: Timeline) -> RunContext:
    return RunContext(timeline=timeline, driver=_Driver(timeline), server=None, sdk=None)  # type: ignore[arg-type]


def _attempt(timeline: Timeline, call: int, start: float, end: float, tab: int = 1) -> None:
    timeline.emit("page", "sdk.token.start", at=start, call=call, tab=tab)
    timeline.emit("page", "sdk.token.end", at=end, call=call, tab=tab, outcome="token")


def test_an_attempt_that_began_before_the_previous_step_does_not_count():
    timeline = Timeline(clock=lambda: 100.0)
    ctx = _ctx(timeline)
    ctx.step_started_at = 10.0  # clear_token_cache
    _attempt(timeline, 3, start=9.9, end=10.05)  # the poller tick in flight: it read the cache
    ctx.step_started_at = 10.3  # wait_for
    with pytest.raises(HarnessError, match="no such event"):
        wait_for(ctx, WaitFor(event="token_attempt", timeout=0.2), 0.2)
    _attempt(timeline, 4, start=11.0, end=11.1)  # the attempt the cleared cache caused
    wait_for(ctx, WaitFor(event="token_attempt", timeout=0.2), 0.2)
    assert ctx.last_waited[0] == 11.1


def test_a_reload_restarts_the_call_count_and_the_latest_start_is_the_one():
    timeline = Timeline(clock=lambda: 100.0)
    ctx = _ctx(timeline)
    _attempt(timeline, 1, start=1.0, end=1.1)  # before a reload
    ctx.step_started_at = 5.0
    _attempt(timeline, 1, start=5.5, end=5.6)  # the same call number on the new page
    ctx.step_started_at = 6.0
    wait_for(ctx, WaitFor(event="token_attempt", timeout=0.2), 0.2)
    assert ctx.last_waited[0] == 5.6


@pytest.mark.parametrize("sdk, its_path, other_path", [
    ("clerk", "/__clerk/v1/client/sessions/sess_1/tokens", "/auth/v1/token"),
    ("supabase", "/auth/v1/token", "/__clerk/v1/client/sessions/sess_1/tokens"),
])
def test_the_token_request_is_the_one_the_adapter_names(sdk, its_path, other_path):
    """`token_request` keeps to the adapter's `token` request (as `on: token` does): each SDK's own path, never the
    other's (Supabase's token path once never matched, and the wait could only time out)."""
    from harness.sdks import adapter_class

    timeline = Timeline(clock=lambda: 100.0)
    ctx = RunContext(timeline=timeline, driver=_Driver(timeline), server=None,  # type: ignore[arg-type]
                     sdk=adapter_class(sdk)())
    timeline.emit("mock", "request", at=1.0, path=other_path, method="POST")
    with pytest.raises(HarnessError, match="no such event"):
        wait_for(ctx, WaitFor(event="token_request", timeout=0.2), 0.2)
    timeline.emit("page", "request.failed", at=2.0, path=its_path, method="POST")
    wait_for(ctx, WaitFor(event="token_request", timeout=0.2), 0.2)
    assert ctx.last_waited[0] == 2.0


def test_a_wait_for_a_request_the_adapter_does_not_make_is_refused_at_load(tmp_path):
    from harness.errors import ScenarioError
    from harness.scenario.model import load_scenario

    (tmp_path / "s.yaml").write_text("id: s\ntitle: t\nsetup:\n  sdk: supabase\nsteps:\n  - signed_in\n"
                                     "  - wait_for: client_request\nverdicts:\n  '*': survived\n")
    with pytest.raises(ScenarioError, match="the supabase adapter does not make"):
        load_scenario(tmp_path / "s.yaml")


def test_an_optional_wait_that_runs_out_goes_on_and_is_on_the_timeline():
    """A release that never takes the awaited action (pauses refreshes offline) is no harness failure: the timeline
    goes on, and `wait.timeout` says what never came."""
    timeline = Timeline(clock=lambda: 100.0)
    ctx = _ctx(timeline)
    ctx.step_started_at = 10.0
    wait_for(ctx, WaitFor(event="token_attempt", timeout=0.2, optional=True, count=2), 0.2)
    [gave_up] = timeline.events("wait.timeout")
    assert gave_up.data == {"event": "token_attempt", "seconds": 0.2, "count": 2, "seen": 0, "path": None}
    with pytest.raises(HarnessError, match="no such event"):  # the same wait, not optional: the harness's error
        wait_for(ctx, WaitFor(event="token_attempt", timeout=0.2), 0.2)
