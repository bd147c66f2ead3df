"""Confirming a shrunk violation: replay it several times, on the fuzzed version and on the others, and count.

A violation seen once may be a flake of the browser or of the timing; a finding is only written when every replay
on the fuzzed version reproduced it (:attr:`Replays.confirmed`). Otherwise it is reported as flaky, with its rate.
A claim about another version is only made when all its replays agree on one outcome (:attr:`Replays.verdict`):
the file never claims what was not seen. ``error`` replays count against both: a harness failure is no verdict.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from harness.fuzz.candidate import Candidate
from harness.fuzz.player import Played, Player


@dataclass
class Replays:
    version: str
    played: list[Played] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(p.outcome for p in self.played)

    @property
    def runs(self) -> int:
        return len(self.played)

    @property
    def reproduced(self) -> int:
        return self.counts["reproduced"]

    @property
    def rate(self) -> float:
        return self.reproduced / self.runs if self.runs else 0.0

    @property
    def confirmed(self) -> bool:
        return self.runs > 0 and self.reproduced == self.runs

    @property
    def verdict(self) -> str | None:
        """The one outcome every replay gave, or None (they differed, or one was an error)."""
        outcomes = set(self.counts)
        return next(iter(outcomes)) if len(outcomes) == 1 and "error" not in outcomes else None

    def text(self) -> str:
        """``3/3 reproduced`` or ``2/3 reproduced, 1 survived``."""
        parts = [f"{n}/{self.runs} {outcome}" if i == 0 else f"{n} {outcome}"
                 for i, (outcome, n) in enumerate(self.counts.most_common())]
        return ", ".join(parts) or "not replayed"

    def to_dict(self) -> dict[str, object]:
        return {"version": self.version, "runs": self.runs, "counts": dict(self.counts), "rate": round(self.rate, 3),
                "folders": [p.folder for p in self.played]}


def replay(player: Player, candidate: Candidate, versions: Sequence[str], times: int) -> dict[str, Replays]:
    """``times`` replays of ``candidate`` on each version, all played at once."""
    played = player.play([(candidate, v) for v in versions], "confirm", repeat=times)
    return {v: Replays(v, [p for p in played if p.version == v]) for v in versions}
