"""Play one scenario on one version, the short way: ``run_scenario(scenario, version, ...)``.

A convenience over the engine for scripts, benchmarks and tests that want one run on the calling thread and nothing
else; it builds the same :class:`~harness.engine.run.Run` every front door uses. (It lived in ``scenario/runner.py``,
where it imported the engine back up a layer.)
"""

from __future__ import annotations

from harness.browser.driver import BrowserChoice, choose_browser
from harness.engine.options import RunOptions
from harness.engine.result import RunResult, reproduce_command
from harness.engine.run import SCREENSHOT_AFTER, Run, RunResources, cross_check_jar
from harness.scenario.model import Scenario
from harness.sdks.npm import NpmBundleCache

__all__ = ["RunResult", "SCREENSHOT_AFTER", "cross_check_jar", "reproduce_command", "run_scenario"]


def run_scenario(scenario: Scenario, version: str, options: RunOptions | None = None, *,
                 browser: BrowserChoice | None = None, cache: NpmBundleCache | None = None) -> RunResult:
    """Play ``scenario`` on ``version`` in a browser launched for it; errors during the run become an ``error``
    outcome, bad input (unknown version, no browser) raises :class:`~harness.errors.HarnessError`."""
    options = options or RunOptions()
    if browser is None:
        browser = choose_browser(options.browser_mode or scenario.setup.browser_mode or "real", options.chromium,
                                 strict=options.browser_mode == "real", explicit_source=options.chromium_source)
    return Run(scenario, version, options, RunResources(browser, cache or NpmBundleCache())).play()
