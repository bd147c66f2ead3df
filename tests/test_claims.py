"""``harness claims``: a scenario's verdicts rewritten from a sweep's results -- bands bounded by the releases that
gave them, what was never run named, the old claims outside the sweep kept, a diff, and a write only when asked."""

from __future__ import annotations

import json
from pathlib import Path

from harness.versions import claims
from harness.versions.sweep import consensus
from test_cli_errors import harness

LIBRARY = Path(__file__).parents[1] / "scenarios"


def run(version: str, outcome: str, repeat: int = 1) -> dict:
    return {"scenario": "offline-refresh-due", "version": version, "outcome": outcome, "repeat": repeat,
            "started_at": 1.0, "expected": None, "sentence": "s", "events": [], "checks": [], "steps": [],
            "browser": {}}


RESULTS = [run("5.0.0", "reproduced"), run("5.1.0", "reproduced"), run("5.1.1", "error"), run("5.2.1", "survived"),
           run("5.2.1", "survived", 2), run("5.2.4", "survived")]
SELECTED = ["5.0.0", "5.1.0", "5.1.1", "5.2.1", "5.2.2", "5.2.4"]


def test_bands_are_bounded_by_their_evidence_and_name_what_was_not_run() -> None:
    line = list(consensus(RESULTS).values())
    first, second = claims.bands(line, SELECTED, newest_published="6.40.0")
    assert (first.spec, first.outcome, first.releases, first.runs) == (">=5.0.0 <=5.1.0", "reproduced", 2, 2)
    assert (second.spec, second.outcome, second.releases, second.runs, second.unrun) == (
        ">=5.2.1 <=5.2.4", "survived", 2, 3, ("5.2.2",))
    # 5.1.1 (error) lies between the bands: neither claims it
    assert not any(semver_in("5.1.1", b.spec) for b in (first, second))


def semver_in(version: str, spec: str) -> bool:
    import semantic_version

    return semantic_version.Version(version) in semantic_version.NpmSpec(spec)


def test_the_newest_band_is_open_only_at_the_newest_release() -> None:
    line = list(consensus([run("6.39.0", "survived"), run("6.40.0", "survived")]).values())
    assert claims.bands(line, ["6.39.0", "6.40.0"], newest_published="6.40.0")[0].spec == ">=6.39.0"
    assert claims.bands(line, ["6.39.0", "6.40.0"], newest_published="6.41.0")[0].spec == ">=6.39.0 <=6.40.0"


def test_old_claims_are_kept_only_outside_the_sweep() -> None:
    kept = claims.kept_outside({"<6.1.0": "reproduced", ">=6.1.0": "survived"}, "5.0.0", "5.2.4",
                               ["4.9.0", "5.0.0", "5.2.4", "6.0.0", "6.1.0"])
    assert kept == {"<6.1.0 <5.0.0": "reproduced", "<6.1.0 >5.2.4": "reproduced", ">=6.1.0": "survived"}


def _sweep_folder(root: Path) -> Path:
    folder = root / "sweep"
    for i, r in enumerate(RESULTS):
        run_dir = folder / f"run-{i}"
        run_dir.mkdir(parents=True)
        (run_dir / "result.json").write_text(json.dumps(r))
    (folder / "sweep.json").write_text(json.dumps({"date": "2026-12-08", "harness": "0.1.0+test",
                                                   "selected": SELECTED}))
    return folder


def test_claims_shows_a_diff_writes_only_when_asked_and_records_the_sweep(tmp_path: Path) -> None:
    scenario = tmp_path / "offline-refresh-due.yaml"
    # The library's file with the claims it had before any sweep (the library's own are rewritten by sweeps).
    scenario.write_text(claims.rewrite((LIBRARY / "offline-refresh-due.yaml").read_text(),
                                       'verdicts:\n  "<6.1.0": reproduced\n  ">=6.1.0": survived\n'))
    before = scenario.read_text()
    folder = _sweep_folder(tmp_path)
    shown = harness("claims", str(scenario), "--from", str(folder), cwd=tmp_path)
    assert shown.returncode == 1, shown.stderr  # would change, and was not written
    assert '+  ">=5.0.0 <=5.1.0":' in shown.stdout and '-  "<6.1.0": reproduced' in shown.stdout
    assert scenario.read_text() == before
    written = harness("claims", str(scenario), "--from", str(folder), "--write", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    text = scenario.read_text()
    assert "from `harness sweep` on 2026-12-08 (harness 0.1.0+test): 5 of 6 selected releases" in text
    assert "not run or no verdict: 5.2.2" in text
    assert "# no claim (between bands, no verdict): 5.1.1 (error: error 1)" in text
    assert text.split("verdicts:")[0] == before.split("verdicts:")[0]  # the rest of the file untouched
    from harness.scenario.model import load_scenario

    loaded = load_scenario(scenario)
    assert loaded.expected("5.0.0") == "reproduced" and loaded.expected("5.2.4") == "survived"
    assert loaded.expected("5.1.1") is None and loaded.expected("6.0.0") == "reproduced"
    again = harness("claims", str(scenario), "--from", str(folder), cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == ""
