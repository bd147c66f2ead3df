"""The step registry: what a step is (:class:`StepSpec`), what it can touch (:class:`RunContext`), and
:func:`step`, the decorator that registers one in :data:`STEPS`.

A module of its own so that the modules holding steps (:mod:`.steps`, :mod:`.fault_steps`, :mod:`.race_steps`,
:mod:`.tab_steps`) import it and never each other: :mod:`harness.scenario.steps` imports the other step modules
(so that importing it registers every step) and none of them imports it back. The registry validates arguments when
a scenario file is loaded, so a typo fails before any browser starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from pydantic import BaseModel, ConfigDict

from harness.mock.faults import Fault
from harness.registry import Registry
from harness.sdks import SdkAdapter
from harness.timeline import Event, Timeline

DEFAULT_TIMEOUT = 20.0


@dataclass
class RunContext:
    """What a step can touch: the timeline, the browser, the server and the SDK adapter of one run."""

    timeline: Timeline
    driver: Any  # harness.browser.driver.BrowserDriver
    server: Any  # harness.mock.server.MockAuthServer
    sdk: SdkAdapter
    faults: dict[str, Fault] = field(default_factory=dict)
    start_focused: bool = True  # setup.start_focused: signed_in gives the tab focus, as a person's tab has
    # When the current and the previous step began (the runner sets ``step_started_at`` before each step).
    _step_started_at: float = field(default=0.0, repr=False)
    previous_step_started_at: float = 0.0
    # The last event a ``wait_for`` consumed, as (at, seq): the next ``wait_for`` only counts later ones.
    last_waited: tuple[float, int] = (0.0, 0)

    @property
    def step_started_at(self) -> float:
        return self._step_started_at

    @step_started_at.setter
    def step_started_at(self, value: float) -> None:
        self.previous_step_started_at, self._step_started_at = self._step_started_at, value

    @property
    def app_url(self) -> str:
        return self.server.url + "/"


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class StepSpec:
    name: str
    args: type[BaseModel]
    run: Callable[[RunContext, Any, float], None]
    doc: str


STEPS: Registry[StepSpec] = Registry("step")


def step(name: str, args: type[BaseModel] = NoArgs) -> Callable:
    """Register a step: ``fn(ctx, args, timeout)``; its docstring is the reference text for the README."""

    def register(fn: Callable[[RunContext, Any, float], None]) -> Callable:
        STEPS.add(name, StepSpec(name=name, args=args, run=fn, doc=(fn.__doc__ or "").strip()))
        return fn

    return register


# -- waits with a window of their own ------------------------------------------------------------------------

@dataclass(frozen=True)
class WaitWindow:
    """Where a ``wait_for`` looks for an event whose moment is not "since the step before" (a flip armed steps ago
    may have fired steps ago): from ``since``, only events ``accept`` takes; ``found`` hears the event (and may raise:
    it reported a failure); ``missing(seconds)`` words the error when none came; ``gave_up()`` is told when an
    ``optional`` wait ends without one."""

    since: float
    accept: Callable[[Event], bool]
    found: Callable[[Event], None]
    missing: Callable[[float], str]
    gave_up: Callable[[], None]


# Events with a window of their own, by name: (ctx, args) -> WaitWindow (registered by the module that owns them).
class WaitArgs(Protocol):
    """What a window's factory reads of a ``wait_for`` step's arguments (:class:`harness.scenario.steps.WaitFor`)."""

    @property
    def count(self) -> int: ...


WAIT_WINDOWS: dict[str, Callable[[RunContext, WaitArgs], WaitWindow]] = {}
