"""How each browser mode changes a tab's visibility, focus and lifecycle: the mechanism only.

The driver (harness/browser/driver.py) decides *what* must happen and waits until the page has observed it; the
classes here only make it happen:

* :class:`RealTabs` -- the browser's own machinery, in a self-launched Chromium reached over CDP without Playwright's
  focus emulation: another tab to the front (``Page.bringToFront``), the window minimised / restored
  (``Browser.setWindowBounds``), the page frozen / resumed (``Page.setWebLifecycleState``).
* :class:`SimulatedTabs` -- an init-script override (simulated_tabs.js) on a normal Playwright launch; results of runs
  that use it are labelled ``simulated``.

Known behaviour of a self-launched headless Chromium (156), measured with tests/test_tabs.py:

* a tab starts visible but NOT focused; bringing it to the front fires ``focus`` once or twice;
* every headless window keeps its own focus, so a tab cannot lose focus while it stays visible: ``blur`` alone is
  impossible there (hide, minimise and freeze all blur the page, but they also hide it);
* after ``Page.setWebLifecycleState active`` the page stays hidden until the window is minimised and restored;
* focus/blur and ``visibilitychange`` travel on different channels, so their relative order varies from run to run
  (hide: blur then hidden, or the reverse; show / restore: visible then focus, or the reverse). What is fixed:
  ``freeze`` comes after ``visibilitychange:hidden``, and ``resume`` comes first, while the page is still hidden;
* restoring a minimised window gives focus back only if the page had it when the window was minimised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, CDPSession, Page

from harness.errors import HarnessError

SIMULATED_TABS_JS = (Path(__file__).parent / "simulated_tabs.js").read_text()
# Marks the browser's first tab for the simulation: a self-launched headless Chromium shows it unfocused.
FIRST_TAB_JS = "window.__harnessSimFirstTab = true;"

STATE_JS = "() => ({visibility: document.visibilityState, focused: document.hasFocus()})"


class RealTabs:
    """Changes tabs through the browser itself (CDP on the default context of a self-launched Chromium)."""

    mode = "real"

    def __init__(self, context: BrowserContext, headless: bool) -> None:
        self.context = context
        self.headless = headless
        self._sessions: dict[Page, CDPSession] = {}
        self._windows: dict[Page, int] = {}

    def state(self, page: Page) -> dict[str, Any]:
        return page.evaluate(STATE_JS)

    def _cdp(self, page: Page) -> CDPSession:
        if page not in self._sessions:
            self._sessions[page] = self.context.new_cdp_session(page)
        return self._sessions[page]

    def window_id(self, page: Page) -> int:
        if page not in self._windows:
            cdp = self._cdp(page)
            target = cdp.send("Target.getTargetInfo")["targetInfo"]["targetId"]
            self._windows[page] = cdp.send("Browser.getWindowForTarget", {"targetId": target})["windowId"]
        return self._windows[page]

    def window_state(self, page: Page) -> str:
        bounds = self._cdp(page).send("Browser.getWindowBounds", {"windowId": self.window_id(page)})["bounds"]
        return str(bounds.get("windowState", "normal"))

    def to_front(self, page: Page, previous: Page | None) -> None:
        page.bring_to_front()

    def set_window(self, page: Page, state: str) -> None:
        self._cdp(page).send("Browser.setWindowBounds", {"windowId": self.window_id(page),
                                                         "bounds": {"windowState": state}})

    def freeze(self, page: Page) -> None:
        self._cdp(page).send("Page.setWebLifecycleState", {"state": "frozen"})

    def resume(self, page: Page) -> None:
        self._cdp(page).send("Page.setWebLifecycleState", {"state": "active"})

    def blur(self, page: Page) -> None:
        if self.headless:
            raise HarnessError("blur: headless Chromium keeps every window focused, so a tab cannot lose focus while "
                               "it stays visible; use hide or minimise (they blur and hide), run --headed, or use "
                               "browser mode simulated")
        # Headed: focus moves to another window of the same browser, as when the user clicks elsewhere.
        assert self.context.browser is not None  # real tabs run in a launched or connected browser's context
        browser_cdp = self.context.browser.new_browser_cdp_session()
        browser_cdp.send("Target.createTarget", {"url": "about:blank", "newWindow": True})

    def focus(self, page: Page) -> None:
        page.bring_to_front()

    def forget(self, page: Page) -> None:
        self._sessions.pop(page, None)
        self._windows.pop(page, None)

    def new_tab_opened(self, previous: Page | None, page: Page) -> None:
        """A real browser hides the previous front tab by itself."""

    def tab_closed(self, front: Page | None) -> None:
        """A real browser shows the next tab by itself."""


class SimulatedTabs:
    """Changes tabs by driving the init-script override in each page (see simulated_tabs.js)."""

    mode = "simulated"

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self._minimised = False

    @staticmethod
    def _act(page: Page, action: str) -> dict[str, Any] | None:
        if page.is_closed() or not page.url.startswith("http"):
            return None  # a blank helper tab has no document to simulate
        return page.evaluate("(a) => window.__harnessSimTab ? window.__harnessSimTab(a) : null", action)

    def state(self, page: Page) -> dict[str, Any]:
        state = self._act(page, "state") or {"visibility": "visible", "focused": True}
        return {"visibility": state["visibility"], "focused": state["focused"]}

    def window_state(self, page: Page) -> str:
        return "minimized" if self._minimised else "normal"

    def to_front(self, page: Page, previous: Page | None) -> None:
        if previous is not None and previous is not page:
            self._act(previous, "hide")
        self._act(page, "show")

    def set_window(self, page: Page, state: str) -> None:
        self._minimised = state == "minimized"
        self._act(page, "minimise" if self._minimised else "restore")

    def freeze(self, page: Page) -> None:
        self._act(page, "freeze")

    def resume(self, page: Page) -> None:
        self._act(page, "resume")

    def blur(self, page: Page) -> None:
        self._act(page, "blur")

    def focus(self, page: Page) -> None:
        self._act(page, "focus")

    def forget(self, page: Page) -> None:
        pass

    def new_tab_opened(self, previous: Page | None, page: Page) -> None:
        if previous is not None:
            self._act(previous, "hide")  # the new tab itself starts visible and focused

    def tab_closed(self, front: Page | None) -> None:
        if front is not None:
            self._act(front, "show")
