"""Server-side faults, injected on cue into matching requests (the WireMock/Toxiproxy part of the mock).

A :class:`Fault` matches requests by method and path glob and decides, per matching call, whether it applies
(``calls``: which matching calls, 1-based; ``times``: how many applications at most). Kinds:

- ``status``: answer with an HTTP status and a Clerk-shaped error body;
- ``delay``: wait, then answer normally;
- ``drop``: close the connection, before any response byte (``at: headers``) or after the headers and part of the
  body (``at: body``). A drop keeps applying until released: Chromium silently resends a POST once when a reused
  connection closes before any response byte, so a one-shot drop would never reach the SDK;
- ``hold``: keep the request open until released (for ``hold`` and ``delay``, ``token: arrival`` makes the late
  answer carry the token minted when the request arrived, so a slow response can bring an older token); the release
  says whether it then gets its normal answer (``pass``) or its connection closed (``drop``). Released with
  ``drop``, the fault goes on closing matching requests (for the same reason as ``drop``) until it is released once
  more;
- ``hang``: like hold, but never answered; released requests are dropped (as a hold released with ``drop``).

Every matching fault counts every matching call (``seen``), also calls another fault took, so two faults with
``calls: [1]`` and ``calls: [2]`` on one path make a sequence.

Faults are owned by the server's event loop; the runner thread talks to them through :class:`FaultBook`, which is
thread-safe.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["status", "delay", "drop", "hold", "hang"]
ReleaseOutcome = Literal["pass", "drop"]


@dataclass
class Fault:
    kind: FaultKind
    path: str = "*"  # glob on the request path, e.g. "*/tokens" or "/__clerk/v1/client"
    method: str | None = None  # None: any method
    calls: tuple[int, ...] | None = None  # which matching calls it applies to (1-based); None: every call
    times: int | None = None  # apply at most this many times; None: until released
    status: int = 503
    error_code: str | None = None  # Clerk error code in the body; defaults by status
    delay: float = 0.0  # seconds, for "delay"
    at: Literal["headers", "body"] = "headers"  # where a "drop" cuts the connection
    token: Literal["answer", "arrival"] = "answer"  # hold/delay: when the answer's token is minted
    id: str = ""
    # Book-keeping, owned by the FaultBook lock.
    seen: int = 0
    applied: int = 0
    released: bool = False
    release_outcome: ReleaseOutcome = "pass"
    dropping: bool = False  # released with a drop: closes every matching request until released again
    _waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fault": self.id, "kind": self.kind, "path": self.path}
        if self.kind == "status":
            out["status"] = self.status
        if self.kind == "delay":
            out["delay"] = self.delay
        if self.kind == "drop":
            out["drop_at"] = self.at  # not "at": that is an event's time stamp
        if self.kind in ("hold", "delay") and self.token == "arrival":
            out["token"] = "arrival"
        return out


@dataclass(frozen=True)
class Decision:
    """What to do with one request: the fault that applies (None: answer normally)."""

    fault: Fault | None
    wait: asyncio.Event | None = None  # for hold/hang: set on release
    dropping: bool = False  # the fault was released with a drop and now closes the connection at once


class FaultBook:
    """The set of active faults; thread-safe. The server asks it for a decision on every request."""

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

    def release(self, fault_id: str | None = None, outcome: ReleaseOutcome = "pass") -> list[Fault]:
        """Let a fault's held requests go (all faults when ``fault_id`` is None) and stop the fault.

        Released with ``drop`` (always so for ``hang``), a fault that was holding requests closes their connections
        and then keeps closing every matching request until it is released once more: Chromium resends a POST
        whose reused connection closed before any response byte, and a resend answered normally would hide the
        drop from the SDK. Any other release ends the fault.
        """
        with self._lock:
            chosen = [f for f in self._faults if fault_id is None or f.id == fault_id]
            ended = []
            for fault in chosen:
                fault.release_outcome = "drop" if fault.kind == "hang" else outcome
                for loop, event in fault._waiters:
                    loop.call_soon_threadsafe(event.set)
                fault._waiters.clear()
                if fault.kind in ("hold", "hang") and fault.release_outcome == "drop" and not fault.dropping:
                    fault.dropping = True
                else:
                    fault.released = True
                    ended.append(fault)
            self._faults = [f for f in self._faults if f not in ended]
            return chosen

    def clear(self) -> None:
        """Drop every held request and forget every fault (the run is over)."""
        self.release(None, "drop")
        with self._lock:
            for fault in self._faults:
                fault.released = True
            self._faults = []

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def decide(self, method: str, path: str) -> Decision:
        """Called on the server loop for each request: count it against the matching faults, return the first that
        applies."""
        with self._lock:
            matching = [f for f in self._faults if not f.released and f.matches(method, path)]
            for fault in matching:  # every matching fault counts the call, so nth-call sequences line up
                fault.seen += 1
            for fault in matching:
                if fault.dropping:
                    return Decision(fault, dropping=True)
                if fault.calls is not None and fault.seen not in fault.calls:
                    continue
                if fault.times is not None and fault.applied >= fault.times:
                    continue
                fault.applied += 1
                if fault.kind == "drop":
                    # Once a drop has applied, it goes on dropping until released, whatever `calls`/`times` say:
                    # otherwise Chromium's silent resend of the POST is answered and the SDK never sees the drop.
                    fault.dropping = True
                wait = None
                if fault.kind in ("hold", "hang"):
                    wait = asyncio.Event()
                    fault._waiters.append((asyncio.get_running_loop(), wait))
                return Decision(fault, wait)
        return Decision(None)
