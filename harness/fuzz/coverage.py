"""What a fuzz session explored: step kinds and adjacent pairs played, motifs used, and the interleavings the runs
actually reached.

Two views, kept apart on purpose. What was *planned* comes from the candidates (step kinds, pairs, motifs). What was
*reached* comes from each run's timeline events (:func:`reached`): a motif that plans "offline while a request is
held" only counts as reaching it when the page really went offline while the mock held a token request. A summary
that only counted plans would claim interleavings the browser never lived through.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from harness.fuzz.model import VOCABULARY

# The interleavings :func:`reached` recognises, with what each means (for the summary and the report).
INTERLEAVINGS = {
    "flip-while-request-held": "the network went off or on while the mock held a token request open",
    "token-attempt-offline": "the SDK made a token attempt while the page was offline",
    "back-online-after-offline-attempt": "the page came back online within 1 s of a token attempt made offline",
    "token-attempt-hidden": "the SDK made a token attempt while its tab was hidden",
    "focus-returned-offline": "the tab got focus back while the page was offline",
    "server-fault-answered": "the mock answered a request with a fault (status, drop)",
    "get-token-settled-offline": "the app's getToken settled while the page was offline",
    "session-removed": "the session store was written empty at least once",
}
BACK_ONLINE_WINDOW_S = 1.0


def _page_state_changes(event: Mapping[str, Any], state: dict[str, Any]) -> None:
    """Every page event carries the page's state (online, visibility) as the probe saw it."""
    data = event.get("data") or {}
    if event.get("source") != "page":
        return
    if isinstance(data.get("online"), bool):
        state["online"] = data["online"]
    if "visibility" in data:
        state["hidden"] = data["visibility"] == "hidden"


def reached(events: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The interleavings (:data:`INTERLEAVINGS`) a run's timeline shows."""
    found: set[str] = set()
    state: dict[str, Any] = {"online": True, "hidden": False, "held": 0, "offline_attempt": None}
    for event in sorted(events, key=lambda e: (e.get("t", 0.0), e.get("seq", 0))):
        kind, data, t = event.get("kind"), event.get("data") or {}, float(event.get("t", 0.0))
        if kind == "fault.held":
            state["held"] += 1
        elif kind == "fault.released":
            state["held"] = 0
        elif kind == "fault" and event.get("source") == "mock":
            found.add("server-fault-answered")
        elif kind in ("cookie", "storage") and data.get("op") == "removed":
            found.add("session-removed")
        if event.get("source") == "page":
            if kind in ("online", "offline") and state["held"]:
                found.add("flip-while-request-held")
            if kind == "online" and state["offline_attempt"] is not None \
                    and t - state["offline_attempt"] <= BACK_ONLINE_WINDOW_S:
                found.add("back-online-after-offline-attempt")
            if kind == "focus" and not state["online"]:
                found.add("focus-returned-offline")
            if kind == "sdk.token.end":
                if data.get("online") is False:
                    found.add("token-attempt-offline")
                    state["offline_attempt"] = t
                if state["hidden"]:
                    found.add("token-attempt-hidden")
            if kind == "sdk.get_token" and data.get("online") is False:
                found.add("get-token-settled-offline")
        _page_state_changes(event, state)
    return frozenset(found)


@dataclass
class Coverage:
    """Counts over the candidates explored (each counted once, however often it was replayed)."""

    timelines: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    motifs: Counter[str] = field(default_factory=Counter)
    interleavings: Counter[str] = field(default_factory=Counter)

    def add(self, kinds: list[str], motifs: Iterable[str], interleavings: Iterable[str]) -> None:
        self.timelines += 1
        self.kinds.update(set(kinds))
        self.pairs.update(set(zip(kinds[:-1], kinds[1:], strict=True)))
        self.motifs.update(set(motifs))
        self.interleavings.update(set(interleavings))

    @property
    def kinds_missed(self) -> list[str]:
        return [k for k in VOCABULARY if k not in self.kinds]

    def to_dict(self) -> dict[str, Any]:
        return {"timelines": self.timelines, "kinds": dict(self.kinds.most_common()),
                "kinds_missed": self.kinds_missed, "vocabulary": len(VOCABULARY),
                "pairs": len(self.pairs), "pairs_possible": len(VOCABULARY) ** 2,
                "pair_counts": {f"{a} -> {b}": n for (a, b), n in self.pairs.most_common()},
                "motifs": dict(self.motifs.most_common()), "interleavings": dict(self.interleavings.most_common())}
