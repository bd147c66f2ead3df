"""The localStorage watcher sees every write of a watched key, in this tab and (as `storage` events) from another
one, and the cross-check against the page's own localStorage catches a write the watcher could not see."""

from __future__ import annotations

import json

import pytest

from harness.browser.driver import BrowserDriver, DriverOptions, fingerprint
from harness.browser.storage_check import cross_check_storage
from harness.mock.server import MockAuthServer
from harness.sdks.supabase import STORAGE_KEY, SupabaseSdk
from harness.timeline import Timeline

KEY = STORAGE_KEY


@pytest.fixture
def storage_page(chromium):
    timeline = Timeline()
    server = MockAuthServer(timeline, SupabaseSdk(), bundle_dist=None, sdk_version="none").start()
    driver = BrowserDriver(timeline, DriverOptions(executable=chromium.path, watch_storage=(KEY,))).start()
    driver.goto(server.url + "/probe/storage")
    yield timeline, driver, server
    driver.close()
    server.stop()


def ops(timeline, tab=None):
    return [(e.data["op"], e.data["via"]) for e in timeline.events("storage")
            if e.data["name"] == KEY and (tab is None or e.data.get("tab") == tab)]


def await_events(driver, timeline, count: int) -> None:
    assert driver.wait_for_event(lambda e: len(timeline.events("storage")) >= count, 5) is not None


def test_watcher_sees_set_remove_and_clear(storage_page):
    timeline, driver, _ = storage_page
    driver.evaluate(f"() => {{ store('{KEY}', 'x.y.z'); unstore('{KEY}'); store('{KEY}', 'x.y.z'); clearAll(); }}")
    await_events(driver, timeline, 4)
    assert ops(timeline) == [("set", "setItem"), ("removed", "removeItem"), ("set", "setItem"), ("removed", "clear")]
    removed = timeline.events("storage")[1]
    assert removed.data["was_present"] is True and "value" not in removed.data


def test_watcher_sees_a_flicker_and_ignores_other_keys(storage_page):
    timeline, driver, _ = storage_page
    driver.evaluate("() => { store('other-key', 'q'); }")
    driver.evaluate(f"() => flicker('{KEY}')")
    await_events(driver, timeline, 3)
    assert [op for op, _ in ops(timeline)] == ["set", "removed", "set"]
    assert {e.data["name"] for e in timeline.events("storage")} == {KEY}


def test_a_write_in_another_tab_arrives_as_a_storage_event(storage_page):
    timeline, driver, server = storage_page
    driver.new_tab(server.url + "/probe/storage", switch=False)
    other = driver.pages[1]
    other.evaluate(f"() => {{ store('{KEY}', 'x.y.z'); unstore('{KEY}'); }}")
    assert driver.wait_for_event(lambda e: len(ops(timeline, tab=1)) >= 2, 5) is not None
    assert ops(timeline, tab=2) == [("set", "setItem"), ("removed", "removeItem")]
    assert ops(timeline, tab=1) == [("set", "storage-event"), ("removed", "storage-event")]


def test_cross_check_flags_a_write_the_watcher_did_not_see(storage_page):
    timeline, driver, _ = storage_page
    driver.evaluate(f"() => store('{KEY}', 'x.y.z')")
    await_events(driver, timeline, 1)
    cross_check_storage(driver, SupabaseSdk.session_store, timeline)
    assert timeline.events("storage.mismatch") == []
    assert timeline.events("storage.state")[-1].data["present"] == [KEY]
    driver.evaluate(f"() => {{ clearAll(); sneak('{KEY}'); }}")  # removed (seen), then put back unseen
    await_events(driver, timeline, 2)
    cross_check_storage(driver, SupabaseSdk.session_store, timeline)
    mismatch = timeline.events("storage.mismatch")
    assert len(mismatch) == 1 and mismatch[0].data[KEY] == {"watcher": False, "browser": True}


@pytest.fixture
def renewing_page(chromium):
    timeline = Timeline()
    server = MockAuthServer(timeline, SupabaseSdk(), bundle_dist=None, sdk_version="none").start()
    driver = BrowserDriver(timeline, DriverOptions(executable=chromium.path, watch_storage=(KEY,),
                                                   storage_renewal="refresh_token")).start()
    driver.goto(server.url + "/probe/storage")
    yield timeline, driver
    driver.close()
    server.stop()


RECORD = '{"access_token": "x.y.z", "refresh_token": "very-secret-refresh"}'


def test_the_renewal_is_reported_as_a_fingerprint_never_the_token(renewing_page):
    timeline, driver = renewing_page
    driver.evaluate(f"(r) => {{ localStorage.setItem('{KEY}', r); localStorage.setItem('{KEY}', r); }}", RECORD)
    await_events(driver, timeline, 2)
    first, second = timeline.events("storage")[:2]
    assert first.data["renewal"] == second.data["renewal"] == fingerprint("very-secret-refresh")
    assert "very-secret-refresh" not in json.dumps([e.to_dict() for e in timeline.events()])


def test_no_renewal_is_reported_unless_the_adapter_names_its_field(storage_page):
    timeline, driver, _ = storage_page
    driver.evaluate(f"(r) => localStorage.setItem('{KEY}', r)", RECORD)
    await_events(driver, timeline, 1)
    assert "renewal" not in timeline.events("storage")[0].data


def test_a_record_without_a_string_renewal_reports_none(renewing_page):
    timeline, driver = renewing_page
    for raw in ("not json", '{"access_token": "x.y.z", "refresh_token": {"nested": 1}}', '{"access_token": "x.y.z"}'):
        driver.evaluate(f"(r) => localStorage.setItem('{KEY}', r)", raw)
    await_events(driver, timeline, 3)
    assert all("renewal" not in e.data for e in timeline.events("storage"))
