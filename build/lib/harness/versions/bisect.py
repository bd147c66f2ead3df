"""Where a scenario's verdict flips along the version line: a binary search over published releases.

Pure: it knows releases only as strings in version order and verdicts only through ``verdict_of(version) ->
outcome`` (the CLI passes one that runs the scenario in a browser; tests pass a dictionary). Its invariants:

* every release is run at most once; each run is reported through ``on_step`` as it happens, with the range still
  in question;
* the answer is a pair of *adjacent releases of the given list*: the last with one verdict and the first with the
  other. With two verdicts and one flip it costs the two ends plus ceil(log2(n - 1)) runs;
* ``error`` is no verdict: such a release is skipped the way ``git bisect skip`` does (the next probe is the
  untested release nearest the middle) and the answer lists it; when only skipped releases are left between two
  verdicts, the answer is that range and those releases, not a guess;
* a monotonic history (one flip) is assumed only where nothing contradicts it. A probe whose verdict is neither
  end's, or ends that agree while a release between them does not, means the verdict flips more than once: that is
  reported as ``non_monotonic`` and each sub-range whose ends differ is searched too, so every flip the probes
  reveal is named. Sub-ranges whose ends agree are assumed constant; the answer says the assumption was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

ERROR = "error"
VerdictOf = Callable[[str], str]


@dataclass(frozen=True)
class Probe:
    """One run, reported as it finishes: the release, its outcome, and what is left to search afterwards."""

    version: str
    outcome: str
    skipped: bool  # an error: no verdict, searched around
    lo: str  # the range still in question after this run (its ends have different verdicts)
    hi: str
    untested: int  # releases strictly between lo and hi not yet run
    note: str = ""  # e.g. why this run contradicts a single flip

    def remaining(self) -> str:
        if self.lo == self.hi:
            return "done"
        return f"{self.lo} .. {self.hi} ({self.untested} untested between)"


@dataclass(frozen=True)
class Flip:
    """Adjacent in the list when ``between`` is empty; else ``between`` are the releases that could not be tested."""

    before: str
    after: str
    before_outcome: str
    after_outcome: str
    between: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return not self.between


@dataclass
class BisectAnswer:
    flips: list[Flip]
    outcomes: dict[str, str]  # every release run, in the order run
    probes: list[Probe]
    non_monotonic: list[str] = field(default_factory=list)  # each contradiction, as a sentence
    ends_error: list[str] = field(default_factory=list)  # ends that gave no verdict (then nothing was searched)

    @property
    def skipped(self) -> list[str]:
        return [v for v, o in self.outcomes.items() if o == ERROR]

    @property
    def runs(self) -> int:
        return len(self.outcomes)


def bisect_versions(versions: Sequence[str], verdict_of: VerdictOf,
                    on_step: Callable[[Probe], None] = lambda probe: None) -> BisectAnswer:
    """Search ``versions`` (oldest first; its first and last are the ends) for where the verdict flips."""
    if len(versions) < 2:
        raise ValueError("bisect needs at least two releases")
    return _Search(list(versions), verdict_of, on_step).run()


class _Search:
    def __init__(self, versions: list[str], verdict_of: VerdictOf, on_step: Callable[[Probe], None]) -> None:
        self.versions = versions
        self.verdict_of = verdict_of
        self.on_step = on_step
        self.outcomes: dict[str, str] = {}
        self.probes: list[Probe] = []
        self.flips: list[Flip] = []
        self.notes: list[str] = []

    def run(self) -> BisectAnswer:
        lo, hi = 0, len(self.versions) - 1
        for end in (lo, hi):
            self._run(end)
            self._emit(end, lo, hi, "no verdict (error): cannot bisect from it" if self._at(end) == ERROR else "")
        bad_ends = [self.versions[i] for i in (lo, hi) if self._at(i) == ERROR]
        if not bad_ends:
            if self._at(lo) == self._at(hi):
                self._check_agreeing_ends(lo, hi)
            else:
                self._search(lo, hi)
        flips = sorted(self.flips, key=lambda f: self.versions.index(f.before))
        return BisectAnswer(flips, dict(self.outcomes), list(self.probes), list(self.notes), bad_ends)

    # A range whose ends agree is assumed constant, except at the top: there the user said the ends differ, so one
    # release in the middle is run to test that; a different verdict there means at least two flips.
    def _check_agreeing_ends(self, lo: int, hi: int) -> None:
        while (mid := self._pick(lo, hi)) is not None:
            got = self._run(mid)
            if got == ERROR:
                self._emit(mid, lo, hi, "no verdict (error): skipped")
                continue
            if got == self._at(lo):
                self._emit(mid, lo, hi, "same as both ends: no flip found")
                return
            note = (f"{self.versions[lo]} and {self.versions[hi]} both give {self._at(lo)} but {self.versions[mid]} "
                    f"gives {got}: the verdict flips at least twice")
            self.notes.append(note)
            self._emit(mid, lo, hi, "non-monotonic: " + note)
            self._search(lo, mid)
            self._search(mid, hi)
            return

    def _search(self, lo: int, hi: int) -> None:
        """``lo`` and ``hi`` have different verdicts; find every flip between them that the probes reveal."""
        while (mid := self._pick(lo, hi)) is not None:
            got = self._run(mid)
            if got == ERROR:
                self._emit(mid, lo, hi, "no verdict (error): skipped")
            elif got == self._at(lo):
                lo = mid
                self._emit(mid, lo, hi)
            elif got == self._at(hi):
                hi = mid
                self._emit(mid, lo, hi)
            else:  # a third verdict: both halves change, so both are searched
                note = (f"{self.versions[mid]} gives {got}, neither {self.versions[lo]}'s {self._at(lo)} nor "
                        f"{self.versions[hi]}'s {self._at(hi)}: the verdict changes more than once")
                self.notes.append(note)
                self._emit(mid, lo, mid, "non-monotonic: " + note)
                self._search(lo, mid)
                lo = mid
        between = tuple(self.versions[i] for i in range(lo + 1, hi))  # only skipped releases are left there
        self.flips.append(Flip(self.versions[lo], self.versions[hi], self._at(lo), self._at(hi), between))

    def _pick(self, lo: int, hi: int) -> int | None:
        """The untested release strictly inside (lo, hi) nearest its middle; None when none is left."""
        middle = (lo + hi) / 2
        candidates = [i for i in range(lo + 1, hi) if self.versions[i] not in self.outcomes]
        return min(candidates, key=lambda i: (abs(i - middle), i)) if candidates else None

    def _run(self, index: int) -> str:
        version = self.versions[index]
        if version not in self.outcomes:
            self.outcomes[version] = self.verdict_of(version)
        return self.outcomes[version]

    def _emit(self, index: int, lo: int, hi: int, note: str = "") -> None:
        version = self.versions[index]
        outcome = self.outcomes[version]
        untested = sum(1 for i in range(lo + 1, hi) if self.versions[i] not in self.outcomes)
        probe = Probe(version, outcome, outcome == ERROR, self.versions[lo], self.versions[hi], untested, note)
        self.probes.append(probe)
        self.on_step(probe)

    def _at(self, index: int) -> str:
        return self.outcomes[self.versions[index]]
