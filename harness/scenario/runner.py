"""The runner: plays one scenario against one SDK version and returns a result built from the timeline.

Front doors (the CLI, the pytest plugin) parse options and call :func:`run_scenario`; neither knows how a step is
performed. One run = one fresh mock server (with its own signing key) and one fresh browser, so nothing leaks
between runs.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError

from harness.browser.driver import BrowserDriver, BrowserMode, DriverOptions
from harness.errors import HarnessError
from harness.mock.server import MockAuthServer
from harness.oracles import judge
from harness.scenario.model import Scenario
from harness.scenario.steps import DEFAULT_TIMEOUT, STEPS, RunContext
from harness.sdks.clerk import ClerkSdk
from harness.sdks.npm import NpmBundleCache
from harness.timeline import Timeline
from harness.report import artifacts


@dataclass
class RunConfig:
    version: str
    executable: Path
    browser_kind: str = "explicit"
    mode: BrowserMode = "emulated"
    headless: bool = True
    slowmo: float = 0
    reports_dir: Path | None = Path("reports")
    tracing: bool = True
    port: int = 0
    cache: NpmBundleCache | None = None


@dataclass
class RunResult:
    scenario: str
    title: str
    scenario_path: str | None
    sdk: str
    version: str
    browser: dict[str, Any]
    outcome: str  # survived | reproduced | signed-out | stuck | error
    expected: str | None
    sentence: str
    checks: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    events: list[dict[str, Any]]
    started_at: float
    duration: float
    error: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    reproduce: str = ""

    @property
    def matches_expectation(self) -> bool | None:
        """True/False when the file claims an outcome for this version; None when it claims none."""
        if self.outcome == "error":
            return False
        return None if self.expected is None else self.outcome == self.expected

    @property
    def lost_at(self) -> float | None:
        for check in self.checks:
            if check["name"] == "cookie-never-removed" and not check["passed"]:
                return check["t"]
        return None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["matches_expectation"] = self.matches_expectation
        out["lost_at"] = self.lost_at
        return out


def run_scenario(scenario: Scenario, config: RunConfig) -> RunResult:
    """Play ``scenario`` against ``config.version``; errors in the run become an ``error`` outcome, not exceptions,
    except for bad input (unknown version, no browser), which raises :class:`HarnessError` before anything starts."""
    cache = config.cache or NpmBundleCache()
    sdk = ClerkSdk(token_ttl=scenario.setup.token_ttl)
    bundle = cache.get(sdk.package, config.version)
    timeline = Timeline()
    labels = [s.label or s.describe() for s in scenario.steps]
    error: str | None = None
    server = MockAuthServer(timeline, sdk, bundle_dist=bundle.dist, sdk_version=config.version, port=config.port)
    driver = BrowserDriver(timeline, DriverOptions(
        executable=config.executable, mode=config.mode, headless=config.headless, slowmo=config.slowmo,
        mask_webdriver=scenario.setup.webdriver == "masked", watch_cookies=("__session", "__session_*"),
        init_scripts=(sdk.init_script,), tracing=config.tracing and config.reports_dir is not None))
    server.start()  # bad input (a port in use) fails here, before any output is written
    folder = artifacts.RunFolder.create(config.reports_dir, scenario.id, config.version) if config.reports_dir else None
    try:
        driver.start()
        ctx = RunContext(timeline=timeline, driver=driver, server=server, sdk=sdk)
        for index, step in enumerate(scenario.steps, start=1):
            spec = STEPS[step.name]
            timeout = step.timeout or DEFAULT_TIMEOUT
            start = timeline.emit("runner", "step.start", index=index, name=step.name, label=labels[index - 1],
                                  line=step.line)
            ctx.step_started_at = start.at
            group = driver.context is not None and config.tracing and folder is not None
            if group:
                driver.context.tracing.group(f"{index}. {labels[index - 1]}")
            try:
                spec.run(ctx, spec.args.model_validate(step.args), timeout)
            except (HarnessError, PlaywrightError) as err:
                error = f"step {index} `{labels[index - 1]}` (line {step.line}): {_one_line(err)}"
                timeline.emit("runner", "step.error", index=index, error=error)
                break
            finally:
                if group:
                    driver.context.tracing.group_end()
            timeline.emit("runner", "step.end", index=index)
            _cross_check_jar(driver, sdk.session_cookies, timeline)
        driver.pump(0.2)  # let events already under way arrive
        if folder is not None:
            shot = driver.screenshot(folder.path / "final.png")
            if shot:
                folder.add("screenshot", shot.name)
    except (HarnessError, PlaywrightError) as err:
        error = error or _one_line(err)
    finally:
        trace = folder.path / "trace.zip" if folder is not None and config.tracing else None
        driver.close(trace_path=trace)
        server.stop()
        if trace is not None and trace.exists():
            folder.add("trace", trace.name)

    verdict = judge(timeline, labels, sdk.session_cookies)
    outcome, sentence = verdict.outcome, verdict.sentence
    if error:
        outcome, sentence = "error", error
    result = RunResult(
        scenario=scenario.id, title=scenario.title, scenario_path=str(scenario.path) if scenario.path else None,
        sdk=sdk.package, version=config.version,
        browser={"path": str(config.executable), "kind": config.browser_kind, "mode": config.mode,
                 "headless": config.headless, "webdriver": scenario.setup.webdriver},
        outcome=outcome, expected=scenario.expected(config.version), sentence=sentence,
        checks=[c.to_dict() for c in verdict.checks],
        steps=[{"index": i, "name": s.name, "label": labels[i - 1], "line": s.line}
               for i, s in enumerate(scenario.steps, start=1)],
        events=timeline.to_list(), started_at=timeline.started_at, duration=time.time() - timeline.started_at,
        error=error, reproduce=reproduce_command(scenario, config.version))
    if folder is not None:
        folder.finish(result)
    return result


def _cross_check_jar(driver: BrowserDriver, names: tuple[str, ...], timeline: Timeline) -> None:
    """Compare what the watcher saw with the browser's own cookie jar; a disagreement is an event, not a guess."""
    if driver.context is None:
        return
    for attempt in range(2):
        jar = driver.jar()
        seen: dict[str, bool] = {}
        for event in timeline.events("cookie"):
            if event.data.get("name") in names:
                seen[event.data["name"]] = event.data.get("op") == "set"
        differ = {n: (seen.get(n, False), n in jar) for n in names if seen.get(n, False) != (n in jar)}
        if not differ:
            timeline.emit("browser", "cookie.jar", present=[n for n in names if n in jar])
            return
        if attempt == 0:
            driver.pump(0.1)  # a write may be on its way from the page
    timeline.emit("browser", "cookie.mismatch", **{n: {"watcher": w, "jar": j} for n, (w, j) in differ.items()})


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def reproduce_command(scenario: Scenario, version: str) -> str:
    target = str(scenario.path) if scenario.path else scenario.id
    return f"harness run {shlex.quote(target)} --clerk-version {version} --headed --slowmo 250"
