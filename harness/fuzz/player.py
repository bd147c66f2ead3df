"""The seam between the fuzzer and the engine: a :class:`Player` plays candidates and says what each run did.

:class:`EnginePlayer` turns each candidate into a scenario (validated by the scenario model), plays them on the
concurrent engine (``--jobs`` at a time, one :meth:`Engine.play` call per batch, so Ctrl-C and SIGTERM stop it the
way they stop ``harness run``), and keeps what a fuzz session needs from each result: the outcome, the verdict
sentence, the result folder, and which interleavings its timeline reached. The search and its tests see only the
:class:`Player` protocol, so they run without a browser.

Invariant: a :class:`Played` with outcome ``error`` is never a violation (:attr:`Played.violates`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from harness.engine import Engine, Interrupted, RunPlan, RunResult
from harness.fuzz.candidate import Candidate, describe
from harness.fuzz.coverage import reached
from harness.scenario.model import Scenario

PHASES = ("explore", "shrink", "confirm")


@dataclass
class Played:
    candidate: Candidate
    version: str
    phase: str  # explore | shrink | confirm
    outcome: str  # survived | reproduced | signed-out | stuck | error
    sentence: str = ""
    folder: str | None = None
    duration: float = 0.0
    reached: frozenset[str] = frozenset()
    result: RunResult | None = field(default=None, repr=False)

    @property
    def violates(self) -> bool:
        """The session was lost while the server held it; an error run never counts."""
        return self.outcome == "reproduced"


Pair = tuple[Candidate, str]  # a timeline and the version to play it on


class Player(Protocol):
    def play(self, pairs: Sequence[Pair], phase: str, repeat: int = 1) -> list[Played]:
        """Play each (candidate, version) ``repeat`` times, all at once; results in order (pair-major)."""
        ...


OnPlayed = Callable[[Played], None]


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM while a batch played: ``played`` holds the runs that finished (kept, never judged twice);
    ``signum`` decides the exit status, as for :class:`harness.engine.Interrupted`."""

    def __init__(self, played: list[Played], signum: int | None) -> None:
        super().__init__()
        self.played = played
        self.signum = signum


class EnginePlayer:
    """Plays candidates on an :class:`Engine`; each run gets a scenario id ``fuzz-<phase>-<n>``."""

    def __init__(self, engine: Engine, *, on_start: Callable[[str], None] | None = None,
                 on_played: OnPlayed | None = None) -> None:
        self.engine = engine
        self.on_start = on_start
        self.on_played = on_played
        self._numbers = itertools.count(1)

    def prepare(self, version: str) -> None:
        """Bad input (an unknown version, no browser) fails here, before any run starts."""
        self.engine.prepare([RunPlan(Candidate(["signed_in", "reload"]).scenario("fuzz-probe"), version)])

    def play(self, pairs: Sequence[Pair], phase: str, repeat: int = 1) -> list[Played]:
        plans, owners = [], []
        scenarios: dict[str, Scenario] = {}
        for candidate, version in pairs:
            scenario = scenarios.get(candidate.key)
            if scenario is None:  # one id per timeline, whatever versions it plays on
                scenario = candidate.scenario(f"fuzz-{phase}-{next(self._numbers)}", describe(candidate))
                scenarios[candidate.key] = scenario
            for n in range(1, repeat + 1):
                plans.append(RunPlan(scenario, version, n))
                owners.append(candidate)
        by_key = {plan.key: owner for plan, owner in zip(plans, owners, strict=True)}
        on_start = self.on_start
        try:
            results = self.engine.play(
                plans, on_start=(lambda p: on_start(p.label)) if on_start is not None else None,
                on_done=(lambda p, r: self._done(by_key[p.key], r, phase)) if self.on_played else None)
        except Interrupted as stop:  # keep the runs that finished before the signal
            finished = [played_of(by_key[f"{r.scenario}@{r.version}#{r.repeat}"], r, phase) for r in stop.results]
            raise Stopped(finished, stop.signum) from None
        return [played_of(owner, result, phase) for owner, result in zip(owners, results, strict=True)]

    def _done(self, candidate: Candidate, result: RunResult, phase: str) -> None:
        assert self.on_played is not None
        self.on_played(played_of(candidate, result, phase))


def played_of(candidate: Candidate, result: RunResult, phase: str) -> Played:
    return Played(candidate=candidate, version=result.version, phase=phase, outcome=result.outcome,
                  sentence=result.sentence, folder=result.artifacts.get("folder") or result.artifacts.get("result"),
                  duration=result.duration, reached=reached(result.events), result=result)
