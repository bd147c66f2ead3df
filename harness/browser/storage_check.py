"""The storage cross-check: what the page watcher saw of a session stored in localStorage or IndexedDB, against
what the browser's own storage holds after a step -- the counterpart of the cookie-jar cross-check in the runner.

The watcher hooks ``Storage.prototype`` (or ``IDBObjectStore.prototype``) in every page (harness/browser/probe.js);
a write it cannot see (an assignment ``localStorage[key] = v``, DevTools, another origin's frame, a deleted
database) would leave every verdict built on it in doubt, so a disagreement is recorded as ``storage.mismatch`` and
the oracles then give no verdict. The state is read in a page of the app's origin that runs script (not frozen, not
closed); all tabs of one origin share one localStorage and one IndexedDB, so one page speaks for all.

Reading IndexedDB must not change it: a database that does not exist is never opened (opening it would create an
empty one, which an SDK then finds without its object store), the connection is closed at once (an open one would
block the SDK's own upgrade or delete), and a read that does not settle within a few seconds claims nothing.
"""

from __future__ import annotations

from typing import Any, Protocol

from playwright.sync_api import Error as PlaywrightError

from harness.sdk_protocol import SessionStore
from harness.timeline import Timeline

# Reads through the prototype's getItem, which the watcher leaves untouched.
_PRESENT_JS = "(keys) => keys.filter((k) => Storage.prototype.getItem.call(window.localStorage, k) !== null)"
# The watched keys an object store holds (getKey: read-only, never hooked); null when it cannot tell within 3 s.
_PRESENT_IDB_JS = """async ([database, storeName, keys]) => {
  const late = new Promise((r) => setTimeout(() => r(null), 3000));
  const read = (async () => {
    if (indexedDB.databases && !(await indexedDB.databases()).some((d) => d.name === database)) return [];
    return await new Promise((resolve) => {
      const open = indexedDB.open(database);
      open.onupgradeneeded = () => { open.transaction.abort(); };  // it did not exist after all: create nothing
      open.onerror = () => resolve(open.error && open.error.name === 'AbortError' ? [] : null);
      open.onblocked = () => resolve(null);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains(storeName)) { db.close(); resolve([]); return; }
        const tx = db.transaction(storeName, 'readonly'), store = tx.objectStore(storeName), found = [];
        for (const k of keys) {
          const r = store.getKey(k);
          r.onsuccess = () => { if (r.result !== undefined) found.push(k); };
        }
        tx.oncomplete = () => { db.close(); resolve(keys.filter((k) => found.includes(k))); };
        tx.onabort = tx.onerror = () => { db.close(); resolve(null); };
      };
    });
  })();
  return await Promise.race([read, late]);
}"""


class StorageDriver(Protocol):
    """What the check needs of the browser driver."""

    pages: list[Any]

    def pump(self, seconds: float) -> None: ...
    def tab_state(self, tab: int | None = None) -> dict[str, Any]: ...


def stored_keys(driver: StorageDriver, store: SessionStore) -> list[str] | None:
    """The watched keys the store holds now, read in a live page of the app; None if no page can answer."""
    if store.kind == "indexedDB" and store.place:
        script, arg = _PRESENT_IDB_JS, [*store.place, list(store.names)]
    else:
        script, arg = _PRESENT_JS, list(store.names)
    for page in reversed(driver.pages):
        if page.is_closed() or not page.url.startswith("http"):
            continue
        try:
            if driver.tab_state(driver.pages.index(page) + 1).get("frozen"):
                continue
            found = page.evaluate(script, arg)
            if found is not None:
                return list(found)
        except PlaywrightError:
            continue
    return None


def watcher_view(timeline: Timeline, names: tuple[str, ...]) -> dict[str, bool]:
    """Whether each key is present by the last write the watcher reported (absent if never written)."""
    seen = {n: False for n in names}
    for event in timeline.events("storage"):
        if event.data.get("name") in seen:
            seen[event.data["name"]] = event.data.get("op") == "set"
    return seen


def cross_check_storage(driver: StorageDriver, store: SessionStore, timeline: Timeline) -> None:
    """Emit ``storage.state`` (``present``: the keys the store holds), and ``storage.mismatch`` when it
    disagrees with the watcher. A write may still be on its way from the page: one short pump, then a second look."""
    names = store.names
    for attempt in range(2):
        present = stored_keys(driver, store)
        if present is None:
            return  # no page to ask (all frozen or closed): nothing is claimed either way
        seen = watcher_view(timeline, names)
        # Keyed by entry name; typed Any for emit's **data (no entry is named "at").
        differ: dict[str, Any] = {n: {"watcher": seen[n], "browser": n in present}
                                  for n in names if seen[n] != (n in present)}
        if not differ:
            break
        if attempt == 0:
            driver.pump(0.1)
    timeline.emit("browser", "storage.state", present=present, where=store.where)
    if differ:
        timeline.emit("browser", "storage.mismatch", **differ)
