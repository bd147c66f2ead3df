"""Claims from evidence: a scenario's ``verdicts:`` rewritten from a sweep's results.

:func:`bands` turns one scenario's verdict line (release -> consensus, :mod:`.sweep`) into the smallest set of
ranges that covers it: one per run of consecutive releases with the same verdict, each bounded by the first and last
release that gave it, so a release between two bands that gave no verdict (``error``, ``flaky``, never run) is
claimed by neither. Each band carries the releases and runs behind it and the selected releases inside it that were
never run (a sampled sweep claims them on its neighbours' word, and says so). The newest band is open-ended (``>=A``)
only when its last release is the newest the sweep selected and the newest published: a claim new releases are
then checked against. Claims of the old file about releases outside the swept span are kept, cut to that outside.

:func:`rewrite` replaces the file's ``verdicts:`` block with the new one, recording the sweep's date and harness
version in it; everything else in the file is left byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import semantic_version

from harness.report.matrix import ERROR, version_key
from harness.versions.sweep import FLAKY, Consensus

SHOW_UNRUN = 8


@dataclass(frozen=True)
class Band:
    outcome: str
    first: str
    last: str
    releases: int  # releases with this verdict
    runs: int  # runs behind them
    unrun: tuple[str, ...]  # selected releases inside the band never run, or without a verdict
    open_ended: bool = False

    @property
    def spec(self) -> str:
        if self.open_ended:
            return f">={self.first}"
        return f">={self.first} <={self.last}" if self.first != self.last else self.first

    def comment(self) -> str:
        text = (f"{self.releases} release{'s' if self.releases != 1 else ''}, "
                f"{self.runs} run{'s' if self.runs != 1 else ''}")
        if self.unrun:
            shown = ", ".join(self.unrun[:SHOW_UNRUN]) + (f" and {len(self.unrun) - SHOW_UNRUN} more"
                                                          if len(self.unrun) > SHOW_UNRUN else "")
            text += f"; not run or no verdict: {shown}"
        return text


def bands(line: Sequence[Consensus], selected: Sequence[str], newest_published: str | None = None) -> list[Band]:
    """The bands of one scenario's line (any order); ``selected``: every release the sweep chose."""
    order = sorted(selected, key=version_key)
    judged = sorted((c for c in line if c.outcome not in (ERROR, FLAKY)), key=lambda c: version_key(c.version))
    groups: list[list[Consensus]] = []
    for c in judged:
        if groups and groups[-1][0].outcome == c.outcome:
            groups[-1].append(c)
        else:
            groups.append([c])
    have = {c.version for c in judged}
    out = []
    for i, group in enumerate(groups):
        lo, hi = version_key(group[0].version), version_key(group[-1].version)
        unrun = tuple(v for v in order if lo < version_key(v) < hi and v not in have)
        open_ended = (i == len(groups) - 1 and bool(order) and group[-1].version == order[-1]
                      and newest_published == order[-1])
        out.append(Band(group[0].outcome, group[0].version, group[-1].version, len(group),
                        sum(c.verdict_runs for c in group), unrun, open_ended))
    return out


def kept_outside(old: Mapping[str, str], first: str, last: str, published: Sequence[str]) -> dict[str, str]:
    """The old claims cut to the releases before ``first`` and after ``last`` (those some published release is in);
    a claim no swept release is in is kept as it is, so rewriting from the same sweep twice changes nothing."""
    out: dict[str, str] = {}
    lo, hi = semantic_version.Version(first), semantic_version.Version(last)
    inside = [semantic_version.Version(v) for v in published if lo <= semantic_version.Version(v) <= hi]
    for text, outcome in old.items():
        if not any(v in semantic_version.NpmSpec(text) for v in inside):
            out[text] = outcome  # about releases outside the sweep only (a claim kept before): as it is
            continue
        for side in (f"<{first}", f">{last}"):
            cut = " || ".join(f"{alt.strip()} {side}" if alt.strip() not in ("*", "") else side
                              for alt in text.split("||"))
            spec = semantic_version.NpmSpec(cut)
            if any(semantic_version.Version(v) in spec for v in published):
                out[cut] = outcome
    return out


def unclaimed(line: Sequence[Consensus], selected: Sequence[str], new: Sequence[Band]) -> list[str]:
    """The selected releases between the first band and the last that no band claims, each with why (flaky with its
    counts, error, or never run)."""
    if not new:
        return []
    lo, hi = version_key(new[0].first), version_key(new[-1].last)
    specs = [semantic_version.NpmSpec(b.spec) for b in new]
    agreed = {c.version: c for c in line}
    out = []
    for v in sorted(selected, key=version_key):
        if lo < version_key(v) < hi and not any(semantic_version.Version(v) in spec for spec in specs):
            c = agreed.get(v)
            out.append(f"{v} ({'not run' if c is None else c.outcome + ': ' + c.text()})")
    return out


def verdicts_block(new: list[Band], kept: dict[str, str], record: str, gaps: Sequence[str] = ()) -> str:
    lines = ["verdicts:", f"  # {record}"]
    if gaps:
        lines.append(f"  # no claim (between bands, no verdict): {', '.join(gaps)}")
    width = max([len(b.spec) for b in new] + [len(k) for k in kept] + [0]) + 2
    for b in new:
        lines.append(f"  {f'{chr(34)}{b.spec}{chr(34)}:':<{width + 1}} {b.outcome:<10}  # {b.comment()}")
    for spec, outcome in kept.items():
        lines.append(f"  {f'{chr(34)}{spec}{chr(34)}:':<{width + 1}} {outcome:<10}  # kept from the file: outside "
                     "the sweep")
    return "\n".join(lines) + "\n"


_BLOCK = re.compile(r"^verdicts:[^\n]*\n(?:(?:[ \t]+[^\n]*|[ \t]*)\n)*", re.MULTILINE)


def rewrite(text: str, block: str) -> str:
    """``text`` with its ``verdicts:`` mapping (the key and its indented lines) replaced by ``block``."""
    match = _BLOCK.search(text if text.endswith("\n") else text + "\n")
    if match is None:
        return text.rstrip("\n") + "\n" + block
    source = text if text.endswith("\n") else text + "\n"
    tail = source[match.end():]
    return source[:match.start()] + block + tail
