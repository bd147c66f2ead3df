"""How long building the reports takes and how big they are, from saved result folders.

    .venv/bin/python bench/bench_report.py reports/ [more result folders...]

Prints, for the HTML report and the JUnit XML: build time (median of 5), size, and size per run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from harness.report import html, junit
from harness.report.results import load_results


def main() -> None:
    entries, incomplete = load_results([Path(p) for p in sys.argv[1:] or ["reports"]])
    if not entries:
        raise SystemExit("no finished runs found")
    events = sum(len(e.result["events"]) for e in entries)
    print(f"{len(entries)} runs, {events} timeline events, {len(incomplete)} incomplete folders skipped")
    for name, render in (("html", html.render), ("junit", junit.render)):
        times, text = [], ""
        for _ in range(5):
            started = time.perf_counter()
            text = render(entries)
            times.append(time.perf_counter() - started)
        size = len(text.encode())
        print(f"{name:5}  build {statistics.median(times) * 1000:6.1f} ms  size {size / 1000:7.1f} kB  "
              f"({size / 1000 / len(entries):.1f} kB per run)")


if __name__ == "__main__":
    main()
