"""The `clock` step and the `request-count` check do what they say, both ways.

* the page's ``Date`` is offset in the page (measured there), across a reload and in a new tab, while its timers and
  ``performance`` stay real; a jump armed before a freeze is what the page's own ``resume`` handler reads;
* tokens are minted on the auth server's clock and checked on the app backend's, each apart from the other;
* the step's forms are refused at load when malformed;
* ``request-count`` fails on a storm and passes without one, and never changes the outcome -- only the claim.
"""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from harness.browser.driver import BrowserDriver, DriverOptions
from harness.clock import RunClocks, parse_offset, signed
from harness.engine.result import RunResult
from harness.errors import ScenarioError
from harness.mock.server import MockAuthServer
from harness.oracles import judge
from harness.scenario.clock_steps import ClockArgs
from harness.scenario.model import parse_scenario
from harness.sdks.clerk import ClerkSdk
from harness.sdks.clerk.backend import RequestFacts
from harness.sdks.supabase import SupabaseSdk
from harness.timeline import Timeline

HOUR = 3600.0


# -- offsets and the step's forms ---------------------------------------------------------------------------------

def test_offsets_read_as_written():
    assert [parse_offset(v) for v in ("+2h", "-30s", "+1h30m", "-500ms", "0", 90)] == [7200, -30, 5400, -0.5, 0, 90]
    assert parse_offset("8h", signed_required=False) == 8 * HOUR
    assert [signed(v) for v in (7200, -30, 5400, 0)] == ["+2h", "-30s", "+1h30m", "0s"]
    for bad in ("2h", "+2x", "soon"):
        with pytest.raises(ValueError):
            parse_offset(bad)


def scenario(step: str, sdk: str = "clerk") -> str:
    return (f"id: c\ntitle: t\nsetup: {{sdk: {sdk}}}\nsteps:\n  - signed_in\n  - {step}\nverdicts: {{'*': survived}}\n")


@pytest.mark.parametrize("step, message", [
    ("clock: 2h", "not an offset"),
    ("clock: {}", "say which clock"),
    ("clock: {jump: 8h, auth: +1s}", "stands alone"),
    ("clock: {jump: -8h}", "greater than 0"),
    ("clock: {brower: +1h}", "did you mean 'browser'"),
    ("expect_requests: {on: tokens, at_most: 3, within: 10s}", "names no `tokens` request"),
    ("expect_requests: {on: token, path: '*/x', at_most: 3, within: 10s}", "not both"),
])
def test_malformed_clock_and_bound_steps_are_refused_at_load(step, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(scenario(step))


def test_the_forms_load():
    steps = parse_scenario(scenario("clock: +1h")).steps
    assert steps[1].args == {"value": HOUR}
    assert parse_scenario(scenario("clock: {auth: -5m, backend: +30s}", "supabase")).steps[1].args == {
        "auth": -300, "backend": 30}


def test_server_clocks_need_an_adapter_that_reads_them():
    class NoClocks:
        name = "noclocks"
        request_paths = {"token": "*/t"}

    with pytest.raises(ValueError, match="does not read the harness's clocks"):
        ClockArgs.model_validate({"auth": "+1s"}, context={"sdk": NoClocks})
    assert ClockArgs.model_validate({"browser": "+1s"}, context={"sdk": NoClocks}).offsets() == {"browser": 1}


# -- the servers' clocks ----------------------------------------------------------------------------------------------

def clerk_with_clocks() -> tuple[ClerkSdk, RunClocks, MockAuthServer]:
    sdk, clocks = ClerkSdk(token_ttl=60), RunClocks()
    server = MockAuthServer(Timeline(), sdk, bundle_dist=None, sdk_version="none", clocks=clocks)
    return sdk, clocks, server


def page_load(sdk: ClerkSdk, server: MockAuthServer, token: str):
    facts = RequestFacts(sec_fetch_dest="document", session_token=token, client_uat=str(sdk.client_uat()))
    return server.backend.decider.decide(facts)  # type: ignore[attr-defined]  # the Clerk app backend's decider


def test_tokens_are_minted_on_the_auth_clock_and_put_on_true_time():
    sdk, clocks, server = clerk_with_clocks()
    clocks.skew["auth"] = -HOUR
    token = sdk.issuer.mint()
    claims = sdk.issuer.check(token).claims or {}
    assert abs(claims["iat"] - (time.time() - HOUR)) < 2, "iat is the auth server's clock"
    minted = server.timeline.events("token.minted")[-1]
    assert abs(minted.at - time.time()) < 2, "the timeline stays on true time"
    assert abs(minted.data["auth_at"] - (time.time() - HOUR)) < 2


def test_the_backend_checks_on_its_own_clock():
    sdk, clocks, server = clerk_with_clocks()
    clocks.skew["auth"] = -HOUR  # tokens an hour old to a backend on true time: expired
    old = sdk.issuer.mint()
    assert page_load(sdk, server, old).reason.startswith("session-token-expired")
    clocks.skew["backend"] = -HOUR  # the backend as slow as the auth server: the same token is fine
    assert page_load(sdk, server, old).outcome == "signed-in"
    clocks.skew.update(auth=0.0, backend=-30.0)  # the backend 30 s behind: a fresh token is from its future
    decision = page_load(sdk, server, sdk.issuer.mint())
    assert (decision.outcome, decision.reason) == ("handshake", "session-token-nbf")
    clocks.skew["backend"] = -3.0  # within @clerk/backend's 5 s leeway
    assert page_load(sdk, server, sdk.issuer.mint()).outcome == "signed-in"


def test_a_jump_moves_every_party():
    clocks = RunClocks()
    clocks.skew["browser"] = 60.0
    clocks.jumped += 2 * HOUR
    assert (clocks.offset("browser"), clocks.offset("auth"), clocks.offset("backend")) == (
        2 * HOUR + 60, 2 * HOUR, 2 * HOUR)


def test_supabase_gotrue_and_its_backend_read_their_own_clocks():
    sdk, clocks = SupabaseSdk(token_ttl=30), RunClocks()
    server = MockAuthServer(Timeline(), sdk, bundle_dist=None, sdk_version="none", clocks=clocks)
    clocks.skew["auth"] = -60.0
    session_id, _ = sdk.state.sign_in()
    token, exp = sdk.state.access_token(session_id, "http://127.0.0.1/auth/v1")
    assert abs(exp - (time.time() - 30)) < 2, "minted a minute ago by GoTrue's clock: exp 30 s ago on true time"
    assert sdk.state.check(token).valid, "GoTrue, on its own clock, still takes it"
    backend = server.backend
    assert backend.clock is not None  # type: ignore[attr-defined]
    assert not sdk.state.check(token, now=backend.clock()).valid  # type: ignore[attr-defined]
    clocks.skew["backend"] = -60.0
    assert sdk.state.check(token, now=backend.clock()).valid  # type: ignore[attr-defined]


# -- the page's clock -------------------------------------------------------------------------------------------------

@pytest.fixture
def probe_page(chromium) -> Iterator[BrowserDriver]:
    server = MockAuthServer(Timeline(), ClerkSdk(), bundle_dist=None, sdk_version="none").start()
    driver = BrowserDriver(Timeline(), DriverOptions(executable=chromium.path, mode="emulated")).start()
    try:
        driver.goto(server.url + "/probe/tabs")
        yield driver
    finally:
        driver.close()
        server.stop()


READ_CLOCKS = """async () => {
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 300));
  return { date: Date.now(), newDate: new Date().getTime(), call: Date(),
           real: performance.timeOrigin + performance.now(), timer_ms: performance.now() - t0,
           isDate: new Date() instanceof Date };
}"""


def test_the_page_reads_its_offset_while_timers_and_stamps_stay_real(probe_page):
    driver = probe_page
    assert driver.set_date_offset(2 * HOUR) == {1: pytest.approx(2 * HOUR, abs=1)}
    seen = driver.evaluate(READ_CLOCKS)
    assert (seen["date"] - seen["real"]) / 1000 == pytest.approx(2 * HOUR, abs=1)
    assert (seen["newDate"] - seen["real"]) / 1000 == pytest.approx(2 * HOUR, abs=1)
    assert seen["isDate"] and str(time.gmtime(time.time() + 2 * HOUR).tm_year) in seen["call"]
    assert seen["real"] / 1000 == pytest.approx(time.time(), abs=2), "performance (the probe's stamps) stays real"
    assert 250 <= seen["timer_ms"] < 3000, "a 300 ms timer takes 300 ms of real time"
    driver.reload()
    assert driver.observed_date_offsets() == {1: pytest.approx(2 * HOUR, abs=1)}, "a reload keeps the offset"
    driver.set_date_offset(-30)
    driver.reload()
    assert driver.observed_date_offsets() == {1: pytest.approx(-30, abs=1)}, "the last offset set wins on a load"
    assert driver.context is not None
    other = driver.context.new_page()
    other.goto(driver.pages[0].url)
    assert (other.evaluate("Date.now() - (performance.timeOrigin + performance.now())") / 1000
            == pytest.approx(-30, abs=1)), "a new tab reads it too"


def test_without_a_clock_step_the_page_is_not_shimmed(probe_page):
    assert probe_page.evaluate("() => window.__harnessClock === undefined && Date.name === 'Date'")
    assert abs(probe_page.observed_date_offsets()[1]) < 1


def test_a_jump_is_read_by_the_pages_own_resume_handler(chromium, browser_choice):
    if browser_choice.mode != "real":
        pytest.skip(f"real tab mode unavailable here: {browser_choice.note}")
    server = MockAuthServer(Timeline(), ClerkSdk(), bundle_dist=None, sdk_version="none").start()
    driver = BrowserDriver(Timeline(), DriverOptions(executable=chromium.path, mode="real")).start()
    try:
        driver.goto(server.url + "/probe/tabs")
        driver.focus()
        driver.evaluate("() => document.addEventListener('resume', () => { window.seenAtResume = "
                        "Date.now() - (performance.timeOrigin + performance.now()); })")
        driver.arm_date_offset(8 * HOUR)
        assert abs(driver.observed_date_offsets()[1]) < 1, "armed, not yet taken"
        driver.freeze()
        driver.resume()
        assert driver.evaluate("() => window.seenAtResume") / 1000 == pytest.approx(8 * HOUR, abs=1)
    finally:
        driver.close()
        server.stop()


# -- the request bound ------------------------------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def bounded_run(token_requests: int, spread: float) -> Timeline:
    clock = Clock()
    tl = Timeline(clock=clock)
    tl.emit("runner", "step.start", index=1, name="signed_in")
    tl.emit("page", "cookie", name="__session", op="set", was_present=False, iat=1000, exp=1060)
    clock.now += 1
    tl.emit("runner", "step.start", index=2, name="expect_requests")
    tl.emit("runner", "expect.requests", what="`token` requests", path="*/tokens", at_most=5, within=10.0)
    for _ in range(token_requests):
        clock.now += spread
        tl.emit("mock", "request", method="POST", path="/__clerk/v1/client/sessions/s/tokens")
        tl.emit("mock", "request", method="GET", path="/__clerk/v1/client")  # not on the bound's path
    tl.emit("mock", "server.view", path="/", document=True, signed_in=True, reason="ok")
    return tl


def result_of(tl: Timeline) -> RunResult:
    j = judge(tl, ["signed_in", "expect_requests"], ("__session",))
    return RunResult(scenario="s", title="t", scenario_path=None, sdk="@clerk/clerk-js", version="6.1.0",
                     browser={}, outcome=j.outcome, expected="survived", sentence=j.sentence,
                     checks=[c.to_dict() for c in j.checks], steps=[], events=[], started_at=0, duration=0)


def test_a_storm_fails_the_bound_but_not_the_session():
    result = result_of(bounded_run(12, 0.5))  # 12 token requests in 6 s
    check = next(c for c in result.checks if c["name"] == "request-count")
    assert not check["passed"] and check["detail"].startswith("12 `token` requests reached the server within 10 s")
    assert result.outcome == "survived", "a storm that loses nothing is no sign-out"
    assert "BOUND EXCEEDED" in result.sentence
    assert result.matches_expectation is False and result.bounds_exceeded


def test_no_storm_passes_the_bound():
    result = result_of(bounded_run(12, 3.0))  # one every 3 s: at most 4 in any 10 s
    check = next(c for c in result.checks if c["name"] == "request-count")
    assert check["passed"] and "at most 4" in check["detail"]
    assert result.matches_expectation is True and not result.bounds_exceeded


def test_token_order_is_judged_on_true_time_across_an_auth_clock_change():
    clock = Clock()
    tl = Timeline(clock=clock)
    tl.emit("runner", "step.start", index=1, name="signed_in")
    tl.emit("page", "cookie", name="__session", op="set", was_present=False, iat=1000, exp=1060)
    clock.now += 5
    tl.emit("runner", "clock", change="auth -30s", auth_offset=-30.0, browser_offset=0.0, backend_offset=0.0)
    clock.now += 1  # minted a second later on a clock now 30 s behind: iat 976, yet the newer token
    tl.emit("page", "cookie", name="__session", op="set", was_present=True, iat=976, exp=1036)
    checks = {c.name: c for c in judge(tl, ["signed_in", "clock"], ("__session",)).checks}
    assert checks["token-moves-forward"].passed
    del tl._events[[e.kind for e in tl._events].index("clock")]  # the same writes without the clock change:
    tl._keys = [(e.at, e.seq) for e in tl._events]
    checks = {c.name: c for c in judge(tl, ["signed_in", "clock"], ("__session",)).checks}
    assert not checks["token-moves-forward"].passed  # ... would read as a token going backwards
