"""Scenario files: YAML read with line numbers, validated into typed objects.

A scenario is a timeline to play (``steps``) and a claim about what each SDK version does under it (``verdicts``).
The claim is checked by the run, never reported as its result: verdicts come only from what the browser and the
server did (see harness/oracles.py).

    id: offline-poller-refresh
    title: Offline while a token refresh comes due
    refs: [https://github.com/clerk/javascript/pull/7912]
    setup: {token_ttl: 60}
    steps:
      - signed_in
      - offline
      - clear_token_cache
      - wait_for: token_attempt
      - online
      - reload
    verdicts:
      "<6.1.0": reproduced
      ">=6.1.0": survived

A step is a bare name, or a one-key mapping ``{name: argument}`` whose argument is a scalar (the step's main
argument) or a mapping of its arguments; ``label`` and ``timeout`` may sit beside the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import semantic_version
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import ScenarioError

Outcome = Literal["survived", "reproduced", "signed-out", "stuck"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
# What each outcome means, for reports and docs.
OUTCOME_MEANING = {
    "survived": "the session survived: __session was never removed and the server saw a signed-in user",
    "reproduced": "the user was signed out although the session was valid (the bug reproduced)",
    "signed-out": "the server ended the session and the browser dropped it (correct sign-out)",
    "stuck": "the server ended the session but the browser kept presenting it",
}


class Setup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_ttl: float = Field(60, gt=0, description="lifetime of the session JWTs the mock mints, in seconds")
    browser_mode: Literal["real", "emulated", "simulated"] | None = Field(
        None, description="real: the browser's own tab visibility and focus; emulated: Playwright's (always visible "
                          "and focused); simulated: an init-script override. Default: real where it works")
    webdriver: Literal["masked", "exposed"] = Field(
        "masked", description="masked hides navigator.webdriver (clerk-js treats a webdriver browser as offline)")
    instance: Literal["production"] = "production"


@dataclass
class Step:
    name: str
    args: dict[str, Any]
    line: int
    label: str | None = None
    timeout: float | None = None

    def describe(self) -> str:
        if not self.args:
            return self.name
        if list(self.args) == ["value"]:
            return f"{self.name} {self.args['value']}"
        return f"{self.name} " + " ".join(f"{k}={v}" for k, v in self.args.items())


class _ScenarioFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    refs: list[str] = []
    description: str | None = None
    setup: Setup = Setup()
    steps: list[Any] = Field(min_length=1)
    verdicts: dict[str, Outcome] = Field(min_length=1)

    @field_validator("verdicts")
    @classmethod
    def _ranges(cls, value: dict[str, str]) -> dict[str, str]:
        for spec in value:
            try:
                semantic_version.NpmSpec(spec)
            except ValueError:
                raise ValueError(f"{spec!r} is not an npm version range (e.g. '<6.1.0', '>=6.1.0', '*')") from None
        return value


@dataclass
class Scenario:
    id: str
    title: str
    refs: list[str]
    description: str | None
    setup: Setup
    steps: list[Step]
    verdicts: dict[str, Outcome]
    path: Path | None = None
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict, repr=False)

    def expected(self, version: str) -> Outcome | None:
        """The outcome the file claims for ``version`` (the first matching range), or None if no range covers it."""
        parsed = semantic_version.Version(version)
        for spec, outcome in self.verdicts.items():
            if parsed in semantic_version.NpmSpec(spec):
                return outcome
        return None


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read the scenario file ({err.strerror})") from None
    return parse_scenario(text, path)


def parse_scenario(text: str, path: Path | None = None) -> Scenario:
    from harness.scenario.steps import STEPS  # the step registry validates step arguments

    where = str(path) if path else "<scenario>"
    data, lines = _load_yaml(text, where)
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}:1: a scenario is a mapping with id, title, steps and verdicts")
    try:
        fields = _ScenarioFields.model_validate(data)
    except ValidationError as err:
        raise _scenario_error(where, err, lines, ()) from None
    steps = [_parse_step(raw, i, where, lines, STEPS) for i, raw in enumerate(fields.steps)]
    return Scenario(id=fields.id, title=fields.title, refs=fields.refs, description=fields.description,
                    setup=fields.setup, steps=steps, verdicts=fields.verdicts, path=path, lines=lines)


def _parse_step(raw: Any, index: int, where: str, lines: dict, registry: dict) -> Step:
    loc = ("steps", index)
    line = lines.get(loc, 0)
    known = ", ".join(sorted(registry))
    label = timeout = None
    if isinstance(raw, str):
        name, arg = raw, None
    elif isinstance(raw, dict):
        extras = {k: raw[k] for k in ("label", "timeout") if k in raw}
        keys = [k for k in raw if k not in extras]
        if len(keys) != 1:
            raise ScenarioError(f"{where}:{line}: steps[{index}] must name exactly one step, got {keys or 'none'} "
                                f"(known steps: {known})")
        name, arg = keys[0], raw[keys[0]]
        label = extras.get("label")
        timeout = extras.get("timeout")
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ScenarioError(f"{where}:{line}: steps[{index}].timeout must be a positive number of seconds")
    else:
        raise ScenarioError(f"{where}:{line}: steps[{index}] must be a step name or a one-key mapping "
                            f"(known steps: {known})")
    spec = registry.get(name)
    if spec is None:
        raise ScenarioError(f"{where}:{line}: steps[{index}]: unknown step {name!r} (known steps: {known})")
    if arg is None:
        args: dict[str, Any] = {}
    elif isinstance(arg, dict):
        args = dict(arg)
    else:
        args = {"value": arg}
    try:
        validated = spec.args.model_validate(args)
    except ValidationError as err:
        raise _scenario_error(where, err, lines, loc + (name,), prefix=f"steps[{index}] {name}: ") from None
    return Step(name=name, args=validated.model_dump(exclude_unset=True), line=line, label=label, timeout=timeout)


def _scenario_error(where: str, err: ValidationError, lines: dict, base: tuple, prefix: str = "") -> ScenarioError:
    first = err.errors()[0]
    loc = base + tuple(first["loc"])
    line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), 1)
    field_name = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "literal_error" and "expected" in first.get("ctx", {}):
        msg = f"must be one of {first['ctx']['expected']}"
    elif first["type"] == "extra_forbidden":
        msg = "is not a known field"
    elif first["type"] == "missing":
        msg = "is required"
    return ScenarioError(f"{where}:{line}: {prefix}{field_name} {msg}")


def _load_yaml(text: str, where: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse YAML and remember the line of every node by its path, for error messages."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioError(f"{where}:{line}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()
    lines: dict[tuple[Any, ...], int] = {}

    def walk(n: yaml.Node, path: tuple[Any, ...]) -> None:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                walk(value, path + (key.value,))
                lines[path + (key.value,)] = key.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, path + (i,))

    if node is not None:
        walk(node, ())
    return data, lines


def find_scenarios(names: list[str], root: Path) -> list[Path]:
    """Resolve scenario ids or paths to files (ids are looked up as ``<root>/<id>.yaml``)."""
    out = []
    for name in names:
        candidate = Path(name)
        if candidate.suffix in (".yaml", ".yml") or candidate.exists():
            if not candidate.is_file():
                raise ScenarioError(f"{name}: no such scenario file")
            out.append(candidate)
            continue
        by_id = root / f"{name}.yaml"
        if not by_id.is_file():
            known = ", ".join(sorted(p.stem for p in root.glob("*.yaml")))
            raise ScenarioError(f"unknown scenario {name!r}; known: {known}")
        out.append(by_id)
    return out
