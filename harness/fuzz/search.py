"""The search: Hypothesis generates and shrinks timelines; the engine plays them, a batch at a time.

One Hypothesis example is a *batch* of ``jobs`` distinct timelines (:func:`harness.fuzz.strategies.batches`), played
at once by one :meth:`Player.play` call, so exploration uses every engine worker while Hypothesis stays the
sequential, seeded search it is. The example fails -- for Hypothesis -- when a timeline in it violates the invariant
(outcome ``reproduced``; an ``error`` run never does). Hypothesis then shrinks it, and shrinking is cheap on the
batch-mates: every outcome is memoised by the timeline's canonical key, a batch that holds a timeline already known
to violate fails without a run, and otherwise only the timeline at the culprit's place in the (fixed-size) batch is
played. Hypothesis can simplify the batch-mates for free; only the culprit's variants cost runs, one at a time
(shrinking is sequential by nature).

Memoising also makes the function Hypothesis sees deterministic: its final replay of the shrunk example reads the
memo, so Hypothesis's own ``Flaky`` does not arise from a browser run that flaked. Flakiness is measured honestly
afterwards (:mod:`harness.fuzz.confirm` replays the result several times). Should Hypothesis still raise ``Flaky``,
the candidate is kept and marked flaky by the search, never a crash.

Stopping: the exploration budget and the per-violation shrink cap are enforced by raising :class:`_Stop`, a
``BaseException`` (like ``KeyboardInterrupt``), which Hypothesis lets through without shrinking. The finding is
then the smallest violating timeline played (:func:`harness.fuzz.candidate.size_key`), whichever way the search
ended -- Hypothesis's own answer is never needed, so cutting it short loses nothing that was played.

Hypothesis opens every search with a few fixed examples, whatever the seed (two, in 6.170); the search skips them
(:func:`fixed_start` finds how many by generating under two seeds, without a run), so the seed decides every
timeline that is played -- the founding interleaving is never a given of the first batch.

After each shrink, ``on_violation`` (the command: confirm, write) is called, and exploration goes on with a new
Hypothesis search (seed derived from ``--seed`` and its number) until the budget is spent. A later violation that
does everything an earlier finding does (:func:`harness.fuzz.candidate.explained_by`) is counted as explained by it,
not shrunk again.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Flaky, HypothesisException

from harness.fuzz.budget import Budget
from harness.fuzz.candidate import Candidate, explained_by, size_key
from harness.fuzz.player import Played, Player, Stopped
from harness.fuzz.strategies import batches

MAX_EXAMPLES = 100_000  # never the limit: the budget and the shrink cap stop a search


class _Stop(BaseException):
    """The budget or the shrink cap is spent: leave Hypothesis now (it lets BaseExceptions through unshrunk)."""


class _Violation(Exception):
    """A batch held a violating timeline: the failure Hypothesis shrinks."""


class _Broken(BaseException):
    """The harness itself failed inside an example (bad input found mid-way, a bug): stop, do not shrink it."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class Shrunk:
    """A violation found while exploring, and the smallest violating timeline its shrink played."""

    number: int
    origin: Played
    best: Candidate
    search: int
    index: int = 0  # the culprit's place in its batch: the only place the shrink plays
    shrink_runs: int = 0
    shrink_seconds: float = 0.0
    ended: str = "done"  # done | cap (the shrink cap was spent) | flaky (Hypothesis saw a replay differ)
    tried: int = 0  # shrink candidates Hypothesis proposed (played or read from the memo)


@dataclass
class SearchConfig:
    version: str
    seed: int
    batch: int
    budget: Budget
    shrink_runs: int = 20
    max_findings: int = 3


@dataclass
class Stats:
    runs: dict[str, int] = field(default_factory=lambda: {"explore": 0, "shrink": 0, "confirm": 0})
    errors: int = 0
    violations: int = 0  # exploration runs that violated
    explained: int = 0  # ...of which a finding already accounts for
    unshrunk: int = 0  # ...not shrunk: another violation of its batch was, or --max-findings were reached
    searches: int = 0
    started: float = field(default_factory=time.monotonic)
    explore_seconds: float = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


Listener = Callable[[str, "Search"], None]  # (what happened, the search) -> progress output
OnViolation = Callable[[Shrunk], None]


def derived_seed(seed: int, search: int) -> int:
    """Search ``search`` (0-based) of a session run with ``--seed seed``: a stable, spread-out integer."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{search}".encode()).digest()[:8], "big")


_FIXED_START: dict[int, int] = {}


def fixed_start(batch: int, probe: int = 8) -> int:
    """How many examples Hypothesis opens a search with that do not depend on the seed (generated under two seeds
    and compared; no run is played). Cached per batch size."""
    if batch not in _FIXED_START:
        first = [_first_examples(batch, derived_seed(n, 0), probe) for n in (1, 2)]
        same = 0
        while same < probe and first[0][same] == first[1][same]:
            same += 1
        _FIXED_START[batch] = same
    return _FIXED_START[batch]


class _Enough(BaseException):
    pass


def _first_examples(batch: int, seed: int, count: int) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []

    @hypothesis_seed(seed)
    @settings(database=None, deadline=None, max_examples=MAX_EXAMPLES, phases=[Phase.generate],
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
    @given(batches(batch))
    def collect(candidates: list[Candidate]) -> None:
        out.append(tuple(c.key for c in candidates))
        if len(out) >= count:
            raise _Enough

    try:
        collect()
    except _Enough:
        pass
    return out


class Search:
    def __init__(self, player: Player, config: SearchConfig, *, on_violation: OnViolation | None = None,
                 listener: Listener | None = None) -> None:
        self.player = player
        self.config = config
        self.on_violation = on_violation
        self.listener = listener
        self.memo: dict[str, Played] = {}
        self.explored: list[Played] = []  # every exploration run, in order
        self.shrunk: list[Shrunk] = []
        self.stats = Stats()
        self.shrinking: Shrunk | None = None
        self._explore_started = 0.0
        self._examples = 0  # examples of the current Hypothesis search while exploring
        self._batch_others: list[Played] = []  # violations of the culprit's batch that were not shrunk

    # -- the session ------------------------------------------------------------------------------------------

    def run(self) -> list[Shrunk]:
        """Explore until the budget is spent, shrinking each new violation on the way."""
        while not self._budget_spent():
            before = (self.stats.runs["explore"], len(self.shrunk))
            self._one_search(self.stats.searches)
            self.stats.searches += 1
            if (self.stats.runs["explore"], len(self.shrunk)) == before:
                break  # a search that played nothing new: Hypothesis gave up (nothing left near this seed)
        return self.shrunk

    def _budget_spent(self) -> bool:
        return self.config.budget.spent(self.stats.runs["explore"], self.stats.explore_seconds)

    def _one_search(self, number: int) -> None:
        self._explore_started = time.monotonic()
        self._examples = 0
        probe = self._hypothesis_test(derived_seed(self.config.seed, number))
        try:
            probe()
        except _Stop:
            pass
        except _Broken as broken:
            raise broken.error from None
        except _Violation:
            pass  # shrunk as far as Hypothesis goes
        except (Flaky, HypothesisException) as err:  # Flaky: a replay differed; the candidate is kept, as flaky
            if self.shrinking is not None:
                self.shrinking.ended = "flaky" if isinstance(err, Flaky) else "cap"
        finally:
            self._tick_explore()
        if self.shrinking is not None:
            self._finish_shrink()

    def _hypothesis_test(self, seed: int) -> Callable[[], None]:
        @hypothesis_seed(seed)
        @settings(database=None, deadline=None, max_examples=MAX_EXAMPLES, derandomize=False,
                  phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False, print_blob=False,
                  verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
        @given(batches(self.config.batch))
        def probe(batch: list[Candidate]) -> None:
            try:
                violated = self._example(batch)
            except _Stop:
                raise
            except Exception as err:  # a harness failure is not a failing example: Hypothesis must not shrink it
                raise _Broken(err) from err
            if violated:  # raised from this one line: Hypothesis tells failures apart by where they were raised
                raise _Violation

        return probe

    # -- one example ------------------------------------------------------------------------------------------

    def _example(self, batch: list[Candidate]) -> bool:
        """Play what is new in ``batch``; whether it holds a violation (the example fails)."""
        return self._explore(batch) if self.shrinking is None else self._shrink_step(batch)

    def _explore(self, batch: list[Candidate]) -> bool:
        self._examples += 1
        if self._examples <= fixed_start(self.config.batch):
            return False  # the same whatever the seed: let the seed decide every timeline played
        self._tick_explore()
        if self._budget_spent():
            raise _Stop
        new = self._unknown(batch)
        left = self.config.budget.runs_left(self.stats.runs["explore"])
        played = self._play(new[:left] if left is not None else new, "explore")
        self._tick_explore()
        new_violations = []
        for run in played:
            if not run.violates:
                continue
            self.stats.violations += 1
            if any(explained_by(run.candidate, s.best) for s in self.shrunk):
                self.stats.explained += 1
            elif len(self.shrunk) >= self.config.max_findings:
                self.stats.unshrunk += 1
            else:
                new_violations.append(run)
        # The smallest new violation of the batch is the one to shrink; the others are counted as violations.
        culprit = min(new_violations, key=lambda r: size_key(r.candidate)) if new_violations else None
        self._batch_others = [r for r in new_violations if r is not culprit]
        self._notify("explored")
        if culprit is not None:
            index = next(i for i, c in enumerate(batch) if c.key == culprit.candidate.key)
            self.shrinking = Shrunk(number=len(self.shrunk) + 1, origin=culprit, best=culprit.candidate,
                                    search=self.stats.searches + 1, index=index)
            self._notify("violation")
        return culprit is not None

    def _shrink_step(self, batch: list[Candidate]) -> bool:
        """While shrinking, the example fails when any timeline in it is already known to violate, or when the
        timeline at the culprit's place does (played if new). Batches have a fixed size; the place follows the
        culprit when the shrinker moves it, and the batch-mates are never played: the shrink costs one run per
        variant of the culprit."""
        shrink = self.shrinking
        assert shrink is not None
        shrink.tried += 1
        known = [i for i, c in enumerate(batch) if c.key in self.memo and self._counts(self.memo[c.key])]
        if known:  # fails without a run; the shrinker may have moved the culprit (it reorders lists): follow it
            shrink.index = min(known, key=lambda i: size_key(batch[i]))
            return True
        target = batch[shrink.index]
        if target.key in self.memo:
            return False
        if shrink.shrink_runs >= self.config.shrink_runs:
            shrink.ended = "cap"
            raise _Stop
        began = time.monotonic()
        [played] = self._play([target], "shrink")
        shrink.shrink_runs += 1
        shrink.shrink_seconds += time.monotonic() - began
        violated = self._counts(played)
        if violated:
            shrink.best = min(shrink.best, target, key=size_key)
        self._notify("shrunk")
        return violated

    # -- helpers ----------------------------------------------------------------------------------------------

    def _counts(self, played: Played) -> bool:
        """A violation the current shrink may move to: not one an earlier finding explains."""
        return played.violates and not any(explained_by(played.candidate, s.best) for s in self.shrunk)

    def _unknown(self, batch: Sequence[Candidate]) -> list[Candidate]:
        seen: set[str] = set()
        out = []
        for candidate in batch:
            if candidate.key not in self.memo and candidate.key not in seen:
                seen.add(candidate.key)
                out.append(candidate)
        return out

    def _play(self, candidates: list[Candidate], phase: str) -> list[Played]:
        if not candidates:
            return []
        try:
            played = self.player.play([(c, self.config.version) for c in candidates], phase)
        except Stopped as stop:  # interrupted: the runs that finished still count, then the session stops
            self._record(stop.played, phase)
            raise
        self._record(played, phase)
        return played

    def _record(self, played: list[Played], phase: str) -> None:
        for run in played:
            self.memo.setdefault(run.candidate.key, run)
            self.stats.runs[phase] += 1
            self.stats.errors += run.outcome == "error"
        if phase == "explore":
            self.explored += played

    def _tick_explore(self) -> None:
        if self.shrinking is None and self._explore_started:
            now = time.monotonic()
            self.stats.explore_seconds += now - self._explore_started
            self._explore_started = now

    def _finish_shrink(self) -> None:
        shrink = self.shrinking
        assert shrink is not None
        self.shrinking = None
        self.shrunk.append(shrink)
        for run in self._batch_others:  # the batch's other violations: explained by this finding, or not shrunk
            if explained_by(run.candidate, shrink.best):
                self.stats.explained += 1
            else:
                self.stats.unshrunk += 1
        self._batch_others = []
        self._notify("shrink-done")
        if self.on_violation is not None:
            self.on_violation(shrink)
        self._explore_started = time.monotonic()  # confirming is not exploring

    def _notify(self, what: str) -> None:
        if self.listener is not None:
            self.listener(what, self)
