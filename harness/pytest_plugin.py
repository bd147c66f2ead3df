"""pytest plugin: every ``scenarios/*.yaml`` is a test, one item per SDK version.

    pytest scenarios/                                   # each scenario on 6.0.0 and 6.1.0
    pytest scenarios/ --clerk-version 5.128.0 --clerk-version 6.40.0
    pytest -k "offline-refresh-due and 6.0.0" --headed --slowmo 250

An item passes when the run's outcome is the one its file claims for that version (``verdicts``), and fails with
the verdict sentence, the checks and the timeline when it is not. The plugin is a front door like the CLI: it reads
options and calls :func:`harness.scenario.runner.run_scenario`, nothing more.

Options that pytest-playwright already defines are read from it, not redefined: ``--headed``, ``--slowmo``,
``--output`` (where result folders go) and ``--tracing`` (``on``, ``off``, ``retain-on-failure``). Our own:
``--clerk-version`` (repeatable), ``--chromium`` and ``--browser-mode``.

Each item carries ``item.harness_result`` (the :class:`RunResult`) after it ran, and ``user_properties``
(scenario, sdk_version, browser -- its kind --, browser_path, browser_mode, outcome, expected) for JUnit and HTML
reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.errors import HarnessError
from harness.sdks.clerk import KNOWN_BUGGY, KNOWN_FIXED

DEFAULT_VERSIONS = (KNOWN_BUGGY, KNOWN_FIXED)
_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("session-harness", "session-survival harness (scenarios/*.yaml)")
    group.addoption("--clerk-version", action="append", dest="clerk_versions", metavar="V", default=None,
                    help=f"run each scenario on this @clerk/clerk-js version (X.Y.Z, or from:PATH: the version a "
                         f"package-lock.json, pnpm-lock.yaml, yarn.lock or package.json resolves); repeatable "
                         f"(default: {' and '.join(DEFAULT_VERSIONS)}, one on each side of the fix)")
    group.addoption("--chromium", dest="harness_chromium", metavar="PATH", default=None,
                    help="Chromium binary for scenario runs (default: $HARNESS_CHROMIUM, then the usual places)")
    group.addoption("--browser-mode", dest="harness_browser_mode", default=None,
                    choices=["real", "emulated", "simulated"],
                    help="tab visibility and focus for scenario runs (default: each scenario's setup.browser_mode, "
                         "else real)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario: a scenario file run in a real browser (deselect with "
                                       "-m 'not scenario')")
    config.stash[_STATE] = {}
    if config.getoption("clerk_versions", None):  # from:PATH -> the version that lockfile pins, before collection
        config.option.clerk_versions = _resolve_from(config.getoption("clerk_versions"))
    _check_versions(config.getoption("clerk_versions", None) or ())


def _resolve_from(versions: list[str]) -> list[str]:
    from harness.versions.commands import resolve_versions

    try:
        return resolve_versions(versions) or []
    except HarnessError as err:
        raise pytest.UsageError(f"--clerk-version: {err}") from None


def _check_versions(versions: Any) -> None:
    """Exact versions only, checked before collection: a tag or a range is a usage error, not a traceback."""
    from harness.sdks.npm import _VERSION_RE  # the bundle cache's own rule for what it will fetch

    for version in versions:
        if not _VERSION_RE.fullmatch(version):
            raise pytest.UsageError(f"--clerk-version {version!r} is not an exact version: give X.Y.Z (or "
                                    "X.Y.Z-pre), e.g. --clerk-version 6.0.0, not a range or a tag like latest")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "scenarios":
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One scenario file; a malformed one is a collection error of one line naming file, line and field."""

    def collect(self) -> Iterator[pytest.Item]:
        from harness.scenario.model import load_scenario

        scenario = load_scenario(self.path)
        for version in self.config.getoption("clerk_versions") or DEFAULT_VERSIONS:
            item = ScenarioItem.from_parent(self, name=f"{scenario.id}[{version}]", scenario=scenario,
                                            version=version)
            item.add_marker("scenario")
            yield item

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, HarnessError):
            return f"error: {excinfo.value}"
        return super().repr_failure(excinfo)


class OutcomeMismatch(Exception):
    """The run's outcome is not the one the scenario file claims for this version."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, version: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.version = version
        self.harness_result: Any = None

    def runtest(self) -> None:
        from harness.scenario.runner import run_scenario

        expected = self.scenario.expected(self.version)
        if expected is None:
            pytest.skip(f"{self.path.name} claims no verdict for {self.version}; add a range under `verdicts`")
        config = _run_config(self.config, self.scenario, self.version)
        result = run_scenario(self.scenario, config)
        self.harness_result = result
        self.user_properties.extend([
            ("scenario", self.scenario.id), ("sdk_version", self.version),
            # the same names and values as harness.report.junit.run_properties (the CLI's --junit)
            ("browser", str(result.browser.get("kind", config.browser_kind))),
            ("browser_path", str(result.browser.get("path", config.executable))),
            ("browser_mode", result.browser.get("mode", config.mode)), ("outcome", result.outcome),
            ("expected", expected)])
        passed = result.outcome == expected
        _keep_trace(self.config, result, passed)
        if not passed:
            raise OutcomeMismatch(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, OutcomeMismatch):
            return failure_text(self.harness_result)
        if isinstance(excinfo.value, HarnessError):
            return f"error: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"{self.scenario.id} on {self.version}"


def _run_config(config: pytest.Config, scenario: Any, version: str) -> Any:
    """The runner's options from pytest's (and pytest-playwright's) command line. The browser mode is
    ``--browser-mode``, else the scenario's ``setup.browser_mode``, else real (as for ``harness run``); the browser
    for each mode and the bundle cache are found once per session."""
    from harness.browser.driver import BrowserChooser
    from harness.scenario.runner import RunConfig
    from harness.sdks.npm import NpmBundleCache

    state = config.stash[_STATE]
    if "browsers" not in state:
        chromium = config.getoption("harness_chromium")
        state["browsers"] = BrowserChooser(chromium, config.getoption("harness_browser_mode"),
                                           explicit_source="--chromium" if chromium else None)
        state["cache"] = NpmBundleCache()
    choice = state["browsers"].choose(scenario.setup.browser_mode)
    tracing = config.getoption("tracing", "off") or "off"
    return RunConfig(
        version=version, executable=choice.info.path, browser_kind=choice.info.kind, mode=choice.mode,
        mode_note=choice.note, headless=not config.getoption("headed", False),
        slowmo=float(config.getoption("slowmo", 0) or 0),
        reports_dir=Path(config.getoption("output", None) or "reports"), tracing=tracing != "off",
        cache=state["cache"])


def _keep_trace(config: pytest.Config, result: Any, passed: bool) -> None:
    """``--tracing retain-on-failure``: drop the trace of a run that matched its verdict."""
    if not passed or config.getoption("tracing", "off") != "retain-on-failure":
        return
    trace = result.artifacts.pop("trace", None)
    if trace:
        Path(trace).unlink(missing_ok=True)
        saved = result.artifacts.get("result")
        if saved:
            from harness.report.artifacts import write_atomic

            write_atomic(Path(saved), json.dumps(result.to_dict(), indent=2, default=str))


# -- what a failure prints ----------------------------------------------------------------------------------------

# Events that repeat what a neighbouring row says, or are noise for this purpose.
_QUIET = {"step.end", "probe.ready", "pageshow", "pagehide", "cookie.jar", "screenshot", "sdk.token.start"}
_MAX_ROWS = 150


def failure_text(result: Any) -> str:
    """The verdict sentence, the checks, and a compact table of what happened, for a mismatched run."""
    expected = result.expected or "no claim"
    lines = [f"{result.scenario} on {result.sdk} {result.version}: expected {expected}, got {result.outcome}",
             f"  {result.sentence}", "", "checks:"]
    for check in result.checks:
        when = f" t={check['t']:.2f}" if check.get("t") is not None else ""
        lines.append(f"  {'ok  ' if check['passed'] else 'FAIL'} {check['name']}{when}: {check['detail']}")
    lines += ["", "timeline (t in seconds since start):", event_table(result.events)]
    if result.artifacts.get("result"):
        lines += ["", f"result: {result.artifacts['result']}"]
    lines.append(f"reproduce: {result.reproduce}")
    return "\n".join(lines)


def event_table(events: list[dict[str, Any]], max_rows: int = _MAX_ROWS) -> str:
    rows = []
    for e in events:
        if e["kind"] in _QUIET or (e["kind"] == "request" and e.get("data", {}).get("path", "").startswith("/sdk/")):
            continue
        rows.append(f"{e['t']:8.3f}  {e['step'] if e['step'] is not None else '-':>4}  {e['source']:<7} "
                    f"{e['kind']:<18} {_compact(e.get('data', {}))}")
    head = f"{'t':>8}  {'step':>4}  {'source':<7} {'kind':<18} data"
    if len(rows) > max_rows:
        cut = len(rows) - max_rows
        rows = rows[:max_rows // 2] + [f"{'':>8}  ... {cut} more events (all in the result folder) ..."] + \
            rows[-max_rows // 2:]
    return "\n".join([head, *rows])


def _compact(data: dict[str, Any], width: int = 110) -> str:
    text = " ".join(f"{k}={v}" for k, v in data.items() if k not in ("url", "tab") and v not in (None, ""))
    return text if len(text) <= width else text[:width - 1] + "…"
