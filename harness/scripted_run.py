"""A run driven step by step from Python: :class:`ScriptedRun`, what ``harness_run`` and ``harness_attach`` hand a
test (:mod:`harness.pytest_fixtures`, :mod:`harness.pytest_attach`). Its own module so that both fixtures' modules
build on it without importing each other.

Invariant: every step goes through the step registry's validation for the run's SDK, exactly as a scenario file's
step does, and reaches the run on the thread its browser lives on (``call``).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from harness.engine import RunResult, StepFailed
from harness.engine.run import Run
from harness.scenario.model import Step
from harness.scenario.steps import STEPS
from harness.timeline import Timeline


class ScriptedRun:
    """A run driven step by step from Python. Each registered step is a method: its one main argument positional
    (``run.wait_for("token_attempt")``), the others by keyword, plus ``label=`` and ``timeout=`` as in a file.

    ``call`` is how the run's own work reaches the thread its browser lives on: the engine's own thread for a run
    the harness launched (:meth:`Engine.call_on_own_thread`), the caller's own for a run attached to the caller's
    page (the default: a direct call)."""

    def __init__(self, run: Run, call: Callable[..., Any] | None = None) -> None:
        self.run = run
        self._call: Callable[..., Any] = call or (lambda fn, *args: fn(*args))

    @property
    def app_url(self) -> str:
        """The app page the mock serves for this run (where ``signed_in`` goes)."""
        return self.run.app_url

    @property
    def timeline(self) -> Timeline:
        return self.run.timeline

    def step(self, name: str, value: Any = None, /, *, label: str | None = None, timeout: float | None = None,
             **args: Any) -> None:
        """Play step ``name`` now; a step that cannot complete fails the test (and the run ends in ``error``)."""
        spec = STEPS.get(name)
        if spec is None:
            raise AttributeError(f"no step {name!r} (known steps: {', '.join(sorted(STEPS))})")
        if value is not None:
            args = {"value": value, **args}
        validated = spec.args.model_validate(args, context={"sdk": self.run.sdk})  # checked for the run's SDK
        step = Step(name, validated.model_dump(exclude_unset=True), line=0, label=label, timeout=timeout)
        self.check_step(name)
        try:
            self._call(self.run.step, step)
        except StepFailed as err:
            self.run.error = self.run.error or str(err)
            raise
        except KeyboardInterrupt:  # as for any interrupted run: it writes no verdict (its folder stays INCOMPLETE)
            self.run.cancelled = self.run.cancelled or threading.Event()
            self.run.cancelled.set()
            raise

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name in STEPS:
            return lambda *args, **kwargs: self.step(name, *args, **kwargs)
        raise AttributeError(name)

    def check_step(self, name: str) -> None:
        """Refuse, before it plays, a step this run cannot take (an attached run refuses tab steps it cannot
        honour); a run the harness launched takes every registered step."""

    def finish(self) -> RunResult:
        """Judge, close, write the result folder; returns the result (the same object every later call)."""
        return self._call(self.run.finish)
