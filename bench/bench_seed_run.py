"""Prints how long one run of the seed scenario takes, per version, and where the time goes.

Usage: .venv/bin/python bench/bench_seed_run.py [VERSION ...] [--repeat N]
Figures, not assertions: speed is watched here, never in tests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from harness.browser.driver import choose_browser
from harness.scenario.model import load_scenario
from harness.engine import RunOptions
from harness.engine.single import run_scenario
from harness.sdks.npm import NpmBundleCache

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("versions", nargs="*", default=["6.0.0", "6.1.0"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "offline-refresh-due.yaml")
    choice = choose_browser("real")  # what `harness repro` uses by default
    browser = choice.info
    cache = NpmBundleCache()
    print(f"browser: {browser.kind} {browser.path}, mode {choice.mode}")
    with tempfile.TemporaryDirectory() as tmp:
        for version in args.versions:
            cache.get("@clerk/clerk-js", version)
            walls, to_attempt = [], []
            for _ in range(args.repeat):
                started = time.perf_counter()
                result = run_scenario(scenario, version, RunOptions(reports_dir=Path(tmp)), browser=choice,
                                      cache=cache)
                walls.append(time.perf_counter() - started)
                attempt = next((e["t"] for e in result.events if e["kind"] == "sdk.token.end"), None)
                if attempt is not None:
                    to_attempt.append(attempt)
            attempt_at = f"t={statistics.median(to_attempt):.2f} s median" if to_attempt else "never"
            print(f"{version}: outcome {result.outcome}; wall median {statistics.median(walls):.2f} s "
                  f"(min {min(walls):.2f}, max {max(walls):.2f}, n={len(walls)}); SDK token attempt at {attempt_at}")


if __name__ == "__main__":
    main()
