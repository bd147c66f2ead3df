"""The localStorage cross-check: what the page watcher saw of a session stored in localStorage, against what the
browser's own localStorage holds after a step -- the counterpart of the cookie-jar cross-check in the runner.

The watcher hooks ``Storage.prototype`` in every page (harness/browser/probe.js); a write it cannot see (an
assignment ``localStorage[key] = v``, DevTools, another origin's frame) would leave every verdict built on it in
doubt, so a disagreement is recorded as ``storage.mismatch`` and the oracles then give no verdict. The state is read
in a page of the app's origin that runs script (not frozen, not closed); all tabs of one origin share one
localStorage, so one page speaks for all.
"""

from __future__ import annotations

from typing import Any, Protocol

from playwright.sync_api import Error as PlaywrightError

from harness.timeline import Timeline

# Reads through the prototype's getItem, which the watcher leaves untouched.
_PRESENT_JS = "(keys) => keys.filter((k) => Storage.prototype.getItem.call(window.localStorage, k) !== null)"


class StorageDriver(Protocol):
    """What the check needs of the browser driver."""

    pages: list[Any]

    def pump(self, seconds: float) -> None: ...
    def tab_state(self, tab: int | None = None) -> dict[str, Any]: ...


def stored_keys(driver: StorageDriver, names: tuple[str, ...]) -> list[str] | None:
    """The watched keys localStorage holds now, read in a live page of the app; None if no page can answer."""
    for page in reversed(driver.pages):
        if page.is_closed() or not page.url.startswith("http"):
            continue
        try:
            if driver.tab_state(driver.pages.index(page) + 1).get("frozen"):
                continue
            return list(page.evaluate(_PRESENT_JS, list(names)))
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


def cross_check_storage(driver: StorageDriver, names: tuple[str, ...], timeline: Timeline) -> None:
    """Emit ``storage.state`` (``present``: the keys localStorage holds), and ``storage.mismatch`` when it
    disagrees with the watcher. A write may still be on its way from the page: one short pump, then a second look."""
    for attempt in range(2):
        present = stored_keys(driver, names)
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
    timeline.emit("browser", "storage.state", present=present)
    if differ:
        timeline.emit("browser", "storage.mismatch", **differ)
