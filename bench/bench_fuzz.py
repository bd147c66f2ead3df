"""Benchmark: how fast `harness fuzz` explores -- runs per minute at --jobs 1 against --jobs auto.

    .venv/bin/python bench/bench_fuzz.py                      # 8 exploring runs on 6.1.0, seed 11, jobs 1 and auto
    .venv/bin/python bench/bench_fuzz.py --budget 12 --version 6.40.0 --jobs 1,2,auto

Each setting is one real `harness fuzz` session (a subprocess, as a person runs it) on a fixed release, seed and
budget; a fixed release is used so that no violation turns exploring into shrinking, which is sequential by nature
and would measure something else. Figures come from the session's fuzz.json (``explore_s``: wall time spent
exploring; ``runs``: runs played) and the wall clock around the command. Prints a table, then one JSON document;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def session(version: str, budget: int, seed: int, jobs: str, reports: Path) -> dict:
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "fuzz", "--sdk-version", version, "--budget",
                           str(budget), "--seed", str(seed), "--jobs", jobs, "--no-trace", "--reports", str(reports),
                           "--max-findings", "1", "--shrink-runs", "1", "--confirm", "1"],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - began
    data = json.loads((reports / "fuzz" / "fuzz.json").read_text())
    explore = data["runs"]["explore"]
    return {"jobs": jobs, "exit": proc.returncode, "explore_runs": explore, "explore_s": data["explore_s"],
            "runs_per_min": round(60 * explore / data["explore_s"], 2) if data["explore_s"] else None,
            "all_runs": sum(data["runs"].values()), "errors": data["errors"], "violations": data["violations"],
            "command_wall_s": round(wall, 1),
            "interleavings": data["coverage"]["interleavings"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="6.1.0")
    parser.add_argument("--budget", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--jobs", default="1,auto", help="comma-separated --jobs values")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
        for jobs in args.jobs.split(","):
            rows.append(session(args.version, args.budget, args.seed, jobs, Path(tmp) / f"jobs-{jobs}"))
    print(f"harness fuzz on {args.version}, seed {args.seed}, budget {args.budget} runs")
    print(f"{'jobs':>5} {'runs':>5} {'explore s':>10} {'runs/min':>9} {'errors':>7} {'violations':>11} "
          f"{'command s':>10}")
    for r in rows:
        print(f"{r['jobs']:>5} {r['explore_runs']:>5} {r['explore_s']:>10} {r['runs_per_min']:>9} {r['errors']:>7} "
              f"{r['violations']:>11} {r['command_wall_s']:>10}")
    print(json.dumps({"version": args.version, "seed": args.seed, "budget": args.budget, "sessions": rows},
                     indent=2))


if __name__ == "__main__":
    main()
