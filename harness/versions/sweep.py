"""A sweep: every scenario on every release of a range, resumable, shardable, merged from result folders.

Pure, like :mod:`.matrix` (whose grid it reuses): it plans runs, says which a reports folder already holds, and
reads a line of verdicts out of result dicts. The command (:mod:`.sweep_command`) plays what is left.

Invariants:

* a run is named by ``scenario@version#repeat`` (:class:`~harness.engine.plan.RunPlan`'s key); a finished result
  folder (``result.json`` in place, no ``INCOMPLETE`` marker) with that name is never played again, so a sweep cut by
  Ctrl-C, a CI timeout or a crash continues where it stopped; ``INCOMPLETE`` folders are played again;
* a release's verdict is its *consensus*: the one outcome all its runs gave (``error`` runs are no verdict and are
  listed apart); runs that disagree make the release **flaky**, with its rate, and a flaky release is never one side
  of a flip;
* a flip is a pair of neighbouring releases with a consensus (errors and flaky releases between them are named) whose
  verdicts differ; it is **confirmed** only when each side was run at least ``confirm`` times and every run agreed;
* what a search did not run cannot be excluded: :func:`blind_spots` names each stretch of unrun releases between two
  run releases whose verdicts agree (a window that flips and flips back inside it is invisible), and the repeats
  behind each side bound how rare a flake it could miss (the rule of three: none in ``n`` runs puts the rate below
  about ``3/n`` at 95 %).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from harness.versions.bisect import bisect_versions
from harness.report.matrix import ERROR, Grid, grid, version_key

FLAKY = "flaky"


@dataclass(frozen=True)
class Consensus:
    """What the runs of one scenario on one release said."""

    scenario: str
    version: str
    counts: dict[str, int]  # outcome -> runs (``error`` included)
    expected: str | None
    runs: list[dict[str, Any]] = field(default_factory=list, compare=False, repr=False)

    @property
    def judged(self) -> Counter[str]:
        return Counter({o: n for o, n in self.counts.items() if o != ERROR})

    @property
    def outcome(self) -> str:
        """The one verdict its judged runs agree on; ``flaky`` when they disagree; ``error`` when none judged."""
        judged = self.judged
        if not judged:
            return ERROR
        return next(iter(judged)) if len(judged) == 1 else FLAKY

    @property
    def verdict_runs(self) -> int:
        return sum(self.judged.values())

    @property
    def flake_rate(self) -> float:
        judged = self.judged
        total = sum(judged.values())
        return 1 - max(judged.values()) / total if total else 0.0

    def text(self) -> str:
        return ", ".join(f"{o} {n}" for o, n in sorted(self.counts.items(), key=lambda kv: -kv[1]))


@dataclass(frozen=True)
class SweepFlip:
    scenario: str
    before: str
    after: str
    before_outcome: str
    after_outcome: str
    before_runs: int
    after_runs: int
    between: tuple[str, ...] = ()  # releases between the two with no consensus (error or flaky)
    confirmed: bool = False

    def text(self) -> str:
        gap = f" (between them, no verdict: {', '.join(self.between)})" if self.between else ""
        how = "confirmed" if self.confirmed else "not confirmed"
        return (f"{self.before_outcome} {self.before} ({self.before_runs} run{'s' if self.before_runs != 1 else ''})"
                f" -> {self.after_outcome} {self.after} ({self.after_runs} run{'s' if self.after_runs != 1 else ''})"
                f"{gap}, {how}")


def key_of(result: dict[str, Any]) -> str:
    """The run a result is, named as its plan is (``scenario@version#repeat``)."""
    return f"{result['scenario']}@{result['version']}#{int(result.get('repeat') or 1)}"


def finished(results: Iterable[dict[str, Any]], retry_errors: bool = False) -> dict[str, dict[str, Any]]:
    """The finished runs by key (the newest when a key was played twice); with ``retry_errors``, ``error`` runs do
    not count as finished (a harness failure is played again)."""
    out: dict[str, dict[str, Any]] = {}
    for r in sorted(results, key=lambda r: r.get("started_at") or 0):
        if retry_errors and r.get("outcome") == ERROR:
            continue
        out[key_of(r)] = r
    return out


def consensus(results: Iterable[dict[str, Any]]) -> dict[tuple[str, str], Consensus]:
    """Per (scenario, version), the counts of every run of it."""
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        runs.setdefault((r["scenario"], r["version"]), []).append(r)
    return {k: Consensus(k[0], k[1], dict(Counter(r["outcome"] for r in rs)), rs[-1].get("expected"), rs)
            for k, rs in runs.items()}


def line_grid(results: Sequence[dict[str, Any]], link: dict[str, str] | None = None) -> Grid:
    """The releases x scenarios grid of consensus outcomes (``flaky`` where runs disagree); ``link`` maps a
    (scenario, version) key ``"s@v"`` to the run page its cell opens."""
    agreed = consensus(results)
    rows = [{"scenario": c.scenario, "version": c.version, "outcome": c.outcome, "expected": c.expected}
            for c in agreed.values()]
    ids = [(link or {}).get(f"{c.scenario}@{c.version}") for c in agreed.values()]
    return grid(rows, ids)


def flips(results: Sequence[dict[str, Any]], confirm: int = 1) -> list[SweepFlip]:
    """Every flip along each scenario's line (see the module's invariants)."""
    agreed = consensus(results)
    out = []
    for scenario in dict.fromkeys(s for s, _ in agreed):
        line = sorted((c for (s, _), c in agreed.items() if s == scenario), key=lambda c: version_key(c.version))
        judged = [c for c in line if c.outcome not in (ERROR, FLAKY)]
        for a, b in zip(judged, judged[1:], strict=False):
            if a.outcome == b.outcome:
                continue
            between = tuple(c.version for c in line
                            if version_key(a.version) < version_key(c.version) < version_key(b.version))
            ok = a.verdict_runs >= confirm and b.verdict_runs >= confirm and confirm > 1
            out.append(SweepFlip(scenario, a.version, b.version, a.outcome, b.outcome, a.verdict_runs,
                                 b.verdict_runs, between, ok))
    return out


def blind_spots(run: Sequence[str], selected: Sequence[str], verdict: dict[str, str]) -> list[tuple[str, str, int]]:
    """Stretches a search did not look into: (last release run, next release run, releases never run between),
    for each pair of neighbouring run releases whose verdicts agree and between which ``selected`` has releases that
    were not run. A flip-and-back narrower than such a stretch cannot be excluded."""
    ran = sorted((v for v in run if v in verdict), key=version_key)
    order = {v: i for i, v in enumerate(sorted(selected, key=version_key))}
    out = []
    for a, b in zip(ran, ran[1:], strict=False):
        gap = order.get(b, 0) - order.get(a, 0) - 1
        if gap > 0 and verdict[a] == verdict[b]:
            out.append((a, b, gap))
    return out


def sample(versions: Sequence[str], every: int) -> list[str]:
    """Every ``every``-th release, the first and the last always included."""
    if every <= 1 or len(versions) <= 2:
        return list(versions)
    picked = list(versions[::every])
    if picked[-1] != versions[-1]:
        picked.append(versions[-1])
    return picked


def bisect_intervals(versions: Sequence[str], known: dict[str, str], verdict_of: Callable[[str], str]) -> None:
    """Every flip between the releases already run: each interval of ``versions`` between neighbouring releases of
    ``known`` (release -> verdict; ``error`` and ``flaky`` are no verdict) whose verdicts differ is bisected
    (:func:`harness.versions.bisect.bisect_versions`, which searches every sub-range whose ends differ), probing
    through ``verdict_of``. Intervals whose ends agree are not searched: :func:`blind_spots` names them."""
    position = {v: i for i, v in enumerate(versions)}
    ran = sorted((v for v, o in known.items() if o not in (ERROR, FLAKY) and v in position), key=position.__getitem__)
    for a, b in zip(ran, ran[1:], strict=False):
        if known[a] != known[b] and position[b] - position[a] > 1:
            bisect_versions(list(versions[position[a]:position[b] + 1]), verdict_of)


def errors(results: Iterable[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(scenario, version, why) for each ``error`` run: its sentence's first line."""
    def why(r: dict[str, Any]) -> str:
        return ((r.get("sentence") or r.get("error") or "no reason recorded").splitlines() or [""])[0][:300]

    return [(r["scenario"], r["version"], why(r)) for r in results if r.get("outcome") == ERROR]


def rule_of_three(runs: int) -> float:
    """With no disagreement in ``runs`` runs, the flake rate is below this at about 95 % confidence."""
    return min(1.0, 3 / runs) if runs else 1.0


# -- cost ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cost:
    """What sweep sessions cost (summed over the sessions and shards that wrote into the merged folders)."""

    runs: int  # runs played (not those reused from an earlier session)
    wall: float  # seconds, summed over sessions (shards on different machines add up: machine time)
    cpu: float  # user + system seconds of the harness and every browser it started
    sessions: int
    jobs: int

    @property
    def wall_per_run(self) -> float:
        return self.wall / self.runs if self.runs else 0.0

    @property
    def cpu_per_run(self) -> float:
        return self.cpu / self.runs if self.runs else 0.0

    def projection(self, total_runs: int, machines: int) -> float:
        """Wall seconds for ``total_runs`` spread over ``machines`` like this one (shards are independent)."""
        return self.wall_per_run * total_runs / max(1, machines)

    def text(self) -> str:
        return (f"{self.runs} runs played in {self.sessions} session{'s' if self.sessions != 1 else ''} "
                f"(--jobs {self.jobs}): wall {_clock(self.wall)}, CPU {_clock(self.cpu)}; per run "
                f"{self.wall_per_run:.1f} s wall, {self.cpu_per_run:.1f} s CPU")


def cost_of(sessions: Iterable[dict[str, Any]]) -> Cost:
    rows = list(sessions)
    return Cost(runs=sum(int(s.get("runs", 0)) for s in rows), wall=sum(float(s.get("wall", 0)) for s in rows),
                cpu=sum(float(s.get("cpu", 0)) for s in rows), sessions=len(rows),
                jobs=max((int(s.get("jobs", 1)) for s in rows), default=1))


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# -- the summary ----------------------------------------------------------------------------------------------------

def summary_lines(results: Sequence[dict[str, Any]], confirm: int = 1) -> list[str]:
    """Per scenario: its verdict bands along the line, every flip, the flaky releases, the errors and why."""
    g = line_grid(results)
    agreed = consensus(results)
    found = flips(results, confirm)
    out = []
    for s in g.scenarios:
        bands: list[tuple[str, str, str, int]] = []  # outcome, first, last, releases
        for v, cell in g.line(s):
            if cell.outcome == ERROR:
                continue
            if bands and bands[-1][0] == cell.outcome:
                bands[-1] = (cell.outcome, bands[-1][1], v, bands[-1][3] + 1)
            else:
                bands.append((cell.outcome, v, v, 1))
        text = " | ".join(f"{o} {a}" + (f"..{b}" if a != b else "") + f" ({n})" for o, a, b, n in bands)
        out.append(f"{s}: {text or 'no verdict'}")
        for f in (f for f in found if f.scenario == s):
            out.append(f"  flip: {f.text()}")
        for c in (c for (sc, _), c in agreed.items() if sc == s and c.outcome == FLAKY):
            out.append(f"  flaky: {c.version} ({c.text()}; rate {c.flake_rate:.0%}), never a flip")
        for _, v, why in (e for e in errors(results) if e[0] == s):
            out.append(f"  error on {v}: {why}")
    total_errors = sum(1 for r in results if r.get("outcome") == ERROR)
    out.append(f"{len(results)} runs, {len(g.versions)} releases, {len(g.scenarios)} scenarios: {len(found)} "
               f"flip{'s' if len(found) != 1 else ''}, {total_errors} error run{'s' if total_errors != 1 else ''}")
    return out
