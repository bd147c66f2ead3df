"""``--versions`` text -> the releases to run, oldest first.

    ">=5.120.0 <6.5.0"      an npm range (spaces AND, ``||`` OR, ``6.x``, ``^6.1.0``, ``*``)
    "5.128.0, 6.0.0 6.1.0"  a list: parts separated by commas, and inside a part exact versions separated by spaces
    ">=6.0.0, 5.128.0"      parts mix freely; the selection is their union
    "every:10 >=5.0.0"      every 10th release of the selection, the first and the last always included
    "from:package-lock.json"  the version a project's lockfile resolves (:mod:`harness.versions.lockfiles`)

A range selects stable releases only unless ``pre`` is set (then prereleases count as ordinary versions, like npm's
``--include-prerelease``); an exact version is taken as written, prerelease or not. Input that selects nothing, a
malformed range, or an unpublished exact version is a one-line :class:`HarnessError` that says what to type.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import semantic_version

from harness.errors import HarnessError
from harness.versions.lockfiles import version_from
from harness.versions.published import Release, Releases

_EXACT = re.compile(r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?")
_EVERY = re.compile(r"every:(\S*)")
FROM = "from:"


def select(text: str, releases: Releases, pre: bool = False) -> list[Release]:
    """The releases ``text`` names, in version order (see the module docstring for the forms)."""
    if not text or not text.strip():
        raise HarnessError("no versions given: pass a range such as '>=6.0.0 <6.5.0', '6.x', '*', a list "
                           "'5.128.0 6.1.0', or from:package-lock.json")
    every = _every(text)
    body = _EVERY.sub(" ", text).strip()
    chosen: dict[str, Release] = {}
    for part in (p.strip() for p in body.split(",")) if body else ["*"]:
        if not part:
            continue
        for release in _part(part, releases, pre):
            chosen[release.version] = release
    ordered = sorted(chosen.values(), key=lambda r: r.semver)
    return sample(ordered, every) if every else ordered


def sample(items: list[Release], every: int) -> list[Release]:
    """Every ``every``-th item, the first and the last always included."""
    if len(items) <= 2:
        return list(items)
    picked = items[::every]
    if picked[-1] is not items[-1]:
        picked.append(items[-1])
    return picked


def resolve_exact(spec: str, package: str, load_releases: Callable[[], Releases]) -> str:
    """One ``--sdk-version`` value: an exact version as given, or ``from:PATH`` resolved (run, repro, pytest).
    ``load_releases`` is called only when a package.json range must be matched against the published releases."""
    if spec.startswith(FROM):
        return version_from(Path(spec[len(FROM):]), package, load_releases)
    return spec


def _every(text: str) -> int | None:
    found = _EVERY.findall(text)
    if not found:
        return None
    if len(found) > 1 or not found[0].isdigit() or int(found[0]) < 1:
        raise HarnessError(f"every:{found[-1]} is not a sample step: give one every:K with K a whole number >= 1 "
                           "(every:10 runs every 10th release, ends included)")
    return int(found[0])


def _part(part: str, releases: Releases, pre: bool) -> list[Release]:
    if part.startswith(FROM):
        version = version_from(Path(part[len(FROM):]), releases.package, lambda: releases)
        return [_published(version, releases)]
    tokens = part.split()
    if all(_EXACT.fullmatch(t) for t in tokens):
        return [_published(t.lstrip("v"), releases) for t in tokens]
    return _in_range(part, releases, pre)


def _published(version: str, releases: Releases) -> Release:
    release = releases.get(version)
    if release is None:
        newest = releases.stable()[-1].version if releases.stable() else "none"
        raise HarnessError(f"no published version {version} of {releases.package} (newest stable: {newest}; list "
                           f"them with: harness bundle --published)")
    return release


def _in_range(text: str, releases: Releases, pre: bool) -> list[Release]:
    spec = parse_range(text, pre)
    pool = releases.items if pre else releases.stable()
    hits = [r for r in pool if r.semver in spec]
    if not hits:
        kind = "release" if pre else "stable release"
        span = f"{pool[0].version} .. {pool[-1].version}" if pool else "none"
        raise HarnessError(f"no {kind} of {releases.package} matches {text!r} (published: {span})"
                           + ("" if pre else "; add --pre to include prereleases"))
    return hits


def parse_range(text: str, pre: bool = False) -> semantic_version.NpmSpec:
    """An npm range, or a one-line HarnessError. With ``pre``, prereleases match like ordinary versions."""
    try:
        spec = semantic_version.NpmSpec(text)
    except ValueError as err:
        raise HarnessError(f"{text!r} is not an npm version range ({err}); e.g. '>=5.120.0 <6.5.0', '6.x', '*' "
                           "or a list '5.128.0 6.1.0'") from None
    if pre:
        _include_prereleases(spec.clause)
    return spec


def _include_prereleases(clause: object) -> None:
    """npm's includePrerelease: semantic_version's NpmSpec hides prereleases of other patches ("same-patch")."""
    for child in getattr(clause, "clauses", ()):
        _include_prereleases(child)
    if isinstance(clause, semantic_version.base.Range):
        clause.prerelease_policy = semantic_version.base.Range.PRERELEASE_NATURAL
