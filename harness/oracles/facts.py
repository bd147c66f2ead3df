"""Facts: what every check needs from a run's timeline, computed once.

A check never walks the raw timeline for something another check also needs: the session-cookie writes, the
revocation, the first sign-in, the page loads as the server lived them. Facts are plain values; computing them
decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from harness.clock import Party, offset_at
from harness.sdk_protocol import SessionStore, cookie_store
from harness.timeline import Event, Timeline


@dataclass(frozen=True)
class PageLoad:
    """One page load as the server lived it: its final view, and the handshake view before it, if any."""

    final: Event
    handshake: Event | None = None

    @property
    def outcome(self) -> str:
        """``signed-in``, ``signed-in-after-handshake`` or ``signed-out`` (also for a handshake never completed)."""
        if self.final.data.get("decision") == "handshake" or not self.final.data.get("signed_in"):
            return "signed-out"
        return "signed-in-after-handshake" if self.handshake is not None else "signed-in"


def page_loads(views: Sequence[Event]) -> list[PageLoad]:
    """Group ``server.view`` events of documents into page loads: a handshake and the request that comes back from
    it are one load. API requests (``document: false``) are not page loads."""
    loads: list[PageLoad] = []
    pending: Event | None = None
    for view in views:
        if not view.data.get("document", True):
            continue
        if view.data.get("decision") == "handshake":
            if pending is not None:  # a handshake that never came back, then another
                loads.append(PageLoad(pending))
            pending = view
            continue
        if pending is not None and not view.data.get("after_handshake"):
            loads.append(PageLoad(pending))
            pending = None
        loads.append(PageLoad(view, pending))
        pending = None
    if pending is not None:
        loads.append(PageLoad(pending))
    return loads


@dataclass(frozen=True)
class Facts:
    timeline: Timeline
    steps: Sequence[str]  # step labels, 1-based by index - 1
    store: SessionStore  # where the session lives: cookies, or a localStorage entry (the adapter says)
    events: list[Event]
    store_writes: list[Event]  # writes of the session store (page watcher, and the server's Set-Cookie)
    revoked: Event | None  # the server ended the session
    first_set: Event | None  # the first write of a session cookie: the user is signed in from here
    minted: dict[str, float]  # token id -> when the mock minted it
    backend: str | None  # the app backend's name, as ``setup.backend`` chose it (``server.backend``)
    backend_note: str = ""  # what every sentence made with that backend adds (e.g. that it was a strict check)
    user_view: str = "the SDK's view of the user"  # how a sentence names the SDK's own view (the adapter says)

    @property
    def cookie_events(self) -> list[Event]:
        """The old name of :attr:`store_writes`, from when every store was a cookie; kept for checks written then."""
        return self.store_writes

    @property
    def store_entries(self) -> Sequence[str]:
        """The store's entries (cookie names, or the localStorage key): removing any of them loses the session."""
        return self.store.names

    @property
    def written(self) -> list[str]:
        """The store's entries this run ever saw, written or held: an SDK may not write all of them (5.0.0 writes
        no suffixed ``__session_<suffix>``), and an entry never there cannot be lost."""
        seen = {e.data.get("name") for e in self.store_writes if e.data.get("op") == "set"}
        for state in self.of(self.store.state_kind):  # ... or that the browser's own store held (a Set-Cookie)
            seen.update(state.data.get("present", []))
        return [n for n in self.store.names if n in seen]

    @property
    def revoked_at(self) -> float:
        return self.revoked.at if self.revoked else float("inf")

    @property
    def signed_in_at(self) -> float:
        return self.first_set.at if self.first_set else float("inf")

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def on_true_time(self, reading: float, party: Party, at: float) -> float:
        """A reading of ``party``'s wall clock (a token's ``iat``/``exp`` are the auth server's) put on true time,
        with the offset that clock had at true time ``at`` (the ``clock`` step's events; 0 without them)."""
        return reading - offset_at(self.of("clock"), party, at)

    def loads(self) -> list[PageLoad]:
        """The page loads after sign-in."""
        return page_loads([e for e in self.of("server.view") if e.at > self.signed_in_at])

    def step_name(self, step: int | None) -> str:
        if step is None or step < 1 or step > len(self.steps):
            return "before the first step"
        return f"step {step} `{self.steps[step - 1]}`"

    def into(self, event: Event) -> str:
        starts = [e for e in self.of("step.start") if e.data.get("index") == event.step]
        return f"{event.at - starts[0].at:.1f} s into " if starts else ""

    @classmethod
    def of_timeline(cls, timeline: Timeline, steps: Sequence[str], store: SessionStore | Sequence[str],
                    user_view: str = "the SDK's view of the user") -> "Facts":
        if not isinstance(store, SessionStore):  # a list of cookie names means cookies
            store = cookie_store(tuple(store))
        events = timeline.events()
        store_writes = [e for e in events if e.kind == store.event_kind and e.data.get("name") in store.names]
        described = next((e.data for e in events if e.kind == "server.backend"), {})
        return cls(timeline=timeline, steps=steps, store=store, user_view=user_view, events=events,
                   store_writes=store_writes,
                   revoked=next((e for e in events if e.kind == "session.revoked"), None),
                   first_set=next((e for e in store_writes if e.data.get("op") == "set"), None),
                   minted={e.data["jti"]: e.at for e in events if e.kind == "token.minted" and "jti" in e.data},
                   backend=described.get("backend"), backend_note=described.get("note") or "")
