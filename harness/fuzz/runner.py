"""Play a fuzz session on the engine and write what it found: :func:`run_session`.

The wiring of :mod:`harness.fuzz.command`: one :class:`Engine` for the whole session (its pool keeps the next
Chromium ready between batches), an :class:`EnginePlayer` over it, the progress lines, and -- whether the session
ends, is interrupted, or stops on bad input found mid-way -- the summary, ``fuzz.json`` and the HTML report of the
runs worth reading (each violation as found, every confirmation replay, every error). Finding files are written by
the session itself, as each is confirmed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from harness.engine import Engine, RunOptions
from harness.fuzz.budget import Budget
from harness.fuzz.finding import Provenance
from harness.fuzz.output import FuzzProgress, session_data, summary_lines, write_json
from harness.fuzz.player import EnginePlayer
from harness.fuzz.search import SearchConfig
from harness.fuzz.session import FuzzSession, SessionConfig
from harness.sdks import adapter_class

SDK = "clerk"  # the vocabulary's token-cache and getToken steps are Clerk's (see docs/fuzzing.md)


def run_session(options: RunOptions, *, version: str, others: Sequence[str] | None, seed: int, budget: Budget,
                out_dir: Path, shrink_runs: int, confirm: int, max_findings: int, html_path: Path,
                junit_path: Path | None, command: str) -> int:
    adapter = adapter_class(SDK)
    others = list(others) if others is not None else [v for v in adapter.known_versions if v != version]
    progress = FuzzProgress(budget.describe())
    with Engine(options, on_note=lambda note: print(f"warning: {note}", file=sys.stderr, flush=True)) as engine:
        player = EnginePlayer(engine, on_played=progress.played)
        for v in [version, *others]:
            player.prepare(v)  # unknown versions and missing browsers fail here, before any run starts
        jobs = options.jobs_for(10_000)
        print(f"fuzz {adapter.package} {version}: seed {seed}, budget {budget.describe()}, {jobs} runs at a time; "
              f"findings go to {out_dir}/", file=sys.stderr, flush=True)
        config = SessionConfig(
            search=SearchConfig(version=version, seed=seed, batch=jobs, budget=budget, shrink_runs=shrink_runs,
                                max_findings=max_findings),
            provenance=Provenance(command=command, seed=seed, budget=budget.text, sdk_package=adapter.package,
                                  browser_mode=options.browser_mode, webdriver=options.webdriver),
            out_dir=out_dir, others=others, confirm=confirm)
        session = FuzzSession(player, config, listener=progress.event, on_finding=progress.finding)
        interrupted: KeyboardInterrupt | None = None
        try:
            session.run()
        except KeyboardInterrupt as stop:
            interrupted = stop
        finally:
            if session.search is not None:
                _outputs(session, version=version, seed=seed, budget=budget.describe(), command=command,
                         out_dir=out_dir, html_path=html_path, junit_path=junit_path,
                         interrupted=interrupted is not None)
    if interrupted is not None:
        raise interrupted
    return 1 if session.written else 0


def _outputs(session: FuzzSession, *, version: str, seed: int, budget: str, command: str, out_dir: Path,
             html_path: Path, junit_path: Path | None, interrupted: bool) -> None:
    from harness.fuzz.report import report_results, section_html
    from harness.report import html, junit

    data = session_data(session, version=version, seed=seed, budget=budget, command=command,
                        interrupted=interrupted)
    path = write_json(data, out_dir / "fuzz.json")
    for line in summary_lines(data):
        print(line, flush=True)
    print(f"fuzz.json: {path}", file=sys.stderr)
    results = report_results(session)
    html.write_report(results, html_path, title=f"Fuzzing {version} (seed {seed})",
                      preamble=section_html(data))
    print(f"report: {html_path}", file=sys.stderr)
    if junit_path is not None and results:
        junit.write_junit(results, junit_path)
        print(f"junit: {junit_path}", file=sys.stderr)
