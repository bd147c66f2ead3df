"""What every front door shares: the command modules (:mod:`harness.cli`, :mod:`harness.versions.commands`,
:mod:`harness.fuzz.command`) parse options, play runs and print results the same way through these helpers.

Invariant: this module sits below every command module and imports none of them, so a command module never imports
from :mod:`harness.cli` (which imports each of them to build its parser) and no import circle can form through the
front doors.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:
    from harness.engine.result import RunResult

# A function that adds the options every run command takes to a subcommand's parser (cli's browser and report options).
OptionAdder = Callable[[argparse.ArgumentParser], None]


def positive_int(text: str) -> int:
    """An argparse ``type`` for counts (``--repeat``; fuzz's ``--confirm`` ...): a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def not_run(plans: list, results: list, interrupted: BaseException | None) -> list:
    """The planned runs an interrupt kept from finishing, for the reports (none when nothing was interrupted)."""
    from harness.report.junit import NotRun

    if interrupted is None:
        return []
    signum = getattr(interrupted, "signum", None)
    how = {int(signal.SIGTERM): "SIGTERM", int(signal.SIGINT): "Ctrl-C"}.get(int(signum or 0), "an interrupt")
    finished = {(r.scenario, r.version, r.repeat) for r in results}
    return [NotRun(p.scenario.id, p.version, p.repeat, f"not played: the command was stopped by {how}")
            for p in plans if (p.scenario.id, p.version, p.repeat) not in finished]


def write_reports(results: list, html_path: Path, junit_path: Path | None, not_run: Sequence = ()) -> None:
    """The HTML report (and JUnit) of the runs that finished; an interrupted command writes them even when none
    did, saying what it did not play."""
    from harness.report import html, junit

    if not results and not not_run:
        return
    notice = None
    if not_run:
        notice = (f"Interrupted: {len(results)} run{'' if len(results) == 1 else 's'} finished, {len(not_run)} "
                  f"did not ({not_run[0].reason.removeprefix('not played: ')}).")
    html.write_report(results, html_path, notice=notice)
    print(f"report: {html_path}", file=sys.stderr)
    if junit_path is not None:
        junit.write_junit(results, junit_path, not_run=not_run)
        print(f"junit: {junit_path}", file=sys.stderr)


def run_line(result: RunResult, width: int, several: bool) -> str:
    """One finished run as the line a command prints: its version, outcome, when the session was lost or kept,
    whether it matched its claim, and where its result is."""
    from harness.sdks import adapter_for_package

    word = result.outcome
    adapter = adapter_for_package(result.sdk)  # a result names its SDK by package
    thing = "cookie" if adapter is not None and adapter.session_store.kind == "cookie" else "session"
    when = f"{thing} lost at t={result.lost_at:.2f} s" if result.lost_at is not None else f"{thing} kept"
    if result.outcome in ("error", "signed-out", "stuck"):
        when = result.sentence  # the revocation's story, or what broke; "cookie kept" would mislead here
    elif result.lost_at is None and result.outcome == "reproduced":
        when = result.sentence  # lost without a removal: the server, the SDK or getToken said so
    where = result.artifacts.get("result", "")
    head = f"{result.scenario}  " if several else ""
    expected = "" if result.expected is None else (
        "  (as expected)" if result.matches_expectation else
        "  (as expected, but a bound was exceeded)" if result.outcome == result.expected else
        f"  (expected {result.expected})")
    # A run whose tab visibility/focus was an init-script override says so on its line, not only in result.json.
    simulated = "  [simulated tabs]" if result.browser.get("mode") == "simulated" else ""
    # Likewise an unmasked navigator.webdriver: an SDK may then count every failed request as "offline".
    exposed = "  [webdriver exposed]" if result.browser.get("webdriver") == "exposed" else ""
    # And a harness that fell behind the scenario's pace (harness.stalled): the reader of a surprise should know.
    worst = max((s.get("seconds", 0) for s in result.stalls), default=0)
    stalled = f"  [harness stalled {worst:.1f} s]" if result.stalls else ""
    return f"{head}{result.version:<{width}}  {word:<10}  {when}{expected}{simulated}{exposed}{stalled}  {where}"
