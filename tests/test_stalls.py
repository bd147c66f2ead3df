"""The harness falling behind the scenario's pace between two steps (``harness.stalled``): recorded on the timeline,
said on the CLI line, in the run card and in the repeat figures, and never a change of verdict. A real run through
the ``harness_run`` fixture; the test's own pause between two steps is the harness stalling, as a descheduled
harness process would."""

from __future__ import annotations

import time

import pytest

from harness.cli import _line
from harness.engine import run as run_module
from harness.report import html
from harness.report.repeats import repeat_rows

from conftest import FIXED


@pytest.mark.scenario
def test_a_pause_between_steps_is_recorded_and_said_without_changing_the_verdict(harness_run):
    run = harness_run(version=FIXED, expect={"*": "survived"})
    run.signed_in()
    time.sleep(run_module.STALL_S + 0.5)
    run.reload()
    result = run.finish()
    [stall] = result.stalls
    assert stall["after_step"] == 1 and stall["before_step"] == 2 and stall["seconds"] > run_module.STALL_S
    assert result.outcome == "survived"
    assert "[harness stalled" in _line(result, 6, several=False)
    assert "The harness itself stalled" in html.render([result.to_dict()])
    assert "between steps 1 and 2" in html.render([result.to_dict()])
    [row] = repeat_rows([result.to_dict(), result.to_dict() | {"events": []}])
    assert row.stalled == 1 and row.runs == 2


@pytest.mark.scenario
def test_steps_at_the_scenarios_pace_record_no_stall(harness_run, monkeypatch):
    monkeypatch.setattr(run_module, "STALL_S", 60.0)  # far above any gap a loaded test machine makes
    run = harness_run(version=FIXED, expect={"*": "survived"})
    run.signed_in()
    run.reload()
    result = run.finish()
    assert result.stalls == [] and "stalled" not in _line(result, 6, several=False)
    assert "The harness itself stalled" not in html.render([result.to_dict()])
    assert repeat_rows([result])[0].stalled == 0
