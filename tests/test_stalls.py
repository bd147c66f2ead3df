"""The harness falling behind the scenario's pace between two steps (``harness.stalled``): recorded on the timeline
of a played file, said on the CLI line, in the run card and in the repeat figures, and never a change of verdict. A
pause in a Python-driven run (or between `harness serve` clicks) is the user's, not the harness's: not recorded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.frontdoor import run_line as _line
from harness.engine import Engine, RunPlan
from harness.engine import run as run_module
from harness.report import html
from harness.report.repeats import repeat_rows
from harness.report.view import stall_sentence
from harness.scenario.model import load_scenario

from conftest import FIXED

SCENARIO = """\
id: stall-probe
title: signed in, then a reload
steps:
  - signed_in
  - reload
verdicts:
  "*": survived
"""


@pytest.fixture
def engine(harness_options):
    """An engine of this test's own: its Playwright (on this thread) stops when the test ends, so tests after it in
    this worker can start theirs (the session-wide ``harness_engine`` would keep one running)."""
    with Engine(harness_options) as own:
        yield own


@pytest.fixture
def probe_scenario(tmp_path: Path):
    (tmp_path / "stall-probe.yaml").write_text(SCENARIO)
    return load_scenario(tmp_path / "stall-probe.yaml")


@pytest.mark.scenario
def test_a_slow_harness_between_steps_is_recorded_and_said_without_changing_the_verdict(
        engine, probe_scenario, monkeypatch):
    real_cross_check = run_module.cross_check_store
    calls: list[int] = []

    def slow_first(*args, **kwargs):  # the harness's own work after step 1 (its store cross-check) falls behind
        calls.append(1)
        if len(calls) == 1:
            time.sleep(run_module.STALL_S + 0.5)
        return real_cross_check(*args, **kwargs)

    monkeypatch.setattr(run_module, "cross_check_store", slow_first)
    result = engine.run_here(RunPlan(probe_scenario, FIXED)).play()
    assert result.outcome == "survived", result.sentence
    first = result.stalls[0]
    assert first["after_step"] == 1 and first["before_step"] == 2 and first["seconds"] > run_module.STALL_S
    assert "[harness stalled" in _line(result, 6, several=False)
    page = html.render([result.to_dict()])
    assert "The harness itself stalled" in page and "between steps 1 and 2" in page
    [row] = repeat_rows([result.to_dict(), result.to_dict() | {"events": []}])
    assert row.stalled == 1 and row.runs == 2


@pytest.mark.scenario
def test_a_pause_in_a_python_driven_run_is_not_the_harness_stalling(engine, probe_scenario):
    run = engine.run_here(RunPlan(probe_scenario, FIXED)).start()  # driven step by step, as serve and harness_run do
    signed_in, reload = probe_scenario.steps
    run.step(signed_in)
    time.sleep(run_module.STALL_S + 0.5)  # the caller's own pace, as a person's between `harness serve` clicks
    run.step(reload)
    result = run.finish()
    assert result.outcome == "survived", result.sentence
    assert result.stalls == [] and "stalled" not in _line(result, 6, several=False)
    assert "The harness itself stalled" not in html.render([result.to_dict()])
    assert repeat_rows([result])[0].stalled == 0


def test_the_stall_sentence_names_the_worst_gap_and_counts_the_rest():
    def stalled(after: int, seconds: float) -> dict:
        return {"kind": "harness.stalled", "data": {"after_step": after, "before_step": after + 1, "seconds": seconds}}

    assert stall_sentence({"events": []}) is None
    said = stall_sentence({"events": [stalled(1, 2.5), stalled(3, 4.25), stalled(4, 2.1)]})
    assert said is not None and "4.2 s between steps 3 and 4 (and 2 more times)" in said
