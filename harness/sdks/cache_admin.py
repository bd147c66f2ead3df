"""``harness bundle --list | --prune | --published``: what the bundle cache holds, trimming it, and what the
registry has. Printing only; the cache itself (entries, locks, removal) is :class:`harness.sdks.npm.NpmBundleCache`.

The list of published releases comes from the caller (:func:`harness.versions.commands.releases`, passed in by
harness/cli.py): this module sits in the adapter layer, below ``versions/``, and imports nothing above it.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.sdks.npm import NpmBundleCache

DAY_S = 86400.0


class _Release(Protocol):
    @property
    def version(self) -> str: ...

    @property
    def date(self) -> str: ...


class Releases(Protocol):
    """What ``--published`` prints: the shape of :class:`harness.versions.published.Releases`."""

    @property
    def package(self) -> str: ...

    @property
    def items(self) -> Sequence[_Release]: ...

    def stable(self) -> Sequence[_Release]: ...


def add_bundle_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--list", action="store_true", help="list cached bundles: version, size, last used, total")
    parser.add_argument("--prune", action="store_true", help="remove cached bundles: those not used for "
                        "--older-than DAYS, and/or all but --keep V")
    parser.add_argument("--older-than", type=float, metavar="DAYS", help="with --prune: only bundles not used "
                        "for this many days")
    parser.add_argument("--keep", action="append", default=[], metavar="V", help="with --prune: never remove "
                        "these versions (repeatable, or comma-separated)")
    parser.add_argument("--published", action="store_true", help="list the SDK's published releases and dates")
    parser.add_argument("--pre", action="store_true", help="with --published: include prereleases")


def bundle_admin(args: argparse.Namespace, releases: Callable[[str], Releases]) -> bool:
    """Handle --list/--prune/--published (``releases``: a package's published releases); False when none was asked
    (then versions are fetched)."""
    keep = frozenset(v.strip() for item in args.keep for v in item.split(",") if v.strip())
    if (args.older_than is not None or keep) and not args.prune:
        raise HarnessError("--older-than and --keep go with --prune (e.g. harness bundle --prune --older-than 30)")
    asked = args.list or args.prune or args.published
    if asked and args.versions:
        raise HarnessError("give versions to fetch, or --list/--prune/--published, not both")
    if not asked:
        if not args.versions:
            raise HarnessError("give versions to fetch (harness bundle 6.0.0 6.1.0), or --list, --prune or "
                               "--published")
        return False
    if args.older_than is not None and args.older_than < 0:
        raise HarnessError(f"--older-than {args.older_than:g}: give a number of days >= 0")
    from harness.sdks.npm import NpmBundleCache as Cache

    cache = Cache()
    if args.published:
        _published(args.pre, releases(args.package))
    if args.prune:
        _prune(cache, args.older_than, keep)
    if args.list:
        _list(cache)
    return True


def _list(cache: NpmBundleCache) -> None:
    entries = cache.entries()
    width = max((len(e.version) for e in entries), default=7)
    for e in entries:
        print(f"{e.package}  {e.version:<{width}}  {human(e.size):>8}  last used {_day(e.last_used)}  {e.path}")
    total = sum(e.size for e in entries)
    print(f"{len(entries)} bundle{'' if len(entries) == 1 else 's'}, {human(total)} in {cache.root}")


def _prune(cache: NpmBundleCache, older_than: float | None, keep: frozenset[str]) -> None:
    if older_than is None and not keep:
        raise HarnessError("--prune needs --older-than DAYS and/or --keep V (what to keep); nothing was removed")
    removed = cache.prune(None if older_than is None else older_than * DAY_S, keep)
    for e in removed:
        print(f"removed {e.package} {e.version} ({human(e.size)})")
    print(f"pruned {len(removed)} bundle{'' if len(removed) == 1 else 's'}, {human(sum(e.size for e in removed))}")


def _published(pre: bool, found: Releases) -> None:
    items = found.items if pre else found.stable()
    for r in items:
        print(f"{r.version:<24} {r.date}")
    print(f"{len(items)} {'releases' if pre else 'stable releases'} of {found.package}")


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _day(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))
