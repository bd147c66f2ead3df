"""The one place where ``harness matrix`` and ``harness bisect`` play (scenario, version) pairs: on the engine.

:func:`run_pairs` takes the pairs and returns each :class:`RunResult` once all are done, calling ``on_start`` and
``on_done`` as each run starts and finishes (several at once with ``--jobs``; callers key results by scenario and
version, never by position). Options come from the command line through the engine's one translation
(:func:`harness.engine.options_from_args`).
"""

from __future__ import annotations

from typing import Callable, Iterable

from harness.engine import Engine, RunOptions, RunPlan, RunResult
from harness.scenario.model import Scenario

OnStart = Callable[[Scenario, str], None]
OnDone = Callable[[RunResult], None]


def with_webdriver(scenario: Scenario, webdriver: str | None) -> Scenario:
    """The scenario under ``--webdriver``: its claims were made for its own setting, so another drops them."""
    if webdriver and scenario.setup.webdriver != webdriver:
        scenario.setup = scenario.setup.model_copy(update={"webdriver": webdriver})
        scenario.verdicts = {}
    return scenario


def run_pairs(pairs: Iterable[tuple[Scenario, str]], engine: Engine, on_start: OnStart | None = None,
              on_done: OnDone | None = None) -> list[RunResult]:
    """Play each (scenario, version) on ``engine`` (``options.jobs`` at a time, each ``options.repeat`` times).
    Bad input (an unknown version, no browser) raises HarnessError before the first run starts."""
    return play_plans(plans_for(pairs, engine.options.repeat), engine, on_start, on_done)


def plans_for(pairs: Iterable[tuple[Scenario, str]], repeat: int) -> list[RunPlan]:
    """The runs ``pairs`` make, each played ``repeat`` times: what a command plans (and names if stopped)."""
    return [RunPlan(s, v, n) for s, v in pairs for n in range(1, repeat + 1)]


def play_plans(plans: list[RunPlan], engine: Engine, on_start: OnStart | None = None,
               on_done: OnDone | None = None) -> list[RunResult]:
    """Play planned runs on ``engine``; see :func:`run_pairs`."""
    return engine.play(plans, on_start=(lambda p: on_start(p.scenario, p.version)) if on_start else None,
                       on_done=(lambda p, r: on_done(r)) if on_done else None)


def engine_for(options: RunOptions) -> Engine:
    import sys

    return Engine(options, on_note=lambda note: print(f"warning: {note}", file=sys.stderr, flush=True))
