"""The command line: ``harness repro``, ``harness run``, ``harness report``, ``harness serve``, ``harness browser``,
``harness bundle`` (and, from their own modules, ``harness matrix``, ``harness bisect``, ``harness fuzz``).

A thin front door: it parses options, finds the browser and the scenarios, and calls the runner. Any
:class:`HarnessError` becomes one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Sequence

from harness import resources
from harness.app.options import add_cli_options as add_app_options
from harness.errors import HarnessError
from harness.frontdoor import not_run as _not_run
from harness.frontdoor import positive_int
from harness.frontdoor import run_line as _line
from harness.frontdoor import write_reports as _write_reports
from harness.report.progress import Progress
from harness.sdks import DEFAULT_SDK as _DEFAULT_SDK
from harness.sdks import SDKS

# The first adapter's own option name, from before there were others; kept as an alias of --sdk-version.
_VERSION_ALIAS = "--clerk-version"

if TYPE_CHECKING:
    from harness.engine.scheduler import SignalHandler


def _browser_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chromium", metavar="PATH", help="Chromium binary to use (default: $HARNESS_CHROMIUM, "
                        "then a Playwright-managed browser, then Debian's chromium, then Chrome)")
    parser.add_argument("--browser-mode", choices=["real", "emulated", "simulated"], default=None,
                        help="real (default): a Chromium the harness launches itself, with the browser's own tab "
                        "visibility and focus (needs a full Chromium; without one, falls back to simulated and says "
                        "so); emulated: Playwright's page lifecycle (always visible and focused, no tab steps); "
                        "simulated: an init-script visibility/focus override. Default: the scenario's "
                        "setup.browser_mode, else real")
    parser.add_argument("--headed", action="store_true", help="show the browser window (needs a display)")
    parser.add_argument("--slowmo", type=float, default=0, metavar="MS", help="slow every browser action by MS ms")
    parser.add_argument("--reports", type=Path, default=Path("reports"), metavar="DIR",
                        help="where result folders go (default: reports/)")
    parser.add_argument("--no-trace", action="store_true", help="do not record a Playwright trace (= --trace off)")
    parser.add_argument("--trace", choices=["on", "off", "retain-on-failure"], default=None,
                        help="record a Playwright trace of each run: on (default), off, or retain-on-failure (kept "
                             "only for runs that broke or whose outcome differs from the file's claim)")
    parser.add_argument("--webdriver", choices=["masked", "exposed"], default=None,
                        help="override the scenario's setup.webdriver: exposed keeps Playwright's navigator.webdriver "
                             "= true (an SDK may then treat any failed request as offline); the result says which")
    parser.add_argument("--port", type=int, default=0, help="port for the mock server (default: any free port; a "
                        "fixed port allows only --jobs 1)")
    _engine_options(parser)
    add_app_options(parser)  # harness/app/spec.py: the one definition, shared with the pytest plugin


def _engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", "-j", default="auto", metavar="N",
                        help="runs played at once (default: auto, two per CPU core, at most 8; 1 = one after another)")
    parser.add_argument("--repeat", type=positive_int, default=1, metavar="N",
                        help="play each scenario x version N times and report verdict counts and the flake rate")
    parser.add_argument("--shard", metavar="I/N", help="play only shard I of N (stable on every machine: a hash of "
                        "scenario, version and repeat), e.g. --shard 1/2 on one CI machine and --shard 2/2 on another")
    parser.add_argument("--cdp-endpoint", action="append", metavar="URL",
                        help="drive a Chromium started elsewhere with --remote-debugging-port (ws:// or http:// URL), "
                             "in its default context, one run at a time; repeat for several browsers")
    parser.add_argument("--claims-as", metavar="X.Y.Z", help="judge local SDK builds by the claims for this release "
                        "instead of their package.json version (releases keep their own)")
    parser.add_argument("--mock-host", metavar="ADDR", help="address the mock binds (default 127.0.0.1; another "
                        "address only for a remote browser that cannot reach loopback)")
    parser.add_argument("--public-host", metavar="HOST", help="host the browser uses to reach the mock (default: the "
                        "--mock-host address)")



def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--html", type=Path, metavar="PATH", help="write the HTML report here (default: "
                        "report.html in the reports folder)")
    parser.add_argument("--junit", type=Path, metavar="PATH", help="also write JUnit XML here")


class _Parser(argparse.ArgumentParser):
    """argparse, with bad usage said in one line (and where to read more) instead of the whole usage block."""

    def error(self, message: str) -> "NoReturn":
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="harness", description="Reproduce auth-SDK sign-outs caused by network "
                     "blips, in a real Chromium against the real SDK bundle.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    repro = sub.add_parser("repro", help="run an SDK's founding scenario (the bug its adapter was written for) on "
                           "each version")
    repro.add_argument("versions", nargs="*", default=None, metavar="VERSION",
                       help="versions of the SDK's package: X.Y.Z, a dist-tag, a tarball, a package folder, a "
                            "tarball URL or from:PATH (default: its two known versions, one each side of the "
                            "founding fix)")
    repro.add_argument("--sdk", choices=sorted(SDKS), default=_DEFAULT_SDK,
                       help=f"which SDK's founding scenario (default: {_DEFAULT_SDK})")
    _browser_options(repro)
    _report_options(repro)

    run = sub.add_parser("run", help="run scenarios (ids, paths or folders) on one or more versions; exit 1 if an "
                         "outcome differs from its file's expected verdict, 2 on bad input")
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    run.add_argument("--sdk-version", _VERSION_ALIAS, action="append", dest="versions", metavar="V",
                     help="a version of the scenarios' SDK package: X.Y.Z, a dist-tag (latest, next, canary, "
                          "snapshot), an npm tarball, a package folder, a tarball URL, or from:PATH (what a "
                          "package-lock.json, pnpm-lock.yaml, yarn.lock or package.json resolves); repeatable "
                          "(default: each scenario's SDK's two known versions, one each side of its founding fix). "
                          f"{_VERSION_ALIAS} is an alias")
    run.add_argument("--sdk", choices=sorted(SDKS), default=None,
                     help="only the scenarios of this SDK (setup.sdk) among those named")
    _browser_options(run)
    _report_options(run)

    report = sub.add_parser("report", help="rebuild the HTML report (and JUnit XML) from saved result folders")
    report.add_argument("results", nargs="+", type=Path, metavar="RESULT",
                        help="result.json files, run folders, or folders of run folders (e.g. reports/)")
    report.add_argument("-o", "--output", type=Path, default=Path("report.html"), metavar="PATH",
                        help="where to write the HTML report (default: report.html)")
    report.add_argument("--junit", type=Path, metavar="PATH", help="also write JUnit XML here")

    serve = sub.add_parser("serve", help="start the mock, the app and a browser, with a control panel for "
                           "reproducing by hand")
    serve.add_argument("--sdk", choices=sorted(SDKS), default=None,
                       help=f"which SDK's app to serve (default: {_DEFAULT_SDK})")
    serve.add_argument("--sdk-version", _VERSION_ALIAS, dest="version", default=None, metavar="V",
                       help="a version of the SDK's package: X.Y.Z, a dist-tag, a tarball, a package folder, a "
                            "tarball URL or from:PATH (default: its version with the founding bug); "
                            f"{_VERSION_ALIAS} is an alias")
    serve.add_argument("--chromium", metavar="PATH", help="Chromium binary to use")
    serve.add_argument("--headed", action="store_true", help="show the browser window, and the panel beside it")
    serve.add_argument("--browser-mode", choices=["real", "emulated", "simulated"], default=None,
                       help="real (default): real tabs, so hide/show work (needs a full Chromium, else falls back to "
                       "simulated and says so); emulated: Playwright's page lifecycle (always visible and focused, no "
                       "hide/show); simulated: an init-script visibility/focus override")
    serve.add_argument("--port", type=int, default=0, help="port for the app and mock (default: any free port)")
    serve.add_argument("--panel-port", type=int, default=0, help="port for the control panel (default: any free)")
    serve.add_argument("--token-ttl", type=float, default=None, metavar="S", help="lifetime of minted session "
                       "tokens in seconds (default: the SDK's own choice for serve, short enough that a refresh "
                       "comes due while you watch)")
    serve.add_argument("--webdriver", choices=["masked", "exposed"], default="masked",
                       help="masked hides navigator.webdriver (an SDK may treat a webdriver browser as offline)")
    serve.add_argument("--reports", type=Path, default=Path("reports"), metavar="DIR",
                       help="where the session's result folder and report go when it ends (default: reports/)")
    add_app_options(serve)

    browser = sub.add_parser("browser", help="show (or, with --ensure, install) the Chromium the harness will use")
    browser.add_argument("--ensure", action="store_true", help="install Debian's chromium when none is found "
                         "(root on Debian/Ubuntu only)")
    browser.add_argument("--chromium", metavar="PATH")
    browser.add_argument("--list", action="store_true", help="list every browser found")
    browser.add_argument("--prefer-tabs", action="store_true", help="like --need-tabs, but when no full Chromium "
                         "can be had, accept a headless shell and say that runs will use simulated tabs")
    browser.add_argument("--need-tabs", action="store_true", help="require a full Chromium (the real tab mode "
                         "cannot use a headless shell)")

    bundle = sub.add_parser("bundle", help="fetch SDK bundles into the cache (integrity-checked); --list, --prune")
    bundle.add_argument("versions", nargs="*", metavar="VERSION")
    bundle.add_argument("--sdk", choices=sorted(SDKS), default=_DEFAULT_SDK,
                        help=f"whose package to fetch or list (--published) (default: {_DEFAULT_SDK})")
    from harness.sdks.cache_admin import add_bundle_options
    from harness.versions.commands import add_parsers as add_version_commands

    add_bundle_options(bundle)
    add_version_commands(sub, _browser_options, _report_options)  # harness matrix, harness bisect
    from harness.versions.sweep_command import add_parsers as add_sweep_commands

    add_sweep_commands(sub, _browser_options, _report_options)  # harness sweep, harness sweep-report
    from harness.fuzz.command import add_parser as add_fuzz_command

    add_fuzz_command(sub, _browser_options, _report_options)  # harness fuzz
    return parser


# How long clean-up may take after Ctrl-C before the process leaves anyway. A KeyboardInterrupt raised while
# Playwright's sync dispatcher waits can leave its later calls (closing the context) waiting forever.
INTERRUPT_GRACE_S = 10.0


class _Stop(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM: both stop a command the same way; ``signum`` decides the exit status."""

    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signum = signum


def _on_stop_signal(signum: int, frame: object) -> None:
    def leave() -> None:
        time.sleep(INTERRUPT_GRACE_S)
        print("interrupted: clean-up did not finish; leaving (unfinished result folders are marked INCOMPLETE)",
              file=sys.stderr, flush=True)
        from harness.browser.real_chromium import kill_all

        kill_all()  # os._exit skips atexit, where this would otherwise run: no Chromium may outlive us
        from harness.app.process import kill_all as kill_apps

        kill_apps()  # nor an app under test
        os._exit(128 + signum)

    threading.Thread(target=leave, name="interrupt-grace", daemon=True).start()
    raise _Stop(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous: dict[int, SignalHandler] = {}
    if threading.current_thread() is threading.main_thread() and args.command != "serve":
        for sig in (signal.SIGINT, signal.SIGTERM):  # `serve` stops on Ctrl-C its own way
            previous[sig] = signal.signal(sig, _on_stop_signal)
    try:
        return _dispatch(args)
    finally:
        for signum, handler in previous.items():  # a caller's (a test's, an embedding program's) own handler is theirs
            signal.signal(signum, handler)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        from harness.fuzz import command as fuzz_command
        from harness.versions import commands as version_commands
        from harness.versions import sweep_command

        return {"repro": _repro, "run": _run, "browser": _browser, "bundle": _bundle, "report": _report,
                "serve": _serve, "matrix": version_commands.matrix,
                "bisect": version_commands.bisect, "fuzz": fuzz_command.main, "sweep": sweep_command.main,
                "sweep-report": sweep_command.report_main, "claims": sweep_command.claims_main}[args.command](args)
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a report or result path that cannot be written
        where = f" {err.filename}" if err.filename else ""
        print(f"error: cannot write{where}: {err.strerror or err}; pick another path", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        print("interrupted: result folders of unfinished runs are marked INCOMPLETE", file=sys.stderr)
        return 143 if getattr(err, "signum", None) == signal.SIGTERM else 130


def _browser(args: argparse.Namespace) -> int:
    from harness.browser import discovery

    argv = (["--ensure"] if args.ensure else []) + (["--list"] if args.list else [])
    argv += ["--chromium", args.chromium] if args.chromium else []
    if args.prefer_tabs and not args.need_tabs and not args.list:
        try:
            info = discovery.ensure_browser(args.chromium, install=args.ensure, need_tabs=True)
        except HarnessError as err:  # no full Chromium to be had: any Chromium will do, in simulated tab mode
            info = discovery.find_browser(args.chromium)
            print(f"warning: {err}; runs will use simulated tab visibility and say so", file=sys.stderr)
        print(f"{info.kind} {info.path} ({discovery.browser_version(info) or 'version unknown'})")
        return 0
    argv += ["--need-tabs"] if args.need_tabs else []
    return discovery.main(argv)


def _bundle(args: argparse.Namespace) -> int:
    from harness.sdks.npm import NpmBundleCache

    from harness.sdks import adapter_class
    from harness.sdks.cache_admin import bundle_admin
    from harness.versions.commands import releases

    args.package = adapter_class(args.sdk).package
    if bundle_admin(args, releases):  # --list / --prune / --published
        return 0
    from harness.versions.commands import resolve_versions

    cache = NpmBundleCache()
    for version in resolve_versions(args.versions, args.package) or []:  # builds too: checked and cached
        bundle = cache.get(args.package, version)
        print(f"{version}  {cache.last_event}  {bundle.dist}")
    return 0


def _repro(args: argparse.Namespace) -> int:
    from harness.sdks import adapter_class

    args.scenarios = [adapter_class(args.sdk).seed_scenario]
    args.versions = args.versions or None
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from harness.engine import Engine, Interrupted, in_shard, options_from_args
    from harness.scenario.model import find_scenarios, load_scenario

    if args.headed and not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        raise HarnessError("--headed needs a display; run the command under `xvfb-run -a`, or drop --headed")
    options = options_from_args(args)
    scenarios = [load_scenario(p) for p in find_scenarios(args.scenarios, resources.library_dir())]
    if getattr(args, "sdk", None) and args.command == "run":
        scenarios = [s for s in scenarios if s.setup.sdk == args.sdk]
        if not scenarios:
            raise HarnessError(f"none of the named scenarios is for --sdk {args.sdk} (setup.sdk); name its scenarios"
                               + ("" if args.sdk == _DEFAULT_SDK else f", e.g. scenarios/{args.sdk}/"))
    if options.webdriver:
        for scenario in scenarios:
            if scenario.setup.webdriver != options.webdriver:
                # The file's claims were made for its own setting; under another one they are not claims at all.
                scenario.setup = scenario.setup.model_copy(update={"webdriver": options.webdriver})
                scenario.verdicts = {}
    from harness.engine import RunPlan
    from harness.sdks import adapter_class
    from harness.versions.commands import resolve_versions

    # Each scenario runs on the versions asked for (from:PATH -> the version of its SDK's package that file pins),
    # else on its SDK's two known versions (one each side of a fix).
    asked: dict[str, list[str] | None] = {}
    for package in {adapter_class(s.setup.sdk).package for s in scenarios}:
        asked[package] = resolve_versions(args.versions, package)
    per_scenario = [asked[adapter_class(s.setup.sdk).package] or list(adapter_class(s.setup.sdk).known_versions)
                    for s in scenarios]
    plans = [RunPlan(s, v, n) for s, versions in zip(scenarios, per_scenario, strict=True) for v in versions
             for n in range(1, options.repeat + 1)]
    if options.shard:
        plans = in_shard(plans, *options.shard)
        if not plans:
            print(f"shard {options.shard[0]}/{options.shard[1]} holds none of these runs; nothing to do",
                  file=sys.stderr)
            return 0
    width = max(len(v) for versions in per_scenario for v in versions)
    several = len(scenarios) > 1
    results: list = []
    interrupted: Interrupted | None = None
    with Engine(options, on_note=lambda note: print(f"warning: {note}", file=sys.stderr, flush=True)) as engine:
        engine.prepare(plans)  # unknown versions and missing browsers fail here, before any run starts
        jobs = options.jobs_for(len(plans))
        if len(plans) > 1:
            print(f"{len(plans)} runs, {jobs} at a time", file=sys.stderr, flush=True)
        with Progress(len(plans)) as progress:
            try:
                results = engine.play(plans, on_start=lambda p: progress.start(p.key, p.label),
                                      on_done=lambda p, r: progress.done(p.key, _line(r, width, several)))
            except Interrupted as stop:
                results, interrupted = stop.results, stop
            except HarnessError as err:  # bad input found mid-way: report the runs that finished, then say it
                results = list(getattr(err, "finished", []))
                raise
            finally:  # an interrupted command still reports the runs that finished, and names the rest
                _write_reports(results, args.html or args.reports / "report.html", args.junit,
                               _not_run(plans, results, interrupted))
    _print_build_differences(results)
    if options.repeat > 1:
        _print_repeat_summary(results)
    if interrupted is not None:
        raise interrupted
    # `run` checks each file's claim: exit 1 when an outcome differs from it (an error counts as differing).
    # `repro` demonstrates the bug: 0 whenever every run completed, whatever the verdicts; 1 if one broke.
    if args.command == "run" and any(r.matches_expectation is False for r in results):
        return 1
    if any(r.outcome == "error" for r in results):
        return 1
    return 0


def _print_build_differences(results: list) -> None:
    """A build whose verdict differs from a release's is the first thing the summary says, with both sentences."""
    from harness.report.build_diff import summary_lines

    lines = summary_lines(r.to_dict() for r in results)
    if lines:
        print("\nbuilds beside releases:")
        for line in lines:
            print(line)


def _print_repeat_summary(results: list) -> None:
    from harness.report.repeats import repeat_rows

    print("\nrepeats (verdict counts per scenario x version):")
    for row in repeat_rows(results):
        flake = f"flake rate {row.flake_rate:.0%}" if row.runs > 1 else ""
        stalled = f"  ({row.stalled} with the harness stalled)" if row.stalled else ""
        print(f"  {row.scenario}  {row.version}  {row.counts_text}  {flake}"
              f"{'  (expected ' + row.expected + ')' if row.expected else ''}{stalled}")


def _report(args: argparse.Namespace) -> int:
    from harness.report.results import load_results

    entries, incomplete = load_results(args.results)
    for folder in incomplete:
        print(f"skipped {folder}: marked INCOMPLETE (the run did not finish)", file=sys.stderr)
    if not entries:
        raise HarnessError("no finished runs among the given results; run `harness run` or `harness repro` first")
    _write_reports(entries, args.output, args.junit)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from harness.serve import ServeOptions, serve

    if args.headed and not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        raise HarnessError("--headed needs a display; run the command under `xvfb-run -a`, or drop --headed")
    from harness.engine import options_from_args

    if args.version is not None:
        from harness.sdks import adapter_class
        from harness.versions.commands import resolve_versions

        [args.version] = resolve_versions([args.version], adapter_class(args.sdk or _DEFAULT_SDK).package) or []
    run = options_from_args(args).with_(trace="off", webdriver=args.webdriver)
    return serve(ServeOptions(version=args.version, run=run, panel_port=args.panel_port, token_ttl=args.token_ttl,
                              sdk=args.sdk or _DEFAULT_SDK))


if __name__ == "__main__":
    raise SystemExit(main())
