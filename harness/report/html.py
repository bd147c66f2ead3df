"""The self-contained HTML report: one file that opens offline and makes no request of its own.

A view of results (``RunResult.to_dict()`` or saved ``result.json`` files): a matrix of scenario x SDK version ->
outcome against the expected verdict (for many releases, a releases x scenarios grid in bands instead, and the
verdict along the version line with its flips marked: :mod:`harness.report.version_line`), then per run the
verdict sentence, the cookie-presence strip (inline SVG), the checks, the timeline table, the screenshots (embedded
as ``data:`` URIs), the console, the command that reproduces the run and how to open its trace.
Everything shown is computed by :mod:`harness.report.view` from the timeline.
"""

from __future__ import annotations

import base64
import html
import re
import time
from pathlib import Path
from typing import Any, Sequence

import jinja2
import semantic_version
from markupsafe import Markup

from harness.report import build_diff, version_line, view
from harness.report.repeats import repeat_rows
from harness.report.artifacts import write_atomic
from harness.report.results import Entry, entry_of
from harness.report import matrix as release_matrix

TEMPLATES = Path(__file__).parent / "templates"
# Screenshots above this size are listed but not embedded, to keep the report small enough to attach to a ticket.
MAX_EMBED_BYTES = 400_000
STRIP_WIDTH, STRIP_LABEL, LANE_H = 1000, 150, 20
TRACE_PORT = 9400


def render(results: Sequence[Any], title: str = "Session survival report", notice: str | None = None,
           preamble: str | None = None) -> str:
    """The report for ``results`` (RunResults, result dicts or Entries), as one HTML string. ``notice``: a sentence
    shown above everything (an interrupted command says what it did not play); ``preamble``: HTML (already
    escaped, self-contained) shown above the matrix -- a command's own view, e.g. ``harness fuzz``'s section."""
    entries = [entry_of(r) for r in results]
    runs = [_run_view(i, e) for i, e in enumerate(entries, start=1)]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["codify"] = codify
    env.filters["secs"] = lambda t: "" if t is None else f"{t:.2f}"
    counts = {"total": len(runs), "expected": sum(1 for r in runs if r["match"] == "ok"),
              "unexpected": sum(1 for r in runs if r["match"] == "mismatch"),
              "errors": sum(1 for r in runs if r["outcome"] == "error"),
              "unclaimed": sum(1 for r in runs if r["match"] == "unclaimed")}
    grid = release_matrix.grid((e.result for e in entries), (r["id"] for r in runs))
    matrix = _matrix(runs)
    return env.get_template("report.html").render(
        title=title, notice=notice, generated=time.strftime("%Y-%m-%d %H:%M:%S %Z"), runs=runs, matrix=matrix,
        preamble=Markup(preamble) if preamble else None,
        counts=counts, trace_port=TRACE_PORT, line=version_line.version_line(grid),
        bands=version_line.bands(grid) if len(matrix["versions"]) > version_line.TRANSPOSE_AFTER else None,
        grid_scenarios=grid.scenarios, flips=grid.flips, repeats=_repeats(runs),
        build_diffs=build_diff.differences(e.result for e in entries))


def write_report(results: Sequence[Any], path: Path, title: str = "Session survival report",
                 notice: str | None = None, preamble: str | None = None) -> Path:
    return write_atomic(Path(path), render(results, title, notice, preamble))


def codify(text: str | None) -> Markup:
    """Escape ``text`` and show its `backticked` parts as code."""
    escaped = html.escape(text or "")
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))


# -- the view model ----------------------------------------------------------------------------------------------

def _match(result: dict[str, Any]) -> str:
    if result.get("outcome") == "error":
        return "error"
    if result.get("expected") is None:
        return "unclaimed"
    return "ok" if result["outcome"] == result["expected"] and not result.get("bounds_exceeded") else "mismatch"


def _run_view(index: int, entry: Entry) -> dict[str, Any]:
    r = entry.result
    events = r["events"]
    names = view.store_names(events)
    rows = view.timeline_rows(events, r.get("steps", ()), view.lost_at(r))
    strip = view.strip(r)
    trace = _artifact(entry, "trace")
    shots: list[dict[str, Any]] = []
    for shot in view.screenshots(r):
        step = next((s for s in r.get("steps", []) if s["index"] == shot["step"]), None)
        caption = shot["label"] + (f" `{step['label']}`" if step and shot["label"].startswith("after") else "")
        embedded = _embed(entry, shot["file"])
        same = next((s for s in shots if embedded["src"] and s["src"] == embedded["src"]), None)
        if same is not None:  # the page did not change: say so rather than embed the same image twice
            embedded = {"src": None, "note": f"the page looked exactly as in {same['file']}"}
        shots.append({**shot, "caption": f"{caption} (t={shot['t']:.2f} s)", **embedded})
    return {
        "id": f"run-{index}", "index": index, "scenario": r.get("scenario"), "title": r.get("title"),
        "scenario_path": r.get("scenario_path"), "sdk": r.get("sdk"), "version": r.get("version"),
        "repeat": int(r.get("repeat") or 1),
        "browser": r.get("browser", {}), "outcome": r.get("outcome"), "expected": r.get("expected"),
        "match": _match(r), "sentence": r.get("sentence"), "error": r.get("error"), "checks": r.get("checks", []),
        "steps": r.get("steps", []), "duration": r.get("duration"), "started": _clock(r.get("started_at")),
        "store_names": names, "rows": rows, "strip": _strip_svg(strip), "first_loss": strip.first_loss,
        "shots": shots, "console": view.console_log(events), "reproduce": r.get("reproduce", ""),
        "trace": trace, "folder": str(entry.folder) if entry.folder else None,
        "requests": len(view.request_log(events, include_static=False)),
        "stall_note": view.stall_sentence(r), "build": r.get("build"),
    }


def _clock(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else ""


def _artifact(entry: Entry, kind: str) -> str | None:
    path = entry.result.get("artifacts", {}).get(kind)
    if not path:
        return None
    local = entry.folder / Path(path).name if entry.folder else None
    return str(local if local is not None and local.exists() else path)


def _embed(entry: Entry, file: str) -> dict[str, Any]:
    path = entry.folder / file if entry.folder else None
    if path is None or not path.is_file():
        return {"src": None, "note": f"{file} is missing"}
    data = path.read_bytes()
    if len(data) > MAX_EMBED_BYTES:
        return {"src": None, "note": f"{path} is {len(data) // 1000} kB, too large to embed"}
    mime = "image/jpeg" if path.suffix in (".jpg", ".jpeg") else "image/png"
    return {"src": f"data:{mime};base64,{base64.b64encode(data).decode()}", "note": str(path)}


def _matrix(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def order(v: str) -> Any:
        try:
            return (0, semantic_version.Version(v))
        except ValueError:
            return (1, v)

    versions = sorted({r["version"] for r in runs}, key=order)
    scenarios: list[dict[str, Any]] = []
    for r in runs:
        row = next((s for s in scenarios if s["id"] == r["scenario"]), None)
        if row is None:
            row = {"id": r["scenario"], "title": r["title"], "cells": {v: [] for v in versions}}
            scenarios.append(row)
        row["cells"][r["version"]].append(r)
    return {"versions": versions, "scenarios": scenarios}


def _repeats(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verdict counts and flake rate per scenario x version, when any pair was played more than once."""
    rows = repeat_rows(runs)
    return [r.to_dict() | {"counts_text": r.counts_text} for r in rows] if any(r.runs > 1 for r in rows) else []


def _strip_svg(strip: view.Strip) -> dict[str, Any]:
    """Pixel geometry of the strip for the template (SVG drawn inline, no script)."""
    plot = STRIP_WIDTH - STRIP_LABEL - 10

    def x(t: float) -> float:
        return round(STRIP_LABEL + max(0.0, min(t, strip.end)) / strip.end * plot, 1)

    top = 18  # room for marker labels
    lanes = []
    for i, lane in enumerate(strip.lanes):
        y = top + i * LANE_H
        rects = []
        for s in lane.segments:
            x0, x1 = x(s["t0"]), x(s["t1"])
            width = max(x1 - x0, 2.0 if s["cls"] in ("absent", "gone", "offline", "hidden") else 0.5)
            text = s.get("text")
            if text and width < 6.5 * len(text) + 4:  # too narrow for the label: the step number, if it fits
                text = text.split(" ")[0] if width >= 6.5 * len(text.split(" ")[0]) + 4 else None
            rects.append({"x": x0, "w": round(width, 1), "cls": s["cls"], "title": s["title"], "text": text})
        marks = [{"x": x(m["t"]), "cls": m["cls"], "title": m["title"]} for m in lane.marks]
        lanes.append({"label": lane.label, "y": y, "rects": rects, "marks": marks})
    bottom = top + len(strip.lanes) * LANE_H
    step = next(s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1e9) if strip.end / s <= 12)
    ticks = [{"x": x(i * step), "label": f"{i * step:g} s"} for i in range(int(strip.end / step) + 1)]
    markers = [{"x": x(m["t"]), "cls": m["cls"], "label": m["label"],
                "anchor": "end" if x(m["t"]) + 6.5 * len(m["label"]) > STRIP_WIDTH - 4 else "start"}
               for m in strip.markers]
    return {"width": STRIP_WIDTH, "height": bottom + 22, "label_w": STRIP_LABEL, "lane_h": LANE_H - 4, "top": top,
            "bottom": bottom, "lanes": lanes, "ticks": ticks, "markers": markers}
