"""Results of many releases, aggregated: a releases x scenarios grid and the verdict along the version line.

Pure: it reads result dicts (``RunResult.to_dict()`` or saved ``result.json``) and returns plain data for the
report (harness/report/html.py) and the command's summary. Versions are in semantic-version order. A *flip* is a
pair of neighbouring tested releases of one scenario whose outcomes differ (``error`` runs are left out of the
line: they are no verdict, and are counted apart). Consecutive releases whose whole row is the same are one *band*,
so a grid of hundreds of releases reads as the few places where something changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import semantic_version

ERROR = "error"


def version_key(v: str) -> Any:
    try:
        return (0, semantic_version.Version(v))
    except ValueError:
        return (1, v)


@dataclass(frozen=True)
class Cell:
    outcome: str
    expected: str | None
    run_id: str | None = None  # the report's anchor for this run

    @property
    def match(self) -> str:
        if self.outcome == ERROR:
            return "error"
        if self.expected is None:
            return "unclaimed"
        return "ok" if self.outcome == self.expected else "mismatch"


@dataclass(frozen=True)
class Flip:
    scenario: str
    before: str
    after: str
    before_outcome: str
    after_outcome: str


@dataclass
class Grid:
    versions: list[str]  # every version run, oldest first
    scenarios: list[str]  # in the order first seen
    cells: dict[tuple[str, str], Cell]  # (scenario, version) -> the last run of that pair
    flips: list[Flip] = field(default_factory=list)

    def row(self, version: str) -> list[Cell | None]:
        return [self.cells.get((s, version)) for s in self.scenarios]

    def line(self, scenario: str) -> list[tuple[str, Cell]]:
        """The scenario's verdicts along the version line (errors included; they are drawn apart)."""
        return [(v, self.cells[(scenario, v)]) for v in self.versions if (scenario, v) in self.cells]

    def bands(self) -> list[tuple[list[str], list[Cell | None]]]:
        """Runs of consecutive releases whose rows (outcome and match per scenario) are identical."""
        out: list[tuple[list[str], list[Cell | None]]] = []
        for v in self.versions:
            row = self.row(v)
            sig = [(c.outcome, c.match) if c else None for c in row]
            if out and [(c.outcome, c.match) if c else None for c in out[-1][1]] == sig:
                out[-1][0].append(v)
            else:
                out.append(([v], row))
        return out


def grid(results: Iterable[dict[str, Any]], run_ids: Iterable[str | None] | None = None) -> Grid:
    results = list(results)
    ids = list(run_ids) if run_ids is not None else [None] * len(results)
    cells: dict[tuple[str, str], Cell] = {}
    scenarios: list[str] = []
    for r, rid in zip(results, ids, strict=True):
        if r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
        cells[(r["scenario"], r["version"])] = Cell(r["outcome"], r.get("expected"), rid)
    versions = sorted({v for _, v in cells}, key=version_key)
    g = Grid(versions, scenarios, cells)
    g.flips = [f for s in scenarios for f in _flips(s, g.line(s))]
    return g


def _flips(scenario: str, line: list[tuple[str, Cell]]) -> list[Flip]:
    judged = [(v, c) for v, c in line if c.outcome != ERROR]
    return [Flip(scenario, a, b, ca.outcome, cb.outcome)
            for (a, ca), (b, cb) in zip(judged, judged[1:], strict=False) if ca.outcome != cb.outcome]


def summary_lines(g: Grid) -> list[str]:
    """One line per scenario: its verdict bands along the line and the errors; then the totals."""
    lines = []
    for s in g.scenarios:
        line = g.line(s)
        judged = [(v, c) for v, c in line if c.outcome != ERROR]
        parts: list[list[Any]] = []  # [outcome, first version, last version, count]
        for v, c in judged:
            if parts and parts[-1][0] == c.outcome:
                parts[-1][2] = v
                parts[-1][3] += 1
            else:
                parts.append([c.outcome, v, v, 1])
        text = " | ".join(f"{o} {a}" + (f"..{b}" if a != b else "") + f" ({n})" for o, a, b, n in parts)
        errored = [v for v, c in line if c.outcome == ERROR]
        wrong = [v for v, c in line if c.match == "mismatch"]
        extra = (f"; error on {', '.join(errored)}" if errored else "") + \
                (f"; differs from its claim on {', '.join(wrong)}" if wrong else "")
        lines.append(f"{s}: {text or 'no verdict'}{extra}")
    total = len(g.cells)
    ok = sum(1 for c in g.cells.values() if c.match == "ok")
    errors = sum(1 for c in g.cells.values() if c.outcome == ERROR)
    mismatched = sum(1 for c in g.cells.values() if c.match == "mismatch")
    lines.append(f"{total} runs on {len(g.versions)} releases: {ok} as claimed, {mismatched} differ from the claim, "
                 f"{errors} error{'' if errors == 1 else 's'}, {len(g.flips)} flip{'' if len(g.flips) == 1 else 's'}")
    return lines
