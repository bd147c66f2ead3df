"""What one run produced: :class:`RunResult`, a view of its timeline plus the facts a report needs.

Built once, by :meth:`harness.engine.run.Run.finish`; written as ``result.json`` and read back by
:mod:`harness.report.results`. ``timing`` says where the run's wall time went (``setup`` before the first step,
``steps`` from the first step's start to the last step's end, ``teardown`` after it; ``overhead`` is the wall time
outside the steps), so benchmarks read the engine's cost from results instead of timing anything themselves.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import resources
from harness.scenario.model import Scenario
from harness.timeline import stalls_of


@dataclass
class RunResult:
    scenario: str
    title: str
    scenario_path: str | None
    sdk: str
    version: str
    browser: dict[str, Any]
    outcome: str  # survived | reproduced | signed-out | stuck | error
    expected: str | None
    sentence: str
    checks: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    events: list[dict[str, Any]]
    started_at: float
    duration: float
    error: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    reproduce: str = ""
    timing: dict[str, float] = field(default_factory=dict)
    backend: str = ""  # how the app backend decided, as its adapter describes it (``server.backend`` on the timeline)
    clock: dict[str, Any] = field(default_factory=dict)  # the page clock's offset at start and end, and the skew
    repeat: int = 1  # which repetition of scenario x version this was (``--repeat``), 1-based
    # A local build's identity (harness.sdks.builds): version (its package.json's), sha256 (of what was played),
    # kind, source (path or URL), label (= ``version`` above), claims_as; None for a published release.
    build: dict[str, str] | None = None

    @property
    def matches_expectation(self) -> bool | None:
        """True/False when the file claims an outcome for this version; None when it claims none. A bound the file
        set (``expect_requests``) and the run exceeded is a claim broken too, whatever the outcome."""
        if self.outcome == "error" or self.bounds_exceeded:
            return False
        return None if self.expected is None else self.outcome == self.expected

    @property
    def bounds_exceeded(self) -> list[str]:
        """The details of the failed ``bound`` checks (a request storm the scenario did not allow)."""
        from harness.oracles.checks import CHECKS

        return [c["detail"] for c in self.checks if not c.get("passed")
                and getattr(CHECKS.get(c.get("name", "")), "role", None) == "bound"]

    @property
    def lost_at(self) -> float | None:
        for check in self.checks:
            if check["name"] == "cookie-never-removed" and not check["passed"]:
                return check["t"]
        return None

    @property
    def stalls(self) -> list[dict[str, Any]]:
        """Where the harness itself stalled between steps (``harness.stalled``: after_step, before_step, seconds)."""
        return stalls_of(self.events)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["matches_expectation"] = self.matches_expectation
        out["bounds_exceeded"] = self.bounds_exceeded
        out["lost_at"] = self.lost_at
        out["stalls"] = self.stalls
        return out



def reproduce_command(scenario: Scenario, version: str) -> str:
    """The command that replays this run, watched: by id for library scenarios, else by path."""
    path = scenario.path.resolve() if scenario.path else None
    library = resources.library_dir().resolve()
    if path is None or path in (library / f"{scenario.id}.yaml", library / path.parent.name / f"{scenario.id}.yaml"):
        target = scenario.id
    else:
        try:
            target = str(path.relative_to(Path.cwd()))
        except ValueError:
            target = str(path)
    return f"harness run {shlex.quote(target)} --sdk-version {version} --headed --slowmo 250"
