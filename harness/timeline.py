"""The timeline: every fact a run learns, as events on one clock.

The runner (steps), the mock server (requests, faults), and the browser probes (cookie writes, online/offline,
visibility, focus, console) all append here. Oracles and reports are views of it; nothing is measured anywhere else.

The clock is the wall clock in epoch seconds, not ``time.monotonic``: browser-side events are stamped inside the
page with ``Date.now()``-based time and delivered to Python later, and the wall clock is the only clock the page, the
mock server's thread and the runner share. Events are kept sorted by that stamp, so a cookie write that the page
reports a few milliseconds late still lands where it happened. The page stamps its events with its own clock
(``performance.timeOrigin + performance.now()``); the browser driver measures that clock's offset to this one once
the first page is up and again at the end (``clock.offset`` events; the result's ``clock`` says the skew) and puts
every page-stamped event on this base, so comparisons across sources (a removal before or after a revocation) hold.

Listeners (:meth:`Timeline.listen`) hear each event as it is recorded, in the thread that recorded it: the one way
to act on an event the moment it happens (a network flip armed on a server drop) rather than when a waiter next looks.
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

Predicate = Callable[["Event"], bool]


@dataclass(frozen=True)
class Event:
    """One thing that happened. ``at`` is epoch seconds; ``t`` is seconds since the run started."""

    at: float
    t: float
    source: str  # "runner" | "mock" | "page" | "browser"
    kind: str  # e.g. "step.start", "request", "fault", "cookie", "online", "visibility", "console"
    data: dict[str, Any] = field(default_factory=dict)
    step: int | None = None  # index of the step running when it happened (None: before the first step)
    seq: int = 0  # arrival order, to keep equal stamps stable

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "t": round(self.t, 4), "at": self.at, "source": self.source, "kind": self.kind,
                "step": self.step, **({"data": self.data} if self.data else {})}


class Timeline:
    """A thread-safe, time-ordered event log that can be waited on."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.started_at = clock()
        self._events: list[Event] = []
        self._keys: list[tuple[float, int]] = []
        self._cond = threading.Condition()
        self._seq = 0
        self._step_starts: list[tuple[float, int]] = []  # (at, step index), in order
        self._listeners: list[Callable[[Event], None]] = []

    def now(self) -> float:
        return self._clock()

    def emit(self, source: str, kind: str, /, at: float | None = None, **data: Any) -> Event:
        """Record an event; ``at`` defaults to now. Safe to call from any thread. ``source`` and ``kind`` are
        positional-only, so ``data`` may carry keys of those names (a fault's ``kind``)."""
        with self._cond:
            stamp = self._clock() if at is None else at
            if kind == "step.start":
                self._step_starts.append((stamp, int(data["index"])))
            self._seq += 1
            event = Event(at=stamp, t=stamp - self.started_at, source=source, kind=kind, data=data,
                          step=self._step_at(stamp) if kind != "step.start" else int(data["index"]), seq=self._seq)
            key = (stamp, self._seq)
            pos = bisect.bisect(self._keys, key)
            self._keys.insert(pos, key)
            self._events.insert(pos, event)
            self._cond.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:  # outside the lock: a listener may record events of its own
            listener(event)
        return event

    def listen(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``listener(event)`` after each event is recorded, in the recording thread (the mock's, Playwright's,
        the runner's), outside the log's lock. It must be quick and must not raise: it runs inside the recorder's
        own work (a raise in the mock's thread is a failure of the mock). Returns the function that stops it."""
        with self._cond:
            self._listeners.append(listener)

        def stop() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop

    def _step_at(self, at: float) -> int | None:
        index = None
        for start, step in self._step_starts:
            if start <= at:
                index = step
            else:
                break
        return index

    def events(self, kind: str | None = None, source: str | None = None, since: float | None = None) -> list[Event]:
        """A snapshot of the events, oldest first, optionally filtered (``kind`` may end in ``*`` as a prefix)."""
        with self._cond:
            items = list(self._events)
        return [e for e in items if _matches(e, kind, source) and (since is None or e.at >= since)]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events())

    def __len__(self) -> int:
        with self._cond:
            return len(self._events)

    def wait_for(self, predicate: Predicate, timeout: float, since: float | None = None,
                 pump: Callable[[float], None] | None = None) -> Event | None:
        """Wait until an event (stamped at or after ``since``) satisfies ``predicate``; return it, or None on timeout.

        ``pump(seconds)`` is called instead of sleeping when given: with Playwright's sync API, events from the page
        only arrive while Playwright runs its dispatcher, so the browser driver passes ``page.wait_for_timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            hit = next((e for e in self.events(since=since) if predicate(e)), None)
            if hit is not None:
                return hit
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if pump is not None:
                pump(min(left, 0.05))
            else:
                with self._cond:
                    self._cond.wait(min(left, 0.05))

    def to_list(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.events()]


def _matches(event: Event, kind: str | None, source: str | None) -> bool:
    if source is not None and event.source != source:
        return False
    if kind is None:
        return True
    if kind.endswith("*"):
        return event.kind.startswith(kind[:-1])
    return event.kind == kind


def stalls_of(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The data of a saved timeline's ``harness.stalled`` events (after_step, before_step, seconds), in order: where
    the harness fell behind the scenario's pace between two steps. Reads event dicts, as result.json holds them."""
    return [dict(e.get("data", {})) for e in events if e.get("kind") == "harness.stalled"]
