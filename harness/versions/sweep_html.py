"""A sweep's report: one small index page (the verdict along the line, every flip, flaky release and error, the
cost) whose cells link to per-run pages written once into each run's result folder.

Why two levels: a report that embeds every run is ~90 kB a run, so a full-line sweep's (thousands of runs) would be
hundreds of megabytes; the index embeds none, and each run's page (``run.html``, :func:`harness.report.html.render`
of that one run) is written beside its ``result.json`` and reused while the result is unchanged, so a resumed or
merged sweep renders only the runs it has not rendered before.

It lives beside the sweep (``versions/``) rather than in ``report/``: it reads the sweep's own view of its results
(:mod:`harness.versions.sweep`: consensus, flips, cost), which builds on the bisect, a layer above the reports.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import jinja2

from harness.report import html, version_line
from harness.report.artifacts import write_atomic
from harness.report.results import Entry
from harness.versions import sweep

RUN_PAGE = "run.html"


def run_page(entry: Entry) -> Path | None:
    """The run's own page in its result folder, written when missing or older than its ``result.json``."""
    if entry.folder is None:
        return None
    page, result = entry.folder / RUN_PAGE, entry.folder / "result.json"
    if not page.exists() or (result.exists() and page.stat().st_mtime < result.stat().st_mtime):
        html.write_report([entry], page, title=f"{entry.result.get('scenario')} on {entry.result.get('version')}")
    return page


def write_index(entries: Sequence[Entry], path: Path, *, title: str, about: str, cost: sweep.Cost,
                total_runs: int | None = None, confirm: int = 1, notice: str | None = None) -> Path:
    """The index page at ``path``; each (scenario, release) cell links to the page of its newest run."""
    results = [e.result for e in entries]
    links: dict[str, str] = {}
    for e in sorted(entries, key=lambda e: e.result.get("started_at") or 0):
        page = run_page(e)
        if page is not None:
            links[f"{e.result['scenario']}@{e.result['version']}"] = os.path.relpath(page, path.parent)
    g = sweep.line_grid(results, links)
    line = version_line.version_line(g, link=lambda href: href)
    summary = sweep.summary_lines(results, confirm)
    scenarios = []
    for s in g.scenarios:
        start = next(i for i, text in enumerate(summary) if text.startswith(f"{s}: "))
        end = next((i for i in range(start + 1, len(summary)) if not summary[i].startswith("  ")), len(summary))
        scenarios.append({"id": s, "lines": summary[start:end]})
    projection = None
    if total_runs and cost.runs:
        projection = "projection for the whole selection (" + f"{total_runs} runs): " + ", ".join(
            f"{n} machine{'s' if n > 1 else ''} {sweep._clock(cost.projection(total_runs, n))}" for n in (1, 2, 4, 8))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(html.TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True)
    text = env.get_template("sweep.html").render(title=title, about=about + " · " + summary[-1], cost=cost.text(),
                                                 projection=projection, line=line, scenarios=scenarios, sweep=True,
                                                 notice=notice)
    return write_atomic(path, text)
