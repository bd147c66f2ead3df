"""Shared fixtures for the harness's own tests: the browser, the bundle cache, and a run factory."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import pytest

from harness.browser.discovery import BrowserInfo
from harness.browser.driver import BrowserChoice, choose_browser
from harness.browser.real_chromium import kill_all, marked_processes
from harness.scenario.model import Scenario, load_scenario, parse_scenario
from harness.engine import RunOptions, RunResult
from harness.pytest_plugin import close_session_engine
from harness.engine.single import run_scenario
from harness.sdks.npm import NpmBundleCache

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BUGGY, FIXED = "6.0.0", "6.1.0"

RunFactory = Callable[..., RunResult]


@pytest.fixture(scope="session", autouse=True)
def no_chromium_left_behind(pytestconfig):
    """After the suite: no process of a Chromium the harness launched itself may still be running (once the
    session's engine -- which keeps the next browser ready -- has closed)."""
    yield
    close_session_engine(pytestconfig)
    left = marked_processes(launched_by=os.getpid())
    if left:
        kill_all()
        pytest.fail(f"Chromium processes outlived the test suite: {left}")


@pytest.fixture(scope="session")
def browser_choice() -> BrowserChoice:
    """Real tab mode (a full Chromium) wherever it works; otherwise simulated, with one warning saying so."""
    choice = choose_browser("real")
    if choice.note:
        warnings.warn(choice.note, stacklevel=1)
    return choice


@pytest.fixture(scope="session")
def chromium(browser_choice: BrowserChoice) -> BrowserInfo:
    return browser_choice.info


@pytest.fixture(scope="session")
def bundle_cache() -> NpmBundleCache:
    return NpmBundleCache()


@pytest.fixture
def run(browser_choice: BrowserChoice, bundle_cache: NpmBundleCache, tmp_path: Path) -> RunFactory:
    """Run a scenario (an id in scenarios/, a path, YAML text, or a Scenario) on one version."""

    def go(scenario: str | Path | Scenario, version: str, **overrides) -> RunResult:
        if isinstance(scenario, str) and "\n" in scenario:
            scenario = parse_scenario(scenario)
        elif isinstance(scenario, (str, Path)):
            path = Path(scenario)
            scenario = load_scenario(path if path.suffix == ".yaml" else SCENARIOS / f"{scenario}.yaml")
        mode = overrides.pop("mode", None) or scenario.setup.browser_mode or browser_choice.mode
        choice = BrowserChoice(browser_choice.info, mode, mode, browser_choice.note)
        options = RunOptions(reports_dir=tmp_path / "reports", trace="off").with_(**overrides)
        return run_scenario(scenario, version, options, browser=choice, cache=bundle_cache)

    return go
