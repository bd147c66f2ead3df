"""Run options: everything a run needs besides its scenario and SDK version, with ONE set of defaults.

Every front door (``harness run``/``repro``/``serve``/``matrix``/``bisect``, the pytest plugin, the pytest fixtures)
builds a :class:`RunOptions` here -- from argparse (:func:`options_from_args`) or from pytest's config
(:func:`options_from_pytest`) -- and hands it to the engine; none of them keeps defaults of its own. The browser
mode left as ``None`` means "the scenario's ``setup.browser_mode``, else real", decided per scenario by the engine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from harness.app.spec import AppSpec, spec_from_options
from harness.browser.driver import BrowserMode
from harness.errors import HarnessError
from harness.sdks.builds import check_claims_as

TraceMode = Literal["on", "off", "retain-on-failure"]
TRACE_MODES: tuple[str, ...] = ("on", "off", "retain-on-failure")

# A run spends most of its time waiting on the SDK's own timers (a 5 s poller, a refresh timer), so on a small
# machine several runs per core keep the CPU busy without slowing any run's timeline measurably (bench/bench_engine.py
# measures it; tests/test_engine.py checks that verdicts do not change).
RUNS_PER_CORE = 2
MAX_AUTO_JOBS = 8


def auto_jobs(runs: int | None = None) -> int:
    """``--jobs auto``: two runs per core, at most 8, and never more than there are runs."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    jobs = min(MAX_AUTO_JOBS, max(1, cores * RUNS_PER_CORE))
    return max(1, min(jobs, runs)) if runs else jobs


def parse_jobs(text: str) -> int | None:
    """``auto`` -> None (decided when the number of runs is known), else a whole number >= 1."""
    if text == "auto":
        return None
    try:
        jobs = int(text)
    except ValueError:
        raise HarnessError(f"--jobs takes a whole number or auto, not {text!r}") from None
    if jobs < 1:
        raise HarnessError(f"--jobs must be at least 1, not {jobs}")
    return jobs


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N`` (1-based): this machine plays shard I of N."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise HarnessError(f"--shard takes I/N (e.g. 1/2), not {text!r}") from None
    if count < 1 or not 1 <= index <= count:
        raise HarnessError(f"--shard {text}: I must be between 1 and N (e.g. 1/2 and 2/2)")
    return index, count


@dataclass(frozen=True)
class RunOptions:
    """How runs are played. Defaults are the harness's defaults everywhere."""

    chromium: str | None = None  # an explicit browser binary (else $HARNESS_CHROMIUM, then discovery)
    chromium_source: str | None = None  # which option named it, for one-line errors ("--chromium")
    browser_mode: BrowserMode | None = None  # None: each scenario's setup.browser_mode, else real
    headless: bool = True
    slowmo: float = 0.0
    reports_dir: Path | None = Path("reports")  # None: no result folders (tests, fuzz probes)
    trace: TraceMode = "on"
    webdriver: Literal["masked", "exposed"] | None = None  # overrides setup.webdriver (claims then do not apply)
    port: int = 0  # the mock's port (0: any free one); a fixed port allows one run at a time
    mock_host: str = "127.0.0.1"  # the address the mock binds
    public_host: str | None = None  # the host the browser uses to reach the mock (default: mock_host)
    cdp_endpoints: tuple[str, ...] = ()  # browsers started elsewhere; one run at a time on each
    jobs: int | None = None  # None: auto
    repeat: int = 1
    shard: tuple[int, int] | None = None
    app: AppSpec | None = None  # --app-*: the user's app under test (over each scenario's setup.app)
    claims_as: str | None = None  # a local build is judged by this release's claims instead of its own version's
    extra: dict[str, Any] = field(default_factory=dict)  # front-door specifics carried along (not used by runs)

    @property
    def tracing(self) -> bool:
        return self.trace != "off" and self.reports_dir is not None

    def with_(self, **changes: Any) -> "RunOptions":
        return replace(self, **changes)

    def jobs_for(self, runs: int) -> int:
        """How many runs play at once for ``runs`` runs."""
        jobs = self.jobs or auto_jobs(runs)
        if self.cdp_endpoints:
            jobs = min(jobs, len(self.cdp_endpoints))  # each remote browser plays one run at a time
        jobs = max(1, min(jobs, runs))
        if self.port and jobs > 1:
            raise HarnessError(f"--port {self.port} fixes one port for every run, so only one can play at a time; "
                               "drop --port, or add --jobs 1")
        return jobs


def options_from_args(args: Any) -> RunOptions:
    """The options of ``harness run``/``repro``/``matrix``/``bisect``/``serve`` (an argparse namespace)."""
    get = lambda name, default=None: getattr(args, name, default)  # noqa: E731 - each command has a subset
    trace = get("trace") or ("off" if get("no_trace", False) else RunOptions.trace)
    shard = get("shard")
    return RunOptions(
        chromium=get("chromium"), chromium_source="--chromium" if get("chromium") else None,
        browser_mode=get("browser_mode"), headless=not get("headed", False), slowmo=float(get("slowmo", 0) or 0),
        reports_dir=get("reports", RunOptions.reports_dir), trace=trace, webdriver=get("webdriver"),
        port=int(get("port", 0) or 0), mock_host=get("mock_host") or RunOptions.mock_host,
        public_host=get("public_host"), cdp_endpoints=tuple(get("cdp_endpoint") or ()),
        jobs=parse_jobs(get("jobs") or "auto"), repeat=int(get("repeat", 1) or 1),
        shard=parse_shard(shard) if shard else None, app=spec_from_options(get),
        claims_as=check_claims_as(get("claims_as")))


def options_from_pytest(config: Any) -> RunOptions:
    """The options of the pytest plugin; pytest-playwright's own options (--headed, --slowmo, --output,
    --tracing) are read from it rather than redefined."""
    get = config.getoption
    chromium = get("harness_chromium", None)
    tracing = get("tracing", "off") or "off"
    shard = get("harness_shard", None)
    return RunOptions(
        chromium=chromium, chromium_source="--chromium" if chromium else None,
        browser_mode=get("harness_browser_mode", None), headless=not get("headed", False),
        slowmo=float(get("slowmo", 0) or 0), reports_dir=Path(get("output", None) or "reports"),
        trace=cast(TraceMode, tracing) if tracing in TRACE_MODES else "on",  # `in` does not narrow to the Literal
        cdp_endpoints=tuple(get("harness_cdp_endpoint", None) or ()), jobs=1,
        repeat=int(get("harness_repeat", 1) or 1), shard=parse_shard(shard) if shard else None,
        app=spec_from_options(lambda name: get(name, None)),
        claims_as=check_claims_as(get("harness_claims_as", None)))
