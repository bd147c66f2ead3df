"""The published releases of an npm package: every version and its publish date, from ``npm view <pkg> versions
time --json``.

The answer is cached beside the bundle cache (``<cache>/registry/<package>.json``) and reused for
:data:`TTL_S` seconds, so a matrix or a bisect asks the registry once. When npm cannot answer, an older cached list
is used whatever its age (the harness then works offline from the cache) and :attr:`Releases.stale` says since when.
Without a cached list the npm failure is the one-line :class:`BundleError` the bundle cache raises.

Releases are kept in semantic-version order, oldest first: a registry's order and its publish dates do not always
agree (a 5.x patch can be published after 6.0.0), and ranges, samples and bisect all mean the version line.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import semantic_version

from harness.errors import BundleError

TTL_S = 3600.0  # the registry gains a release a day or so; an hour-old list is good enough for a matrix
_FORMAT = 1


@dataclass(frozen=True)
class Release:
    version: str
    published: str | None  # ISO 8601 publish time from the registry, None when it gives none

    @property
    def semver(self) -> semantic_version.Version:
        return semantic_version.Version(self.version)

    @property
    def prerelease(self) -> bool:
        return bool(self.semver.prerelease)

    @property
    def date(self) -> str:
        """The publish day (YYYY-MM-DD), or "date unknown"."""
        return self.published[:10] if self.published else "date unknown"


@dataclass(frozen=True)
class Releases:
    package: str
    items: tuple[Release, ...]  # semantic-version order, oldest first
    fetched_at: float  # when the registry gave this list (epoch seconds)
    stale: bool = False  # True: npm could not answer and this older cached list is used instead

    def get(self, version: str) -> Release | None:
        return next((r for r in self.items if r.version == version), None)

    def stable(self) -> tuple[Release, ...]:
        return tuple(r for r in self.items if not r.prerelease)


class RegistryView(Protocol):
    """What the registry is asked: npm's ``view <package> versions time --json`` (the bundle cache does it)."""

    def view_versions_time(self, package: str) -> object: ...


def published_releases(package: str, registry: RegistryView, cache_dir: Path, ttl: float = TTL_S,
                       clock: Callable[[], float] = time.time) -> Releases:
    """The releases of ``package``: from the cache if younger than ``ttl``, else from the registry (and cached)."""
    path = cache_dir / "registry" / (package.lstrip("@").replace("/", "__") + ".json")
    cached = _read(path, package)
    if cached is not None and clock() - cached.fetched_at < ttl:
        return cached
    try:
        answer = registry.view_versions_time(package)
    except BundleError:
        if cached is None:
            raise
        return Releases(package, cached.items, cached.fetched_at, stale=True)
    releases = Releases(package, _parse(answer, package), clock())
    _write(path, releases)
    return releases


def _parse(answer: object, package: str) -> tuple[Release, ...]:
    if not isinstance(answer, dict):
        raise BundleError(f"npm gave no version list for {package} (try: npm view {package} versions time --json)")
    versions = answer.get("versions")
    if isinstance(versions, str):  # npm unwraps a one-element list
        versions = [versions]
    stamps = answer.get("time")
    times = stamps if isinstance(stamps, dict) else {}
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        raise BundleError(f"npm gave no version list for {package} (try: npm view {package} versions time --json)")
    out = []
    for v in versions:
        try:
            semantic_version.Version(v)
        except ValueError:
            continue  # not semver: npm itself would refuse to install it by range
        stamp = times.get(v)
        out.append(Release(v, stamp if isinstance(stamp, str) else None))
    return tuple(sorted(out, key=lambda r: r.semver))


def _read(path: Path, package: str) -> Releases | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT or data.get("package") != package:
            return None
        items = tuple(Release(v, t) for v, t in data["releases"])
        return Releases(package, items, float(data["fetched_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no list, or one this harness cannot read: ask the registry


def _write(path: Path, releases: Releases) -> None:
    """Atomically (a temporary file renamed into place); a cache that cannot be written is only slower."""
    data = {"format": _FORMAT, "package": releases.package, "fetched_at": releases.fetched_at,
            "releases": [[r.version, r.published] for r in releases.items]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".releases-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError:
        pass
