"""The cookie watcher sees every write of a watched cookie, including a removal undone within a millisecond."""

from __future__ import annotations

import pytest

from harness.browser.driver import BrowserDriver, DriverOptions
from harness.mock.server import MockAuthServer
from harness.engine.run import cross_check_jar as _cross_check_jar
from harness.sdks.clerk import ClerkSdk
from harness.timeline import Timeline


@pytest.fixture
def probe_page(chromium):
    timeline = Timeline()
    server = MockAuthServer(timeline, ClerkSdk(), bundle_dist=None, sdk_version="none").start()
    driver = BrowserDriver(timeline, DriverOptions(executable=chromium.path)).start()
    driver.goto(server.url + "/probe/cookies")
    yield timeline, driver
    driver.close()
    server.stop()


def store_writes(timeline, name="__session"):
    return [(e.data["op"], e.at) for e in timeline.events("cookie") if e.data["name"] == name]


def await_cookie_events(driver, timeline, count: int) -> None:
    """Wait until ``count`` cookie events have arrived from the page (they come through a binding)."""
    assert driver.wait_for_event(lambda e: len(timeline.events("cookie")) >= count, 5) is not None


def test_watcher_sees_removal_the_page_performs(probe_page):
    timeline, driver = probe_page
    driver.evaluate("() => setCookie('__session', 'x.y.z')")
    driver.evaluate("() => removeCookie('__session')")
    await_cookie_events(driver, timeline, 2)
    assert [op for op, _ in store_writes(timeline)] == ["set", "removed"]
    assert "__session" not in driver.jar()


def test_watcher_sees_a_flicker_a_poll_would_miss(probe_page):
    timeline, driver = probe_page
    jar_before = driver.jar()
    driver.evaluate("() => flicker('__session')")
    jar_after = driver.jar()
    await_cookie_events(driver, timeline, 3)
    # The jar, looked at before and after, shows nothing wrong ...
    assert "__session" not in jar_before and jar_after.get("__session") == "d.e.f"
    # ... but the watcher saw the removal between the two writes, in order.
    events = store_writes(timeline)
    assert [op for op, _ in events] == ["set", "removed", "set"]
    assert events[0][1] <= events[1][1] <= events[2][1]


def test_watcher_ignores_other_cookies_and_watches_suffixed_ones(probe_page):
    timeline, driver = probe_page
    driver.evaluate("() => { setCookie('theme', 'dark'); setCookie('__session_abc123', 'a.b.c'); "
                    "setCookie('__session', 'x.y.z'); }")
    await_cookie_events(driver, timeline, 2)
    names = [e.data["name"] for e in timeline.events("cookie")]
    assert names == ["__session_abc123", "__session"]  # `theme` is not watched


def test_jar_cross_check_flags_a_write_the_watcher_did_not_see(probe_page):
    timeline, driver = probe_page
    names = ("__session",)
    _cross_check_jar(driver, names, timeline)
    assert timeline.events("cookie.mismatch") == []
    # A cookie set behind the page's back (not through document.cookie) is caught by the jar cross-check.
    driver.context.add_cookies([{"name": "__session", "value": "q.r.s", "url": driver.page.url}])
    _cross_check_jar(driver, names, timeline)
    assert len(timeline.events("cookie.mismatch")) == 1
