"""The arguments of the fault steps, built from the kind registry: what ``- fault:`` and ``- status:`` accept.

* :data:`FaultArgs` -- the ``fault`` step: the envelope, then either ``kind`` with that kind's arguments at the top
  level (``{kind: status, status: 429}``, today's form) or ``chain`` (a list of stages, see
  :mod:`harness.mock.faults.chain`), never both.
* :func:`shorthand_args` -- one kind's own step: the envelope and that kind's arguments, with a scalar form
  (``- status: 429`` sets ``status``; ``- drop: "*/tokens"`` sets ``path``).

Invariants: every kind's arguments are validated by its own fields (a duration parses as in its kind; a field of
another kind is refused, never ignored); ``on`` and ``token: arrival`` are checked against the scenario's SDK when
the loader passes it (``context={"sdk": adapter}``), so a bad name fails when the file is loaded; :func:`fault_from`
turns validated arguments into an armed :class:`~harness.mock.faults.envelope.Fault` for one run's SDK.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Optional

from pydantic import BaseModel, Field, ValidationInfo, create_model, model_validator
from pydantic.fields import FieldInfo

from harness.mock.faults.chain import check_chain, stage_model, stage_of
from harness.mock.faults.envelope import Envelope, Fault, fault_of
from harness.mock.faults.kind import KINDS, FaultKind, FaultTarget, target_in, unpinnable

ENVELOPE_FIELDS: tuple[str, ...] = tuple(Envelope.model_fields)


def _kind_fields() -> dict[str, tuple[Any, FieldInfo]]:
    """Every kind's argument fields by name, each described as "for KIND: ..." (a name two kinds share, such as
    ``token``, must mean the same in both)."""
    owners: dict[str, list[str]] = {}
    first: dict[str, FieldInfo] = {}
    for kind in KINDS.values():
        for name, info in kind.Args.model_fields.items():
            if name in Envelope.model_fields or name in ("kind", "chain"):
                raise RuntimeError(f"fault kind {kind.name!r}: argument {name!r} clashes with the envelope's")
            owners.setdefault(name, []).append(kind.name)
            first.setdefault(name, info)
    out: dict[str, tuple[Any, FieldInfo]] = {}
    for name, info in first.items():
        described = FieldInfo.merge_field_infos(info, description=f"for {' and '.join(owners[name])}: "
                                                                  f"{info.description}")
        out[name] = (info.annotation, described)
    return out


KIND_FIELDS = _kind_fields()
FIELD_NAMES = frozenset(ENVELOPE_FIELDS) | frozenset(KIND_FIELDS)  # described once, under `fault`
Stage = stage_model()


def check_stages(stages: tuple[FaultKind[Any], ...], info: ValidationInfo) -> None:
    """What only the scenario's SDK can say: whether its tokens can be pinned (``token: arrival``)."""
    target = target_in(info)
    if target is not None and not target.pins_tokens and any(stage.pins_token for stage in stages):
        raise ValueError(unpinnable(target))


def _kind_args(self: BaseModel) -> dict[str, Any]:
    return {name: getattr(self, name) for name in self.model_fields_set if name in KIND_FIELDS}


class _Composed(Envelope):
    """The ``fault`` step's rule: one kind with its own arguments, or a chain; the stages checked for the SDK."""

    @model_validator(mode="after")
    def _composed(self, info: ValidationInfo) -> "_Composed":
        kind, chain = getattr(self, "kind", None), getattr(self, "chain", None)
        given = _kind_args(self)
        if (kind is None) == (chain is None):
            raise ValueError(f"give kind ({', '.join(KINDS)}) or chain (a list of them), "
                             + ("not both" if kind else "one of the two"))
        if chain is not None:
            if not chain:
                raise ValueError("chain needs at least one stage, e.g. [{delay: 2s}, {drop: body}]")
            if given:
                raise ValueError(f"with chain, every argument goes in its stage ({sorted(given)[0]} is given "
                                 "beside the chain)")
            check_chain([KINDS[next(iter(stage.model_fields_set))] for stage in chain])
        elif kind is not None:
            takes = KINDS[kind].Args.model_fields
            stray = sorted(set(given) - set(takes))
            if stray:
                raise ValueError(f"{stray[0]} is not an argument of {kind} ({kind} takes: "
                                 f"{', '.join(takes) or 'nothing beyond the envelope'})")
        check_stages(stages_of(self), info)
        return self


KindName = Literal[tuple(KINDS)]  # type: ignore[valid-type]  # a Literal of the registered names
_KIND: tuple[Any, Any] = (Optional[KindName], Field(
    None, description="the kind of fault (the table of kinds below); or give chain"))
_CHAIN: tuple[Any, Any] = (Optional[list[Stage]], Field(  # type: ignore[valid-type]  # a model made at runtime
    None, description="kinds applied in order to the same request, e.g. [{delay: 2s}, {drop: body}]: "
                                    "each stage hands the request on until one ends it (status, drop, hang: put "
                                    "it last); at most one stage waits for a release"))

_FAULT_FIELDS: dict[str, Any] = {"kind": _KIND, **KIND_FIELDS, "chain": _CHAIN}
FaultArgs: type[BaseModel] = create_model("FaultArgs", __base__=_Composed, __module__=__name__, **_FAULT_FIELDS)


def shorthand_args(kind: type[FaultKind[Any]]) -> type[BaseModel]:
    """The arguments of ``kind``'s own step: the envelope and the kind's fields; a scalar sets ``kind.scalar``."""
    # (Args, Envelope): pydantic lists the fields of the last base first, so the envelope's come first.
    base = create_model(f"{kind.name.title()}Args", __base__=(kind.Args, Envelope), __module__=__name__)
    scalar, named = kind.scalar, kind.name

    class Shorthand(base):  # a base made at runtime by create_model
        scalar_field: ClassVar[str] = scalar  # what `- kind: X` fills (for the reference docs)
        kind_name: ClassVar[str] = named  # which kind it arms (read back by stages_of)

        @model_validator(mode="before")
        @classmethod
        def _scalar(cls, data: Any) -> Any:
            if isinstance(data, dict) and set(data) == {"value"}:
                return {scalar: data["value"]}
            return data

        @model_validator(mode="after")
        def _for_the_sdk(self, info: ValidationInfo) -> Any:
            check_stages(stages_of(self), info)
            return self

    Shorthand.__name__ = base.__name__
    return Shorthand


def stages_of(args: BaseModel) -> tuple[FaultKind[Any], ...]:
    """The stages validated step arguments describe: the shorthand's kind, the ``fault`` step's kind, or its
    chain."""
    name = getattr(type(args), "kind_name", None) or getattr(args, "kind", None)
    if name is not None:
        kind = KINDS[name]
        return (kind(kind.Args.model_validate({f: getattr(args, f) for f in kind.Args.model_fields
                                               if f in args.model_fields_set})),)
    return tuple(stage_of(stage) for stage in getattr(args, "chain", None) or ())


def fault_from(args: BaseModel, target: FaultTarget) -> Fault:
    """The armed form of validated step arguments, for ``target``'s request paths and tokens."""
    if not isinstance(args, Envelope):
        raise TypeError(f"not the arguments of a fault step: {type(args).__name__}")
    return fault_of(args, stages_of(args), target)
