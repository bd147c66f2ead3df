"""One fuzz session: the search, then for each violation it shrinks, the confirmation and the finding file.

:class:`FuzzSession` ties the parts together and holds everything the outputs show (:mod:`harness.fuzz.output`,
:mod:`harness.fuzz.report`). A violation is confirmed on the fuzzed version; if the shrunk timeline does not
reproduce on every replay, the timeline as explored is tried the same way, and the first that does is written. A
candidate that never reproduces on every replay is reported as flaky with its rate, and no file is written for it.
Each finding is written as soon as it is confirmed, so an interrupted session keeps every finding so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from harness.fuzz.confirm import replay
from harness.fuzz.finding import Finding, Provenance, write
from harness.fuzz.player import Player
from harness.fuzz.search import Listener, Search, SearchConfig, Shrunk


@dataclass
class SessionConfig:
    search: SearchConfig
    provenance: Provenance
    out_dir: Path
    others: Sequence[str]  # versions a finding is also replayed on before its claims are written
    confirm: int = 3


@dataclass
class FuzzSession:
    player: Player
    config: SessionConfig
    listener: Listener | None = None
    on_finding: Callable[[Finding], None] | None = None
    findings: list[Finding] = field(default_factory=list)  # confirmed ones (written) and flaky ones (not written)
    search: Search | None = None

    def run(self) -> None:
        self.search = Search(self.player, self.config.search, on_violation=self._confirm, listener=self.listener)
        self.search.run()

    @property
    def written(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "confirmed"]

    @property
    def flaky(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "flaky"]

    def _confirm(self, shrunk: Shrunk) -> None:
        """Replay the shrunk timeline on every version at once (the explored one too, if the shrunk one flakes);
        write the first that reproduced on every replay of the fuzzed version."""
        version = self.config.search.version
        versions = [version, *[v for v in self.config.others if v != version]]
        tries = [shrunk.best] + ([shrunk.origin.candidate] if shrunk.origin.candidate.key != shrunk.best.key else [])
        finding = None
        for candidate in tries:
            replays = replay(self.player, candidate, versions, self.config.confirm)
            assert self.search is not None
            self.search.stats.runs["confirm"] += sum(r.runs for r in replays.values())
            finding = Finding(shrunk, candidate, replays, version,
                              "confirmed" if replays[version].confirmed else "flaky")
            if finding.status == "confirmed":
                break
        assert finding is not None
        if finding.status == "confirmed":
            if finding.candidate.key != shrunk.best.key:
                finding.notes.append(f"The shrunk timeline ({len(shrunk.best.steps)} steps) did not reproduce on "
                                     "every replay; this is the timeline as explored.")
            write(finding, self.config.provenance, self.config.out_dir)
        self.findings.append(finding)
        if self.on_finding is not None:
            self.on_finding(finding)
