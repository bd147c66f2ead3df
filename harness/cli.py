"""The command line: ``harness repro``, ``harness run``, ``harness browser``, ``harness bundle``.

A thin front door: it parses options, finds the browser and the scenarios, and calls the runner. Any
:class:`HarnessError` becomes one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from harness.errors import HarnessError
from harness.sdks.clerk import KNOWN_BUGGY, KNOWN_FIXED

SCENARIOS_DIR = Path(__file__).resolve().parents[1] / "scenarios"
SEED_SCENARIO = "offline-refresh-due"


def _browser_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chromium", metavar="PATH", help="Chromium binary to use (default: $HARNESS_CHROMIUM, "
                        "then a Playwright-managed browser, then Debian's chromium, then Chrome)")
    parser.add_argument("--browser-mode", choices=["emulated"], default="emulated",
                        help="emulated: Playwright's own page lifecycle (always visible and focused)")
    parser.add_argument("--headed", action="store_true", help="show the browser window (needs a display)")
    parser.add_argument("--slowmo", type=float, default=0, metavar="MS", help="slow every browser action by MS ms")
    parser.add_argument("--reports", type=Path, default=Path("reports"), metavar="DIR",
                        help="where result folders go (default: reports/)")
    parser.add_argument("--no-trace", action="store_true", help="do not record a Playwright trace")
    parser.add_argument("--port", type=int, default=0, help="port for the mock server (default: any free port)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description="Reproduce auth-SDK sign-outs caused by network "
                                     "blips, in a real Chromium against the real SDK bundle.")
    sub = parser.add_subparsers(dest="command", required=True)

    repro = sub.add_parser("repro", help="run the founding scenario (clerk-js PR #7912) on each version")
    repro.add_argument("versions", nargs="*", default=[KNOWN_BUGGY, KNOWN_FIXED], metavar="VERSION",
                       help=f"@clerk/clerk-js versions (default: {KNOWN_BUGGY} {KNOWN_FIXED})")
    _browser_options(repro)

    run = sub.add_parser("run", help="run scenarios (ids or paths) on one or more versions")
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    run.add_argument("--clerk-version", action="append", dest="versions", metavar="V",
                     help=f"repeatable (default: {KNOWN_BUGGY} and {KNOWN_FIXED})")
    _browser_options(run)

    browser = sub.add_parser("browser", help="show (or, with --ensure, install) the Chromium the harness will use")
    browser.add_argument("--ensure", action="store_true", help="install Debian's chromium when none is found "
                         "(root on Debian/Ubuntu only)")
    browser.add_argument("--chromium", metavar="PATH")
    browser.add_argument("--list", action="store_true", help="list every browser found")
    browser.add_argument("--need-tabs", action="store_true", help="require a full Chromium (the real tab mode "
                         "cannot use a headless shell)")

    bundle = sub.add_parser("bundle", help="fetch SDK bundles into the cache (integrity-checked)")
    bundle.add_argument("versions", nargs="+", metavar="VERSION")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"repro": _repro, "run": _run, "browser": _browser, "bundle": _bundle}[args.command](args)
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: result folders of unfinished runs are marked INCOMPLETE", file=sys.stderr)
        return 130


def _browser(args: argparse.Namespace) -> int:
    from harness.browser import discovery

    argv = (["--ensure"] if args.ensure else []) + (["--list"] if args.list else [])
    argv += ["--need-tabs"] if args.need_tabs else []
    argv += ["--chromium", args.chromium] if args.chromium else []
    return discovery.main(argv)


def _bundle(args: argparse.Namespace) -> int:
    from harness.sdks.clerk import PACKAGE
    from harness.sdks.npm import NpmBundleCache

    cache = NpmBundleCache()
    for version in args.versions:
        bundle = cache.get(PACKAGE, version)
        print(f"{version}  {cache.last_event}  {bundle.dist}")
    return 0


def _repro(args: argparse.Namespace) -> int:
    args.scenarios = [SEED_SCENARIO]
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from harness.browser.discovery import find_browser
    from harness.scenario.model import find_scenarios, load_scenario
    from harness.scenario.runner import RunConfig, run_scenario
    from harness.sdks.npm import NpmBundleCache

    if args.headed and not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        raise HarnessError("--headed needs a display; run the command under `xvfb-run -a`, or drop --headed")
    scenarios = [load_scenario(p) for p in find_scenarios(args.scenarios, SCENARIOS_DIR)]
    versions = args.versions or [KNOWN_BUGGY, KNOWN_FIXED]
    browser = find_browser(args.chromium, explicit_source="--chromium" if args.chromium else None)
    cache = NpmBundleCache()
    for version in versions:  # fail on an unknown version before any browser starts
        from harness.sdks.clerk import PACKAGE

        cache.get(PACKAGE, version)
    width = max(len(v) for v in versions)
    for scenario in scenarios:
        for version in versions:
            result = run_scenario(scenario, RunConfig(
                version=version, executable=browser.path, browser_kind=browser.kind, mode=args.browser_mode,
                headless=not args.headed, slowmo=args.slowmo, reports_dir=args.reports,
                tracing=not args.no_trace, port=args.port, cache=cache))
            print(_line(result, width, several=len(scenarios) > 1), flush=True)
    return 0


def _line(result, width: int, several: bool) -> str:
    word = result.outcome
    when = f"cookie lost at t={result.lost_at:.2f} s" if result.lost_at is not None else "cookie kept"
    if result.outcome == "error":
        when = result.sentence
    where = result.artifacts.get("result", "")
    head = f"{result.scenario}  " if several else ""
    expected = "" if result.expected is None else (
        "  (as expected)" if result.matches_expectation else f"  (expected {result.expected})")
    return f"{head}{result.version:<{width}}  {word:<10}  {when}{expected}  {where}"


if __name__ == "__main__":
    raise SystemExit(main())
