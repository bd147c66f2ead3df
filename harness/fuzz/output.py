"""What a person sees of a fuzz session: progress while it runs, then a summary, every finding with its replay
command, and ``fuzz.json``.

Progress goes to stderr, one line per run and per shrink or confirmation step (runs done against the budget,
violations, errors, elapsed), so a CI log reads the same as a terminal. The summary goes to stdout. ``fuzz.json``
holds everything the summary and the HTML section show, computed once here (:func:`session_data`); the report is
a view of it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from harness.fuzz.candidate import describe, size_key, step_text
from harness.fuzz.coverage import INTERLEAVINGS, Coverage
from harness.fuzz.finding import Finding
from harness.fuzz.player import Played
from harness.fuzz.search import Search
from harness.fuzz.session import FuzzSession
from harness.report.artifacts import write_atomic


def _mmss(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class FuzzProgress:
    """Progress lines on stderr; :meth:`played` for each run, :meth:`event` for what the search does."""

    def __init__(self, budget_text: str, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.budget_text = budget_text
        self.search: Search | None = None
        self.began = time.monotonic()

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def _tally(self) -> str:
        if self.search is None:
            return _mmss(time.monotonic() - self.began)
        stats = self.search.stats
        return (f"{stats.runs['explore']} explored of {self.budget_text} · violations {stats.violations} · "
                f"errors {stats.errors} · {_mmss(time.monotonic() - self.began)}")

    def played(self, run: Played) -> None:
        where = f"  {run.folder}" if run.folder else ""
        outcome = run.outcome if run.outcome != "error" else f"error ({run.sentence})"
        self._say(f"[{run.phase}] {run.version}  {outcome:<10}  {len(run.candidate.steps):>2} steps  "
                  f"{describe(run.candidate, 70)}{where}")

    def event(self, what: str, search: Search) -> None:
        self.search = search
        shrink = search.shrinking
        if what == "explored":
            self._say(f"  {self._tally()}")
        elif what == "violation" and shrink is not None:
            self._say(f"violation {shrink.number} ({len(shrink.origin.candidate.steps)} steps): "
                      f"{shrink.origin.sentence} -- shrinking (at most {search.config.shrink_runs} runs)")
        elif what == "shrunk" and shrink is not None:
            best = size_key(shrink.best)
            self._say(f"  shrinking {shrink.number}: {shrink.shrink_runs}/{search.config.shrink_runs} runs, "
                      f"smallest so far {best[0]} steps, {best[1]:g} s of waits · {self._tally()}")
        elif what == "shrink-done" and search.shrunk:
            done = search.shrunk[-1]
            self._say(f"  shrunk {done.number}: {len(done.origin.candidate.steps)} -> {len(done.best.steps)} steps "
                      f"in {done.shrink_runs} runs ({done.ended}); confirming")

    def finding(self, finding: Finding) -> None:
        rates = "; ".join(f"{v}: {r.text()}" for v, r in finding.replays.items())
        if finding.path is not None:
            self._say(f"  finding {finding.shrunk.number} confirmed ({rates}): wrote {finding.path}")
        else:
            fuzzed = finding.replays[finding.version]
            self._say(f"  candidate {finding.shrunk.number} is flaky: reproduced {fuzzed.reproduced}/{fuzzed.runs} "
                      f"on {finding.version} (rate {fuzzed.rate:.0%}; {rates}): not written")


# -- the summary -------------------------------------------------------------------------------------------------

def coverage_of(search: Search) -> Coverage:
    cov = Coverage()
    for run in search.explored:
        cov.add(run.candidate.kinds, run.candidate.motifs, run.reached)
    return cov


def session_data(session: FuzzSession, *, version: str, seed: int, budget: str, command: str,
                 interrupted: bool = False) -> dict[str, Any]:
    search = session.search
    assert search is not None
    stats = search.stats
    return {
        "command": command, "version": version, "seed": seed, "budget": budget, "interrupted": interrupted,
        "elapsed_s": round(stats.elapsed, 1), "explore_s": round(stats.explore_seconds, 1),
        "runs": dict(stats.runs), "errors": stats.errors, "violations": stats.violations,
        "explained": stats.explained, "unshrunk": stats.unshrunk, "searches": stats.searches,
        "coverage": coverage_of(search).to_dict(),
        "findings": [_finding_data(f) for f in session.findings],
        "explored": [{"outcome": p.outcome, "steps": len(p.candidate.steps), "motifs": p.candidate.motifs,
                      "timeline": [step_text(s) for s in p.candidate.steps], "setup": p.candidate.setup,
                      "reached": sorted(p.reached), "folder": p.folder, "sentence": p.sentence}
                     for p in search.explored],
    }


def _finding_data(f: Finding) -> dict[str, Any]:
    origin = f.shrunk.origin
    return {"number": f.shrunk.number, "status": f.status, "file": str(f.path) if f.path else None,
            "replay": f.replay_command(), "verdicts": f.verdicts(), "title": describe(f.candidate),
            "steps": [step_text(s) for s in f.candidate.steps], "setup": f.candidate.setup,
            "shrunk_from": len(origin.candidate.steps), "shrunk_to": len(f.candidate.steps),
            "shrink_runs": f.shrunk.shrink_runs, "shrink_ended": f.shrunk.ended, "search": f.shrunk.search,
            "found_by": {"folder": origin.folder, "sentence": origin.sentence},
            "replays": {v: r.to_dict() for v, r in f.replays.items()}, "notes": f.notes}


def write_json(data: dict[str, Any], path: Path) -> Path:
    return write_atomic(path, json.dumps(data, indent=2, default=str))


def summary_lines(data: dict[str, Any]) -> list[str]:
    cov, runs = data["coverage"], data["runs"]
    total = sum(runs.values())
    lines = [f"fuzz {data['version']} (seed {data['seed']}, budget {data['budget']}): {total} runs in "
             f"{_mmss(data['elapsed_s'])} -- {runs['explore']} exploring ({_mmss(data['explore_s'])}), "
             f"{runs['shrink']} shrinking, {runs['confirm']} confirming; {data['errors']} error runs (never "
             f"findings)" + ("; INTERRUPTED" if data["interrupted"] else ""),
             f"explored {cov['timelines']} timelines: {len(cov['kinds'])}/{cov['vocabulary']} step kinds, "
             f"{cov['pairs']} adjacent pairs (of {cov['pairs_possible']})"
             + (f"; not reached: {', '.join(cov['kinds_missed'])}" if cov["kinds_missed"] else "")]
    if cov["motifs"]:
        lines.append("  motifs: " + ", ".join(f"{m} {n}" for m, n in cov["motifs"].items()))
    lines.append("  interleavings the runs reached: " + (", ".join(
        f"{name} {cov['interleavings'].get(name, 0)}" for name in INTERLEAVINGS) or "none"))
    lines.append(f"violations while exploring: {data['violations']} ({data['explained']} explained by an earlier "
                 f"finding, {data['unshrunk']} past --max-findings)")
    for f in data["findings"]:
        if f["status"] == "confirmed":
            claims = ", ".join(f"{v} {o}" for v, o in f["verdicts"].items())
            lines += [f"finding {f['number']}: {f['title']}",
                      f"  {f['shrunk_from']} -> {f['shrunk_to']} steps; claims {claims}", f"  file: {f['file']}",
                      f"  replay: {f['replay']}"]
        else:
            fuzzed = f["replays"][data["version"]]
            lines += [f"flaky candidate {f['number']} (not written): {f['title']}",
                      f"  seen once: {f['found_by']['sentence']}",
                      f"  replays: reproduced {fuzzed['counts'].get('reproduced', 0)}/{fuzzed['runs']} on "
                      f"{data['version']} (rate {fuzzed['rate']:.0%}); "
                      + "; ".join(f"{v}: {r['counts']}" for v, r in f["replays"].items()),
                      f"  first seen in: {f['found_by']['folder']}"]
    if not data["findings"]:
        lines.append("no finding: every explored timeline kept the session (or broke, as error)")
    return lines
