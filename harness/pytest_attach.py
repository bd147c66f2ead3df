"""The harness attached to a pytest-playwright test's own page: the mock, faults, network flips, the session-store
watcher, the oracles and the result folder, on the ``page`` (or ``context``) the user's e2e suite already has.

    def test_a_network_blink_keeps_the_session(page, harness_attach):
        run = harness_attach(page, version="6.1.0")   # the mock's app page is run.app_url
        run.signed_in()                              # page.goto(run.app_url), the SDK signs in
        run.offline()
        run.clear_token_cache()
        run.wait_for("token_attempt", timeout=15)
        run.online()
        run.reload()
        assert run.finish().outcome == "survived"

Why the run stays on the test's thread. The page is pytest-playwright's: its Playwright runs on pytest's main thread,
and the sync API's objects answer only there. So an attached run makes no Playwright of its own: its driver adds its
probes (the cookie/storage watcher, the SDK's observation script, the webdriver mask, the connection pin) to the
user's context and acts on the user's page, on the calling thread, while the harness's own runs (``harness_run``,
scenario items) play on the engine's thread (:mod:`harness.engine.scheduler`). Both ladders then share a session,
and a test.

Honest about modes. A pytest-playwright context comes from Playwright's ``new_context``, which pins every page
visible and focused: an attached run is ``emulated`` (the default), or ``simulated`` when asked
(``setup={"browser_mode": "simulated"}`` or ``--browser-mode simulated``: the init-script override of visibility and
focus, labelled so in the result). ``real`` needs a Chromium the harness launches itself and is refused at attach,
and so is a tab step (``hide``, ``freeze``, ``new_tab``...) the run's mode cannot honour, before it plays; every
result says which mode it ran in and that it was attached (``browser.mode_note``).

What stays the user's: the context, its pages, its browser and its Playwright (the run turns the network back on at
its end and closes nothing), and the trace (pytest-playwright's ``--tracing``; the run's steps appear in it as
groups). What is the run's: the mock, the timeline, the verdict and the result folder, as for any run. The fixture
finishes every run it attached when the test ends -- before pytest-playwright closes its contexts (it depends on
``new_context``, whose teardown closes them) -- and checks each run's claim (``expect``) as ``harness_run`` does.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page

from harness import resources
from harness.browser.discovery import BrowserInfo, is_headless_shell_name
from harness.browser.driver import BrowserChoice, BrowserMode, BrowserSource, browser_pid
from harness.engine import Engine, RunPlan, RunResult, StepFailed
from harness.engine.run import Run, RunResources
from harness.errors import HarnessError
from harness.scripted_run import ScriptedRun
from harness.scenario.model import Scenario, find_scenarios, load_scenario
from harness.scenario.steps import STEPS
from harness.scenario.tab_steps import TAB_MODES

ATTACHED_MODES: tuple[BrowserMode, ...] = ("emulated", "simulated")
# The tab steps (harness/scenario/tab_steps.py): each needs a tab lifecycle, real or simulated.
TAB_STEPS = frozenset(name for name, spec in STEPS.items() if spec.run.__module__ == "harness.scenario.tab_steps")
_PINNED = ("pytest-playwright's pages come from Playwright's new_context, which keeps every page visible and "
           "focused")
_ATTACHED: "weakref.WeakSet[BrowserContext]" = weakref.WeakSet()  # one run per context


class AttachedRun(ScriptedRun):
    """A :class:`ScriptedRun` on the test's own page, on the test's thread; refuses what its mode cannot do."""

    @property
    def page(self) -> Page:
        """The page the steps act on (the one attached to, until a tab step switches)."""
        assert self.run.driver is not None and self.run.driver.page is not None
        return self.run.driver.page

    def check_step(self, name: str) -> None:
        if name in TAB_STEPS and self.run.mode not in TAB_MODES:
            raise HarnessError(_refusal(f"`{name}`", self.run.mode))

    def play(self) -> RunResult:
        """Play the attached scenario file's steps (stopping at the first that fails: the run ends in ``error``),
        then finish; returns the result."""
        for step in self.run.scenario.steps:
            if self.run.error:
                break
            try:
                self.run.step(step)
            except StepFailed as err:
                self.run.error = str(err)
        return self.finish()


def _refusal(what: str, mode: str) -> str:
    return (f"{what} cannot play on a test's own page in {mode} mode: {_PINNED}; attach with "
            "setup={'browser_mode': 'simulated'} to simulate visibility and focus, or use harness_run (or "
            "`harness run`) for the browser's own")


def scenario_file(name: str | Path) -> Scenario:
    """A library scenario by id (``offline-refresh-due``), or a scenario file by path."""
    [path] = find_scenarios([str(name)], resources.library_dir())
    return load_scenario(path)


def refuse_unplayable(scenario: Scenario, mode: BrowserMode) -> None:
    """At load: a scenario file's first tab step the attached mode cannot honour, named with its line."""
    for index, step in enumerate(scenario.steps, 1):
        if step.name in TAB_STEPS and mode not in TAB_MODES:
            line = f" (line {step.line})" if step.line else ""
            raise HarnessError(_refusal(f"{scenario.id}: step {index} `{step.name}`{line}", mode))


def attached_mode(scenario: Scenario, asked: BrowserMode | None) -> BrowserMode:
    """The scenario's ``setup.browser_mode``, else ``--browser-mode``, else emulated; ``real`` refused."""
    mode = scenario.setup.browser_mode or asked or "emulated"
    if mode not in ATTACHED_MODES:
        where = "setup.browser_mode" if scenario.setup.browser_mode else "--browser-mode"
        raise HarnessError(f"{where} {mode} cannot apply to a test's own page: {_PINNED}, and real tabs need a "
                           "Chromium the harness launches itself; use emulated or simulated here, or harness_run")
    return mode


def attached_browser(browser: Browser | None) -> BrowserInfo:
    """The user's browser binary, as its running process says (``/proc``), else as Playwright would launch it."""
    path: str | None = None
    pid = browser_pid(browser) if browser is not None else None
    if pid is not None:
        try:
            path = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            path = None
    if path is None and browser is not None:
        path = browser.browser_type.executable_path
    return BrowserInfo(Path(path or "unknown"), "attached", headless_shell=is_headless_shell_name(Path(path or "")))


def attach(engine: Engine, target: Page | BrowserContext, plan: RunPlan, *, reproduce: str) -> AttachedRun:
    """Start ``plan`` on the test's own ``target`` (a page, or a context: its first page). Bad input -- a context
    attached to already, a mode it cannot have, an unknown version -- raises :class:`HarnessError` with nothing left
    running."""
    page = target if isinstance(target, Page) else None
    context = target.context if isinstance(target, Page) else target
    if not isinstance(context, BrowserContext):
        raise HarnessError(f"harness_attach takes pytest-playwright's page or context, not {type(target).__name__}")
    if context in _ATTACHED:
        raise HarnessError("this context is attached to a run already (one run per context: its probes and its "
                           "network switch are the run's); attach a page of another context (new_context)")
    mode = attached_mode(plan.scenario, engine.options.browser_mode)
    refuse_unplayable(plan.scenario, mode)
    note = f"attached to the test's own page ({_PINNED}" + \
        ("; visibility and focus SIMULATED)" if mode == "simulated" else ")")
    choice = BrowserChoice(attached_browser(context.browser), mode, mode, note)
    engine.ensure_app([plan])  # the user's app under test (--app-*), started once for the session
    run = Run(plan.scenario, plan.version, engine.options, RunResources(
        choice, engine.cache, BrowserSource(context=context, page=page), engine.app), repeat=plan.repeat)
    run.reproduce = reproduce
    run.start()  # bad input raises here, before anything touched the context
    _ATTACHED.add(context)
    return AttachedRun(run)
