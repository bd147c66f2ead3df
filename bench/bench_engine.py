"""Benchmark: the run engine -- what a suite costs at --jobs 1, 2, 4, 8, and where each run's wall time goes.

    .venv/bin/python bench/bench_engine.py                         # the library on 6.0.0 and 6.1.0, jobs 1 2 4 8
    .venv/bin/python bench/bench_engine.py --jobs 1,4 --scenarios offline-refresh-due sleep-wake

Prints tables and then one JSON document; asserts nothing. Figures come from each run's ``result.json`` timing
(``wall``: the run from set-up to result; ``steps``: first step's start to last step's end; ``overhead`` = wall -
steps; ``sdk_wait``: time inside ``wait``/``wait_for`` steps, i.e. waiting on the SDK's own timers) and from the wall
clock around each suite. Also: cold vs warm bundle cache, and what the engine's means bought -- one run the old way
(its own Playwright and its own Chromium launch, on the critical path) against one on the engine (a pooled browser,
a Playwright per worker, closing in the background).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.engine import Engine, RunOptions, expand  # noqa: E402
from harness.scenario.model import find_scenarios, load_scenario  # noqa: E402
from harness.engine.single import run_scenario  # noqa: E402
from harness.sdks.npm import NpmBundleCache  # noqa: E402

PACKAGE = "@clerk/clerk-js"


def sdk_wait(result: dict) -> float:
    """Seconds inside wait / wait_for steps (the SDK's own timers), from the timeline."""
    starts = {e["data"]["index"]: e["at"] for e in result["events"] if e["kind"] == "step.start"}
    names = {e["data"]["index"]: e["data"]["name"] for e in result["events"] if e["kind"] == "step.start"}
    ends = {e["data"]["index"]: e["at"] for e in result["events"] if e["kind"] in ("step.end", "step.error")}
    return sum(ends[i] - starts[i] for i in starts if i in ends and names[i] in ("wait", "wait_for"))


def suite(scenarios: list, versions: list[str], jobs: int, reports: Path) -> dict:
    options = RunOptions(reports_dir=reports, jobs=jobs)
    plans = expand(scenarios, versions)
    with Engine(options) as engine:
        engine.prepare(plans)
        began = time.perf_counter()
        results = engine.play(plans)
        wall = time.perf_counter() - began
    rows = []
    for r in results:
        d = r.to_dict()
        rows.append({"scenario": r.scenario, "version": r.version, "outcome": r.outcome,
                     "expected": r.expected, **r.timing, "sdk_wait": round(sdk_wait(d), 3)})
    steps = sum(row["steps"] for row in rows)
    return {"jobs": jobs, "runs": len(rows), "wall": round(wall, 2), "sum_steps": round(steps, 2),
            "wall_over_steps": round(wall / steps, 3) if steps else None,
            "median_overhead": round(statistics.median(row["overhead"] for row in rows), 3),
            "verdicts": {f"{row['scenario']}@{row['version']}": row["outcome"] for row in rows}, "rows": rows}


def bundle_cache(version: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cache = NpmBundleCache(Path(tmp))
        began = time.perf_counter()
        cache.get(PACKAGE, version)
        cold = time.perf_counter() - began
        began = time.perf_counter()
        cache.get(PACKAGE, version)
        warm = time.perf_counter() - began
    return {"version": version, "cold_s": round(cold, 3), "warm_s": round(warm, 3)}


def means(version: str, reports: Path, n: int = 3) -> dict:
    """The seed scenario n times the old way (own Playwright + own launch per run) and n times on the engine."""
    scenario = load_scenario(ROOT / "scenarios" / "offline-refresh-due.yaml")
    old = [run_scenario(scenario, version, RunOptions(reports_dir=reports)).timing for _ in range(n)]
    with Engine(RunOptions(reports_dir=reports, jobs=1)) as engine:
        new = [r.timing for r in engine.play(expand([scenario], [version], n))]

    def med(rows: list[dict], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    return {k: {"old": med(old, k), "engine": med(new, k)} for k in ("setup", "teardown", "overhead", "wall")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1,2,4,8", help="comma-separated --jobs values (default 1,2,4,8)")
    parser.add_argument("--versions", nargs="+", default=["6.0.0", "6.1.0"])
    parser.add_argument("--scenarios", nargs="+", default=[str(ROOT / "scenarios")])
    parser.add_argument("--skip-means", action="store_true")
    args = parser.parse_args()
    scenarios = [load_scenario(p) for p in find_scenarios(args.scenarios, ROOT / "scenarios")]
    out: dict = {"cores": len(os.sched_getaffinity(0)), "scenarios": len(scenarios), "versions": args.versions,
                 "bundle_cache": bundle_cache(args.versions[0]), "suites": []}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_means:
            out["means"] = means(args.versions[-1], Path(tmp) / "means")
        for jobs in [int(j) for j in args.jobs.split(",")]:
            out["suites"].append(suite(scenarios, args.versions, jobs, Path(tmp) / f"jobs{jobs}"))
    print_tables(out)
    print(json.dumps(out, indent=1))


def print_tables(out: dict) -> None:
    first = out["suites"][0]
    print(f"per run (--jobs {first['jobs']}): seconds")
    print(f"{'scenario':<28} {'version':<8} {'outcome':<11} {'wall':>6} {'steps':>6} {'overhd':>6} {'setup':>6} "
          f"{'tear':>6} {'sdkwait':>7}")
    for r in first["rows"]:
        print(f"{r['scenario']:<28} {r['version']:<8} {r['outcome']:<11} {r['wall']:>6.2f} {r['steps']:>6.2f} "
              f"{r['overhead']:>6.2f} {r['setup']:>6.2f} {r['teardown']:>6.2f} {r['sdk_wait']:>7.2f}")
    print("\nsuites:")
    print(f"{'jobs':>4} {'runs':>4} {'wall s':>7} {'sum of steps s':>14} {'wall/steps':>10} {'median overhead s':>17} "
          f"{'same verdicts as jobs ' + str(first['jobs']):>26}")
    for s in out["suites"]:
        same = s["verdicts"] == first["verdicts"]
        print(f"{s['jobs']:>4} {s['runs']:>4} {s['wall']:>7.1f} {s['sum_steps']:>14.1f} {s['wall_over_steps']:>10.3f} "
              f"{s['median_overhead']:>17.3f} {'yes' if same else 'NO':>26}")
    b = out["bundle_cache"]
    print(f"\nbundle cache {b['version']}: cold {b['cold_s']:.2f} s, warm {b['warm_s']:.3f} s")
    if "means" in out:
        print("\nwhat the engine's means bought (seed scenario, median seconds; old = own Playwright + own launch "
              "per run):")
        for key, v in out["means"].items():
            print(f"  {key:<9} old {v['old']:.3f}  engine {v['engine']:.3f}")


if __name__ == "__main__":
    main()
