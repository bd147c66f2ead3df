"""A fault's name is free again once it is released, and a fault kind's own step reads as it is written."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.scenario.model import parse_scenario
from harness.scenario.steps import STEPS, RunContext
from harness.sdks import sdk_for
from harness.timeline import Timeline

TEXT = """id: rearm
title: t
steps:
  - status: {status: 429, name: busy}
  - release: busy
  - status: {status: 503, name: busy}
  - status: {status: 500, name: busy}
verdicts: {'*': survived}
"""


class _Server:
    """The mock's fault book as the fault steps see it: arming gives an id, release takes it."""

    def __init__(self) -> None:
        self.armed: list[Any] = []
        self.released: list[str | None] = []

    def add_fault(self, fault: Any) -> SimpleNamespace:
        armed = SimpleNamespace(id=f"f{len(self.armed) + 1}", released=False)
        self.armed.append(armed)
        return armed

    def release(self, fault_id: str | None, outcome: str) -> None:
        self.released.append(fault_id)
        for fault in self.armed:  # `drop` keeps a holding fault dropping until it is released once more
            if fault_id in (None, fault.id) and outcome == "pass":
                fault.released = True


def _play(step: Any, ctx: RunContext) -> None:
    spec = STEPS[step.name]
    spec.run(ctx, spec.args.model_validate(step.args, context={"sdk": ctx.sdk}), 1.0)


def test_a_released_fault_name_can_be_armed_again_but_not_while_armed():
    scenario = parse_scenario(TEXT)
    server = _Server()
    ctx = RunContext(timeline=Timeline(), driver=None, server=server, sdk=sdk_for("clerk"))
    arm, release, again, twice = scenario.steps
    _play(arm, ctx)
    _play(release, ctx)
    _play(again, ctx)
    assert server.released == ["f1"] and len(server.armed) == 2 and ctx.faults["busy"].id == "f2"
    with pytest.raises(HarnessError, match="already armed"):
        _play(twice, ctx)


def test_a_fault_kinds_own_step_reads_as_written():
    scenario = parse_scenario(TEXT)
    assert scenario.steps[0].describe() == "status 429 name=busy"
    assert scenario.steps[1].describe() == "release busy"


def test_a_fault_released_with_drop_keeps_its_name_for_the_second_release():
    scenario = parse_scenario(TEXT.replace("  - release: busy\n", "  - release: {fault: busy, outcome: drop}\n"
                                           "  - release: busy\n"))
    server = _Server()
    ctx = RunContext(timeline=Timeline(), driver=None, server=server, sdk=sdk_for("clerk"))
    arm, drop, release, again, _ = scenario.steps
    _play(arm, ctx)
    _play(drop, ctx)
    with pytest.raises(HarnessError, match="already armed"):
        _play(again, ctx)  # still dropping: not released yet
    _play(release, ctx)
    _play(again, ctx)
    assert server.released == ["f1", "f1"] and ctx.faults["busy"].id == "f2"
