"""A finding: a confirmed, shrunk violation, written as a scenario file ``harness run`` replays.

The file is in the library's format (id, title, setup, steps, verdicts) with a comment header that says how it was
found (the command, seed, budget, version, date), how far it was shrunk, and what each version did on replay. Its
``verdicts`` claim only what was seen: the fuzzed version reproduced on every replay, and each other version only
where all its replays agreed. The text is parsed by the scenario model before it is written, and written atomically
(a reader never sees half a file); it goes to ``--out`` (the reports folder's ``fuzz/`` by default), never into the
library.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from harness.fuzz.candidate import Candidate, describe, dump_yaml, size_key
from harness.fuzz.confirm import Replays
from harness.fuzz.search import Shrunk
from harness.report.artifacts import write_atomic
from harness.scenario.model import parse_scenario


@dataclass
class Finding:
    shrunk: Shrunk
    candidate: Candidate  # what was confirmed and written: the shrunk timeline, or the explored one if that flaked
    replays: dict[str, Replays]  # by version: the fuzzed one first
    version: str
    status: str  # confirmed | flaky
    path: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.path.stem if self.path else f"candidate-{self.shrunk.number}"

    def verdicts(self) -> dict[str, str]:
        """The claims the replays support: exact versions, each only if all its replays agreed."""
        out = {}
        for version, replays in self.replays.items():
            if replays.verdict is not None:
                out[version] = replays.verdict
        return out

    def replay_command(self) -> str:
        if self.path is None:
            return ""
        versions = " ".join(f"--sdk-version {v}" for v in self.replays)
        return f"harness run {shlex.quote(_shown(self.path))} {versions}"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Provenance:
    """How the session that found it was started, for the header."""

    command: str
    seed: int
    budget: str
    sdk_package: str
    browser_mode: str | None
    webdriver: str | None = None  # --webdriver, when given: the file must replay under the same setting


def header(finding: Finding, prov: Provenance) -> list[str]:
    shrunk, best = finding.shrunk, finding.candidate
    origin = shrunk.origin.candidate
    fuzzed = finding.replays[finding.version]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    ended = {"done": "the shrink ran to its end", "cap": "the shrink stopped at its cap (--shrink-runs)",
             "flaky": "Hypothesis saw a replay differ during the shrink"}[shrunk.ended]
    waits = f"{size_key(origin)[1]:g} s -> {size_key(best)[1]:g} s of waiting"
    mode = next((p.result.browser.get("mode") for p in fuzzed.played if p.result is not None), None)
    lines = [f"Found by `{prov.command}` on {prov.sdk_package} {finding.version} at {when}",
             f"(seed {prov.seed}, budget {prov.budget}; search {shrunk.search}; browser mode "
             f"{mode or prov.browser_mode or 'real'}).",
             f"Shrunk from {len(origin.steps)} steps to {len(best.steps)} ({waits}) in {shrunk.shrink_runs} shrink "
             f"runs; {ended}.",
             f"Replayed {fuzzed.text()} on {finding.version}: {_sentence(fuzzed)}"]
    for version, replays in finding.replays.items():
        if version != finding.version:
            claim = "" if replays.verdict else " (no claim: the replays disagreed or broke)"
            lines.append(f"On {version}: {replays.text()}{claim}.")
    lines += finding.notes
    reached = sorted(set().union(*(p.reached for p in fuzzed.played)) if fuzzed.played else set())
    if reached:
        lines.append(f"Interleavings its runs reached: {', '.join(reached)}.")
    if origin.motifs:
        lines.append(f"Generated from: {', '.join(origin.motifs)}.")
    return lines


def _sentence(replays: Replays) -> str:
    sentence = next((p.sentence for p in replays.played if p.outcome == "reproduced"), "")
    return sentence.rstrip(".") + "." if sentence else "(no sentence)"


def render(finding: Finding, prov: Provenance, file_id: str, shown: str | None = None) -> str:
    """The file's text: the header as comments, then the scenario; validated by the scenario model."""
    best = finding.candidate
    # What the session ran under is what the file replays under.
    ran_under = {k: v for k, v in (("browser_mode", prov.browser_mode), ("webdriver", prov.webdriver)) if v}
    written = Candidate(best.steps, {**best.setup, **ran_under}, best.motifs)
    data = written.data(file_id, f"Fuzz finding: {describe(best)}", finding.verdicts())
    lines = header(finding, prov)
    target = shlex.quote(shown or f"{file_id}.yaml")
    replay = f"harness run {target} " + " ".join(f"--sdk-version {v}" for v in finding.replays)
    comments = "".join(f"# {line}\n" for line in _wrap(lines + [f"Replay: {replay}"]))
    text = comments + dump_yaml(data)
    parse_scenario(text, Path(f"{file_id}.yaml"))  # a file `harness run` could not load is never written
    return text


def _wrap(lines: Sequence[str], width: int = 116) -> list[str]:
    import textwrap

    out: list[str] = []
    for line in lines:
        out += textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""]
    return out


def write(finding: Finding, prov: Provenance, out_dir: Path) -> Path:
    """Write the finding as ``<out>/<id>.yaml`` (a new name if taken) and return the path."""
    base = f"fuzz-{finding.version}-s{prov.seed}-{finding.shrunk.number}".lower()
    path, n = out_dir / f"{base}.yaml", 1
    while path.exists():
        n += 1
        path = out_dir / f"{base}-{n}.yaml"
    write_atomic(path, render(finding, prov, path.stem, _shown(path)))
    finding.path = path
    return path
