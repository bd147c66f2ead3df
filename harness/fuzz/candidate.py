"""A generated timeline as scenario data: the same dicts a scenario file holds, validated by the scenario model.

:class:`Candidate` is what the fuzzer generates, plays, shrinks and writes. It never builds fault objects or steps
itself: :meth:`Candidate.scenario` turns its data into YAML and parses it with :func:`parse_scenario`, so a timeline
the fuzzer plays is one a person could have written, checked by the same rules.

Invariants:

* ``steps`` are in scenario-file syntax (a bare name, or a one-key mapping) and start with ``signed_in``;
* :attr:`Candidate.key` is canonical (sorted JSON of setup and steps): two candidates with the same key are the same
  timeline, whatever made them;
* :func:`size_key` orders candidates the way the shrink aims: fewer steps first, then shorter waits (seconds a
  timeline may spend waiting), then shorter text -- the smallest reproduced candidate is the finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Union

import yaml

from harness.scenario.model import Scenario, parse_scenario

StepData = Union[str, dict[str, Any]]

# The invariant every explored timeline claims: the session survives on every version.
INVARIANT = {"*": "survived"}


def step_name(step: StepData) -> str:
    return step if isinstance(step, str) else next(iter(step))


def step_arg(step: StepData) -> Any:
    return None if isinstance(step, str) else step[step_name(step)]


@dataclass
class Candidate:
    steps: list[StepData]
    setup: dict[str, Any] = field(default_factory=dict)
    motifs: list[str] = field(default_factory=list)  # the chunks that made it (a description, not part of the key)

    @property
    def key(self) -> str:
        return json.dumps({"setup": self.setup, "steps": self.steps}, sort_keys=True, separators=(",", ":"))

    @property
    def kinds(self) -> list[str]:
        return [step_name(s) for s in self.steps]

    def data(self, id: str, title: str, verdicts: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The scenario file's content (``verdicts`` default: the invariant)."""
        out: dict[str, Any] = {"id": id, "title": title}
        if self.setup:
            out["setup"] = dict(self.setup)
        out["steps"] = list(self.steps)
        out["verdicts"] = dict(verdicts or INVARIANT)
        return out

    def yaml(self, id: str, title: str, verdicts: Mapping[str, str] | None = None) -> str:
        return dump_yaml(self.data(id, title, verdicts))

    def scenario(self, id: str, title: str | None = None) -> Scenario:
        """The timeline as the scenario model reads it (raises ScenarioError if any step is malformed)."""
        return parse_scenario(self.yaml(id, title or describe(self)))


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Scenario data as the library writes it: fields in block style, one line per step (``- offline``,
    ``- wait: 2``, ``- status: {status: 503, ...}``), verdict ranges quoted."""
    def flow(value: Any) -> str:
        text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
        return text.strip().removesuffix("...").strip()

    out: list[str] = []
    for name, value in data.items():
        if name == "steps":
            out.append("steps:")
            for step in value:
                if isinstance(step, str):
                    out.append(f"  - {step}")
                else:
                    key, arg = next(iter(step.items()))
                    out.append(f"  - {key}: {flow(arg)}")
        elif name == "verdicts":
            out.append("verdicts:")
            out += [f"  {json.dumps(spec)}: {outcome}" for spec, outcome in value.items()]
        elif isinstance(value, dict):
            out.append(f"{name}:")
            out += [f"  {key}: {flow(v)}" for key, v in value.items()]
        else:
            out.append(f"{name}: {flow(value)}")
    return "\n".join(out) + "\n"


def step_text(step: StepData) -> str:
    """One step as a person reads it: ``wait_for token_attempt``, ``status 503 */tokens calls=[1, 2]``."""
    if isinstance(step, str):
        return step
    name, arg = next(iter(step.items()))
    if not isinstance(arg, dict):
        return f"{name} {arg}"
    main = {"wait_for": "event", "status": "status", "release": "fault", "wait": "value"}.get(name)
    parts = [name] + ([str(arg[main])] if main and main in arg else [])
    parts += [f"{k}={v}" for k, v in arg.items() if k != main and k != "optional"]
    return " ".join(parts)


def describe(candidate: Candidate, limit: int = 90) -> str:
    """A one-line title: the steps between sign-in and the closing reload."""
    inner = [step_text(s) for s in candidate.steps[1:]]
    text = ", ".join(inner)
    return text if len(text) <= limit else text[: limit - 3].rstrip(", ") + "..."


def _seconds(value: Any) -> float:
    from harness.scenario.steps import parse_duration

    try:
        return parse_duration(value)
    except ValueError:
        return 0.0


def waited(step: StepData) -> float:
    """The most time a step may spend waiting by design: a wait, an (optional) wait_for's timeout, a delay."""
    name, arg = step_name(step), step_arg(step)
    if name == "wait":
        return _seconds(arg)
    if isinstance(arg, dict):
        if name == "wait_for":
            return _seconds(arg.get("timeout", 0))
        if name in ("delay", "fault") and "delay" in arg:
            return _seconds(arg["delay"])
        if name == "api_call" and "for" in arg:
            return _seconds(arg["for"])
    return 0.0


def size_key(candidate: Candidate) -> tuple[int, float, int, str]:
    """Smaller first: fewer steps, then shorter waits, then shorter text (then the text, to be total)."""
    key = candidate.key
    return len(candidate.steps), round(sum(waited(s) for s in candidate.steps), 3), len(key), key


def skeleton(steps: Sequence[StepData]) -> list[str]:
    """The steps without their durations, names and timeouts: what a timeline does, not how long it waits."""
    out = []
    for step in steps:
        name, arg = step_name(step), step_arg(step)
        if name in ("wait",):
            continue
        if isinstance(arg, dict):
            if name == "wait_for":
                out.append(f"wait_for:{arg.get('event')}")
                continue
            if name == "release":
                out.append(f"release:{arg.get('outcome', 'pass')}")
                continue
            detail = [str(arg[k]) for k in ("status", "path", "at", "token") if k in arg]
            out.append(":".join([name, *detail]))
        else:
            out.append(name)
    return out


def explained_by(candidate: Candidate, finding: Candidate) -> bool:
    """True when ``candidate`` does everything ``finding`` does, in order (its skeleton is a subsequence): a
    violation already accounted for by a finding, not a new one."""
    rest = iter(skeleton(candidate.steps))
    return all(any(part == mine for mine in rest) for part in skeleton(finding.steps))
