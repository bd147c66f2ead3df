"""The one place where ``harness matrix`` and ``harness bisect`` run (scenario, version) pairs.

:func:`run_pairs` takes the pairs and yields each :class:`RunResult` as it finishes. Today it calls
:func:`harness.scenario.runner.run_scenario` one pair after another; the concurrent engine replaces its body (and
may yield in another order: callers key results by scenario and version, never by position).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from harness.scenario.model import Scenario
from harness.scenario.runner import RunResult


@dataclass(frozen=True)
class RunOptions:
    """What every run command takes (see harness.cli._browser_options)."""

    chromium: str | None = None
    browser_mode: str | None = None
    headed: bool = False
    slowmo: float = 0
    reports: Path | None = Path("reports")
    trace: bool = True
    webdriver: str | None = None
    port: int = 0

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "RunOptions":
        return cls(chromium=args.chromium, browser_mode=args.browser_mode, headed=args.headed,
                   slowmo=args.slowmo, reports=args.reports, trace=not args.no_trace, webdriver=args.webdriver,
                   port=args.port)


def with_webdriver(scenario: Scenario, webdriver: str | None) -> Scenario:
    """The scenario under ``--webdriver``: its claims were made for its own setting, so another drops them."""
    if webdriver and scenario.setup.webdriver != webdriver:
        scenario.setup = scenario.setup.model_copy(update={"webdriver": webdriver})
        scenario.verdicts = {}
    return scenario


def run_pairs(pairs: Iterable[tuple[Scenario, str]], options: RunOptions,
              on_start: Callable[[Scenario, str], None] = lambda scenario, version: None) -> Iterator[RunResult]:
    """Run each (scenario, version) and yield its result as it finishes; ``on_start`` is told when each begins.
    Bad input (no browser) raises HarnessError before the first run starts."""
    from harness.browser.driver import BrowserChooser
    from harness.scenario.runner import RunConfig, run_scenario
    from harness.sdks.npm import NpmBundleCache

    pairs = list(pairs)
    browsers = BrowserChooser(options.chromium, options.browser_mode,
                              explicit_source="--chromium" if options.chromium else None,
                              on_note=lambda note: print(f"warning: {note}", file=sys.stderr, flush=True))
    for scenario in {s.id: s for s, _ in pairs}.values():
        browsers.choose(scenario.setup.browser_mode)
    cache = NpmBundleCache()
    for scenario, version in pairs:
        browser = browsers.choose(scenario.setup.browser_mode)
        on_start(scenario, version)
        yield run_scenario(scenario, RunConfig(
            version=version, executable=browser.info.path, browser_kind=browser.info.kind, mode=browser.mode,
            mode_note=browser.note, headless=not options.headed, slowmo=options.slowmo,
            reports_dir=options.reports, tracing=options.trace, port=options.port, cache=cache))
