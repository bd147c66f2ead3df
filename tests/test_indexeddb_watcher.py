"""The IndexedDB watcher (a session store of kind ``indexedDB``, Firebase's default persistence) sees every write of
a watched key to its object store once the write's transaction commits -- in this tab and in another -- and the
cross-check against the browser's own IndexedDB catches a change the watcher could not see, without ever creating
the database itself."""

from __future__ import annotations

import json

import pytest

from harness.browser.driver import BrowserDriver, DriverOptions, fingerprint
from harness.browser.storage_check import cross_check_storage, stored_keys
from harness.mock.server import MockAuthServer
from harness.sdks.firebase import DATABASE, OBJECT_STORE, STORAGE_KEY, FirebaseSdk
from harness.timeline import Timeline

KEY = STORAGE_KEY
STORE = FirebaseSdk.session_store

# Page helpers, as the SDK writes: one readwrite transaction per operation on an object store keyed by fbase_key.
HELPERS = """() => {
  const open = () => new Promise((resolve, reject) => {
    const r = indexedDB.open(%(db)s, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(%(store)s, { keyPath: 'fbase_key' });
    r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error);
  });
  const run = async (fn, abort) => { const db = await open(); const tx = db.transaction(%(store)s, 'readwrite');
    fn(tx.objectStore(%(store)s)); if (abort) tx.abort();
    await new Promise((res) => { tx.oncomplete = res; tx.onabort = res; }); db.close(); };
  const user = (token, refresh) => ({ uid: 'u', stsTokenManager: { accessToken: token, refreshToken: refresh } });
  window.idbPut = (key, token, refresh) => run((s) => s.put({ fbase_key: key, value: user(token, refresh || 'r') }));
  window.idbDelete = (key) => run((s) => s.delete(key));
  window.idbClear = () => run((s) => s.clear());
  window.idbAborted = (key) => run((s) => s.put({ fbase_key: key, value: user('a.b.c', 'r') }), true);
  // Not a write on the object store: the watcher cannot see it, the cross-check must.
  window.idbDrop = () => new Promise((res) => {
    const r = indexedDB.deleteDatabase(%(db)s); r.onsuccess = res; r.onerror = res;
  });
  window.idbExists = async () => (await indexedDB.databases()).some((d) => d.name === %(db)s);
}""" % {"db": json.dumps(DATABASE), "store": json.dumps(OBJECT_STORE)}


@pytest.fixture
def idb_page(chromium):
    timeline = Timeline()
    server = MockAuthServer(timeline, FirebaseSdk(), bundle_dist=None, sdk_version="none").start()
    driver = BrowserDriver(timeline, DriverOptions(
        executable=chromium.path, watch_storage=STORE.names, storage_area="indexedDB", storage_place=STORE.place,
        storage_identity=STORE.identity, storage_renewal=STORE.renews_with)).start()
    driver.goto(server.url + "/probe/storage")
    driver.evaluate(HELPERS)
    yield timeline, driver, server
    driver.close()
    server.stop()


def ops(timeline, tab=None):
    return [(e.data["op"], e.data["via"], e.data["was_present"]) for e in timeline.events("storage")
            if e.data["name"] == KEY and (tab is None or e.data.get("tab") == tab)]


def await_events(driver, timeline, count: int) -> None:
    assert driver.wait_for_event(lambda e: len(timeline.events("storage")) >= count, 5) is not None


def test_watcher_sees_put_delete_and_clear_with_what_was_there(idb_page):
    timeline, driver, _ = idb_page
    driver.evaluate(f"async () => {{ await idbPut({json.dumps(KEY)}, 'x.y.z'); await idbPut({json.dumps(KEY)}, "
                    f"'x.y.z'); await idbDelete({json.dumps(KEY)}); await idbDelete({json.dumps(KEY)}); "
                    f"await idbPut({json.dumps(KEY)}, 'x.y.z'); await idbClear(); }}")
    await_events(driver, timeline, 6)
    assert ops(timeline) == [("set", "indexedDB.put", False), ("set", "indexedDB.put", True),
                             ("removed", "indexedDB.delete", True), ("removed", "indexedDB.delete", False),
                             ("set", "indexedDB.put", False), ("removed", "indexedDB.clear", True)]
    assert all("value" not in e.data for e in timeline.events("storage"))


def test_other_keys_and_aborted_transactions_are_not_writes(idb_page):
    timeline, driver, _ = idb_page
    driver.evaluate(f"async () => {{ await idbPut('firebase:other', 'q'); await idbAborted({json.dumps(KEY)});"
                    f" await idbPut({json.dumps(KEY)}, 'x.y.z'); }}")
    await_events(driver, timeline, 1)
    driver.pump(0.3)
    assert ops(timeline) == [("set", "indexedDB.put", False)]


def test_a_write_in_another_tab_is_seen_there(idb_page):
    timeline, driver, server = idb_page
    driver.new_tab(server.url + "/probe/storage", switch=False)
    other = driver.pages[1]
    other.evaluate(HELPERS)
    other.evaluate(f"async () => {{ await idbPut({json.dumps(KEY)}, 'x.y.z'); await idbDelete({json.dumps(KEY)}); }}")
    await_events(driver, timeline, 2)
    assert ops(timeline, tab=2) == [("set", "indexedDB.put", False), ("removed", "indexedDB.delete", True)]
    assert ops(timeline, tab=1) == []


def test_the_renewal_is_a_fingerprint_and_the_token_never_reaches_the_timeline(idb_page):
    timeline, driver, _ = idb_page
    driver.evaluate(f"() => idbPut({json.dumps(KEY)}, 'x.y.z', 'very-secret-refresh')")
    await_events(driver, timeline, 1)
    assert timeline.events("storage")[0].data["renewal"] == fingerprint("very-secret-refresh")
    assert "very-secret-refresh" not in json.dumps([e.to_dict() for e in timeline.events()])


def test_cross_check_flags_a_change_the_watcher_did_not_see(idb_page):
    timeline, driver, _ = idb_page
    driver.evaluate(f"() => idbPut({json.dumps(KEY)}, 'x.y.z')")
    await_events(driver, timeline, 1)
    cross_check_storage(driver, STORE, timeline)
    assert timeline.events("storage.mismatch") == []
    assert timeline.events("storage.state")[-1].data["present"] == [KEY]
    driver.evaluate("() => idbDrop()")  # the database deleted: no object-store write for the watcher to see
    cross_check_storage(driver, STORE, timeline)
    mismatch = timeline.events("storage.mismatch")
    assert len(mismatch) == 1 and mismatch[0].data[KEY] == {"watcher": True, "browser": False}


def test_reading_the_store_never_creates_the_database(idb_page):
    # Opening firebaseLocalStorageDb before the SDK does would leave it an empty database without its store.
    timeline, driver, _ = idb_page
    assert stored_keys(driver, STORE) == []
    cross_check_storage(driver, STORE, timeline)
    assert timeline.events("storage.state")[-1].data["present"] == []
    assert driver.evaluate("() => idbExists()") is False
