"""The server-fault steps, generated from the fault-kind registry (:data:`harness.mock.faults.KINDS`).

* ``fault`` -- arm any kind (``{kind: status, status: 429}``) or a chain of kinds on one request
  (``{chain: [{delay: 2s}, {drop: body}]}``);
* one step per kind, named as the kind (``- status: 429``, ``- drop: {at: body}``), with the kind's own text;
* ``release`` -- end a fault by name, or all of them, with each kind's release semantics in its text.

A new kind registered in :mod:`harness.mock.faults` is a step here without any change to this module. Arguments
are validated when the scenario is loaded, for the scenario's SDK (``on: token``, ``token: arrival``); arming
resolves them for the run's adapter.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import HarnessError
from harness.mock.faults import KINDS
from harness.mock.faults.args import FaultArgs, fault_from, shorthand_args
from harness.scenario.step_registry import STEPS, RunContext, step


def _arm(ctx: RunContext, args: BaseModel) -> None:
    name = getattr(args, "name", None)
    if name and name in ctx.faults and not ctx.faults[name].released:  # a released fault's name is free again
        raise HarnessError(f"a fault named {name!r} is already armed; give this one another name")
    armed = ctx.server.add_fault(fault_from(args, ctx.sdk))
    ctx.faults[name or armed.id] = armed


def _fault_doc() -> str:
    kinds = "; ".join(f"``{kind.name}`` ({kind.summary})" for kind in KINDS.values())
    return ("Arm a server fault on the requests whose path matches ``path`` (or the request the SDK names with "
            "``on``: ``on: token``; default: the token request). ``kind`` is one of: " + kinds + ". Or compose "
            "kinds on one request with ``chain: [{delay: 2s}, {drop: body}]`` (each stage written as its own step "
            "is: a bare name, ``{kind: its main argument}`` or ``{kind: {its arguments}}``; every stage hands the "
            "request on until one ends it, put last). ``calls: [n, ...]`` picks which matching calls (an nth-call "
            "sequence), ``times: n`` caps how many; ``name`` lets ``release`` refer to it.")


def _register_fault() -> None:
    def run(ctx: RunContext, args: BaseModel, timeout: float) -> None:
        _arm(ctx, args)

    run.__doc__ = _fault_doc()
    step("fault", FaultArgs)(run)


def _register_shorthands() -> None:
    for kind in KINDS.values():
        if kind.name in STEPS:
            raise RuntimeError(f"fault kind {kind.name!r} would replace the step of that name")

        def run(ctx: RunContext, args: BaseModel, timeout: float) -> None:
            _arm(ctx, args)

        run.__doc__ = kind.doc
        step(kind.name, shorthand_args(kind))(run)


class Release(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    value: str = Field("all", alias="fault")
    outcome: Literal["pass", "drop"] = "pass"


def release(ctx: RunContext, args: Release, timeout: float) -> None:
    if args.value == "all":
        ctx.server.release(None, args.outcome)
        return
    armed = ctx.faults.get(args.value)  # a fault released with `drop` may be released once more: it keeps its name
    if armed is None:
        raise HarnessError(f"release: no fault named {args.value!r} (armed: {', '.join(ctx.faults) or 'none'})")
    ctx.server.release(armed.id, args.outcome)


def _release_doc() -> str:
    semantics = "; ".join(f"``{kind.name}``: {kind.on_release}" for kind in KINDS.values()
                          if kind.on_release != "the fault ends")
    ends = ", ".join(f"``{kind.name}``" for kind in KINDS.values() if kind.on_release == "the fault ends")
    return (f"End a fault (by name, or ``all``) with ``outcome: pass`` (default) or ``drop``. {ends}: the fault "
            f"ends; {semantics}. A chain is released as one fault, by the semantics of its stages.")


release.__doc__ = _release_doc()
_register_fault()
_register_shorthands()
step("release", Release)(release)
