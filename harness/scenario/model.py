"""Scenario files: YAML read with line numbers, validated into typed objects.

A scenario is a timeline to play (``steps``) and a claim about what each SDK version does under it (``verdicts``).
The claim is checked by the run, never reported as its result: verdicts come only from what the browser and the
server did (see harness/oracles/).

    id: offline-poller-refresh
    title: Offline while a token refresh comes due
    refs: [https://github.com/<owner>/<sdk>/pull/<n>]   # the upstream issue or fix it reproduces
    setup: {sdk: <name>, token_ttl: 60}
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

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, get_args

import semantic_version
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.app.spec import AppSpec
from harness.errors import ScenarioError
from harness.sdks import DEFAULT_SDK

Outcome = Literal["survived", "reproduced", "signed-out", "stuck"]
# What each outcome means, for reports and docs.
OUTCOME_MEANING = {
    "survived": "the session survived: its store was never emptied and the server saw a signed-in user",
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
        "masked", description="masked hides navigator.webdriver (an SDK may treat a webdriver browser as offline)")
    sdk: str = Field(DEFAULT_SDK, description="the auth SDK under test: a name registered in harness/sdks/ "
                                              f"(default {DEFAULT_SDK})")

    @field_validator("sdk")
    @classmethod
    def _known_sdk(cls, value: str) -> str:
        from harness.sdks import SDKS

        if value not in SDKS:
            raise ValueError(f"must be one of {', '.join(repr(n) for n in SDKS)} (got {value!r})")
        return value
    background_api: bool = Field(
        False, description="the app page calls its API (/api/me) every second from load on, as a single-page app "
                            "polls; each answer is on the timeline (api.answer) and judged by "
                            "api-serves-signed-in-user")
    start_focused: bool = Field(
        True, description="signed_in leaves the tab visible and focused, as it is for a person using the app (an "
                          "SDK may poll more often with focus, or guard its writes in unfocused tabs); false keeps a "
                          "self-launched browser's first tab unfocused")
    backend: str | None = Field(
        None, description="how the app's own server decides: one of the backends the SDK's adapter offers "
                          "(`backends`; default its first), e.g. an SDK's server library with its handshake, or a "
                          "hand-written server's strict check; every result says which")
    app: AppSpec | None = Field(
        None, description="play against the user's own app instead of the harness's test page: Playwright "
                          "webServer keys (command, url, cwd, env, timeout, reuse_existing_server) plus preset, "
                          "whoami, clerk_ui_version; see docs/your-app.md. --app-* options override it")

    @model_validator(mode="after")
    def _known_backend(self) -> "Setup":
        from harness.sdks import SDKS, adapter_class

        if self.backend is not None and self.sdk in SDKS:
            offered = adapter_class(self.sdk).backends
            if self.backend not in offered:
                raise ValueError(f"backend {self.backend!r} is not one of the {self.sdk} adapter's: "
                                 f"{', '.join(offered)}")
        return self


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
        # The main argument reads as it is written (`wait_for cookie_removed`; a fault kind's own step `status 429`,
        # whose main argument is named as the step), the others as key=value.
        key = "value" if "value" in self.args else self.name if self.name in self.args else None
        main = [str(self.args[key])] if key is not None else []
        rest = [f"{k}={v}" for k, v in self.args.items() if k != key]
        return " ".join([self.name, *main, *rest])


class _ScenarioFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    refs: list[str] = []
    description: str | None = None
    setup: Setup = Setup()
    steps: list[Any] = Field(min_length=1)
    verdicts: dict[str, Outcome] = Field(min_length=1)


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
        """The outcome the file claims for ``version`` (ranges are disjoint), or None if no range covers it."""
        parsed = semantic_version.Version(version)
        for spec, outcome in self.verdicts.items():
            if parsed in semantic_version.NpmSpec(spec):
                return outcome
        return None


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read the scenario file ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise ScenarioError(f"{path}: not a text file (byte {err.start} is not UTF-8); scenarios are UTF-8 "
                            "YAML") from None
    return parse_scenario(text, path)


def parse_scenario(text: str, path: Path | None = None) -> Scenario:
    from harness.scenario.steps import STEPS  # the step registry validates step arguments
    from harness.sdks import adapter_class

    where = str(path) if path else "<scenario>"
    data, lines = _load_yaml(text, where)
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}:1: a scenario is a mapping with the fields {_field_list()}")
    unknown = [k for k in data if k not in _ScenarioFields.model_fields]
    if unknown:
        key = unknown[0]
        raise ScenarioError(f"{where}:{lines.get((key,), 1)}: unknown field {key!r}"
                            f"{_did_you_mean(key, _ScenarioFields.model_fields)} (allowed: {_field_list()})")
    try:
        fields = _ScenarioFields.model_validate(data)
    except ValidationError as err:
        raise _scenario_error(where, err, lines, (), model=_ScenarioFields) from None
    for spec in fields.verdicts:
        try:
            semantic_version.NpmSpec(spec)
        except ValueError:
            raise ScenarioError(f"{where}:{lines.get(('verdicts', spec), 1)}: verdicts: {spec!r} is not an npm version "
                                "range (e.g. '<6.1.0', '>=6.1.0 <7', '5.x || 6.0.0', '*')") from None
    _check_disjoint(fields.verdicts, where, lines)
    # The steps are validated for the scenario's SDK: a fault's `on: NAME` must be a request its adapter names.
    context = {"sdk": adapter_class(fields.setup.sdk)}
    steps = [_parse_step(raw, i, where, lines, STEPS, context) for i, raw in enumerate(fields.steps)]
    return Scenario(id=fields.id, title=fields.title, refs=fields.refs, description=fields.description,
                    setup=fields.setup, steps=steps, verdicts=fields.verdicts, path=path, lines=lines)


def _field_list() -> str:
    required = [n for n, f in _ScenarioFields.model_fields.items() if f.is_required()]
    optional = [n for n, f in _ScenarioFields.model_fields.items() if not f.is_required()]
    return ", ".join(required) + " (required); " + ", ".join(optional)


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_disjoint(verdicts: Mapping[str, str], where: str, lines: dict) -> None:
    """Two ranges that cover one version would leave the second claim unchecked for it (the first match wins):
    refuse them. Probed at every version a range names and its neighbours, which is where ranges meet."""
    specs = [(text, semantic_version.NpmSpec(text)) for text in verdicts]
    probes = {semantic_version.Version("0.0.0"), semantic_version.Version("9999.0.0")}
    for text in verdicts:
        for found in re.findall(r"\d+\.\d+\.\d+", text):
            v = semantic_version.Version(found)
            probes |= {v, v.next_patch(), v.next_minor(), v.next_major()}
            if v.patch:
                probes.add(semantic_version.Version(major=v.major, minor=v.minor, patch=v.patch - 1))
            elif v.minor:
                probes.add(semantic_version.Version(major=v.major, minor=v.minor - 1, patch=999))
            elif v.major:
                probes.add(semantic_version.Version(major=v.major - 1, minor=999, patch=999))
    for version in sorted(probes):
        covering = [text for text, spec in specs if version in spec]
        if len(covering) > 1:
            raise ScenarioError(f"{where}:{lines.get(('verdicts', covering[1]), 1)}: verdicts: {covering[0]!r} and "
                                f"{covering[1]!r} both cover {version}; make the ranges disjoint so every claim is "
                                "checked")


def _parse_step(raw: Any, index: int, where: str, lines: dict, registry: dict,
                context: Mapping[str, Any] | None = None) -> Step:
    loc = ("steps", index)
    line = lines.get(loc, 0)
    known = ", ".join(sorted(registry))
    label = timeout = None
    if isinstance(raw, str):
        name, arg = raw, None
    elif isinstance(raw, dict):
        extras = {k: raw[k] for k in STEP_EXTRAS if k in raw}
        keys = [k for k in raw if k not in extras]
        if len(keys) != 1:
            raise ScenarioError(f"{where}:{line}: steps[{index}] must name exactly one step, got "
                                f"{', '.join(map(repr, keys)) or 'none'} (known steps: {known}; "
                                f"{' and '.join(STEP_EXTRAS)} may sit beside it)")
        name, arg = keys[0], raw[keys[0]]
        label = extras.get("label")
        timeout = extras.get("timeout")
        if label is not None and not isinstance(label, str):
            raise ScenarioError(f"{where}:{lines.get(loc + ('label',), line)}: steps[{index}].label must be text")
        if timeout is not None:
            try:
                from harness.duration import parse_duration

                timeout = parse_duration(timeout)
            except ValueError as err:
                timeout = None
                problem = str(err)
            else:
                problem = "must be more than 0 s" if timeout <= 0 else ""
            if problem:
                raise ScenarioError(f"{where}:{lines.get(loc + ('timeout',), line)}: steps[{index}].timeout "
                                    f"{problem} (e.g. 15, 15s, 500ms)")
    else:
        raise ScenarioError(f"{where}:{line}: steps[{index}] must be a step name or a one-key mapping "
                            f"(known steps: {known})")
    spec = registry.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ScenarioError(f"{where}:{line}: steps[{index}]: unknown step {name!r}"
                            f"{_did_you_mean(name, registry)} (known steps: {known})")
    scalar = arg is not None and not isinstance(arg, dict)
    if arg is None:
        args: dict[str, Any] = {}
    elif isinstance(arg, dict):
        args = dict(arg)
    else:
        args = {"value": arg}
    try:
        validated = spec.args.model_validate(args, context=context)
    except ValidationError as err:
        raise _scenario_error(where, err, lines, loc + (name,), prefix=f"steps[{index}] {name}: ",
                              model=spec.args, scalar=scalar) from None
    return Step(name=name, args=validated.model_dump(exclude_unset=True), line=line, label=label, timeout=timeout)


# Keys that may sit beside a step's name in its mapping.
STEP_EXTRAS = ("label", "timeout")


def _scenario_error(where: str, err: ValidationError, lines: dict, base: tuple, prefix: str = "",
                    model: type[BaseModel] | None = None, scalar: bool = False) -> ScenarioError:
    """One line from pydantic's first error: file, line, field, and what the field accepts."""
    first = err.errors()[0]
    loc = base + tuple(first["loc"])
    line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), 1)
    parts = [str(p) for p in first["loc"]]
    if scalar and parts[:1] == ["value"]:
        parts = parts[1:]  # the step's one scalar argument: no field name to show
    field_name = ".".join(parts)
    kind, msg, ctx = first["type"], first["msg"], first.get("ctx", {})
    if kind == "literal_error" and "expected" in ctx:
        msg = f"must be one of {ctx['expected']}"
    elif kind == "extra_forbidden":
        allowed = _allowed_fields(model, first["loc"][:-1]) if model else []
        msg = "is not a known field" + (f"{_did_you_mean(parts[-1], allowed)} (allowed: {', '.join(allowed)})"
                                        if allowed else "")
    elif kind == "missing":
        msg = "is required"
    elif kind == "string_pattern_mismatch":
        msg = f"must match the pattern {ctx.get('pattern')} (got {first.get('input')!r})"
    else:
        msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if msg.startswith("Input should be "):
            msg = "must be " + msg.removeprefix("Input should be ")
            if kind.endswith(("_parsing", "_type")):
                msg = msg.split(", ")[0]
        got = first.get("input")
        if isinstance(got, (str, int, float, bool)) and repr(got) not in msg:
            msg += f" (got {got!r})"
    if not field_name:
        return ScenarioError(f"{where}:{line}: {prefix}{msg}".replace(": : ", ": "))
    return ScenarioError(f"{where}:{line}: {prefix}{field_name} {msg}")


def _allowed_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names the mapping at ``loc`` inside ``model`` accepts (by their names in the file)."""
    for part in loc:
        if isinstance(part, int):  # an item of a list (a fault's chain): the list's model goes on
            continue
        inner = _model_in(getattr(model.model_fields.get(str(part)), "annotation", None))
        if inner is None:
            return []
        model = inner
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds: itself, or the one inside ``Optional[...]`` or ``list[...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


class _ScenarioLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's booleans: only ``true`` and ``false``. YAML 1.1 also reads ``yes``,
    ``no``, ``on`` and ``off`` as booleans, which would turn a fault's ``on: token`` into the key ``True``."""


_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_ScenarioLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                      list("tTfF"))


def _load_yaml(text: str, where: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse YAML and remember the line of every node by its path, for error messages."""
    loader = _ScenarioLoader(text)
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
            seen: dict[Any, int] = {}
            for key, value in n.value:
                line = key.start_mark.line + 1
                if key.value in seen and key.tag != "tag:yaml.org,2002:merge":
                    # YAML would silently keep the last one; a scenario with two `steps:` is a mistake.
                    field_name = ".".join(str(p) for p in path + (key.value,))
                    raise ScenarioError(f"{where}:{line}: duplicate key {field_name!r} "
                                        f"(first on line {seen[key.value]})")
                seen[key.value] = line
                walk(value, path + (key.value,))
                lines[path + (key.value,)] = line
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, path + (i,))

    if node is not None:
        walk(node, ())
    return data, lines


def find_scenarios(names: list[str], root: Path) -> list[Path]:
    """Resolve scenario ids, files or folders to files (an id is looked up as ``<root>/<id>.yaml``, then one folder
    down, ``<root>/<sdk>/<id>.yaml``; a folder gives every ``*.yaml`` in it)."""
    out: list[Path] = []
    for name in names:
        candidate = Path(name)
        if candidate.is_dir():
            found = sorted(candidate.glob("*.yaml"))
            if not found:
                raise ScenarioError(f"{name}: no *.yaml scenario files in this folder")
            out.extend(found)
            continue
        if candidate.suffix in (".yaml", ".yml") or candidate.exists():
            if not candidate.is_file():
                raise ScenarioError(f"{name}: no such scenario file")
            out.append(candidate)
            continue
        by_id = root / f"{name}.yaml"
        if not by_id.is_file():  # an SDK's own library sits one folder down (scenarios/supabase/)
            by_id = next(iter(sorted(root.glob(f"*/{name}.yaml"))), by_id)
        if not by_id.is_file():
            known = sorted(p.stem for p in [*root.glob("*.yaml"), *root.glob("*/*.yaml")])
            raise ScenarioError(f"unknown scenario {name!r}{_did_you_mean(name, known)}; known: {', '.join(known)} "
                                "(or give a path to a .yaml file)")
        out.append(by_id)
    return out
