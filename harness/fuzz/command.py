"""``harness fuzz``: the front door. Options in, a session on the engine, the outputs out.

It takes the options every run command takes (added by the callers in harness/cli.py: ``--reports``, ``--jobs``,
``--browser-mode``, ``--no-trace``, ...) plus the search's own. Bad input (an unknown version, a bad budget, no
browser) is a :class:`HarnessError` raised before any run starts: one line, exit 2. Ctrl-C or SIGTERM stops the
session: runs in flight end without a verdict, and the findings written so far, ``fuzz.json`` and the report are
kept; the command then leaves with 130 or 143 (harness/cli.py maps the interrupt).

Exit status: 1 when a finding was confirmed and written (a violation of the invariant), 0 when none was, whatever
else was explored.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sys
from pathlib import Path
from typing import TypeVar

from harness.errors import HarnessError
from harness.frontdoor import OptionAdder, positive_int
from harness.fuzz.budget import parse_budget

_P = TypeVar("_P", bound=argparse.ArgumentParser)


def add_parser(sub: "argparse._SubParsersAction[_P]", *common: OptionAdder) -> None:
    p = sub.add_parser("fuzz", help="search for timelines that lose a valid session (the invariant: the session "
                       "survives unless the server ended it); shrink each violation to a scenario file")
    p.add_argument("--sdk-version", "--clerk-version", dest="version", metavar="V", required=True,
                   help="the SDK version to fuzz: X.Y.Z or from:PATH (--clerk-version is an alias)")
    p.add_argument("--budget", default="30", metavar="RUNS|DURATION",
                   help="how much to explore: a number of runs (30) or a wall time (90s, 10m, 1h); shrinking and "
                        "confirming a violation come on top (default: 30)")
    p.add_argument("--seed", type=int, default=None, help="the search's seed (default: a random one, printed); the "
                   "same seed explores the same timelines")
    p.add_argument("--out", type=Path, metavar="DIR", help="where finding files and fuzz.json go (default: the "
                   "reports folder's fuzz/)")
    p.add_argument("--shrink-runs", type=positive_int, default=20, metavar="N",
                   help="at most N runs to shrink each violation (default: 20)")
    p.add_argument("--confirm", type=positive_int, default=3, metavar="N",
                   help="replays of a shrunk violation on each version before it is written (default: 3)")
    p.add_argument("--max-findings", type=positive_int, default=3, metavar="N",
                   help="shrink at most N distinct violations; later ones are counted (default: 3)")
    p.add_argument("--check-on", action="append", metavar="V",
                   help="also replay each finding on V before writing its claims (repeatable; default: the SDK's "
                        "known versions other than the fuzzed one)")
    for add in common:
        add(p)


def main(args: argparse.Namespace) -> int:
    from harness.engine import options_from_args

    _refuse_run_only_options(args)
    if args.headed and not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        raise HarnessError("--headed needs a display; run the command under `xvfb-run -a`, or drop --headed")
    options = options_from_args(args)
    budget = parse_budget(args.budget)
    from harness.sdks import adapter_class
    from harness.versions.commands import resolve_versions

    package = adapter_class("clerk").package  # the fuzzer's vocabulary is Clerk's for now (docs/fuzzing.md)
    [version] = resolve_versions([args.version], package) or [args.version]
    others = resolve_versions(args.check_on, package) or None
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    reports = options.reports_dir or Path("reports")
    out_dir = args.out or reports / "fuzz"
    from harness.fuzz.runner import run_session

    return run_session(options, version=version, others=others, seed=seed, budget=budget, out_dir=out_dir,
                       shrink_runs=args.shrink_runs, confirm=args.confirm, max_findings=args.max_findings,
                       html_path=args.html or reports / "report.html", junit_path=args.junit,
                       command=_command_line(args, seed))


def _refuse_run_only_options(args: argparse.Namespace) -> None:
    if getattr(args, "repeat", 1) != 1:
        raise HarnessError("--repeat does not apply to fuzz: every violation is replayed --confirm N times")
    if getattr(args, "shard", None):
        raise HarnessError("--shard does not apply to fuzz: give each machine its own --seed instead")


def _command_line(args: argparse.Namespace, seed: int) -> str:
    """The command that explores the same timelines again (the seed always named)."""
    parts = ["harness", "fuzz", "--sdk-version", args.version, "--budget", args.budget, "--seed", str(seed)]
    return " ".join(shlex.quote(p) for p in parts)
