"""The report's view of many releases: the verdict along the version line (an inline SVG, one lane per scenario)
and the releases x scenarios grid, grouped into bands of releases whose rows are the same.

Geometry only; what a flip or a band is comes from :mod:`harness.report.matrix`. Readable for hundreds of
releases: a cell is at least one pixel wide, labels go only where the verdict flips (staggered so neighbours do not
overlap) and at the first release of each major version, and every cell carries its own hover title and link.
"""

from __future__ import annotations

from typing import Any, Callable

from harness.report.matrix import Grid, version_key

WIDTH, LABEL_W, LANE_H, GAP = 1000, 190, 18, 6
# The grid replaces the scenario x version table when there are more versions than this (it would scroll sideways).
TRANSPOSE_AFTER = 6


def anchor(run_id: str) -> str:
    return f"#{run_id}"


def version_line(g: Grid, link: Callable[[str], str] = anchor) -> dict[str, Any] | None:
    """The SVG geometry, or None when fewer than two releases were run. ``link`` turns a cell's run id into the
    address it opens (an anchor in this page by default; a sweep's index links to per-run pages)."""
    if len(g.versions) < 2:
        return None
    plot = WIDTH - LABEL_W - 10
    step = plot / len(g.versions)
    index = {v: i for i, v in enumerate(g.versions)}
    flip_rows = 2  # label rows above the lanes, so labels of neighbouring flips are staggered
    top = 16 * flip_rows + 6
    lanes, flips = [], []
    for n, scenario in enumerate(g.scenarios):
        y = top + n * (LANE_H + GAP)
        cells = [{"x": round(LABEL_W + index[v] * step, 2), "w": round(max(step - (0.6 if step > 3 else 0), 1), 2),
                  "cls": c.outcome, "match": c.match, "href": link(c.run_id) if c.run_id else None,
                  "title": f"{scenario} on {v}: {c.outcome}" + ("" if c.expected is None else
                                                              f" (claimed {c.expected})")}
                 for v, c in g.line(scenario)]
        lanes.append({"label": scenario, "y": y, "cells": cells})
    bottom = top + len(g.scenarios) * (LANE_H + GAP)
    boundaries: dict[tuple[str, str], list[Any]] = {}  # one label per boundary, however many scenarios flip there
    for f in g.flips:
        boundaries.setdefault((f.before, f.after), []).append(f)
    for k, ((before, after), group) in enumerate(sorted(boundaries.items(), key=lambda b: index[b[0][1]])):
        x = round(LABEL_W + index[after] * step, 2)
        lanes_hit = [g.scenarios.index(f.scenario) for f in group]
        label = f"{before} → {after}" + (f" ({len(group)} scenarios)" if len(group) > 1 else "")
        flips.append({"x": x, "y1": top + max(lanes_hit) * (LANE_H + GAP) + LANE_H + 2, "label": label,
                      "ly": 12 + 16 * (k % flip_rows),
                      "anchor": "end" if x + 6.2 * len(label) > WIDTH - 4 else "start",
                      "title": "; ".join(f"{f.scenario}: {f.before_outcome} on {before}, {f.after_outcome} on {after}"
                                         for f in group)})
    ticks = _ticks(g.versions, step)
    return {"width": WIDTH, "height": bottom + 30, "label_w": LABEL_W, "lane_h": LANE_H, "lanes": lanes,
            "flips": flips, "ticks": ticks, "bottom": bottom, "count": len(g.versions),
            "first": g.versions[0], "last": g.versions[-1]}


def _ticks(versions: list[str], step: float) -> list[dict[str, Any]]:
    """Labelled ticks wherever a label fits, placed by priority: the newest and oldest release, then the first of
    each major, then the first of each minor (or every release when there is room). Small ticks mark new minors."""
    n = len(versions)
    rank: dict[int, int] = {n - 1: 0, 0: 1}
    previous = None
    for i, v in enumerate(versions):
        key = version_key(v)
        series = (key[1].major, key[1].minor) if key[0] == 0 else (None, None)
        if previous is not None and series[0] != previous[0]:
            rank.setdefault(i, 2)
        elif previous is not None and series != previous:
            rank.setdefault(i, 3)
        elif step >= 6.2 * len(v) + 8:
            rank.setdefault(i, 4)
        previous = series
    x_of = {i: round(LABEL_W + i * step + step / 2, 2) for i in range(n)}
    labelled: list[int] = []
    for i in sorted(rank, key=lambda i: (rank[i], i)):
        if all(abs(x_of[i] - x_of[j]) >= _room(versions[i], versions[j]) for j in labelled):
            labelled.append(i)
    out = []
    for i in sorted(set(rank) | set(labelled)):
        if i in labelled:
            anchor = "end" if i == n - 1 else "start" if i == 0 else "middle"
            out.append({"x": x_of[i], "label": versions[i], "major": rank[i] <= 2, "anchor": anchor})
        elif rank[i] <= 3 and step >= 4:
            out.append({"x": x_of[i], "label": None, "major": False, "anchor": "middle"})
    return out


def _room(left: str, right: str) -> float:
    return 6.2 * (len(left) + len(right)) / 2 + 10


def bands(g: Grid) -> list[dict[str, Any]]:
    """Rows of the releases x scenarios grid: consecutive releases with the same row are one band."""
    out = []
    for versions, row in g.bands():
        cells = []
        for scenario, cell in zip(g.scenarios, row, strict=True):
            ids = [g.cells[(scenario, v)].run_id for v in versions if (scenario, v) in g.cells]
            href = f"#{ids[0]}" if ids and ids[0] else None
            cells.append(None if cell is None else {"outcome": cell.outcome, "match": cell.match,
                                                    "expected": cell.expected, "href": href})
        links = [{"version": v, "href": next((f"#{g.cells[(s, v)].run_id}" for s in g.scenarios
                                               if (s, v) in g.cells and g.cells[(s, v)].run_id), None)}
                 for v in versions]
        out.append({"first": versions[0], "last": versions[-1], "count": len(versions), "versions": links,
                    "cells": cells})
    return out
