"""The report's many-release views: the verdict along the version line and the releases x scenarios grid (no
browser: built from result dicts)."""

from __future__ import annotations

import re

from harness.report import html
from harness.report import matrix

VERSIONS = [f"5.{i}.0" for i in range(150)] + [f"6.{i}.0" for i in range(50)]


def result(scenario: str, version: str, outcome: str, expected: str | None) -> dict:
    return {"scenario": scenario, "title": scenario, "sdk": "@clerk/clerk-js", "version": version,
            "outcome": outcome, "expected": expected, "sentence": "s", "checks": [], "steps": [], "events": []}


def library() -> list[dict]:
    out = []
    for v in VERSIONS:
        fixed = v.startswith("6.") and v != "6.0.0"
        out.append(result("offline-refresh-due", v, "survived" if fixed else "reproduced",
                          "survived" if fixed else "reproduced"))
        out.append(result("background-refresh-timer", v, "error" if v == "6.29.0" else "survived", "survived"))
    return out


def test_flips_bands_and_summary_of_hundreds_of_releases() -> None:
    g = matrix.grid(library())
    assert g.versions[0] == "5.0.0" and g.versions[-1] == "6.49.0" and len(g.versions) == 200  # version order
    assert [(f.scenario, f.before, f.after) for f in g.flips] == [("offline-refresh-due", "6.0.0", "6.1.0")]
    assert [(b[0][0], b[0][-1]) for b in g.bands()] == [("5.0.0", "6.0.0"), ("6.1.0", "6.28.0"),
                                                        ("6.29.0", "6.29.0"), ("6.30.0", "6.49.0")]
    lines = matrix.summary_lines(g)
    assert lines[0] == "offline-refresh-due: reproduced 5.0.0..6.0.0 (151) | survived 6.1.0..6.49.0 (49)"
    assert lines[1] == "background-refresh-timer: survived 5.0.0..6.49.0 (199); error on 6.29.0"
    assert lines[2] == "400 runs on 200 releases: 399 as claimed, 0 differ from the claim, 1 error, 1 flip"


def test_a_claim_that_does_not_hold_is_in_the_summary() -> None:
    g = matrix.grid([result("token-429", "6.0.0", "survived", "reproduced"),
                     result("token-429", "6.1.0", "survived", "survived")])
    assert matrix.summary_lines(g)[0] == "token-429: survived 6.0.0..6.1.0 (2); differs from its claim on 6.0.0"


def test_report_draws_the_line_and_the_grid_in_bands() -> None:
    page = html.render(library())
    assert "Verdict along the version line" in page and "Releases × scenarios" in page
    assert "6.0.0 → 6.1.0" in page
    assert page.count('<tr class="flip">') == 3  # four bands, a thick line above each of the last three
    assert "5.0.0 … 6.0.0 (151 releases)" in page
    for v in ("5.0.0", "6.0.0", "6.49.0"):  # oldest, first of the major, newest: always named on the axis
        assert re.search(rf'class="tick"[^>]*>{re.escape(v)}</text>', page), v
    cells = re.findall(r'<rect class="(survived|reproduced|error)[ "]', page)
    assert len(cells) == 400  # one cell per run
    assert 'href="#run-1"' in page  # each cell leads to its run


def test_few_versions_keep_the_scenario_by_version_table() -> None:
    page = html.render([result("offline-refresh-due", "6.0.0", "reproduced", "reproduced"),
                        result("offline-refresh-due", "6.1.0", "survived", "survived")])
    assert '<table class="matrix">' in page and "Releases × scenarios" not in page
    assert "Verdict along the version line" in page
    one = html.render([result("offline-refresh-due", "6.0.0", "reproduced", "reproduced")])
    assert "Verdict along the version line" not in one
