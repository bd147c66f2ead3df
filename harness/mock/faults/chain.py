"""Composition: several kinds applied in order to the same request (delay, then cut mid-body).

A chain is a list of stages, each written as a step is: a bare kind name (``hang``), or a one-key mapping whose
value is the kind's scalar argument (``{delay: 2s}``, ``{drop: body}``, ``{status: 429}``) or a mapping of its
arguments (``{drop: {at: body}}``)::

    - fault: {on: token, chain: [{delay: 2s}, {drop: body}]}

Each stage either hands the request on (``delay``; ``hold`` once released with ``pass``) or ends it (``status``,
``drop``, ``hang``); after the last stage that hands it on comes the normal answer. Rules, checked when the file is
loaded: a stage that ends the request is the last; at most one stage waits for a release (the release is the
fault's, one for all its stages). A chain is one fault: one envelope (path, calls, times, name), one release, and
it keeps applying until released when any of its stages does (a drop).
"""

from __future__ import annotations

from typing import Any, Sequence

from pydantic import BaseModel, ConfigDict, create_model, model_validator

from harness.mock.faults.kind import KINDS, FaultKind


def _stage_args(kind: type[FaultKind[Any]]) -> type[BaseModel]:
    """The kind's argument model as a chain stage writes it: a mapping, nothing, or its stage scalar."""
    scalar = kind.stage_scalar
    takes = ", ".join(kind.Args.model_fields) or "no arguments"

    class StageArgs(kind.Args):  # type: ignore[name-defined]  # a base chosen at runtime from the registry
        @model_validator(mode="before")
        @classmethod
        def _scalar(cls, data: Any) -> Any:
            if data is None or isinstance(data, dict):
                return data or {}
            if scalar is None:
                raise ValueError(f"{kind.name} in a chain takes a mapping of its arguments ({takes}), or nothing")
            return {scalar: data}

    StageArgs.__name__ = f"{kind.name.title()}Stage"
    return StageArgs


class _OneKind(BaseModel):
    """A stage names exactly one kind: ``hang`` is ``{hang: {}}``; ``{drop: null}`` is ``{drop: {}}``."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {data: {}}
        if isinstance(data, dict):
            if len(data) != 1:
                raise ValueError(f"a chain stage names exactly one kind ({', '.join(KINDS)}), e.g. {{delay: 2s}}; "
                                 f"got {', '.join(map(str, data)) or 'none'}")
            return {key: {} if value is None else value for key, value in data.items()}
        return data


def stage_model() -> type[BaseModel]:
    """One stage of a chain: one optional field per registered kind, exactly one of them given."""
    fields: dict[str, Any] = {name: (_stage_args(kind) | None, None) for name, kind in KINDS.items()}
    return create_model("Stage", __base__=_OneKind, __module__=__name__, **fields)


def stage_of(stage: BaseModel) -> FaultKind[Any]:
    """The kind instance a validated stage describes."""
    name = next(iter(stage.model_fields_set))
    return KINDS[name](getattr(stage, name))


def check_chain(kinds: Sequence[type[FaultKind[Any]]]) -> None:
    """The composition rules; a ValueError that says which stage breaks them."""
    for number, kind in enumerate(kinds[:-1], start=1):
        if kind.ends_request:
            raise ValueError(f"stage {number} ({kind.name}) ends the request, so nothing can follow it: put it last")
    waiting = [kind.name for kind in kinds if kind.waits_for_release]
    if len(waiting) > 1:
        raise ValueError(f"at most one stage may wait for a release (got {' and '.join(waiting)}): a fault has "
                         "one release for all its stages")
