"""``--budget``: how much exploring a fuzz session may do -- a number of runs (``30``) or a wall time (``10m``).

The budget bounds exploration only. A violation found within it is then shrunk (at most ``--shrink-runs`` runs) and
confirmed (``--confirm`` replays on each version), so a session may run past a time budget by that much; the
progress line and the summary say which part is which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import HarnessError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Budget:
    runs: int | None = None
    seconds: float | None = None

    def spent(self, runs: int, elapsed: float) -> bool:
        if self.runs is not None:
            return runs >= self.runs
        return self.seconds is not None and elapsed >= self.seconds

    def runs_left(self, runs: int) -> int | None:
        """How many more runs may start (None: bounded by time, not by count)."""
        return None if self.runs is None else max(0, self.runs - runs)

    def describe(self) -> str:
        if self.runs is not None:
            return f"{self.runs} runs"
        assert self.seconds is not None
        return f"{self.seconds:g} s"

    @property
    def text(self) -> str:
        """As the command line takes it back (for the header of a finding)."""
        if self.runs is not None:
            return str(self.runs)
        assert self.seconds is not None
        return f"{self.seconds:g}s"


def parse_budget(text: str) -> Budget:
    """``30`` (runs), ``90s``, ``10m``, ``1.5h``."""
    value = text.strip()
    if re.fullmatch(r"\d+", value):
        runs = int(value)
        if runs < 1:
            raise HarnessError("--budget must allow at least 1 run (e.g. --budget 30, or --budget 10m)")
        return Budget(runs=runs)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh])", value)
    if not match or float(match.group(1)) <= 0:
        raise HarnessError(f"--budget takes a number of runs (30) or a duration (90s, 10m, 1h), not {text!r}")
    return Budget(seconds=float(match.group(1)) * _UNITS[match.group(2)])
