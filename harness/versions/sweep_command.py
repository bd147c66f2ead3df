"""``harness sweep`` and ``harness sweep-report``: the library on a whole release line, resumable, sharded, merged.

``harness sweep SCENARIO... --versions RANGE --reports DIR`` plays every scenario on every selected release (or,
with ``--sample K``, every K-th, then bisects each interval whose ends differ), then confirms each flip with
``--confirm N`` runs on both sides. Everything it plays goes into ``DIR`` as ordinary result folders; a second
invocation on the same ``DIR`` (or with shards' folders named by ``--from``) reuses every finished one, so a sweep
cut by Ctrl-C, a CI timeout or a crash goes on where it stopped. ``--shard I/N`` plays the first pass's share of one
machine (the hash :func:`harness.engine.plan.in_shard` uses everywhere); the confirmation and the bisects, which
depend on the whole line, are played by the merging invocation. Each invocation appends what it cost to
``DIR/sweep-sessions.jsonl``; ``DIR/sweep.json`` records what was selected, when, by which harness version, and the
verdicts -- what ``harness claims`` writes a scenario's ``verdicts:`` from.

``harness sweep-report DIR...`` merges result folders (shards') into one index page and summary without playing.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from harness.engine import Engine, Interrupted, RunPlan, in_shard, options_from_args
from harness.errors import HarnessError
from harness.report.results import Entry, load_results
from harness.scenario.model import Scenario
from harness.versions import sweep
from harness.report.matrix import ERROR, version_key

SESSIONS = "sweep-sessions.jsonl"
SUMMARY = "sweep.json"
INDEX = "index.html"
_P = TypeVar("_P", bound=argparse.ArgumentParser)


def add_parsers(sub: "argparse._SubParsersAction[_P]", *common: Callable[[argparse.ArgumentParser], None]) -> None:
    s = sub.add_parser("sweep", help="every scenario on every release of a range: resumable (--reports DIR), "
                       "shardable (--shard I/N), every flip confirmed (--confirm N); a grid report with a page per run")
    s.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    s.add_argument("--versions", required=True, metavar="RANGE", help="as for matrix: an npm range, a list, every:K")
    s.add_argument("--pre", action="store_true", help="include prereleases in ranges")
    s.add_argument("--sample", type=int, default=1, metavar="K",
                   help="run every K-th release first, then bisect each interval whose ends differ (default 1: all)")
    s.add_argument("--confirm", type=int, default=3, metavar="N",
                   help="runs on each side of every flip before it is reported as confirmed (default 3; 1: none)")
    s.add_argument("--from", dest="sources", action="append", type=Path, default=[], metavar="DIR",
                   help="other result folders (e.g. shards') whose finished runs count as played")
    s.add_argument("--retry-errors", action="store_true", help="play runs that ended in error again")
    r = sub.add_parser("sweep-report", help="merge sweeps' result folders (e.g. shards') into one index page")
    r.add_argument("folders", nargs="+", type=Path, metavar="DIR")
    r.add_argument("-o", "--output", type=Path, default=None, metavar="PATH",
                   help="the index page (default: index.html in the first DIR)")
    r.add_argument("--confirm", type=int, default=3, metavar="N", help="as for sweep: runs a confirmed flip needs")
    c = sub.add_parser("claims", help="rewrite scenarios' verdicts: from a sweep's results (the smallest set of ranges "
                       "covering them); shows the diff, writes only with --write")
    c.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    c.add_argument("--from", dest="sources", action="append", type=Path, required=True, metavar="DIR",
                   help="a sweep's --reports folder (repeat for shards)")
    c.add_argument("--write", action="store_true", help="write the new verdicts into the scenario files")
    for add in common:
        add(s)


def harness_version() -> str:
    from harness import __version__

    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return __version__ + (f"+{sha}" if sha else "")


def read_entries(folders: list[Path]) -> list[Entry]:
    """Every finished run in ``folders`` (missing or empty folders hold none)."""
    found: list[Entry] = []
    for folder in folders:
        if not folder.is_dir() or not any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir()):
            continue
        entries, _ = load_results([folder])
        found.extend(entries)
    return found


def read_sessions(folders: list[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for folder in folders:
        path = folder / SESSIONS
        if path.is_file():
            rows.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return rows


class _Meter:
    """Wall and CPU time of this process and the browsers it started and reaped, between start and stop."""

    def __init__(self) -> None:
        self.wall0, self.cpu0 = time.monotonic(), self._cpu()

    @staticmethod
    def _cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def session(self, runs: int, jobs: int, shard: tuple[int, int] | None) -> dict[str, Any]:
        return {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": socket.gethostname(),
                "runs": runs, "wall": round(time.monotonic() - self.wall0, 2), "cpu": round(self._cpu() - self.cpu0, 2),
                "jobs": jobs, "shard": f"{shard[0]}/{shard[1]}" if shard else None, "harness": harness_version()}


class _Sweep:
    """One invocation: what is done, what to play next, and the engine that plays it."""

    def __init__(self, args: argparse.Namespace, scenarios: list[Scenario], versions: list[str]) -> None:
        self.args, self.scenarios, self.versions = args, scenarios, versions
        self.options = options_from_args(args).with_(repeat=1)
        self.folder: Path = args.reports
        self.done = sweep.finished((e.result for e in read_entries([self.folder, *args.sources])),
                                   retry_errors=args.retry_errors)
        self.ids = {s.id for s in scenarios}
        self.played = 0

    def results(self) -> list[dict[str, Any]]:
        return [r for r in self.done.values() if r["scenario"] in self.ids and r["version"] in self.versions]

    def play(self, plans: list[RunPlan], engine: Engine, what: str) -> None:
        plans = [p for p in plans if p.key not in self.done]
        if not plans:
            return
        from harness.report.progress import Progress

        print(f"sweep: {what}: {len(plans)} run{'s' if len(plans) != 1 else ''}, "
              f"{self.options.jobs_for(len(plans))} at a time", file=sys.stderr, flush=True)
        with Progress(len(plans)) as progress:
            def done(plan: RunPlan, r: Any) -> None:
                self.done[plan.key] = r.to_dict()
                self.played += 1
                progress.done(plan.key, f"{r.scenario:<34} {r.version:<9} #{r.repeat} {r.outcome:<11} "
                                        f"{(r.sentence or '').splitlines()[0][:110] if r.outcome == ERROR else ''}")
            try:
                engine.play(plans, on_start=lambda p: progress.start(p.key, p.label), on_done=done)
            except Interrupted as stop:
                for r in stop.results:
                    self.done.setdefault(sweep.key_of(r.to_dict()), r.to_dict())
                raise

    def outcome(self, scenario: Scenario, version: str, engine: Engine) -> str:
        """The consensus of a release's runs, playing its first run when it has none (a bisect probe)."""
        self.play([RunPlan(scenario, version, 1)], engine, f"bisect probe {scenario.id} on {version}")
        agreed = sweep.consensus(r for r in self.results() if r["scenario"] == scenario.id
                                 and r["version"] == version)
        return agreed[(scenario.id, version)].outcome if agreed else ERROR

    def bisect_gaps(self, engine: Engine) -> None:
        """Between neighbouring sampled releases whose verdicts differ, bisect the releases not yet run."""
        for scenario in self.scenarios:
            known = {v: c.outcome for (s, v), c in sweep.consensus(self.results()).items() if s == scenario.id}
            sweep.bisect_intervals(self.versions, known, lambda v, s=scenario: self.outcome(s, v, engine))  # type: ignore[misc]

    def confirm(self, engine: Engine) -> None:
        """Each side of every flip gets ``--confirm`` runs; new flips that makes (a side turned flaky) too."""
        by_id = {s.id: s for s in self.scenarios}
        for _ in range(4):  # a flaky side moves the flip to its neighbours; a few rounds settle it
            counts = sweep.consensus(self.results())
            plans = []
            for flip in sweep.flips(self.results(), self.args.confirm):
                for version in (flip.before, flip.after):
                    have = counts[(flip.scenario, version)].verdict_runs
                    plans += [RunPlan(by_id[flip.scenario], version, n)
                              for n in range(2, self.args.confirm + 1) if have < self.args.confirm]
            plans = list({p.key: p for p in plans if p.key not in self.done}.values())
            if not plans:
                return
            self.play(plans, engine, "confirming flips")


def main(args: argparse.Namespace) -> int:
    from harness import resources
    from harness.scenario.model import find_scenarios, load_scenario
    from harness.versions.commands import package_of, releases
    from harness.versions.runs import engine_for, with_webdriver
    from harness.versions.select import select

    if args.sample < 1 or args.confirm < 1:
        raise HarnessError("--sample and --confirm take a whole number >= 1")
    if args.repeat > 1:
        raise HarnessError("a sweep repeats where it matters, on both sides of each flip: use --confirm N, "
                           "not --repeat")
    options = options_from_args(args)
    scenarios = [with_webdriver(load_scenario(p), options.webdriver)
                 for p in find_scenarios(args.scenarios, resources.library_dir())]
    package = package_of(scenarios)
    chosen = [r.version for r in select(args.versions, releases(package), pre=args.pre)]
    state = _Sweep(args, scenarios, chosen)
    first = [RunPlan(s, v, 1) for s in scenarios for v in sweep.sample(chosen, args.sample)]
    if options.shard:
        first = in_shard(first, *options.shard)
    meter = _Meter()
    print(f"sweep: {len(scenarios)} scenario{'s' if len(scenarios) != 1 else ''} x {len(chosen)} releases of "
          f"{package} ({chosen[0]} .. {chosen[-1]}); first pass {len(first)} runs, "
          f"{sum(1 for p in first if p.key in state.done)} already finished in "
          f"{', '.join(map(str, [args.reports, *args.sources]))}", file=sys.stderr, flush=True)
    interrupted: Interrupted | None = None
    engine = engine_for(options)
    try:
        state.play(first, engine, "first pass" + (f" (shard {options.shard[0]}/{options.shard[1]})"
                                                  if options.shard else ""))
        if not options.shard:  # bisects and confirmations need the whole line: the merging invocation plays them
            if args.sample > 1:
                state.bisect_gaps(engine)
            if args.confirm > 1:
                state.confirm(engine)
    except Interrupted as stop:
        interrupted = stop
    finally:
        engine.close()
        args.reports.mkdir(parents=True, exist_ok=True)
        with (args.reports / SESSIONS).open("a") as log:
            log.write(json.dumps(meter.session(state.played, options.jobs_for(max(1, len(first))), options.shard))
                      + "\n")
    folders = [args.reports, *args.sources]
    if not state.results() and not first and options.shard:
        print(f"shard {options.shard[0]}/{options.shard[1]} holds none of these runs; nothing to do", file=sys.stderr)
        return 0
    code = report(folders, args.html or args.reports / INDEX, args.confirm, package, chosen, scenarios,
                  args.versions, args.sample, notice="interrupted: this sweep did not finish; run the same command "
                  "again to go on" if interrupted else None)
    if args.junit is not None:
        from harness.report import junit

        junit.write_junit(read_entries(folders), args.junit)
        print(f"junit: {args.junit}", file=sys.stderr)
    if interrupted is not None:
        raise interrupted
    return code


def report(folders: list[Path], index: Path, confirm: int, package: str | None = None,
           chosen: list[str] | None = None, scenarios: list[Scenario] | None = None, selection: str = "",
           sample: int = 1, notice: str | None = None) -> int:
    """Write the index page and ``sweep.json``, print the summary; 1 when a run ended in error or differs from its
    scenario's claim, else 0."""
    from harness.versions import sweep_html

    entries = read_entries(folders)
    if scenarios is not None:
        ids = {s.id for s in scenarios}
        entries = [e for e in entries if e.result["scenario"] in ids and e.result["version"] in (chosen or [])]
    latest = {sweep.key_of(e.result): e for e in sorted(entries, key=lambda e: e.result.get("started_at") or 0)}
    entries = list(latest.values())
    if not entries:
        raise HarnessError(f"no finished runs in {', '.join(map(str, folders))}; run `harness sweep` first")
    results = [e.result for e in entries]
    cost = sweep.cost_of(read_sessions(folders))
    package = package or results[0].get("sdk", "")
    versions = sorted({r["version"] for r in results}, key=version_key)
    planned = len(chosen) * len(scenarios) if chosen and scenarios else None
    about = (f"{package}, {len(versions)} releases run ({versions[0]} .. {versions[-1]})"
             + (f" of {len(chosen)} selected by {selection!r}" if chosen else "") + f", {len(results)} runs")
    sweep_html.write_index(entries, index, title="Sweep: " + ", ".join(sorted({r['scenario'] for r in results})),
                           about=about, cost=cost, total_runs=planned, confirm=confirm, notice=notice)
    _write_summary(index.parent / SUMMARY, results, package, chosen or versions, selection, sample, confirm)
    lines = sweep.summary_lines(results, confirm)
    if chosen and sample > 1:
        for s in sorted({r["scenario"] for r in results}):
            verdicts = {v: c.outcome for (sc, v), c in sweep.consensus(results).items()
                        if sc == s and c.outcome not in (ERROR, sweep.FLAKY)}
            spots = sweep.blind_spots(list(verdicts), chosen, verdicts)
            if spots:
                a, b, gap = max(spots, key=lambda spot: spot[2])
                lines.append(f"{s}: not excluded: a verdict that flips and flips back inside any of {len(spots)} "
                             f"stretches of {sum(g for _, _, g in spots)} releases never run between two run releases "
                             f"that agree (the widest: {gap} releases between {a} and {b})")
    for line in lines:
        print(line)
    print(cost.text())
    print(f"report: {index}", file=sys.stderr)
    bad = any(r.get("outcome") == ERROR or (r.get("expected") is not None and r["outcome"] != r["expected"])
              for r in results)
    return 1 if bad else 0


def _write_summary(path: Path, results: list[dict[str, Any]], package: str, selected: list[str], selection: str,
                   sample: int, confirm: int) -> None:
    from harness.report.artifacts import write_atomic

    agreed = sweep.consensus(results)
    data = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "harness": harness_version(), "package": package,
            "selection": selection, "selected": selected, "sample": sample, "confirm": confirm,
            "verdicts": {s: {v: c.counts for (sc, v), c in sorted(agreed.items(), key=lambda kv: version_key(kv[0][1]))
                             if sc == s} for s in dict.fromkeys(s for s, _ in agreed)}}
    write_atomic(path, json.dumps(data, indent=1) + "\n")


def claims_main(args: argparse.Namespace) -> int:
    """Print each scenario's new ``verdicts:`` as a diff; write them with ``--write``. 1 when a file would change
    and was not written (a CI check that the library's claims are the sweep's), else 0."""
    import difflib

    from harness import resources
    from harness.report.artifacts import write_atomic
    from harness.scenario.model import find_scenarios, load_scenario, parse_scenario
    from harness.versions import claims
    from harness.versions.commands import package_of, releases

    scenarios = [load_scenario(p) for p in find_scenarios(args.scenarios, resources.library_dir())]
    package = package_of(scenarios)
    by_folder = {folder: list(sweep.finished(e.result for e in read_entries([folder])).values())
                 for folder in args.sources}
    metas = {folder: json.loads((folder / SUMMARY).read_text()) if (folder / SUMMARY).is_file() else {}
             for folder in args.sources}
    published = [r.version for r in releases(package).stable()]
    changed = 0
    for scenario in scenarios:
        mine = list(sweep.finished(r for rs in by_folder.values() for r in rs if r["scenario"] == scenario.id).values())
        if not mine or scenario.path is None:
            print(f"{scenario.id}: no runs in {', '.join(map(str, args.sources))}; left as it is", file=sys.stderr)
            continue
        ran = sorted({r["version"] for r in mine}, key=version_key)
        # The releases each sweep that ran this scenario selected (a sampled sweep's unrun ones are named as such).
        sources = [f for f, rs in by_folder.items() if any(r["scenario"] == scenario.id for r in rs)]
        selected = sorted(set(ran).union(*(metas[f].get("selected") or [] for f in sources)), key=version_key)
        sweeps = sorted({f"{metas[f].get('date', 'an unknown date')} (harness {metas[f].get('harness', 'unknown')})"
                         for f in sources})
        line = [c for (s, _), c in sweep.consensus(mine).items() if s == scenario.id]
        new = claims.bands(line, selected, published[-1] if published else None)
        if not new:
            print(f"{scenario.id}: no verdict among its runs (all error or flaky); left as it is", file=sys.stderr)
            continue
        kept = claims.kept_outside(scenario.verdicts, selected[0], selected[-1], published)
        record = (f"from `harness sweep` on {', '.join(sweeps)}: {len(ran)} of {len(selected)} selected releases of "
                  f"{package} ({selected[0]} .. {selected[-1]}) run, {len(mine)} runs")
        old_text = scenario.path.read_text()
        gaps = claims.unclaimed(line, selected, new)
        new_text = claims.rewrite(old_text, claims.verdicts_block(new, kept, record, gaps))
        parse_scenario(new_text, scenario.path)  # the new claims load (disjoint ranges), or nothing is written
        if new_text == old_text:
            continue
        changed += 1
        sys.stdout.writelines(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True),
                                                   f"a/{scenario.path.name}", f"b/{scenario.path.name}"))
        if args.write:
            write_atomic(scenario.path, new_text)
            print(f"wrote {scenario.path}", file=sys.stderr)
    return 1 if changed and not args.write else 0


def report_main(args: argparse.Namespace) -> int:
    for folder in args.folders:
        if not folder.is_dir():
            raise HarnessError(f"{folder} is not a folder; pass the --reports folders of sweeps (e.g. shards')")
    return report(list(args.folders), args.output or args.folders[0] / INDEX, args.confirm)
