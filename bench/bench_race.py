"""Benchmark and search: where a network flip lands relative to a failed token request, and what each release does.

    .venv/bin/python bench/bench_race.py                                      # server_dropped at 0..50 ms, 6.0.0 6.40.0
    .venv/bin/python bench/bench_race.py --when request_failed --after 0,100,1000 --versions 6.1.0 --repeat 3
    .venv/bin/python bench/bench_race.py --summarise reports/race             # figures from saved result folders
    .venv/bin/python bench/bench_race.py --precision 30                       # the mechanism alone, on a probe page

Each point plays one timeline (the one of scenarios/reconnect-at-failure.yaml, with the flip's trigger and delay
swept and no `landed:` requirement: here where it lands is what is measured) and prints, per trigger, delay and
release: the outcomes, where the flips landed (before the page's failed fetch, by its next task, after it), and the
flip's measured precision -- ``relay`` (trigger to the harness hearing it), ``lag`` (trigger to the browser's
acknowledgement), ``page`` (trigger to the page's own ``online`` event). Then one JSON document. Asserts nothing: a
claim goes in a scenario file, and only once it was seen repeatedly. The machine's load average is printed with the
figures, because they are wall-clock figures.

``--precision N`` measures the mechanism without an SDK: N flips per trigger on the mock's plain probe page (a
fetch that fails offline; a POST held and dropped at the mock), in one browser, adding ``wake`` (from when the flip
could go to when it went: the hand-over to Playwright's loop) and ``send`` (``context.set_offline``'s round trip).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.engine import Engine, RunOptions, expand  # noqa: E402
from harness.scenario.model import parse_scenario  # noqa: E402

TIMELINE = """id: race-{slug}
title: flip {when} {after}
refs: [https://github.com/clerk/javascript/pull/7912]
steps:
  - signed_in
  - online: {{when: {when}, path: "*/tokens", after: {after}}}
  - hold: {{name: inflight, times: 1}}
  - clear_token_cache
  - wait_for: held
    timeout: 15
  - offline
  - release: {{fault: inflight, outcome: drop}}
  - wait_for: network_flipped
  - release: inflight
  - wait_for: token_attempt
  - reload
verdicts: {{"*": survived}}
"""


def scenario(when: str, after: str) -> Any:
    return parse_scenario(TIMELINE.format(slug=f"{when.replace('_', '-')}-{after}", when=when, after=after))


def flip_of(result: dict[str, Any]) -> dict[str, Any]:
    flips = [e["data"] for e in result.get("events", []) if e["kind"] == "network.flip"]
    return flips[0] if flips else {}


def median(values: Iterable[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return round(statistics.median(got), 2) if got else None


def spread(values: Iterable[float | None]) -> str:
    got = sorted(v for v in values if v is not None)
    if not got:
        return "-"
    return f"{statistics.median(got):.1f} [{got[0]:.1f}-{got[-1]:.1f}]"


def table(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in results:
        flip = flip_of(r)
        key = (flip.get("when", "?"), f"{flip.get('after_ms', '?')}", r["version"])
        groups.setdefault(key, []).append(r)
    rows = []
    for (when, after, version), runs in sorted(groups.items(), key=lambda kv: (kv[0][0], float(kv[0][1])
                                                                                if kv[0][1] != "?" else 0, kv[0][2])):
        flips = [flip_of(r) for r in runs]
        rows.append({"when": when, "after_ms": after, "version": version, "runs": len(runs),
                     "outcomes": dict(Counter(r["outcome"] for r in runs)),
                     "landed": dict(Counter(f.get("landed", "unseen") for f in flips)),
                     "relay_ms": spread(f.get("relay_ms") for f in flips),
                     "lag_ms": spread(f.get("lag_ms") for f in flips),
                     "page_lag_ms": spread(f.get("page_lag_ms") for f in flips)})
    return rows


def show(rows: list[dict[str, Any]]) -> None:
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'trigger':15s} {'after':>6s} {'version':8s} {'n':>3s}  {'outcomes':28s} {'landed':52s} "
          f"{'relay ms':18s} {'lag ms':20s} page ms")
    for row in rows:
        outcomes = ", ".join(f"{k} {v}" for k, v in row["outcomes"].items())
        landed = ", ".join(f"{k} {v}" for k, v in row["landed"].items())
        print(f"{row['when']:15s} {row['after_ms']:>6s} {row['version']:8s} {row['runs']:>3d}  {outcomes:28s} "
              f"{landed:52s} {row['relay_ms']:18s} {row['lag_ms']:20s} {row['page_lag_ms']}")


def precision(n: int) -> list[dict[str, Any]]:
    """N flips per trigger on a probe page: the mechanism's own figures."""
    from harness.browser.discovery import find_browser
    from harness.browser.driver import BrowserDriver, DriverOptions
    from harness.mock.faults.args import FaultArgs, fault_from
    from harness.mock.server import MockAuthServer
    from harness.sdks.clerk import ClerkSdk
    from harness.timeline import Timeline

    timeline = Timeline()
    server = MockAuthServer(timeline, ClerkSdk(), bundle_dist=None, sdk_version="none").start()
    driver = BrowserDriver(timeline, DriverOptions(executable=find_browser(None, need_tabs=True).path,
                                                   mode="real")).start()
    made: dict[str, list[dict[str, Any]]] = {}
    try:
        driver.goto(server.url + "/probe/tabs")
        flips = driver.network_flips()
        for when in ("request_failed", "fetch_failed", "server_dropped"):
            for i in range(n):
                path = "/api/me" if when == "server_dropped" else "/favicon.ico"
                flip = flips.arm("online", when, path)
                held = None
                if when == "server_dropped":
                    args = FaultArgs.model_validate({"kind": "hold", "path": path, "times": 1},
                                                    context={"sdk": server.sdk})
                    held = server.add_fault(fault_from(args, server.sdk))
                if held is None:
                    driver.set_offline(True)  # the fetch then fails in the browser
                since = timeline.now()
                driver.evaluate(f"() => {{ fetch('{path}?{i}', {{method: 'POST'}}).catch(() => 0); return 1 }}")
                if held is not None:  # held at the mock, then dropped while the browser is offline
                    driver.wait_for_event(lambda e: e.kind == "fault.held", 10, since=since)
                    driver.set_offline(True)
                    server.release(held.id, "drop")
                hit = driver.wait_for_event(lambda e, f=flip.id: e.kind == "network.flip" and e.data["flip"] == f, 10)
                if held is not None:
                    server.release(held.id, "pass")
                if hit is not None:
                    made.setdefault(when, []).append(hit.data)
                driver.pump(0.05)
    finally:
        driver.close()
        server.stop()
    rows = []
    for when, data in made.items():
        rows.append({"when": when, "flips": len(data), "relay_ms": spread(d.get("relay_ms") for d in data),
                     "wake_ms": spread(d.get("wake_ms") for d in data),
                     "send_ms": spread(d.get("send_ms") for d in data),
                     "lag_ms": spread(d.get("lag_ms") for d in data),
                     "page_lag_ms": spread(d.get("page_lag_ms") for d in data),
                     "landed": dict(Counter(d.get("landed", "unseen") for d in data))})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--when", default="server_dropped", help="trigger(s), comma-separated")
    parser.add_argument("--after", default="0ms,5ms,10ms,20ms,50ms", help="delays, comma-separated")
    parser.add_argument("--versions", default="6.0.0,6.40.0")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--reports", type=Path, default=None, help="keep the result folders here")
    parser.add_argument("--summarise", type=Path, default=None, help="only summarise saved result folders")
    parser.add_argument("--precision", type=int, default=0, help="only measure the mechanism: N flips per trigger")
    args = parser.parse_args()
    if args.precision:
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for row in precision(args.precision):
            print(json.dumps(row))
        return
    if args.summarise:
        results = [json.loads(p.read_text()) for p in sorted(args.summarise.rglob("result.json"))]
        results = [r for r in results if flip_of(r)]
    else:
        scenarios = [scenario(w, a) for w in args.when.split(",") for a in args.after.split(",")]
        reports = args.reports or Path(tempfile.mkdtemp(prefix="bench-race-"))
        options = RunOptions(reports_dir=reports, jobs=args.jobs, trace="off")
        plans = expand(scenarios, args.versions.split(","), repeat=args.repeat)
        with Engine(options) as engine:
            engine.prepare(plans)
            results = [r.to_dict() for r in engine.play(plans)]
        print(f"result folders: {reports}")
    rows = table(results)
    show(rows)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
