"""Network flips armed on a trigger (harness/scenario/race_steps.py, harness/browser/flips.py).

The step model: what a file may write, and the one-line error for what it may not. The mechanism, in a real
Chromium against the real mock over loopback: a flip is made on its trigger (the browser's failed request, the page's
failed fetch, the mock's drop), ``after`` later, with the measured lag on the timeline; a trigger that never comes
ends the wait -- and the run -- in ``error``, never in a verdict.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Iterator

import pytest

from conftest import FIXED
from harness.browser.driver import BrowserDriver, DriverOptions
from harness.browser.flips import TIMELINE_TRIGGERS
from harness.errors import HarnessError, ScenarioError
from harness.mock.faults.args import FaultArgs, fault_from
from harness.mock.server import MockAuthServer
from harness.oracles import judge
from harness.scenario.model import parse_scenario
from harness.scenario.steps import RunContext, STEPS
from harness.sdk_protocol import cookie_store
from harness.sdks.clerk import ClerkSdk
from harness.timeline import Event, Timeline

HEAD = "id: t\ntitle: t\nverdicts: {'*': survived}\nsteps:\n  - signed_in\n"


def steps(*lines: str) -> list:
    return parse_scenario(HEAD + "".join(f"  {line}\n" for line in lines)).steps[1:]


def error(line: str) -> str:
    with pytest.raises(ScenarioError) as err:
        steps(line)
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text
    return text


# -- the step model ----------------------------------------------------------------------------------------------

def test_bare_online_and_offline_switch_now():
    on, off = steps("- online", "- offline")
    assert (on.name, on.args, off.name, off.args) == ("online", {}, "offline", {})


def test_a_trigger_with_its_options():
    (step,) = steps('- online: {when: request_failed, path: "*/tokens", after: 5ms, count: 2}')
    assert step.args == {"value": "request_failed", "path": "*/tokens", "after": 0.005, "count": 2}
    assert step.describe() == "online request_failed path=*/tokens after=0.005 count=2"


def test_the_scalar_form_names_the_trigger():
    (step,) = steps("- offline: server_received")
    assert step.args == {"value": "server_received"}


def test_wait_for_network_flipped_is_an_event():
    (step,) = steps("- wait_for: network_flipped")
    assert step.args == {"value": "network_flipped"}


@pytest.mark.parametrize("line, needle", [
    ("- online: {after: 5ms}", "`after` needs `when`"),
    ("- online: {path: '*/tokens', count: 2}", "`count`, `path` need `when`"),
    ("- online: {when: request_fail}", "when must be one of 'request_sent'"),
    ("- online: {when: request_failed, after: -1ms}", "after '-1ms' is not a duration"),
    ("- online: {when: request_failed, after: 2m}", "after must be less than or equal to 60"),
    ("- online: {when: request_failed, count: 0}", "count must be greater than or equal to 1"),
    ("- offline: {when: request_sent, pth: x}", "pth is not a known field (did you mean 'path'?)"),
    ("- online: {when: request_sent, landed: after_failure}", "`landed` needs a failure trigger"),
    ("- online: {when: server_dropped, landed: later}", "landed must be one of 'before_failure' or 'after_failure'"),
])
def test_bad_input_is_one_line(line, needle):
    text = error(line)
    assert text.startswith("<scenario>:6: steps[1] ")
    assert needle in text


def test_bad_input_on_the_command_line_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "  - online: {when: server_dropped, after: soon}\n")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(bad)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "'soon' is not a duration" in lines[0]
    assert "Traceback" not in proc.stderr


class _NoFlips:
    flips = None


def test_waiting_with_nothing_armed_is_a_clear_error():
    ctx = RunContext(timeline=Timeline(), driver=_NoFlips(), server=None, sdk=ClerkSdk())
    (step,) = steps("- wait_for: network_flipped")
    spec = STEPS["wait_for"]
    with pytest.raises(HarnessError, match="no armed flip to wait for"):
        spec.run(ctx, spec.args.model_validate(step.args), 1.0)


# -- the timeline's listeners: how the mock's thread reaches a flip ---------------------------------------------------

def test_a_listener_hears_each_event_in_the_recording_thread_until_stopped():
    import threading

    tl = Timeline()
    heard: list[tuple[str, str]] = []
    stop = tl.listen(lambda e: heard.append((e.kind, threading.current_thread().name)))
    worker = threading.Thread(target=lambda: tl.emit("mock", "request", path="/x"), name="mock-thread")
    worker.start()
    worker.join()
    tl.emit("runner", "step.start", index=1, name="s")
    stop()
    tl.emit("runner", "step.end", index=1)
    assert heard == [("request", "mock-thread"), ("step.start", threading.current_thread().name)]


# -- what the mock's events trigger ---------------------------------------------------------------------------------

def _event(source: str, kind: str, /, **data) -> Event:
    return Event(at=0.0, t=0.0, source=source, kind=kind, data=data)


@pytest.mark.parametrize("trigger, event, fires", [
    ("server_dropped", _event("mock", "fault", kind="drop"), True),
    ("server_dropped", _event("mock", "fault", kind="hold", after="hold"), True),  # held, released with a drop
    ("server_dropped", _event("mock", "fault", kind="hold", after="release"), True),  # Chromium's resend, dropped
    ("server_dropped", _event("mock", "fault", kind="status", status=503), False),
    ("server_dropped", _event("mock", "fault.held", kind="hold"), False),
    ("server_answered", _event("mock", "response", status=200), True),
    ("server_answered", _event("mock", "fault", kind="status", status=503), True),
    ("server_answered", _event("mock", "fault", kind="drop"), False),
    ("server_received", _event("mock", "request"), True),
    ("server_received", _event("page", "request"), False),
    ("fetch_failed", _event("page", "fetch.failed", online=False), True),
    ("fetch_failed", _event("browser", "request.failed"), False),
])
def test_timeline_triggers(trigger, event, fires):
    assert TIMELINE_TRIGGERS[trigger](event) is fires


# -- the flips-fired check --------------------------------------------------------------------------------------------

def _judged(*events: tuple[str, dict]):
    tl = Timeline()
    tl.emit("runner", "step.start", index=1, name="signed_in")
    tl.emit("page", "cookie", name="__session", op="set", was_present=False, online=True)
    for kind, data in events:
        tl.emit("browser", kind, **data)
    verdict = judge(tl, ["signed_in"], cookie_store(("__session",), ("__session",)))
    return verdict, next((c for c in verdict.checks if c.name == "flips-fired"), None)


def test_no_flip_no_check():
    _, check = _judged()
    assert check is None


def test_a_flip_made_passes():
    _, check = _judged(("network.flip.armed", {"flip": "flip1", "described": "d"}),
                       ("network.flip", {"flip": "flip1", "changed": True, "lag_ms": 4.2}))
    assert check.passed and "4.2 ms" in check.detail


@pytest.mark.parametrize("events, needle", [
    ([], "never fired"),
    ([("network.flip", {"flip": "flip1", "changed": False, "to": "online"})], "changed nothing"),
    ([("network.flip.error", {"flip": "flip1", "error": "Target closed"})], "could not be made"),
])
def test_a_flip_not_made_is_an_error_never_a_verdict(events, needle):
    verdict, check = _judged(("network.flip.armed", {"flip": "flip1", "described": "online when x"}), *events)
    assert not check.passed and needle in check.detail
    assert verdict.outcome == "error"


@pytest.mark.parametrize("landed, passes", [("by the next task", True), ("after the next task", True),
                                            ("before the failure", False), (None, False)])
def test_a_flip_must_land_where_the_step_asked(landed, passes):
    made = {"flip": "flip1", "changed": True, "lag_ms": 3.0, "landed_required": "after_failure",
            **({"landed": landed} if landed else {})}
    verdict, check = _judged(("network.flip.armed", {"flip": "flip1", "described": "d"}), ("network.flip", made))
    assert check.passed is passes
    if not passes:
        assert verdict.outcome == "error" and "the race was not placed" in check.detail


def test_a_disarmed_flip_passes():
    _, check = _judged(("network.flip.armed", {"flip": "flip1", "described": "d"}),
                       ("network.flip.disarmed", {"flip": "flip1"}))
    assert check.passed


# -- in a real browser ------------------------------------------------------------------------------------------------

@pytest.fixture
def mock() -> Iterator[MockAuthServer]:
    """One mock and one timeline per test: a flip reads the network state from the timeline it shares."""
    server = MockAuthServer(Timeline(), ClerkSdk(), bundle_dist=None, sdk_version="none").start()
    yield server
    server.stop()


@pytest.fixture
def page(mock, browser_choice) -> Iterator[BrowserDriver]:
    """A driver on the mock's probe page, sharing the mock's timeline (as a run does)."""
    driver = BrowserDriver(mock.timeline, DriverOptions(executable=browser_choice.info.path,
                                                        mode=browser_choice.mode)).start()
    try:
        driver.goto(mock.url + "/probe/tabs")
        yield driver
    finally:
        driver.close()


def _fetch(driver: BrowserDriver, path: str, method: str = "GET") -> None:
    driver.evaluate(f"() => {{ fetch('{path}', {{method: '{method}'}}).catch(() => 0); return 1 }}")


def _flip(driver: BrowserDriver, flip_id: str, timeout: float = 10.0) -> Event:
    hit = driver.wait_for_event(lambda e: e.kind in ("network.flip", "network.flip.error")
                                and e.data.get("flip") == flip_id, timeout)
    assert hit is not None and hit.kind == "network.flip", hit
    return hit


def test_online_the_moment_the_browser_fails_the_request(page):
    page.set_offline(True)
    flip = page.network_flips().arm("online", "request_failed", "/favicon.ico")
    _fetch(page, "/favicon.ico?race=1")
    d = _flip(page, flip.id).data
    assert d["changed"] and d["trigger"]["error"] == "net::ERR_INTERNET_DISCONNECTED"
    assert d["trigger_clock"] == "browser"  # the CDP timestamp of Network.loadingFailed
    assert d["trigger_at"] <= d["seen_at"] <= d["sent_at"] <= d["applied_at"]
    assert d["lag_ms"] == pytest.approx((d["applied_at"] - d["trigger_at"]) * 1000, abs=0.01) and d["lag_ms"] > 0
    assert d["page_at"] is not None and d["page_at"] > d["trigger_at"]
    # The page's fetch failed offline (what an SDK would have seen), and the flip came a task or more later.
    assert d["failure_online"] is False and d["landed"] in ("by the next task", "after the next task")
    assert page.evaluate("navigator.onLine") is True  # the browser's own state, not an override
    assert page.evaluate("fetch('/favicon.ico?after').then(r => r.status)") == 204


@pytest.mark.parametrize("mode", ["emulated", "simulated"])
def test_flips_need_no_real_tabs(mock, browser_choice, mode):
    """The flip is the context's network emulation, which every browser mode has."""
    driver = BrowserDriver(mock.timeline, DriverOptions(executable=browser_choice.info.path, mode=mode)).start()
    try:
        driver.goto(mock.url + "/probe/tabs")
        driver.set_offline(True)
        flip = driver.network_flips().arm("online", "request_failed", "/favicon.ico")
        _fetch(driver, "/favicon.ico?mode")
        d = _flip(driver, flip.id).data
        assert d["changed"] and d["page_at"] is not None and driver.evaluate("navigator.onLine") is True
    finally:
        driver.close()


def test_on_the_pages_failed_fetch_after_a_delay(page):
    page.set_offline(True)
    flip = page.network_flips().arm("online", "fetch_failed", "/favicon.ico", after=0.1)
    _fetch(page, "/favicon.ico?race=2")
    d = _flip(page, flip.id).data
    assert d["trigger_clock"] == "page"
    assert d["applied_at"] - d["trigger_at"] >= 0.1  # never before the asked moment
    assert d["late_ms"] >= 0 and d["landed"] == "after the next task"


def test_on_the_mocks_drop(page, mock):
    # Armed before the request starts, so the page-side witness sees its fetch; what counts is the state it fires in.
    flip = page.network_flips().arm("online", "server_dropped", "/api/me")
    held = mock.add_fault(fault_from(FaultArgs.model_validate({"kind": "hold", "path": "/api/me", "times": 1},
                                                              context={"sdk": mock.sdk}), mock.sdk))
    try:
        since = time.time()
        _fetch(page, "/api/me", "POST")
        assert page.wait_for_event(lambda e: e.kind == "fault.held", 10, since=since) is not None
        page.set_offline(True)
        mock.release(held.id, "drop")
        d = _flip(page, flip.id).data
    finally:
        mock.release(held.id, "pass")
    assert d["trigger_clock"] == "mock" and d["trigger"]["kind"] == "hold"
    assert 0 <= d["relay_ms"] < d["lag_ms"] and d["wake_ms"] >= 0  # handed from the mock's thread to Playwright's
    assert d.get("landed") in ("before the failure", "by the next task", "after the next task")


def test_offline_the_moment_a_request_leaves(page):
    flip = page.network_flips().arm("offline", "request_sent", "/favicon.ico")
    _fetch(page, "/favicon.ico?race=3")
    d = _flip(page, flip.id).data
    assert d["to"] == "offline" and d["changed"] and "landed" not in d
    assert page.evaluate("navigator.onLine") is False


def test_a_trigger_that_never_comes_ends_the_wait(page):
    flips = page.network_flips()
    flips.arm("online", "server_answered", "/never")
    ctx = RunContext(timeline=page.timeline, driver=page, server=None, sdk=ClerkSdk())
    args = STEPS["wait_for"].args.model_validate({"value": "network_flipped", "timeout": 0.5})
    with pytest.raises(HarnessError, match=r"did not fire within 0.5 s: no matching trigger came"):
        STEPS["wait_for"].run(ctx, args, 20.0)
    flips.close()
    assert [e.data["described"] for e in page.timeline.events("network.flip.unfired")][-1] == \
        "online when server_answered on /never, 0 ms after"


NEVER = """id: flip-never
title: a flip whose trigger never comes
steps:
  - signed_in
  - offline
  - online: {when: server_answered, path: "/nowhere"}
  - wait_for: network_flipped
    timeout: 2
verdicts: {"*": survived}
"""


def test_a_run_whose_trigger_never_comes_is_an_error(run):
    result = run(NEVER, FIXED)
    assert result.outcome == "error"
    assert "did not fire within 2 s: no matching trigger came" in result.sentence


def test_a_run_that_never_waits_is_an_error_too(run):
    result = run(NEVER.replace("  - wait_for: network_flipped\n    timeout: 2\n", "  - wait: 1s\n"), FIXED)
    assert result.outcome == "error"
    check = next(c for c in result.checks if c["name"] == "flips-fired")
    assert not check["passed"] and "never fired" in check["detail"]
