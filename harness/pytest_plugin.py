"""pytest plugin: every ``scenarios/*.yaml`` is a test, one item per SDK version.

    pytest scenarios/                                   # each scenario on its SDK's two known versions
    pytest scenarios/ --sdk-version 5.128.0 --sdk-version 6.40.0
    pytest scenarios/ --sdk-version supabase=2.39.0    # only that SDK's scenarios take it; others keep theirs
    pytest -k "offline-refresh-due and 6.0.0" --headed --slowmo 250

    pytest -n auto                                      # pytest-xdist: several runs at once (2 per core)
    pytest scenarios/ --shard 1/2                       # this CI machine's half of the runs

An item passes when the run's outcome is the one its file claims for that version (``verdicts``), and fails with
the verdict sentence, the checks and the timeline when it is not. A run that broke (outcome ``error``) is an *error*
of the item (the run happens in its setup phase), never a failure: pytest's ``--junitxml`` then writes ``<error>``.
The plugin is a front door like the CLI: it reads options (:func:`harness.engine.options_from_pytest`) and plays each
item on one session-wide :class:`harness.engine.Engine` (its browser pool keeps the next Chromium ready), on the
engine's own thread -- so pytest-playwright's ``page`` tests share the session -- nothing more.

Options that pytest-playwright already defines are read from it, not redefined: ``--headed``, ``--slowmo``,
``--output`` (where result folders go) and ``--tracing`` (``on``, ``off``, ``retain-on-failure``). Our own:
``--sdk-version [SDK=]V`` (repeatable; bare, it applies to every scenario, ``SDK=V`` only to that SDK's; the first
adapter's old option is an alias of ``SDK=V`` for it, :data:`_LEGACY_OPTION`), ``--chromium``, ``--browser-mode``,
``--harness-repeat``, ``--shard`` and ``--cdp-endpoint``. Under pytest-xdist, ``-n auto`` means two workers per
core (runs mostly wait on the SDK's timers); each worker process has its own engine. The fixtures for timelines
written in Python are in :mod:`harness.pytest_fixtures`.

Each item carries ``item.harness_result`` (the :class:`RunResult`) after it ran, and ``user_properties``
(scenario, sdk_version, browser -- its kind --, browser_path, browser_mode, outcome, expected) for JUnit and HTML
reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.errors import HarnessError

_STATE = pytest.StashKey[dict]()
_ASKED = pytest.StashKey[list]()  # the versions asked for, as VersionAsk, checked before collection
# The option the first adapter's users have always typed, and the SDK it stands for: ``--sdk-version <SDK>=V``.
_LEGACY_OPTION, _LEGACY_SDK = "--clerk-version", "clerk"


@dataclass(frozen=True)
class VersionAsk:
    """One ``--sdk-version`` value: a version (or from:PATH) for the scenarios of ``sdk`` (None: every SDK's)."""

    sdk: str | None
    version: str
    flag: str  # the option as typed, for messages

    def applies_to(self, sdk: str) -> bool:
        return self.sdk is None or self.sdk == sdk


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("session-harness", "session-survival harness (scenarios/*.yaml)")
    group.addoption("--sdk-version", action="append", dest="harness_sdk_versions", metavar="[SDK=]V", default=None,
                    help="run each scenario on this version of its SDK's package (X.Y.Z, a dist-tag such as latest, "
                         "an npm tarball, a package folder, a tarball URL, or from:PATH: what a package-lock.json, "
                         "pnpm-lock.yaml, yarn.lock or package.json resolves); SDK=V applies only "
                         "to that SDK's scenarios (setup.sdk); repeatable (default: each scenario's SDK's two known "
                         "versions, one on each side of its founding fix)")
    group.addoption(_LEGACY_OPTION, action="append", dest="harness_legacy_versions", metavar="V", default=None,
                    help=f"an alias of --sdk-version {_LEGACY_SDK}=V")
    group.addoption("--claims-as", dest="harness_claims_as", metavar="X.Y.Z", default=None,
                    help="judge local SDK builds by this release's claims instead of their package.json version")
    group.addoption("--chromium", dest="harness_chromium", metavar="PATH", default=None,
                    help="Chromium binary for scenario runs (default: $HARNESS_CHROMIUM, then the usual places)")
    group.addoption("--browser-mode", dest="harness_browser_mode", default=None,
                    choices=["real", "emulated", "simulated"],
                    help="tab visibility and focus for scenario runs (default: each scenario's setup.browser_mode, "
                         "else real)")
    group.addoption("--harness-repeat", dest="harness_repeat", type=int, default=1, metavar="N",
                    help="play each scenario x version N times (one item each)")
    group.addoption("--shard", dest="harness_shard", metavar="I/N", default=None,
                    help="run only shard I of N of the collected items (stable on every machine: a hash of each "
                         "item's scenario, version and repeat, or of its node id)")
    group.addoption("--cdp-endpoint", dest="harness_cdp_endpoint", action="append", metavar="URL", default=None,
                    help="drive a Chromium started elsewhere (--remote-debugging-port) for scenario runs")
    from harness.app.options import add_pytest_options

    add_pytest_options(group.addoption)  # --app-*: the same definitions as the CLI's


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario: a scenario file run in a real browser (deselect with "
                                       "-m 'not scenario')")
    config.stash[_STATE] = {}
    config.stash[_ASKED] = _asked_versions(config)
    shard = config.getoption("harness_shard", None)
    if shard:
        from harness.engine.options import parse_shard

        try:
            parse_shard(shard)
        except HarnessError as err:
            raise pytest.UsageError(str(err)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    close_session_engine(config)


def close_session_engine(config: pytest.Config) -> None:
    """Close the session's engine (its spare browsers end); a later scenario item would start a new one."""
    engine = config.stash.get(_STATE, {}).pop("engine", None)
    if engine is not None:
        engine.close()


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # before xdist's own (one per core)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: as many workers as ``--jobs auto`` plays runs (two per core, at most 8)."""
    from harness.engine.options import auto_jobs

    return auto_jobs()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--shard I/N``: keep only this shard's items (every item lands in exactly one shard)."""
    shard = config.getoption("harness_shard", None)
    if not shard:
        return
    from harness.engine.options import parse_shard
    from harness.engine.plan import shard_of

    index, count = parse_shard(shard)
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        key = item.plan.key if isinstance(item, ScenarioItem) else item.nodeid
        (keep if shard_of(key, count) == index else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _asked_versions(config: pytest.Config) -> list[VersionAsk]:
    """Every ``--sdk-version`` (and alias) value, split into SDK and version, with from:PATH resolved where the SDK
    is named; a bare from:PATH is resolved per SDK at collection (:func:`_versions_for`). Bad values are usage
    errors of one line, before collection."""
    from harness.sdks import SDKS

    asked = [VersionAsk(_LEGACY_SDK, v, _LEGACY_OPTION) for v in config.getoption("harness_legacy_versions") or ()]
    for value in config.getoption("harness_sdk_versions") or ():
        sdk, sep, version = value.partition("=")
        if not sep or sdk.startswith("from:"):
            sdk, version = "", value
        if sdk and sdk not in SDKS:
            raise pytest.UsageError(f"--sdk-version {value!r}: no SDK {sdk!r} (known: {', '.join(sorted(SDKS))})")
        asked.append(VersionAsk(sdk or None, version, "--sdk-version"))
    try:
        from harness.engine.options import check_claims_as

        check_claims_as(config.getoption("harness_claims_as", None))
        return [_resolved(config, a, a.sdk) if a.sdk else _checked(a) for a in asked]
    except HarnessError as err:
        raise pytest.UsageError(str(err)) from None


def _resolved(config: pytest.Config, ask: VersionAsk, sdk: str) -> VersionAsk:
    """The label ``ask`` stands for with ``sdk``'s package: a release as given, a dist-tag asked now, from:PATH,
    a tarball, a folder or a URL checked and cached (:mod:`harness.sdks.builds`) -- once per session and value."""
    from harness.sdks import adapter_class
    from harness.versions.commands import resolve_versions

    memo: dict[tuple[str, str], str] = config.stash[_STATE].setdefault("resolved", {})
    key = (sdk, ask.version)
    if key not in memo:
        try:
            [memo[key]] = resolve_versions([ask.version], adapter_class(sdk).package) or []
        except HarnessError as err:
            raise HarnessError(f"{ask.flag}: {err}") from None
    return VersionAsk(ask.sdk, memo[key], ask.flag)


def _checked(ask: VersionAsk) -> VersionAsk:
    """A value whose SDK is not yet known is parsed now (a range or a missing file is a usage error of one line)
    and resolved per SDK at collection."""
    from harness.sdks.builds import BuildSpec

    try:
        BuildSpec.parse(ask.version)
    except HarnessError as err:
        raise HarnessError(f"{ask.flag}: {err}") from None
    return ask


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    # scenarios/*.yaml and one folder down (scenarios/supabase/*.yaml: a library per SDK)
    if file_path.suffix in (".yaml", ".yml") and "scenarios" in (file_path.parent.name, file_path.parent.parent.name):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One scenario file; a malformed one is a collection error of one line naming file, line and field."""

    def collect(self) -> Iterator[pytest.Item]:
        from harness.scenario.model import load_scenario

        from harness.engine.plan import RunPlan

        scenario = load_scenario(self.path)
        repeat = max(1, int(self.config.getoption("harness_repeat", 1) or 1))
        for version in _versions_for(self.config, scenario.setup.sdk):
            for n in range(1, repeat + 1):
                name = f"{scenario.id}[{version}]" if repeat == 1 else f"{scenario.id}[{version}#{n}]"
                item = ScenarioItem.from_parent(self, name=name, plan=RunPlan(scenario, version, n))
                item.add_marker("scenario")
                yield item

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, HarnessError):
            return f"error: {excinfo.value}"
        return super().repr_failure(excinfo)


def _versions_for(config: pytest.Config, sdk: str) -> tuple[str, ...]:
    """The versions asked for this SDK's scenarios (a bare from:PATH resolved against its package), else its
    adapter's two known versions."""
    from harness.sdks import adapter_class

    asked = [a for a in config.stash.get(_ASKED, []) if a.applies_to(sdk)]
    if not asked:
        return tuple(adapter_class(sdk).known_versions)
    try:
        return tuple(dict.fromkeys(_resolved(config, a, sdk).version for a in asked))
    except HarnessError as err:
        raise pytest.UsageError(str(err)) from None


class OutcomeMismatch(Exception):
    """The run's outcome is not the one the scenario file claims for this version."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, plan: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.scenario = plan.scenario
        self.version = plan.version
        self.harness_result: Any = None

    def setup(self) -> None:
        """The run itself. A run that broke (outcome ``error``, or bad input such as no browser) is a pytest *error*
        of this item, like a fixture that cannot be set up, not a failure: no verdict was reached to compare."""
        from harness.sdks.builds import claims_version

        expected = self.scenario.expected(claims_version(self.version, self.config.getoption("harness_claims_as",
                                                                                            None)))
        if expected is None:
            pytest.skip(f"{self.path.name} claims no verdict for {self.version}; add a range under `verdicts`")
        try:
            result = session_engine(self.config).play_on_own_thread(self.plan)
        except HarnessError as err:
            pytest.fail(f"error: {err}", pytrace=False)
        self.harness_result = result
        from harness.report.junit import build_properties
        self.user_properties.extend([
            ("scenario", self.scenario.id), ("sdk_version", self.version),
            # the same names and values as harness.report.junit.run_properties (the CLI's --junit)
            ("browser", str(result.browser.get("kind"))), ("browser_path", str(result.browser.get("path"))),
            ("browser_mode", result.browser.get("mode")), ("outcome", result.outcome),
            ("expected", expected), *((k, str(v)) for k, v in build_properties(result.to_dict()) if v is not None)])
        if result.outcome == "error":
            pytest.fail(failure_text(result), pytrace=False)

    def runtest(self) -> None:
        """The verdict against the file's claim: a difference is a failure of this item."""
        result = self.harness_result
        passed = result.outcome == result.expected and not result.bounds_exceeded
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


def session_engine(config: pytest.Config) -> Any:
    """The pytest session's engine (options from the command line, translated once; the browser for each mode
    found once; a pool keeping the next Chromium ready), created on first use and closed at the end."""
    from harness.engine import Engine, options_from_pytest

    state = config.stash[_STATE]
    if "engine" not in state:
        state["engine"] = Engine(options_from_pytest(config))
    return state["engine"]


# -- what a failure prints ----------------------------------------------------------------------------------------

# Events that repeat what a neighbouring row says, or are noise for this purpose.
_QUIET = {"step.end", "probe.ready", "pageshow", "pagehide", "cookie.jar", "screenshot", "sdk.token.start"}
_MAX_ROWS = 150


def failure_text(result: Any) -> str:
    """The verdict sentence, the checks, and a compact table of what happened, for a mismatched run."""
    expected = result.expected or "no claim"
    head = f"the run broke (expected {expected})" if result.outcome == "error" else \
        f"expected {expected}, got {result.outcome}" + (" and a bound exceeded" if result.bounds_exceeded else "")
    lines = [f"{result.scenario} on {result.sdk} {result.version}: {head}", f"  {result.sentence}", "", "checks:"]
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
