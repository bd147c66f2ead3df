"""What one fault kind is, and the registry of kinds (the part of the mock modelled on Toxiproxy's ``toxics/``).

A kind is one class in one module of this package, registered by name with :func:`fault_kind`. It owns

* its arguments: a pydantic model (``Args``), validated as a scenario file writes them;
* its words: a one-line ``summary`` and the reference text of its own step (``doc``), and how the report says what
  it did to a request (:meth:`FaultKind.did`) and what it is armed to do (:meth:`FaultKind.arming`);
* its behaviour on one request: :meth:`FaultKind.apply`, which the mock server awaits;
* its release semantics: whether it waits for a release, what a release does (``on_release``), and whether, once
  applied, it goes on applying until released (``keeps_applying``).

The ``fault`` step and its shorthands, the reference docs and the report's sentences are all derived from
:data:`KINDS`, so a new kind is one new module here (the package imports every module in it).

Invariants:

* ``apply`` returns the response that ends the request (an error status, a closed connection) or None to hand the
  request on: to the next stage of a chain, or after the last stage to the normal answer.
* A kind acts on the request only through its :class:`RequestContext` and the request's own transport (a mid-body
  cut writes part of a body); it never imports the server.
* Every event a kind emits goes through :meth:`RequestContext.emit`, which adds ``fault`` (the fault's id), ``kind``
  (this stage's name), the stage's own fields, and the request's ``method``, ``path`` and ``request`` (the seq of its
  ``request`` event): oracles and reports read those names.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Generic, Literal, Mapping, Protocol, TypeVar

from aiohttp import web
from pydantic import BaseModel, Field, ValidationInfo

from harness.registry import Registry

ReleaseOutcome = Literal["pass", "drop"]
TokenTiming = Literal["answer", "arrival"]

ArgsT = TypeVar("ArgsT", bound=BaseModel)


class FaultTarget(Protocol):
    """The SDK a fault is armed against, as loading and arming need it: an adapter class or instance."""

    name: str
    request_paths: Mapping[str, str]  # named requests (``on: token``) -> path glob
    pins_tokens: bool  # the mock can mint a token when a request arrives and answer with it later


class RequestContext(Protocol):
    """What a kind may do to the one request it applies to (the envelope's hooks, backed by the mock server)."""

    def emit(self, event: str, **fields: Any) -> None:
        """Record this stage's event (``fault``, ``fault.held``) with the request's and the stage's fields."""
        ...

    def error_body(self, status: int, code: str | None) -> Mapping[str, Any]:
        """The SDK's own error body for ``status`` (its adapter says the shape)."""
        ...

    def drop(self, **fields: Any) -> web.StreamResponse:
        """Record a ``fault`` event, then close the connection before any response byte."""
        ...

    def pin_token(self) -> None:
        """Mint the token now that this request's answer will carry, however late it is sent."""
        ...

    async def released(self) -> ReleaseOutcome:
        """Wait until the fault is released (at once if it already was); how: ``pass`` or ``drop``."""
        ...

    @property
    def left_armed(self) -> bool:
        """The run ended with the fault never released (its held requests are dropped then)."""
        ...


class FaultKind(Generic[ArgsT]):
    """One kind of fault; subclasses set the class variables and implement :meth:`apply`."""

    name: ClassVar[str] = ""  # set by @fault_kind
    Args: ClassVar[type[BaseModel]]
    summary: ClassVar[str]  # one line: what it does to a request (the `fault` step's and the kind table's text)
    doc: ClassVar[str]  # the reference text of its own step (`- status: 429`)
    scalar: ClassVar[str]  # the field `- name: X` sets (may be an envelope field: `drop: "*/tokens"` sets path)
    stage_scalar: ClassVar[str | None] = None  # the field `{name: X}` sets as a stage of a chain (None: none)
    ends_request: ClassVar[bool] = True  # answers or kills the request: nothing can follow it in a chain
    waits_for_release: ClassVar[bool] = False  # holds the request until `release`
    keeps_applying: ClassVar[bool] = False  # once applied, applies to every match until released
    forced_outcome: ClassVar[ReleaseOutcome | None] = None  # a release always ends this way, whatever it says
    on_release: ClassVar[str] = "the fault ends"  # what a release does, for the docs

    def __init__(self, args: ArgsT) -> None:
        self.args = args

    def fields(self) -> dict[str, Any]:
        """This stage's own fields on the fault's timeline events (``status``, ``delay``, ``drop_at``, ...)."""
        return {}

    @property
    def pins_token(self) -> bool:
        """The answer must carry the token minted when the request arrived (``token: arrival``)."""
        return False

    async def apply(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse | None:
        raise NotImplementedError

    @classmethod
    def did(cls, event: Mapping[str, Any]) -> str:
        """What it did to one request, from one of its events (``dropped mid-body``)."""
        return cls.name

    @classmethod
    def arming(cls, event: Mapping[str, Any]) -> str:
        """What it is armed to do, from its ``fault.armed`` fields (``drop mid-body``)."""
        return cls.name


KindT = TypeVar("KindT", bound=type[FaultKind[Any]])

# name -> kind class, in the order the package imported them (alphabetical by module).
KINDS: Registry[type[FaultKind[Any]]] = Registry("fault kind")


def fault_kind(name: str) -> Callable[[KindT], KindT]:
    """Register a kind under ``name``: the name scenarios use as ``kind: NAME`` and as its own step."""

    def register(cls: KindT) -> KindT:
        cls.name = name
        KINDS.add(name, cls)
        return cls

    return register


# -- arguments several kinds share -----------------------------------------------------------------------------

TOKEN_TIMING = ("the token the late answer carries is minted when it is sent (answer) or when the request arrived "
                "(arrival: a slow response with an older token; needs an SDK whose tokens the mock can pin)")


def token_timing_field() -> Any:
    """The ``token`` argument of the kinds that answer late (delay, hold)."""
    return Field("answer", description=TOKEN_TIMING)


def target_in(info: ValidationInfo) -> FaultTarget | None:
    """The SDK a scenario is loaded for, when the loader passed it (``context={"sdk": ...}``)."""
    context = info.context
    return context.get("sdk") if isinstance(context, Mapping) else None


def unpinnable(target: FaultTarget) -> str:
    """The one-line refusal of ``token: arrival`` for an SDK whose tokens cannot be pinned."""
    return (f"token: arrival needs an SDK whose tokens can be pinned; {target.name}'s are minted when answered")
