"""Repeat figures: for each scenario x version played several times (``--repeat N``), how often each verdict came.

A view of results, like every report. The flake rate of a pair is the share of its runs whose outcome is not the
pair's most common one (0 when every repetition agreed); runs that ended in ``error`` count as an outcome of their
own, since a harness that breaks now and then is flaky too. ``stalled`` counts the runs in which the harness fell
behind the scenario's pace between steps (``harness.stalled``): a flip among them is read with that in mind.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from harness.timeline import stalls_of



@dataclass(frozen=True)
class RepeatRow:
    scenario: str
    version: str
    expected: str | None
    counts: dict[str, int]
    stalled: int = 0  # runs in which the harness stalled between steps (``harness.stalled``)

    @property
    def runs(self) -> int:
        return sum(self.counts.values())

    @property
    def flake_rate(self) -> float:
        return 1 - max(self.counts.values()) / self.runs if self.runs else 0.0

    @property
    def counts_text(self) -> str:
        return ", ".join(f"{outcome} {n}" for outcome, n in sorted(self.counts.items(), key=lambda kv: -kv[1]))

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "version": self.version, "expected": self.expected, "runs": self.runs,
                "counts": self.counts, "flake_rate": round(self.flake_rate, 4), "stalled": self.stalled}


def repeat_rows(results: Iterable[Any]) -> list[RepeatRow]:
    """One row per scenario x version, in the order the pairs first appear."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    expected: dict[tuple[str, str], str | None] = {}
    stalled: Counter[tuple[str, str]] = Counter()
    for result in results:
        get: Callable[[str], Any] = result.get if isinstance(result, dict) else functools.partial(getattr, result)
        key = (get("scenario"), get("version"))
        counts.setdefault(key, Counter())[get("outcome")] += 1
        expected.setdefault(key, get("expected"))
        stalled[key] += bool(stalls_of(get("events") or []))
    return [RepeatRow(s, v, expected[(s, v)], dict(c), stalled[(s, v)]) for (s, v), c in counts.items()]
