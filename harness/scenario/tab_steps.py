"""Scenario steps for tabs: background a tab, bring it back, minimise, freeze, focus, open / close / switch tabs.

They need a browser mode with a tab lifecycle: ``real`` (the browser's own visibility and focus) or ``simulated``
(an init-script override, labelled as such in results). In ``emulated`` mode Playwright keeps every page visible and
focused whatever happens, so these steps fail there instead of silently doing nothing. Each step returns when the
page has observed its effect (see harness/browser/driver.py); the events it caused are on the timeline, duplicates
included (a real headless Chromium often fires ``focus`` twice when a tab comes to the front).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import HarnessError
from harness.scenario.step_registry import NoArgs, RunContext, step

TAB_MODES = ("real", "simulated")


def _need_tabs(ctx: RunContext, name: str) -> None:
    mode = ctx.driver.options.mode
    if mode not in TAB_MODES:
        raise HarnessError(f"`{name}` needs browser_mode real or simulated, but this run uses {mode} (Playwright "
                           "keeps every page visible and focused); run with --browser-mode real or set "
                           "setup.browser_mode")


@step("hide")
def hide(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Background the current tab (another tab comes to the front; a blank one is opened if there is none).
    Returns once the page saw ``visibilitychange:hidden`` (after ``blur`` if it had focus)."""
    _need_tabs(ctx, "hide")
    ctx.driver.hide(timeout=timeout)


@step("show")
def show(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Bring the current tab back to the front; returns once the page saw ``visibilitychange:visible`` and
    ``focus`` (the SDK's focus handler runs then)."""
    _need_tabs(ctx, "show")
    ctx.driver.show(timeout=timeout)


@step("minimise")
def minimise(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Minimise the browser window; returns once the page saw ``blur`` (if focused) and ``visibilitychange:hidden``."""
    _need_tabs(ctx, "minimise")
    ctx.driver.minimise(timeout=timeout)


@step("restore")
def restore(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Restore the minimised window; returns once the page saw ``visibilitychange:visible`` (and ``focus`` if it had
    focus before)."""
    _need_tabs(ctx, "restore")
    ctx.driver.restore(timeout=timeout)


@step("freeze")
def freeze(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Freeze the current tab as Chrome freezes background tabs (no script runs); returns once the page saw
    ``freeze``. Steps that run script in the page fail until ``resume``."""
    _need_tabs(ctx, "freeze")
    ctx.driver.freeze(timeout=timeout)


@step("resume")
def resume(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Resume the frozen tab; returns once the page saw ``resume`` (and, if it was on show before the freeze,
    ``visibilitychange:visible`` again)."""
    _need_tabs(ctx, "resume")
    ctx.driver.resume(timeout=timeout)


@step("blur")
def blur(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Take focus from the tab while it stays on show (the user clicked another window); returns once the page saw
    ``blur``. A real headless Chromium cannot do this (use hide or minimise there)."""
    _need_tabs(ctx, "blur")
    ctx.driver.blur(timeout=timeout)


@step("focus")
def focus(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Give the tab focus (a self-launched headless Chromium starts its first tab unfocused); returns once the page
    saw ``focus``."""
    _need_tabs(ctx, "focus")
    ctx.driver.focus(timeout=timeout)


class NewTab(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    value: str | None = Field(None, alias="path", pattern=r"^/", description="page of the app to open in it")
    switch: bool = Field(True, description="make the new tab the one later steps act on")


@step("new_tab", NewTab)
def new_tab(ctx: RunContext, args: NewTab, timeout: float) -> None:
    """Open a tab (it comes to the front and the previous tab goes to the background), optionally at a page of the
    app (``new_tab: /app/settings``; waits for the SDK to load there); ``switch: false`` keeps later steps on the
    previous tab."""
    _need_tabs(ctx, "new_tab")
    url = ctx.server.url + args.value if args.value else None
    # Wait for the SDK only on pages that load one (the app's pages do; the harness's probe pages do not).
    wait_js = f"() => !window.__harnessLoad || ({ctx.sdk.loaded_js})()" if url else None
    ctx.driver.new_tab(url, switch=args.switch, wait_js=wait_js, timeout=timeout)


@step("close_tab")
def close_tab(ctx: RunContext, args: NoArgs, timeout: float) -> None:
    """Close the current tab; the tab the browser shows next becomes the one later steps act on."""
    _need_tabs(ctx, "close_tab")
    ctx.driver.close_tab(timeout=timeout)


class SwitchTab(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    value: int = Field(alias="tab", ge=1, description="tab number: 1 is the first tab, then in order of opening")
    front: bool = Field(True, description="also bring it to the front, as a click on the tab does")


@step("switch_tab", SwitchTab)
def switch_tab(ctx: RunContext, args: SwitchTab, timeout: float) -> None:
    """Act on another tab from now on (``switch_tab: 1``), bringing it to the front unless ``front: false``."""
    _need_tabs(ctx, "switch_tab")
    ctx.driver.switch_tab(args.value, front=args.front, timeout=timeout)
