"""The run's clocks: true time, and the wall clocks of the three parties a scenario can set wrong.

The timeline is stamped on true time (the runner's and the mock's ``time.time``), always. Each party reads its own
wall clock, as an offset from true time that the ``clock`` step sets:

* ``browser`` -- the page's ``Date`` / ``Date.now`` (an init script, harness/browser/clock_shim.js; the page's
  timers, ``performance.now`` and the probe's stamps stay on real time);
* ``auth`` -- the auth server's: the mock mints tokens (``iat``, ``exp``, ``nbf``), judges refresh-token reuse and
  checks tokens on it;
* ``backend`` -- the app's own server's: it checks the tokens it is sent on it.

A **jump** (a lid closed for hours) moves the world forward: every party's wall clock advances by the same amount at
once, while the page's timers -- on monotonic time, suspended with the machine -- do not. True time cannot jump, so
the jump is kept as ``jumped`` and added to every party's offset; a party's skew is its offset beyond that.

Invariants: an offset is read at every use (a change takes effect on the next token minted or checked); every
change is a ``clock`` event on the timeline carrying true time (``at``) and each party's clock at that moment, so
the report's timeline shows the skew and the oracles can put a token's ``exp`` (the auth clock's) on true time.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal

Party = Literal["browser", "auth", "backend"]
PARTIES: tuple[Party, ...] = ("browser", "auth", "backend")


@dataclass
class RunClocks:
    """One run's clocks. Offsets are seconds ahead of true time (negative: behind); ``jumped`` is the world's lead."""

    base: Callable[[], float] = time.time
    skew: dict[Party, float] = field(default_factory=lambda: {p: 0.0 for p in PARTIES})
    jumped: float = 0.0

    def offset(self, party: Party) -> float:
        """How far ``party``'s wall clock leads true time: the world's jump plus its own skew."""
        return self.jumped + self.skew[party]

    def now(self, party: Party) -> float:
        return self.base() + self.offset(party)

    def auth_now(self) -> float:
        return self.now("auth")

    def backend_now(self) -> float:
        return self.now("backend")

    def true_of(self, party: Party, reading: float) -> float:
        """The true time at which ``party``'s clock read ``reading`` (with the offsets as they are now)."""
        return reading - self.offset(party)

    def is_true(self) -> bool:
        return self.jumped == 0 and not any(self.skew.values())

    def describe(self, at: float) -> dict[str, Any]:
        """What a ``clock`` event carries: each party's offset (s) and its clock's reading at true time ``at``."""
        out: dict[str, Any] = {"jumped": self.jumped}
        for party in PARTIES:
            out[f"{party}_offset"] = self.offset(party)
            out[f"{party}_now"] = round(at + self.offset(party), 3)
        return out


def offset_at(clock_events: Iterable[Any], party: Party, at: float) -> float:
    """``party``'s offset at true time ``at``, from a timeline's ``clock`` events (objects with ``at`` and ``data``,
    oldest first): 0 before the first one."""
    offset = 0.0
    for event in clock_events:
        if event.at > at:
            break
        offset = float(event.data.get(f"{party}_offset", offset))
    return offset


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_offset(value: Any, *, signed_required: bool = True) -> float:
    """``+2h``, ``-30s``, ``+1h30m``, ``-500ms``, ``0`` -> seconds; a number is seconds. Text needs a sign (unless
    ``signed_required`` is false: a jump's length), so ``2h`` is never read as an offset by mistake."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(" ", "")
    match = re.fullmatch(r"([+-]?)((?:[0-9]*\.?[0-9]+(?:ms|s|m|h|d))+)", text)
    if text == "0":
        return 0.0
    if not match or (signed_required and not match.group(1)):
        form = "+2h, -30s, +1h30m, -500ms" if signed_required else "8h, 90m, 30s"
        raise ValueError(f"{value!r} is not {'an offset' if signed_required else 'a length of time'} (e.g. {form})")
    seconds = sum(float(n) * _UNITS[u] for n, u in re.findall(r"([0-9]*\.?[0-9]+)(ms|s|m|h|d)", match.group(2)))
    return -seconds if match.group(1) == "-" else seconds


def signed(seconds: float) -> str:
    """``+2h``, ``-30s``, ``+1h30m``, ``0s``: an offset as a scenario writes it."""
    if seconds == 0:
        return "0s"
    sign = "+" if seconds > 0 else "-"
    left = abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if left >= size:
            parts.append(f"{int(left // size)}{unit}")
            left -= size * int(left // size)
    if left or not parts:
        parts.append(f"{left:g}s")
    return sign + "".join(parts)
