"""Builds beside releases: where a local build's verdict differs from a published release's on the same scenario.

A view of results (``RunResult.to_dict()`` or saved ``result.json``): for each scenario played on both a build (a
result carrying ``build``) and a release, each differing pair is a :class:`BuildDifference` -- a **regression** when
the release kept the session (or signed out on a real revocation) and the build did not, a **fix** the other way
round, else a plain difference. The CLI summary and the HTML report say these first, with both runs' sentences.
A run that broke (``error``) is no verdict, so it is never half of a difference. With ``--repeat``, each side is its
most frequent verdict.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Mapping

import semantic_version

# The verdicts a correct SDK gives (keeps a valid session; drops a revoked one) and the ones a bug gives.
_CORRECT = frozenset({"survived", "signed-out"})
_WRONG = frozenset({"reproduced", "stuck"})

Kind = Literal["regression", "fix", "difference"]


@dataclass(frozen=True)
class BuildDifference:
    scenario: str
    kind: Kind
    release: str
    release_outcome: str
    release_sentence: str
    build: str  # its label, <version>+build.<hash>
    build_source: str
    build_outcome: str
    build_sentence: str

    @property
    def headline(self) -> str:
        what = {"regression": "REGRESSION", "fix": "FIX", "difference": "DIFFERENT VERDICT"}[self.kind]
        return (f"{what} in {self.scenario}: build {self.build} ({self.build_source}) {self.build_outcome}, "
                f"release {self.release} {self.release_outcome}")

    def lines(self) -> list[str]:
        return [self.headline, f"  release {self.release}: {self.release_sentence}",
                f"  build {self.build}: {self.build_sentence}"]


def differences(results: Iterable[Mapping[str, Any]]) -> list[BuildDifference]:
    """Every (scenario, release, build) whose verdicts differ, regressions first, newest release first."""
    by_pair: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in results:
        if r.get("outcome") != "error":
            by_pair.setdefault((str(r.get("scenario")), str(r.get("version"))), []).append(r)
    found: list[BuildDifference] = []
    for (scenario, version), runs in by_pair.items():
        if not runs[0].get("build"):
            continue
        build = _typical(runs)
        releases = [(v, rs) for (s, v), rs in by_pair.items() if s == scenario and not rs[0].get("build")]
        for release_version, release_runs in sorted(releases, key=lambda p: _order(p[0]), reverse=True):
            release = _typical(release_runs)
            if release["outcome"] == build["outcome"]:
                continue
            found.append(BuildDifference(
                scenario, _kind(release["outcome"], build["outcome"]), release_version, release["outcome"],
                str(release.get("sentence", "")), version, str(build["build"].get("source", "")), build["outcome"],
                str(build.get("sentence", ""))))
    rank = {"regression": 0, "fix": 1, "difference": 2}
    return sorted(found, key=lambda d: (rank[d.kind], d.scenario))


def summary_lines(results: Iterable[Mapping[str, Any]]) -> list[str]:
    """The lines the CLI prints first: each difference with both sentences (none when builds agree)."""
    return [line for d in differences(results) for line in d.lines()]


def _typical(runs: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The run showing the most frequent verdict among repeats (the first such run)."""
    top = Counter(str(r.get("outcome")) for r in runs).most_common(1)[0][0]
    return next(r for r in runs if r.get("outcome") == top)


def _kind(release: str, build: str) -> Kind:
    if release in _CORRECT and build in _WRONG:
        return "regression"
    if release in _WRONG and build in _CORRECT:
        return "fix"
    return "difference"


def _order(version: str) -> Any:
    try:
        return (0, semantic_version.Version(version))
    except ValueError:
        return (1, version)
