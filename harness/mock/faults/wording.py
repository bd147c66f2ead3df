"""What the report says about faults, from their timeline events: each kind's own words, from the registry.

Reads event data only (``result.json`` of this or an older harness), never a live fault: an event whose kind is
not registered (any more) is named by its kind. The envelope's own events -- a request closed because its fault
was released with a drop (``after: release``), ``fault.released``, ``fault.unreleased`` -- are worded here.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from harness.mock.faults.kind import KINDS

Data = Mapping[str, Any]


def did(event: Data) -> str:
    """What one stage did to one request (``dropped mid-body``), without the fault's id."""
    if event.get("after") == "release":
        return "dropped (its fault was released with a drop)"
    kind = KINDS.get(str(event.get("kind")))
    return kind.did(event) if kind is not None else str(event.get("kind", "fault"))


def request_text(events: Sequence[Data]) -> str:
    """What a fault did to one request, from its events in order: ``delayed 2.0 s, then dropped mid-body by fault
    f1``. A later event of the same stage (the drop that ends a hold) replaces the earlier one's words."""
    words: list[str] = []
    last_stage: object = object()
    for event in events:
        stage = (event.get("fault"), event.get("stage"))
        if stage == last_stage and words:
            words[-1] = did(event)
        else:
            words.append(did(event))
        last_stage = stage
    last = events[-1] if events else {}
    again = " (it keeps applying until released)" if last.get("repeat") else ""
    return f"{', then '.join(words)} by fault {last.get('fault')}{again}"


def armed_text(event: Data) -> str:
    """``fault.armed``: ``fault f1 armed: delay 2.0 s, then drop mid-body on */tokens``."""
    stages = event.get("chain") or [event]
    what = ", then ".join(_arming(stage) for stage in stages)
    on = f" (on: {event['on']})" if event.get("on") else ""
    return f"fault {event.get('fault')} armed: {what} on {event.get('path')}{on}"


def _arming(stage: Data) -> str:
    kind = KINDS.get(str(stage.get("kind")))
    return kind.arming(stage) if kind is not None else str(stage.get("kind"))


def released_text(event: Data) -> str:
    """``fault.released``; a fault released with a drop that goes on dropping is not called ended."""
    if event.get("still_dropping"):
        return (f"fault {event.get('fault')} released with a drop: its held requests are closed, and it goes on "
                "closing matching requests until released again")
    return f"fault {event.get('fault')} released ({event.get('outcome')})"


def unreleased_text(event: Data) -> str:
    """``fault.unreleased``: the run ended with the fault still armed (or still dropping), never released."""
    was = "still dropping after its release with a drop" if event.get("was") == "dropping" else "still armed"
    applied = event.get("applied")
    times = f"; it applied {applied} time{'s' if applied != 1 else ''}" if applied is not None else ""
    return f"fault {event.get('fault')} ({event.get('kind')}) was never released: {was} when the run ended{times}"
