"""What every fault shares, whatever its kind: which requests it takes, how often, and its life until released.

The envelope (:class:`Envelope`, the fields a scenario file gives every fault) picks requests by method and path
glob -- or by a request the SDK's adapter names (``on: token``), so a scenario stays SDK-neutral -- and decides,
per matching call, whether the fault applies (``calls``: which matching calls, 1-based; ``times``: how many
applications at most). An armed :class:`Fault` is that envelope plus its stages (one kind, or a chain of kinds
applied in order to the same request, see :mod:`harness.mock.faults.chain`) plus its bookkeeping.

Invariants:

* Every live fault that matches a request counts it (``seen``), also a call another fault took, so two faults with
  ``calls: [1]`` and ``calls: [2]`` on one path make a sequence. The first fault that applies takes the request.
* A fault is ``armed``, then ``released`` by a ``release`` step -- or, when a release with ``drop`` let its held
  requests go, ``dropping``: it closes every matching request before any byte until it is released once more
  (Chromium silently resends a POST whose reused connection closed before any response byte, and a resend answered
  normally would hide the drop from the SDK). A fault still armed or dropping when the run ends becomes
  ``unreleased``: never labelled released, and its held requests are dropped.
* A fault whose stages keep applying (a ``drop``) applies to every match once it has applied, whatever ``calls``
  and ``times`` say, until released; each such application runs its stages as the first did (a drop ``at: body``
  cuts every one mid-body).

Faults are owned by the server's event loop; the runner thread reaches them only through :class:`FaultBook`,
whose every method is thread-safe.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Protocol

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from harness.errors import HarnessError
from harness.mock.faults.kind import FaultKind, FaultTarget, ReleaseOutcome, target_in, unpinnable

FaultState = Literal["armed", "dropping", "released", "unreleased"]
DEFAULT_REQUEST = "token"  # the named request a fault takes when it names no path and no `on`


# -- the fields a scenario gives every fault ----------------------------------------------------------------------

class Envelope(BaseModel):
    """Which requests a fault takes, and how often: the fields shared by every fault step."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(None, description="glob on the request path, e.g. */tokens, */v1/client "
                                               "(default: the SDK's token request, as `on: token`)")
    on: str | None = Field(None, description="a request the SDK's adapter names (token, client, user...: the "
                                             "table of named requests below) instead of a path glob; not with path")
    method: str | None = Field(None, description="only this HTTP method (default: any)")
    name: str | None = Field(None, description="a name for `release`")
    calls: list[int] | None = Field(None, description="which matching calls it applies to, 1-based, counted from "
                                                      "when the fault is armed (an nth-call sequence)")
    times: int | None = Field(None, ge=1, description="apply at most this many times (hold: the next N)")

    @field_validator("calls")
    @classmethod
    def _calls_from_one(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or min(value) < 1):
            raise ValueError("must list call numbers from 1 up, e.g. [1, 3]")
        return value

    @field_validator("on")
    @classmethod
    def _named_request(cls, value: str | None, info: ValidationInfo) -> str | None:
        target = target_in(info)
        if value is not None and target is not None and value not in target.request_paths:
            raise ValueError(f"must name a request of the {target.name} adapter: {', '.join(target.request_paths)}")
        return value

    @model_validator(mode="after")
    def _path_or_on(self) -> "Envelope":
        if self.path is not None and self.on is not None:
            raise ValueError(f"give path or on, not both (path {self.path!r}, on {self.on!r})")
        return self


def request_glob(path: str | None, on: str | None, target: FaultTarget) -> str:
    """The path glob a fault matches: its own, or the one its adapter gives the named request."""
    if path is not None:
        return path
    name = on or DEFAULT_REQUEST
    glob = target.request_paths.get(name)
    if glob is None:
        raise HarnessError(f"the {target.name} adapter names no {name!r} request (known: "
                           f"{', '.join(target.request_paths) or 'none'}); give the fault a path")
    return glob


# -- an armed fault -------------------------------------------------------------------------------------------------

@dataclass(eq=False)
class Fault:
    """One armed fault: the envelope's choices, the stages it runs on a request, and its bookkeeping (owned by
    the :class:`FaultBook` lock)."""

    stages: tuple[FaultKind[Any], ...]
    path: str = "*"  # the resolved glob, e.g. "*/tokens"
    method: str | None = None  # None: any method
    calls: tuple[int, ...] | None = None  # which matching calls it applies to (1-based); None: every call
    times: int | None = None  # apply at most this many times; None: until released
    on: str | None = None  # the named request the glob came from, if any
    id: str = ""
    seen: int = 0
    applied: int = 0
    state: FaultState = "armed"
    release_outcome: ReleaseOutcome = "pass"
    _waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[ReleaseOutcome]]] = field(
        default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("a fault needs at least one stage")

    @property
    def kind(self) -> str:
        """The kind's name, or ``chain`` for several stages (the ``kind`` of ``fault.armed``/``fault.released``)."""
        return self.stages[0].name if len(self.stages) == 1 else "chain"

    @property
    def released(self) -> bool:
        return self.state == "released"

    @property
    def live(self) -> bool:
        return self.state in ("armed", "dropping")

    @property
    def keeps_applying(self) -> bool:
        return any(stage.keeps_applying for stage in self.stages)

    @property
    def waits_for_release(self) -> bool:
        return any(stage.waits_for_release for stage in self.stages)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def picks(self) -> bool:
        """Whether the call just counted is one the fault applies to, by ``calls`` and ``times``."""
        if self.calls is not None and self.seen not in self.calls:
            return False
        return self.times is None or self.applied < self.times

    def release_as(self, outcome: ReleaseOutcome) -> ReleaseOutcome:
        """How a release asking for ``outcome`` ends this fault (a ``hang`` is always dropped)."""
        forced = [stage.forced_outcome for stage in self.stages if stage.forced_outcome]
        return forced[0] if forced else outcome

    def describe(self) -> dict[str, Any]:
        """The fields of ``fault.armed``: id, kind, the path glob, and the stages' own fields."""
        out: dict[str, Any] = {"fault": self.id, "kind": self.kind, "path": self.path}
        if self.on is not None:
            out["on"] = self.on
        if len(self.stages) == 1:
            return out | self.stages[0].fields()
        return out | {"chain": [{"kind": stage.name, **stage.fields()} for stage in self.stages]}


# -- what the server lends a fault while it handles one request ----------------------------------------------------

class MockHooks(Protocol):
    """The mock server's side of one request a fault took."""

    request_seq: int  # the seq of the request's `request` event

    async def answer(self, after: str) -> web.StreamResponse:
        """The normal answer, recorded as a ``response`` event with ``after`` (the kind that let it through)."""
        ...

    def error_body(self, status: int, code: str | None) -> Mapping[str, Any]: ...

    def close(self) -> web.StreamResponse:
        """Close the connection before any response byte (nothing of the returned response reaches the client)."""
        ...

    def emit(self, event: str, **fields: Any) -> None: ...

    def pin_token(self) -> None: ...


@dataclass(frozen=True)
class FaultCall:
    """One request a fault took, as :meth:`FaultBook.decide` hands it to the server: :meth:`run` it."""

    fault: Fault
    book: "FaultBook"
    dropping: bool = False  # the fault was released with a drop: close at once
    repeat: bool = False  # a fault that keeps applying, applied outside its calls/times

    async def run(self, request: web.Request, hooks: MockHooks) -> web.StreamResponse:
        """Run the stages in order until one ends the request; after the last, the normal answer."""
        if self.dropping:
            info = {k: v for k, v in self.fault.describe().items() if k not in ("path", "on")}
            return _StageContext(self, request, hooks, info).drop(after="release")
        chained = len(self.fault.stages) > 1
        for number, stage in enumerate(self.fault.stages, start=1):
            info = {"fault": self.fault.id, "kind": stage.name, **stage.fields(),
                    **({"stage": number} if chained else {}), **({"repeat": True} if self.repeat else {})}
            response = await stage.apply(request, _StageContext(self, request, hooks, info))
            if response is not None:
                return response
        return await hooks.answer(after=self.fault.stages[-1].name)


class _StageContext:
    """The :class:`~harness.mock.faults.kind.RequestContext` of one stage on one request."""

    def __init__(self, call: FaultCall, request: web.Request, hooks: MockHooks, info: dict[str, Any]) -> None:
        self._call, self._hooks = call, hooks
        self._info = info | {"method": request.method, "path": request.path, "request": hooks.request_seq}

    def emit(self, event: str, **fields: Any) -> None:
        self._hooks.emit(event, **self._info, **fields)

    def error_body(self, status: int, code: str | None) -> Mapping[str, Any]:
        return self._hooks.error_body(status, code)

    def drop(self, **fields: Any) -> web.StreamResponse:
        self.emit("fault", **fields)
        return self._hooks.close()

    def pin_token(self) -> None:
        self._hooks.pin_token()

    async def released(self) -> ReleaseOutcome:
        return await self._call.book.wait_for_release(self._call.fault)

    @property
    def left_armed(self) -> bool:
        return self._call.fault.state == "unreleased"


# -- the book of active faults ----------------------------------------------------------------------------------

class FaultBook:
    """The active faults; thread-safe. The server asks it for a decision on every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            if not fault.id:
                fault.id = f"f{next(self._ids)}"
            self._faults.append(fault)
            return fault

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def release(self, fault_id: str | None = None, outcome: ReleaseOutcome = "pass") -> list[Fault]:
        """Release a fault (every one when ``fault_id`` is None): its held requests go on (``pass``) or are closed
        (``drop``). A fault that waits for releases, released with a drop, goes on to ``dropping`` (see the module
        docstring); any other release ends it. Returns the faults it released."""
        with self._lock:
            chosen = [f for f in self._faults if fault_id is None or f.id == fault_id]
            for fault in chosen:
                fault.release_outcome = fault.release_as(outcome)
                self._wake(fault)
                if fault.waits_for_release and fault.release_outcome == "drop" and fault.state == "armed":
                    fault.state = "dropping"
                else:
                    fault.state = "released"
            self._faults = [f for f in self._faults if f.live]
            return chosen

    def end_run(self) -> list[tuple[Fault, FaultState]]:
        """The run is over: every fault still live becomes ``unreleased`` (never ``released``) and its held
        requests are dropped. Returns those faults, each with the state it had."""
        with self._lock:
            left = [(fault, fault.state) for fault in self._faults if fault.live]
            for fault, _ in left:
                fault.state, fault.release_outcome = "unreleased", "drop"
                self._wake(fault)
            self._faults = []
            return left

    def decide(self, method: str, path: str) -> FaultCall | None:
        """Called on the server loop for each request: count it against the matching faults, and return the
        first that applies (None: answer normally)."""
        with self._lock:
            matching = [f for f in self._faults if f.live and f.matches(method, path)]
            for fault in matching:  # every matching fault counts the call, so nth-call sequences line up
                fault.seen += 1
            for fault in matching:
                if fault.state == "dropping":
                    return FaultCall(fault, self, dropping=True)
                if fault.keeps_applying and fault.applied:
                    # Once a drop has applied it goes on until released, whatever `calls`/`times` say: otherwise
                    # Chromium's silent resend of the POST is answered and the SDK never sees the drop.
                    repeat = not fault.picks()
                    fault.applied += 1
                    return FaultCall(fault, self, repeat=repeat)
                if fault.picks():
                    fault.applied += 1
                    return FaultCall(fault, self)
        return None

    async def wait_for_release(self, fault: Fault) -> ReleaseOutcome:
        """Await the fault's next release (returns at once when it is no longer armed): ``pass`` or ``drop``."""
        with self._lock:
            if fault.state != "armed":
                return fault.release_outcome
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[ReleaseOutcome] = loop.create_future()
            fault._waiters.append((loop, waiter))
        return await waiter

    @staticmethod
    def _wake(fault: Fault) -> None:
        """Settle every waiter of ``fault`` with its release outcome, each on its own loop (lock held)."""
        for loop, waiter in fault._waiters:
            loop.call_soon_threadsafe(_settle, waiter, fault.release_outcome)
        fault._waiters.clear()


def _settle(waiter: asyncio.Future[ReleaseOutcome], outcome: ReleaseOutcome) -> None:
    if not waiter.done():  # a request whose client went away has its waiter cancelled
        waiter.set_result(outcome)


def fault_of(envelope: Envelope, stages: tuple[FaultKind[Any], ...], target: FaultTarget) -> Fault:
    """The armed form of a validated fault: its glob resolved for ``target``, its stages checked against it."""
    for stage in stages:
        if stage.pins_token and not target.pins_tokens:
            raise HarnessError(unpinnable(target))
    return Fault(stages=stages, path=request_glob(envelope.path, envelope.on, target), method=envelope.method,
                 calls=tuple(envelope.calls) if envelope.calls else None, times=envelope.times, on=envelope.on)
