"""The step and oracle reference of docs/writing-scenarios.md, generated from the step, fault-kind, adapter and
check registries so it cannot drift.

    python -m harness.scenario.reference            # print the generated section
    python -m harness.scenario.reference --write    # rewrite it in docs/writing-scenarios.md

tests/test_library.py fails when the document's section differs from what this renders.
"""

from __future__ import annotations

import re
import sys
import typing
from pathlib import Path

from pydantic import BaseModel

from harness.mock.faults import KINDS
from harness.mock.faults.args import FIELD_NAMES as FAULT_FIELD_NAMES
from harness.oracles import CHECKS
from harness.scenario.model import OUTCOME_MEANING
from harness.events import EVENTS, WAITS
from harness.scenario.steps import STEPS
from harness.sdks import SDKS, adapter_class

DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-scenarios.md"
BEGIN = "<!-- BEGIN GENERATED: step reference (python -m harness.scenario.reference --write) -->"
END = "<!-- END GENERATED -->"


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " \\| ".join(_type_name(a) for a in args if a is not type(None))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    return getattr(annotation, "__name__", str(annotation))


def _args_text(step: str, model: type[BaseModel]) -> str:
    parts = []
    scalar = getattr(model, "scalar_field", None)
    for name, info in model.model_fields.items():
        shown = info.alias or name
        if name == "value":
            scalar = shown if info.alias else None
            if info.alias is None:
                shown = "(the argument)"
        default = "" if info.is_required() else f" = {info.default!r}"
        text = f"`{shown}`: {_type_name(info.annotation)}{default}"
        # The fault fields are described once, under `fault`; the shorthand steps only list them.
        if info.description and not (hasattr(model, "scalar_field") and name in FAULT_FIELD_NAMES):
            text += f" — {info.description}"
        parts.append(text)
    if not parts:
        return "none"
    out = "<br>".join(parts)
    if scalar:
        out = f"`{step}: X` sets `{scalar}`<br>" + out
    return out


def _one_line(doc: str) -> str:
    return re.sub(r"\s+", " ", doc).strip().replace("|", "\\|")


def render() -> str:
    """The generated section: every registered step, the wait_for events, the event kinds, checks and outcomes."""
    lines = [BEGIN, "", "### Steps", "", "| step | arguments | what it does |", "| --- | --- | --- |"]
    for name in sorted(STEPS):
        spec = STEPS[name]
        lines.append(f"| `{name}` | {_args_text(name, spec.args)} | {_one_line(spec.doc)} |")
    lines += ["", *_fault_kinds(), "", *_named_requests()]
    lines += ["", *_waits(), "", *_event_kinds(), "",
              "### Checks", "", "In the order they run (harness/oracles/checks.py). The role decides the outcome: a "
              "failed `loss` check is `reproduced`; a failed `gate` or `harness` check is `error`; `note` only "
              "describes; `revocation` checks tell `signed-out` from `stuck`; a failed `bound` check (a limit the "
              "scenario set) changes no outcome but breaks the run's claim.", "",
              "| check | role | passes when | can fail because |", "| --- | --- | --- | --- |"]
    for check in CHECKS.values():
        lines.append(f"| `{check.name}` | {check.role} | {_one_line(check.passes)} | {_one_line(check.fails)} |")
    lines += ["", "### Outcomes", "", "| outcome | meaning |", "| --- | --- |"]
    for outcome, meaning in OUTCOME_MEANING.items():
        lines.append(f"| `{outcome}` | {meaning} |")
    lines += ["", END]
    return "\n".join(lines)


def _waits() -> list[str]:
    """The events ``wait_for`` takes, with the timeline's event kinds each one waits for (harness/events.py)."""
    lines = ["### `wait_for` events", "", "| event | waits for the kinds | what it waits for |", "| --- | --- | --- |"]
    for w in WAITS.values():
        kinds = ", ".join(f"`{k}`" for k in w.kinds) + (f" (from the {w.source})" if w.source else "")
        kinds += f"; the adapter's `{w.request}` request" if w.request else ""
        lines.append(f"| `{w.name}` | {kinds} | {_one_line(w.about)} |")
    return lines


def _event_kinds() -> list[str]:
    """Every event kind a run's timeline can hold (``result.json``'s ``events``), as declared in harness/events.py."""
    lines = ["### Event kinds", "", "Every fact of a run is one event on its timeline (`result.json`'s `events`), of "
             "one of these kinds, declared in harness/events.py. *minor*: the report shows it only on request.", "",
             "| kind | from | fields | what it means |", "| --- | --- | --- | --- |"]
    for kind in EVENTS.values():
        fields = ", ".join(f"`{f}`" for f in kind.fields) or "none"
        lines.append(f"| `{kind.name}` | {kind.source} | {fields} | {_one_line(kind.about)}"
                     f"{' *(minor)*' if kind.minor else ''} |")
    return lines


def _fault_kinds() -> list[str]:
    """The table of fault kinds: arguments, what each does, how it composes in a chain, what a release does."""
    lines = ["### Fault kinds", "", "Each kind is one module in harness/mock/faults/ (`fault: {kind: NAME}`, its own "
             "step, or a stage of a `chain`). In a chain, a kind that ends the request must be the last stage; "
             "`{kind: X}` as a stage sets the stage argument.", "",
             "| kind | arguments | stage argument | what it does | in a chain | on release |",
             "| --- | --- | --- | --- | --- | --- |"]
    for kind in KINDS.values():
        args = ", ".join(f"`{n}`" for n in kind.Args.model_fields) or "none"
        stage = f"`{kind.stage_scalar}`" if kind.stage_scalar else "none"
        chain = "ends the request" if kind.ends_request else "hands the request on"
        lines.append(f"| `{kind.name}` | {args} | {stage} | {_one_line(kind.summary)} | {chain} | "
                     f"{_one_line(kind.on_release)} |")
    return lines


def _named_requests() -> list[str]:
    """The requests each adapter names for `on:`, with the path glob each stands for."""
    lines = ["### Named requests (`on:`)", "", "A fault's `on: NAME` stands for the path glob the scenario's SDK "
             "gives that name (harness/sdks/, `request_paths`); a name the SDK does not give fails the file when "
             "it is loaded. A fault with neither `path` nor `on` takes `on: token`.", "",
             "| sdk | name | path glob |", "| --- | --- | --- |"]
    for sdk in SDKS:
        for name, glob in adapter_class(sdk).request_paths.items():
            lines.append(f"| {sdk} | `{name}` | `{glob}` |")
    return lines


def current(text: str) -> str | None:
    """The generated section as it stands in ``text`` (None when the markers are missing)."""
    if BEGIN not in text or END not in text:
        return None
    return text[text.index(BEGIN):text.index(END) + len(END)]


def write(path: Path = DOC) -> None:
    text = path.read_text()
    old = current(text)
    if old is None:
        raise SystemExit(f"{path}: no generated section; add the lines {BEGIN!r} and {END!r}")
    path.write_text(text.replace(old, render()))


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        print(render())
