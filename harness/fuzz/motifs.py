"""Motifs: short step patterns for the interleavings that matter, so a small budget reaches them.

A uniform choice of steps almost never lines up a network flip with a request in flight. Each motif here is one such
interleaving, written as scenario steps whose parameters (which status, which call numbers, how long a timeout) are
drawn by Hypothesis; the strategy (:mod:`harness.fuzz.strategies`) then lets each planned step be dropped, so
exploration also meets the variants and the shrink can remove single steps.

:data:`CHUNKS` lists what a timeline is made of -- free single steps first, then motifs, shortest first -- with a
weight each. Its order is the shrink's direction (Hypothesis moves a choice towards the first entry), and the first
entry (``wait``) is what the simplest example holds, so the simplest timeline is a harmless one: the founding
interleaving has to be found, it is not the first example.

Invariant: a motif only plans steps; whether each can play is decided by :func:`harness.fuzz.model.allowed` when it
is emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hypothesis import strategies as st

from harness.fuzz.candidate import StepData
from harness.fuzz.model import STATUSES, Model, allowed

Draw = st.DrawFn
Planner = Callable[[Draw, Model], list[StepData]]

# Sampled lists, smallest first: the shrink moves each towards its first value ("the shortest wait that still
# violates"). Seconds.
WAITS = (0.5, 1, 2, 3, 5, 8)
TIMEOUTS = (3, 5, 10, 15)
DELAYS = (1, 2, 4)
CALLS = (None, [1], [2], [1, 2], [1, 3])
WAIT_EVENTS = ("token_attempt", "token_request", "request_failed", "cookie_removed", "cookie_set", "held",
               "get_token", "client_request", "api_answer", "token_response")


def wait_for(event: str, timeout: float, **extra: object) -> StepData:
    """A generated wait: always ``optional`` (an event only some versions cause must not make the run an error)."""
    return {"wait_for": {"event": event, **extra, "optional": True, "timeout": timeout}}


def _timeout(draw: Draw) -> float:
    return draw(st.sampled_from(TIMEOUTS))


def _hide_pair(draw: Draw) -> tuple[StepData, StepData]:
    return draw(st.sampled_from((("hide", "show"), ("minimise", "restore"))))


def _flip(model: Model) -> StepData:
    return "offline" if model.online else "online"


# -- free single steps ---------------------------------------------------------------------------------------------

def free_wait(draw: Draw, model: Model) -> list[StepData]:
    return [{"wait": draw(st.sampled_from(WAITS))}]


def free_clear(draw: Draw, model: Model) -> list[StepData]:
    return ["clear_token_cache"]


def free_flip(draw: Draw, model: Model) -> list[StepData]:
    return [_flip(model)]


def free_get_token(draw: Draw, model: Model) -> list[StepData]:
    return [{"get_token": {"skip_cache": draw(st.booleans()), "wait": False}}]


def free_wait_for(draw: Draw, model: Model) -> list[StepData]:
    event = draw(st.sampled_from(WAIT_EVENTS))
    extra = {"path": "*/tokens"} if event == "request_failed" else {}
    return [wait_for(event, _timeout(draw), **extra)]


def free_api_call(draw: Draw, model: Model) -> list[StepData]:
    return [{"api_call": "/api/me"}]


def free_reload(draw: Draw, model: Model) -> list[StepData]:
    return ["reload"] if allowed(model, "reload") else []


def free_tab(draw: Draw, model: Model) -> list[StepData]:
    can = [s for s in ("hide", "show", "minimise", "restore", "freeze", "resume") if allowed(model, s)]
    return [draw(st.sampled_from(can))] if can else []


def free_fault(draw: Draw, model: Model) -> list[StepData]:
    name = model.next_name()
    kind = draw(st.sampled_from(("status", "hold", "drop", "delay", "hang")))
    if kind == "status":
        return [_status(draw, name)]
    if kind == "delay":
        return [{"delay": {"delay": draw(st.sampled_from(DELAYS)), "name": name, "times": 1,
                           "token": draw(st.sampled_from(("answer", "arrival")))}}]
    if kind == "drop":
        return [{"drop": {"name": name, "at": draw(st.sampled_from(("headers", "body")))}}]
    return [{kind: {"name": name, "times": 1}}]


def free_release(draw: Draw, model: Model) -> list[StepData]:
    names = sorted(model.faults)
    if not names:
        return []
    target = draw(st.sampled_from(["all", *names]))
    return [{"release": "all"} if target == "all" else {"release": {"fault": target}}]


def _status(draw: Draw, name: str) -> StepData:
    fault: dict[str, object] = {"status": draw(st.sampled_from(STATUSES)), "path": "*/tokens", "name": name}
    calls = draw(st.sampled_from(CALLS))
    if calls:
        fault["calls"] = calls
    return {"status": fault}


# -- motifs ------------------------------------------------------------------------------------------------------

def refresh_due_offline(draw: Draw, model: Model) -> list[StepData]:
    """A token refresh comes due while offline (the founding interleaving)."""
    return ["offline", "clear_token_cache", wait_for("token_attempt", _timeout(draw))]


def flap(draw: Draw, model: Model) -> list[StepData]:
    """The network flaps: offline and online, a few times."""
    steps: list[StepData] = []
    online = model.online
    for _ in range(draw(st.integers(2, 5))):
        steps.append("offline" if online else "online")
        online = not online
    return steps


def status_nth(draw: Draw, model: Model) -> list[StepData]:
    """The token endpoint answers a rate limit or a server error on chosen calls (an nth-call pattern)."""
    return [_status(draw, model.next_name()), "clear_token_cache", wait_for("token_response", _timeout(draw))]


def get_token_offline(draw: Draw, model: Model) -> list[StepData]:
    """The app's own getToken while offline."""
    return ["offline", {"get_token": {"skip_cache": draw(st.booleans()), "wait": False}},
            wait_for("get_token", _timeout(draw))]


def refresh_due_hidden(draw: Draw, model: Model) -> list[StepData]:
    """A refresh comes due while the tab is in the background; then back to it."""
    away, back = _hide_pair(draw)
    return [away, "clear_token_cache", wait_for("token_attempt", _timeout(draw)), back]


def focus_return_offline(draw: Draw, model: Model) -> list[StepData]:
    """Away from the tab, the network drops, a refresh is due; focus comes back while still offline."""
    away, back = _hide_pair(draw)
    return [away, "offline", "clear_token_cache", back, {"wait": draw(st.sampled_from(WAITS))}]


def inflight_flip(draw: Draw, model: Model) -> list[StepData]:
    """A token request is in flight (held at the server); the network flips around its failure. Where ``online``
    comes -- before the server drops it, right after, or once the page saw the failure -- is drawn: the reviewer's
    race on PR #7912 sits between the failure and the SDK's look at ``navigator.onLine``."""
    name = model.next_name()
    trigger = draw(st.sampled_from(("clear_token_cache", "get_token")))
    start: StepData = (trigger if trigger == "clear_token_cache"
                       else {"get_token": {"skip_cache": True, "wait": False}})
    back_at = draw(st.sampled_from(("after_failure", "after_release", "before_release")))
    release: StepData = {"release": {"fault": name, "outcome": "drop"}}
    failed = wait_for("request_failed", _timeout(draw), path="*/tokens")
    tail: list[StepData] = {"after_failure": [release, failed, "online"],
                            "after_release": [release, "online", failed],
                            "before_release": ["online", release, failed]}[back_at]
    return [{"hold": {"name": name, "times": 1}}, start, wait_for("held", _timeout(draw)), "offline", *tail,
            wait_for("token_attempt", _timeout(draw))]


def client_down(draw: Draw, model: Model) -> list[StepData]:
    """A rate limit on the token endpoint while the client read fails."""
    first, second = model.next_name(), f"f{model.named + 2}"
    return [{"status": {"status": 429, "path": "*/tokens", "name": first}},
            {"status": {"status": draw(st.sampled_from((500, 503))), "path": "*/v1/client", "method": "GET",
                        "name": second}},
            "clear_token_cache", wait_for("token_response", _timeout(draw)),
            wait_for("cookie_removed", draw(st.sampled_from(TIMEOUTS)))]


def sleep_wake(draw: Draw, model: Model) -> list[StepData]:
    """The lid closes, the network goes; by wake-up a refresh is due; the window comes back before the network."""
    return ["minimise", "offline", wait_for("token_attempt", _timeout(draw), count=2), "clear_token_cache",
            "restore", wait_for("token_attempt", _timeout(draw)), "online"]


def second_tab_offline(draw: Draw, model: Model) -> list[StepData]:
    """A second tab in front; the hidden first one comes due for a refresh offline."""
    return [{"new_tab": "/"}, "offline", {"switch_tab": {"tab": 1, "front": False}}, "clear_token_cache",
            wait_for("token_attempt", _timeout(draw), tab=1)]


def drop_flip(draw: Draw, model: Model) -> list[StepData]:
    """The server closes token connections while the network flips."""
    name = model.next_name()
    return [{"drop": {"name": name, "at": draw(st.sampled_from(("headers", "body")))}}, "clear_token_cache",
            "offline", wait_for("token_attempt", _timeout(draw)), {"release": {"fault": name}}]


def stale_delay(draw: Draw, model: Model) -> list[StepData]:
    """A slow token answer carrying an older token lands after a newer one."""
    name = model.next_name()
    return [{"delay": {"delay": draw(st.sampled_from(DELAYS)), "name": name, "times": 1, "token": "arrival"}},
            {"get_token": {"skip_cache": True, "wait": False}}, "clear_token_cache",
            wait_for("get_token", _timeout(draw))]


def freeze_offline(draw: Draw, model: Model) -> list[StepData]:
    """The background tab is frozen, the network drops meanwhile; it thaws and comes back."""
    return ["hide", "freeze", "offline", {"wait": draw(st.sampled_from(WAITS))}, "resume", "show"]


def api_offline(draw: Draw, model: Model) -> list[StepData]:
    """The app polls its API through an offline refresh."""
    return [{"api_call": {"path": "/api/me", "every": 1, "for": draw(st.sampled_from((3, 5, 8)))}}, "offline",
            "clear_token_cache", wait_for("token_attempt", _timeout(draw)), "online", {"api_call": "/api/me"}]


@dataclass(frozen=True)
class Chunk:
    name: str
    plan: Planner
    weight: int  # how many entries it has in the table Hypothesis samples from
    motif: bool


FREE_WEIGHT, MOTIF_WEIGHT = 1, 3
# The reviewer's race on PR #7912 (a flip between a failed request and the SDK's look at navigator.onLine) is what
# fixed releases are least known to survive: twice the weight of the other motifs.
HEAVY = {"inflight_flip": 2 * MOTIF_WEIGHT}
_FREE = (free_wait, free_clear, free_flip, free_get_token, free_wait_for, free_api_call, free_reload, free_tab,
         free_fault, free_release)
_MOTIFS = (refresh_due_offline, flap, status_nth, get_token_offline, refresh_due_hidden, focus_return_offline,
           drop_flip, stale_delay, freeze_offline, api_offline, second_tab_offline, client_down, sleep_wake,
           inflight_flip)
CHUNKS: tuple[Chunk, ...] = (
    *(Chunk(fn.__name__.removeprefix("free_"), fn, FREE_WEIGHT, False) for fn in _FREE),
    *(Chunk(fn.__name__.replace("_", "-"), fn, HEAVY.get(fn.__name__, MOTIF_WEIGHT), True) for fn in _MOTIFS),
)
# The table Hypothesis samples from: each chunk repeated by its weight, in CHUNKS order.
TABLE: tuple[Chunk, ...] = tuple(chunk for chunk in CHUNKS for _ in range(chunk.weight))
MOTIF_NAMES = tuple(c.name for c in CHUNKS if c.motif)
