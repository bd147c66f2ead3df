"""The ``harness fuzz`` entry in the HTML report: a section above the usual matrix, and the runs worth reading.

:func:`section_html` renders the section from the session's data (the same dict as ``fuzz.json``), so the report is
a view of what was written, never a second computation. :func:`report_results` picks the runs the report shows in
full -- each violation as exploration found it, every confirmation replay, every error -- while every other
exploration run is one row of the section's table (its result folder holds the rest): a session of dozens of runs
stays a report one can open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from harness.engine import RunResult
from harness.fuzz.coverage import INTERLEAVINGS
from harness.fuzz.session import FuzzSession

TEMPLATES = Path(__file__).parent / "templates"


def section_html(data: dict[str, Any]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True)
    return env.get_template("fuzz_section.html").render(d=data, c=data["coverage"], interleavings=INTERLEAVINGS)


def report_results(session: FuzzSession) -> list[RunResult]:
    search = session.search
    if search is None:
        return []
    shown: list[RunResult] = []
    seen: set[int] = set()

    def add(result: RunResult | None) -> None:
        if result is not None and id(result) not in seen:
            seen.add(id(result))
            shown.append(result)

    for finding in session.findings:
        add(finding.shrunk.origin.result)
        for replays in finding.replays.values():
            for played in replays.played:
                add(played.result)
    for played in [*search.explored, *search.memo.values()]:
        if played.outcome == "error":
            add(played.result)
    return shown
