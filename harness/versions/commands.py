"""``harness matrix`` and ``harness bisect``, and ``--sdk-version from:PATH`` for every run command.

Front doors like harness/cli.py, sharing its helpers (:mod:`harness.frontdoor`): they turn options into releases
(:mod:`.select`), pairs into results (:func:`.runs.run_pairs`, the engine's seam) and results into lines, a summary
and the report. Bad input is a HarnessError before any browser starts.

Invariant: the package whose releases are listed, selected and resolved is always the scenarios' own SDK's
(``setup.sdk`` -> the adapter registry -> ``adapter.package``), never a default one; a matrix spans one SDK.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import semantic_version
from typing import TypeVar

from harness.errors import HarnessError
from harness.frontdoor import OptionAdder, not_run, run_line, write_reports
from harness.scenario.model import Scenario
from harness.engine.result import RunResult
from harness.sdks import adapter_class
from harness.report import matrix as matrix_view
from harness.versions.bisect import BisectAnswer, Probe, bisect_versions
from harness.versions.published import Release, Releases, published_releases
from harness.engine import Interrupted, options_from_args
from harness.versions.runs import engine_for, plans_for, play_plans, run_pairs, with_webdriver
from harness.versions.select import FROM, resolve_exact, select

_P = TypeVar("_P", bound=argparse.ArgumentParser)  # the parser class of the caller's subcommands (cli's _Parser)


def add_parsers(sub: "argparse._SubParsersAction[_P]", *common: OptionAdder) -> None:
    """Add ``matrix`` and ``bisect``; ``common`` adds the options every run command takes."""
    m = sub.add_parser("matrix", help="run scenarios on a range of published releases; one line per run, a summary "
                       "and a releases x scenarios report")
    m.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    m.add_argument("--versions", required=True, metavar="RANGE",
                   help="an npm range ('>=5.120.0 <6.5.0', '6.x', '*'), a list ('5.128.0, 6.1.0'), from:PATH, and "
                        "optionally every:K to run every K-th release of the selection (ends included); comma-"
                        "separated parts may also be dist-tags, tarballs, package folders or tarball URLs, played "
                        "beside the releases")
    m.add_argument("--pre", action="store_true", help="include prereleases in ranges (default: stable only)")
    b = sub.add_parser("bisect", help="find the adjacent releases where a scenario's verdict flips")
    b.add_argument("scenario", metavar="SCENARIO")
    b.add_argument("--good", required=True, metavar="V", help="a release on one side (X.Y.Z, a dist-tag, from:PATH, "
                   "or a local build: a tarball, folder or URL, placed at its package.json version)")
    b.add_argument("--bad", required=True, metavar="V", help="a release (or build) on the other side; older or newer")
    b.add_argument("--pre", action="store_true", help="search prereleases too (default: stable releases only)")
    for parser in (m, b):
        for add in common:
            add(parser)


def releases(package: str) -> Releases:
    """The published releases of an SDK's package (cached; stale but usable offline). Warns when the list is stale."""
    from harness.sdks.npm import NpmBundleCache, default_cache_dir

    found = published_releases(package, NpmBundleCache(), default_cache_dir())
    if found.stale:
        import time

        hours = (time.time() - found.fetched_at) / 3600
        print(f"warning: npm could not list {package}'s releases; using the list cached {hours:.1f} h ago",
              file=sys.stderr)
    return found


def package_of(scenarios: list[Scenario]) -> str:
    """The npm package these scenarios' SDK is published as; one SDK only (a release list is one package's)."""
    sdks = sorted({s.setup.sdk for s in scenarios})
    if len(sdks) != 1:
        raise HarnessError(f"these scenarios are for {' and '.join(sdks) or 'no SDK'} (setup.sdk); a release range "
                           "is one SDK's: name the scenarios of one SDK (e.g. scenarios/ or scenarios/supabase/)")
    return adapter_class(sdks[0]).package


def resolve_versions(values: list[str] | None, package: str) -> list[str] | None:
    """``--sdk-version`` values as the labels runs carry: a release as given, a dist-tag asked now, ``from:PATH``
    resolved, and a tarball, folder or URL checked and put in the cache (:mod:`harness.sdks.builds`). Every value is
    parsed before any is fetched, so bad input is refused before anything is cached or started."""
    if not values:
        return values
    from harness.sdks import adapter_for_package
    from harness.sdks.builds import parse_all, resolve
    from harness.sdks.npm import NpmBundleCache

    adapter = adapter_for_package(package)
    if adapter is None:
        raise HarnessError(f"no adapter plays {package}")
    cache = NpmBundleCache()
    specs = parse_all(values)
    from harness.versions.lockfiles import spec_from

    def from_lockfile(path: Path) -> str:
        return spec_from(path, package, lambda: releases(package))

    labels = [resolve(spec, package, adapter.bundle_file, cache, from_lockfile, say=_say) for spec in specs]
    return list(dict.fromkeys(labels))  # one build given twice (as a folder and its tarball) is one version


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- matrix -----------------------------------------------------------------------------------------------------

def matrix(args: argparse.Namespace) -> int:
    from harness import resources
    from harness.report.progress import Progress
    from harness.scenario.model import find_scenarios, load_scenario

    options = options_from_args(args)
    scenarios = [with_webdriver(load_scenario(p), options.webdriver)
                 for p in find_scenarios(args.scenarios, resources.library_dir())]
    package = package_of(scenarios)
    range_text, build_texts = split_builds(args.versions)
    chosen = select(range_text, releases(package), pre=args.pre) if range_text or not build_texts else []
    built = [v for v in resolve_versions(build_texts, package) or [] if v not in {r.version for r in chosen}]
    chosen += [Release(v, None) for v in built]  # builds (and dist-tags) beside the selection, in the order given
    plans = plans_for([(s, r.version) for s in scenarios for r in chosen], options.repeat)
    runs = len(plans)
    width = max(len(r.version) for r in chosen)
    results: list[RunResult] = []
    interrupted: Interrupted | None = None
    with engine_for(options) as engine:
        engine.prepare([])  # the browsers: found (and warned about) before the count is printed
        print(f"matrix: {len(scenarios)} scenario{'s' if len(scenarios) != 1 else ''} x {len(chosen)} releases of "
              f"{package} ({chosen[0].version} .. {chosen[-1].version}) = {runs} runs, "
              f"{options.jobs_for(runs)} at a time", file=sys.stderr)
        with Progress(runs) as progress:
            try:
                results = play_plans(plans, engine,
                                     on_start=lambda s, v: progress.start(f"{s.id}@{v}", f"{s.id} on {v}"),
                                     on_done=lambda r: progress.done(f"{r.scenario}@{r.version}",
                                                                     run_line(r, width, several=len(scenarios) > 1)))
            except Interrupted as stop:
                results, interrupted = stop.results, stop
            finally:  # stopped by Ctrl-C or SIGTERM: the finished runs reported, the unplayed ones named
                write_reports(results, args.html or args.reports / "report.html", args.junit,
                              not_run(plans, results, interrupted))
    from harness.report.build_diff import summary_lines as build_differences

    for line in build_differences(r.to_dict() for r in results):  # a build beside releases: its difference first
        print(line)
    for line in matrix_view.summary_lines(matrix_view.grid(r.to_dict() for r in results)):
        print(line)
    if interrupted is not None:
        raise interrupted
    return 1 if any(r.matches_expectation is False for r in results) else 0


def split_builds(text: str) -> tuple[str, list[str]]:
    """``--versions`` text -> (the release selection, the comma-separated parts that name builds or dist-tags)."""
    from harness.sdks.builds import BuildSpec

    ranges: list[str] = []
    builds: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        try:
            kind = BuildSpec.parse(part).kind if part else "release"
        except HarnessError:
            kind = "release"  # a range, a list, every:K: select() reads (and refuses) those
        (builds if kind in ("tarball", "folder", "url", "cached", "tag") else ranges).append(part)
    return ", ".join(p for p in ranges if p), builds


# -- bisect -----------------------------------------------------------------------------------------------------

def bisect(args: argparse.Namespace) -> int:
    from harness import resources
    from harness.scenario.model import find_scenarios, load_scenario

    options = options_from_args(args).with_(repeat=1)  # each probe is one run: bisect does not repeat
    paths = find_scenarios([args.scenario], resources.library_dir())
    if len(paths) != 1:
        raise HarnessError(f"bisect takes one scenario; {args.scenario!r} names {len(paths)}: pick one of them")
    scenario = with_webdriver(load_scenario(paths[0]), options.webdriver)
    known = releases(package_of([scenario]))
    good, bad = (_release(v, known, flag) for v, flag in ((args.good, "--good"), (args.bad, "--bad")))
    if good.version == bad.version:
        raise HarnessError(f"--good and --bad are both {good.version}; give two different releases")
    line = span(known, good, bad, args.pre)
    print(f"bisect {scenario.id} over {len(line)} releases of {known.package}, {line[0].version} .. {line[-1].version} "
          f"(good {good.version}, bad {bad.version}): about {_expected_runs(len(line))} runs", flush=True)
    results: dict[str, RunResult] = {}
    engine = engine_for(options)

    def verdict_of(version: str) -> str:
        [result] = run_pairs([(scenario, version)], engine)  # one probe at a time: each depends on the last
        results[version] = result
        return result.outcome

    def on_step(probe: Probe) -> None:
        print(step_line(len(results), probe), flush=True)

    try:
        answer = bisect_versions([r.version for r in line], verdict_of, on_step)
    except Interrupted:
        raise
    finally:
        engine.close()
        write_reports(list(results.values()), args.html or args.reports / "report.html", args.junit)
    for text in answer_lines(answer, known, {v: r.reproduce for v, r in results.items()}, [r.version for r in line]):
        print(text)
    exact = len(answer.flips) == 1 and answer.flips[0].exact and not answer.non_monotonic
    return 0 if exact else 1


def _release(value: str, known: Releases, flag: str) -> Release:
    """An end of the search: a published release, or a local build (placed on the line at its version)."""
    from harness.sdks.builds import BuildSpec, is_build_label

    if BuildSpec.parse(value).kind == "release":
        version = resolve_exact(value, known.package, lambda: known)
    else:
        [version] = resolve_versions([value], known.package) or [value]
    if is_build_label(version):
        return Release(version, None)
    found = known.get(version)
    if found is None:
        raise HarnessError(f"{flag} {version}: no published version {version} of {known.package} (newest stable: "
                           f"{known.stable()[-1].version if known.stable() else 'none'})")
    return found


def span(known: Releases, a: Release, b: Release, pre: bool) -> list[Release]:
    """The published releases from the older of a, b to the newer, both ends included (prereleases only with
    ``pre``, or when an end is one)."""
    from harness.sdks.builds import is_build_label, release_of

    lo, hi = sorted((a, b), key=lambda r: semantic_version.Version(release_of(r.version)))
    low, high = (semantic_version.Version(release_of(r.version)) for r in (lo, hi))
    inner = [r for r in known.items
             if low <= r.semver <= high and (pre or not r.prerelease or r in (lo, hi))]
    # A build is played at its end of the line, beside the release of its version: a flip between them is the build's.
    return ([lo] if is_build_label(lo.version) else []) + inner + ([hi] if is_build_label(hi.version) else [])


def _expected_runs(n: int) -> int:
    return 2 + max(0, (n - 2).bit_length()) if n > 2 else n


def step_line(index: int, probe: Probe) -> str:
    note = f"  {probe.note}" if probe.note else ""
    return f"{f'[{index}]':<5}{probe.version:<9} {probe.outcome:<11} remaining: {probe.remaining()}{note}"


def answer_lines(answer: BisectAnswer, known: Releases, replay: dict[str, str],
                 searched: list[str] | None = None) -> list[str]:
    def named(version: str) -> str:
        release = known.get(version)
        if release is None and "+build." in version:
            return f"{version} (a local build)"
        return f"{version} (published {release.date if release else 'date unknown'})"

    out = []
    if answer.ends_error:
        out.append(f"no answer: {', '.join(answer.ends_error)} gave no verdict (error), so the search cannot start "
                   f"there; see its result, or pick a neighbouring release")
    elif not answer.flips:
        first = next(iter(answer.outcomes.values()))
        out.append(f"no flip found: every release run gives {first}; if the verdict changes inside this range it "
                   f"changes back too (run `harness matrix` on it to see)")
    for note in answer.non_monotonic:
        out.append(f"non-monotonic history: {note}")
    for flip in answer.flips:
        if flip.exact:
            out.append(f"the verdict flips between {flip.before} and {flip.after}:")
        else:
            out.append(f"the verdict flips somewhere from {flip.before} to {flip.after}; these releases between "
                       f"could not be tested (error): {', '.join(flip.between)}")
        out.append(f"  last {flip.before_outcome}: {named(flip.before)}")
        out.append(f"    replay: {replay.get(flip.before, '')}")
        out.append(f"  first {flip.after_outcome}: {named(flip.after)}")
        out.append(f"    replay: {replay.get(flip.after, '')}")
    skipped = answer.skipped
    out.append(f"{answer.runs} runs" + (f"; skipped (error, like git bisect skip): {', '.join(skipped)}"
                                        if skipped else "; none skipped"))
    out.extend(not_excluded(answer, searched or []))
    return out


def not_excluded(answer: BisectAnswer, searched: list[str]) -> list[str]:
    """What this search cannot exclude: a verdict that flips and flips back among releases never run between two
    run releases that agree (a bisect assumes the stretch is constant; `harness sweep` runs every release)."""
    from harness.versions.sweep import blind_spots

    judged = {v: o for v, o in answer.outcomes.items() if o != "error"}
    spots = blind_spots(list(judged), searched, judged)
    if not spots:
        return []
    a, b, gap = max(spots, key=lambda spot: spot[2])
    return [f"not excluded: a verdict that flips and flips back among the {sum(g for _, _, g in spots)} releases "
            f"never run between runs that agree (the widest stretch: {gap} releases between {a} and {b}); "
            "`harness sweep` runs them all"]


__all__ = ["add_parsers", "matrix", "bisect", "resolve_versions", "releases", "package_of", "FROM"]
