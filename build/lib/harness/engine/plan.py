"""Run plans: which scenario on which version, which repetition -- and which shard of a split suite plays it.

A plan is pure data; the engine plays it. Its ``key`` (``scenario@version#repeat``) names it everywhere: in
progress lines, in shard assignment, in repeat figures.

Sharding (``--shard I/N``) puts each plan in exactly one of N shards by a hash of its key (SHA-256, not Python's
salted ``hash``), so the split is the same on every machine and does not move when other plans are added or
removed -- the scheme pytest-shard uses for node ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Sequence

from harness.scenario.model import Scenario


@dataclass(frozen=True)
class RunPlan:
    scenario: Scenario
    version: str
    repeat: int = 1  # 1-based

    @property
    def key(self) -> str:
        return f"{self.scenario.id}@{self.version}#{self.repeat}"

    @property
    def label(self) -> str:
        again = f" (repeat {self.repeat})" if self.repeat > 1 else ""
        return f"{self.scenario.id} on {self.version}{again}"


def expand(scenarios: Sequence[Scenario], versions: Sequence[str], repeat: int = 1) -> list[RunPlan]:
    """Every scenario on every version, ``repeat`` times, in that order (scenario-major, as results are listed)."""
    return [RunPlan(s, v, r) for s in scenarios for v in versions for r in range(1, repeat + 1)]


def shard_of(key: str, count: int) -> int:
    """The 1-based shard ``key`` belongs to among ``count``."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_shard(plans: Iterable[RunPlan], index: int, count: int) -> list[RunPlan]:
    return [p for p in plans if shard_of(p.key, count) == index]
