"""Shared fixtures for the harness's own tests: the browser, the bundle cache, and a run factory."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from harness.browser.discovery import BrowserInfo, find_browser
from harness.scenario.model import Scenario, load_scenario, parse_scenario
from harness.scenario.runner import RunConfig, RunResult, run_scenario
from harness.sdks.npm import NpmBundleCache

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BUGGY, FIXED = "6.0.0", "6.1.0"

RunFactory = Callable[..., RunResult]


@pytest.fixture(scope="session")
def chromium() -> BrowserInfo:
    return find_browser()


@pytest.fixture(scope="session")
def bundle_cache() -> NpmBundleCache:
    return NpmBundleCache()


@pytest.fixture
def run(chromium: BrowserInfo, bundle_cache: NpmBundleCache, tmp_path: Path) -> RunFactory:
    """Run a scenario (an id in scenarios/, a path, YAML text, or a Scenario) on one version."""

    def go(scenario: str | Path | Scenario, version: str, **overrides) -> RunResult:
        if isinstance(scenario, str) and "\n" in scenario:
            scenario = parse_scenario(scenario)
        elif isinstance(scenario, (str, Path)):
            path = Path(scenario)
            scenario = load_scenario(path if path.suffix == ".yaml" else SCENARIOS / f"{scenario}.yaml")
        options = dict(version=version, executable=chromium.path, browser_kind=chromium.kind,
                       reports_dir=tmp_path / "reports", tracing=False, cache=bundle_cache)
        options.update(overrides)
        return run_scenario(scenario, RunConfig(**options))

    return go
