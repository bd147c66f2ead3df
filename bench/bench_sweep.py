"""What sweeps cost on this machine, from their own records, and what a full line would cost on N machines.

    .venv/bin/python bench/bench_sweep.py SWEEP_DIR [SWEEP_DIR...] [--line-runs 7300] [--machines 1,2,4,8,16]

Reads each sweep folder's ``sweep-sessions.jsonl`` (every ``harness sweep`` invocation appends its runs played, wall
time and CPU time -- the harness's and every browser's it started -- there) and ``sweep.json`` (what was selected),
and prints per folder and in all: runs, wall, CPU, wall and CPU per run, and the projected wall time of a sweep of
``--line-runs`` runs spread over a shard matrix of N machines like this one (shards share nothing, so the wall time
divides by N; a machine's own --jobs is already in its per-run figure), and the CPU-bound floor of the same (CPU per
run over the machine's cores: what a machine nobody else uses would approach). A table, then the same figures as JSON.
Times nothing itself and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from harness.versions.sweep import Cost, cost_of
from harness.versions.sweep_command import SUMMARY, read_sessions

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
FULL_LINE_RUNS = 7300  # the library on both SDKs' stable lines (issue 21): 27 scenarios, Clerk >=5.0.0 and supabase-js


def figures(name: str, cost: Cost, line_runs: int, machines: list[int]) -> dict:
    return {"sweep": name, "runs": cost.runs, "sessions": cost.sessions, "jobs": cost.jobs,
            "wall_s": round(cost.wall, 1), "cpu_s": round(cost.cpu, 1),
            "wall_per_run_s": round(cost.wall_per_run, 2), "cpu_per_run_s": round(cost.cpu_per_run, 2),
            "projection_h": {str(n): round(cost.projection(line_runs, n) / 3600, 2) for n in machines},
            # The floor if the cores were the sweep's alone: CPU per run x runs / (cores x machines).
            "cpu_bound_h": {str(n): round(cost.cpu_per_run * line_runs / (CORES * n) / 3600, 2) for n in machines}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--line-runs", type=int, default=FULL_LINE_RUNS)
    parser.add_argument("--machines", default="1,2,4,8,16")
    args = parser.parse_args(argv)
    machines = [int(n) for n in args.machines.split(",")]
    rows = []
    for folder in args.folders:
        sessions = read_sessions([folder])
        if not sessions:
            print(f"{folder}: no sweep-sessions.jsonl (not a `harness sweep --reports` folder)", file=sys.stderr)
            return 2
        row = figures(folder.name, cost_of(sessions), args.line_runs, machines)
        if (folder / SUMMARY).is_file():
            summary = json.loads((folder / SUMMARY).read_text())
            row["selection"] = summary.get("selection")
            row["selected_releases"] = len(summary.get("selected", []))
        rows.append(row)
    if len(rows) > 1:
        rows.append(figures("all", cost_of(s for f in args.folders for s in read_sessions([f])), args.line_runs,
                            machines))
    head = f"{'sweep':<22}{'runs':>6}{'wall':>9}{'CPU':>9}{'wall/run':>10}{'CPU/run':>9}  " + "  ".join(
        f"{n} mach." for n in machines)
    print(f"projection: {args.line_runs} runs, hours of wall time on a shard matrix of N machines like this one")
    print(head)
    for r in rows:
        print(f"{r['sweep'][:21]:<22}{r['runs']:>6}{r['wall_s']:>8.0f}s{r['cpu_s']:>8.0f}s{r['wall_per_run_s']:>9.2f}s"
              f"{r['cpu_per_run_s']:>8.2f}s  " + "  ".join(f"{r['projection_h'][str(n)]:>6.2f}h" for n in machines))
    print(f"CPU-bound floor ({CORES} cores a machine, nothing else running): "
          + "; ".join(f"{r['sweep']}: " + ", ".join(f"{n}: {r['cpu_bound_h'][str(n)]:.2f}h" for n in machines)
                      for r in rows))
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
