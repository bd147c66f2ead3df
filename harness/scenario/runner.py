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

from harness.browser.discovery import is_headless_shell_name
from harness.browser.driver import BrowserDriver, BrowserMode, DriverOptions, choose_browser
from harness.errors import HarnessError, one_line
from harness.mock.server import MockAuthServer
from harness.oracles import judge
from harness.scenario.model import Scenario
from harness.scenario.steps import DEFAULT_TIMEOUT, STEPS, RunContext
from harness.sdks import sdk_for
from harness.sdks.npm import NpmBundleCache
from harness.timeline import Timeline
from harness.report import artifacts


# Steps after which the page is photographed: the ones whose end is an oracle check (the server and the SDK
# give their view of the session on a page load).
SCREENSHOT_AFTER = frozenset({"signed_in", "reload", "navigate", "check_sdk"})


@dataclass
class RunConfig:
    version: str
    executable: Path
    browser_kind: str = "explicit"
    mode: BrowserMode = "real"  # real tab visibility and focus; see harness/browser/driver.py for the modes
    mode_note: str | None = None  # why the mode is not the one asked for (a fallback), kept in the result
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
    backend: str = ""  # how the app backend decided (harness/mock/backend.py), e.g. "clerk (decides as ...)"
    clock: dict[str, Any] = field(default_factory=dict)  # the page clock's offset at start and end, and the skew
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
    sdk = sdk_for(scenario.setup.sdk, token_ttl=scenario.setup.token_ttl)
    bundle = cache.get(sdk.package, config.version)
    timeline = Timeline()
    labels = [s.label or s.describe() for s in scenario.steps]
    error: str | None = None
    server = MockAuthServer(timeline, sdk, bundle_dist=bundle.dist, sdk_version=config.version, port=config.port,
                            backend=scenario.setup.backend, background_api=scenario.setup.background_api)
    executable, browser_kind, mode, mode_note = _browser_for(config)
    driver = BrowserDriver(timeline, DriverOptions(
        executable=executable, mode=mode, headless=config.headless, slowmo=config.slowmo,
        mask_webdriver=scenario.setup.webdriver == "masked", watch_cookies=sdk.watch_cookies,
        init_scripts=(sdk.init_script,), tracing=config.tracing and config.reports_dir is not None))
    server.start()  # bad input (a port in use) fails here, before any output is written
    try:
        folder = artifacts.RunFolder.create(config.reports_dir, scenario.id, config.version) \
            if config.reports_dir else None
    except OSError as err:
        server.stop()
        raise HarnessError(f"cannot write results to {config.reports_dir} ({err.strerror or err}); "
                           "pick another folder with --reports") from None
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
                error = f"step {index} `{labels[index - 1]}` (line {step.line}): {one_line(err)}"
                timeline.emit("runner", "step.error", index=index, error=error)
                _screenshot(folder, driver, timeline, f"step-{index:02d}-error", f"when step {index} failed")
                break
            finally:
                if group:
                    driver.context.tracing.group_end()
            timeline.emit("runner", "step.end", index=index)
            if not timeline.events("clock.offset"):
                driver.measure_clock("start")  # once the first page is up: one clock for page and server events
            _cross_check_jar(driver, sdk.session_cookies, timeline)
            if step.name in SCREENSHOT_AFTER:
                _screenshot(folder, driver, timeline, f"step-{index:02d}-{step.name}", f"after step {index}")
        driver.pump(0.2)  # let events already under way arrive
        driver.measure_clock("end")
        _screenshot(folder, driver, timeline, "final", "at the end")
    except (HarnessError, PlaywrightError) as err:
        error = error or one_line(err)
    finally:
        # The trace is written under a temporary name and renamed, so an interrupted run never leaves half a zip.
        trace = folder.partial("trace.zip") if folder is not None and config.tracing else None
        driver.close(trace_path=trace)
        server.stop()
        if trace is not None:
            folder.adopt(trace, "trace.zip", "trace")

    verdict = judge(timeline, labels, sdk.session_cookies)
    outcome, sentence = verdict.outcome, verdict.sentence
    if error:
        outcome, sentence = "error", error
    error = error or verdict.error  # a failure of the mock itself, with its traceback
    result = RunResult(
        scenario=scenario.id, title=scenario.title, scenario_path=str(scenario.path) if scenario.path else None,
        sdk=sdk.package, version=config.version,
        browser={"path": str(executable), "kind": browser_kind, "mode": mode,
                 **({"mode_note": mode_note} if mode_note else {}),
                 "headless": config.headless, "webdriver": scenario.setup.webdriver,
                 # navigator.connection rtt/downlink are pinned non-zero while online (driver.PIN_CONNECTION_JS)
                 "connection": "pinned"},
        outcome=outcome, expected=scenario.expected(config.version), sentence=sentence,
        checks=[c.to_dict() for c in verdict.checks],
        steps=[{"index": i, "name": s.name, "label": labels[i - 1], "line": s.line}
               for i, s in enumerate(scenario.steps, start=1)],
        events=timeline.to_list(), started_at=timeline.started_at, duration=time.time() - timeline.started_at,
        error=error, reproduce=reproduce_command(scenario, config.version), backend=server.backend.description,
        clock=_clock_summary(timeline))
    if folder is not None:
        folder.finish(result)
    return result


def _clock_summary(timeline: Timeline) -> dict[str, Any]:
    """The page clock's offset to the timeline's, measured at start and end (ms), and how much it drifted."""
    offsets = {e.data["label"]: e.data["offset_ms"] for e in timeline.events("clock.offset")}
    out: dict[str, Any] = {"base": "timeline (the mock's and the runner's wall clock)", **{
        f"{label}_offset_ms": value for label, value in offsets.items()}}
    if "start" in offsets and "end" in offsets:
        out["skew_ms"] = round(offsets["end"] - offsets["start"], 3)
    return out


def _screenshot(folder: artifacts.RunFolder | None, driver: BrowserDriver, timeline: Timeline, name: str,
                label: str) -> None:
    """Evidence at an oracle check: the page as the user would see it, recorded on the timeline."""
    if folder is None or driver.page is None:
        return
    file = folder.screenshot(driver.page, name)
    if file:
        timeline.emit("runner", "screenshot", file=file, label=label)


def _browser_for(config: RunConfig) -> tuple[Path, str, BrowserMode, str | None]:
    """The binary and mode to run with. Real mode needs a full Chromium: given an old-headless shell (what plain
    discovery prefers), find a full one, or fall back to simulated with a note saying so."""
    if config.mode != "real" or not is_headless_shell_name(config.executable):
        return config.executable, config.browser_kind, config.mode, config.mode_note
    explicit = str(config.executable) if config.browser_kind == "explicit" else None
    choice = choose_browser("real", explicit)
    return choice.info.path, choice.info.kind, choice.mode, choice.note or config.mode_note


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
    # What the jar holds is recorded either way: the end-of-run check reads the last one.
    timeline.emit("browser", "cookie.jar", present=[n for n in names if n in jar])
    timeline.emit("browser", "cookie.mismatch", **{n: {"watcher": w, "jar": j} for n, (w, j) in differ.items()})


LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"


def reproduce_command(scenario: Scenario, version: str) -> str:
    """The command that replays this run, watched: by id for library scenarios, else by path."""
    path = scenario.path.resolve() if scenario.path else None
    if path is None or path == LIBRARY / f"{scenario.id}.yaml":
        target = scenario.id
    else:
        try:
            target = str(path.relative_to(Path.cwd()))
        except ValueError:
            target = str(path)
    return f"harness run {shlex.quote(target)} --clerk-version {version} --headed --slowmo 250"
