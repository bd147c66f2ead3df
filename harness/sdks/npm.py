"""Published npm packages (the real SDK bundles), fetched once with ``npm pack`` and kept in a per-user cache.

An entry is ``<root>/<package without "@", "/" -> "__">/<version>/`` and holds the tarball npm packed, the unpacked
``package/package.json`` and ``package/dist/**``, and ``manifest.json`` (the registry's integrity string and the
sha256 of every unpacked file). It is built in a staging folder beside it and renamed into place, so an interrupted
run never leaves a half entry and concurrent runs never see one.

Several harness processes may fetch at once: a miss holds an exclusive ``fcntl`` lock on
``<root>/_locks/<package>@<version>.lock`` while it checks, fetches and renames, so a second process waits and then
finds the whole entry instead of fetching it again; a hit takes the same lock only while it verifies. A hit also
stamps the entry's modification time (its "last used"), which :meth:`NpmBundleCache.prune` reads.

A hit runs no npm at all, so a filled cache works offline. It is re-hashed on every hit (a few ms for a 10 MB
bundle): a harness that reproduces SDK bugs must not silently run a bundle someone edited while debugging. An entry
that fails the check is thrown away and fetched again; :attr:`NpmBundleCache.last_event` says so.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Literal

from harness.errors import BundleError

log = logging.getLogger(__name__)

CacheEvent = Literal["hit", "miss", "refetched-after-tamper"]

NPM_TIMEOUT_S = 120.0
MANIFEST = "manifest.json"
_MANIFEST_FORMAT = 1
# Exact versions only: a range or a dist-tag ("latest") would let the bundle under test change between runs.
_VERSION_RE = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?")
# A local build's cache label (:mod:`harness.sdks.builds`): its package.json version + the first 12 hex digits of the
# SHA-256 of what it plays, as semver build metadata -- so claims still match its version, and no two builds share one.
BUILD_LABEL_RE = re.compile(_VERSION_RE.pattern + r"\+build\.[0-9a-f]{12}")
# npm's naming rules, loosely; it also keeps option-like or path-like names off npm's command line and out of paths.
_PACKAGE_RE = re.compile(r"(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*", re.IGNORECASE)
_NETWORK_CODES = frozenset({
    "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED", "ECONNRESET", "ENETUNREACH", "ENETDOWN", "EHOSTUNREACH",
    "ERR_SOCKET_TIMEOUT", "ESOCKETTIMEDOUT", "EPROTO",
})
_SRI_ALGOS = ("sha512", "sha384", "sha256", "sha1")  # strongest first; sha1 only for very old packages
_STALE_S = 3600  # staging/trash folders older than this belong to runs that were killed


def default_cache_dir() -> Path:
    """$HARNESS_CACHE_DIR, else $XDG_CACHE_HOME/session-harness, else ~/.cache/session-harness."""
    if os.environ.get("HARNESS_CACHE_DIR"):
        return Path(os.environ["HARNESS_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore a relative value
        return Path(xdg) / "session-harness"
    return Path.home() / ".cache" / "session-harness"


@dataclass(frozen=True)
class Bundle:
    """One published package version, unpacked and verified."""

    package: str  # "@clerk/clerk-js"
    version: str  # "6.0.0"
    root: Path  # the unpacked package folder (package.json, and dist/ or else the top-level scripts)
    dist: Path  # the folder served at /sdk/<version>/: root / "dist", or root for a package that ships no dist/
    integrity: str  # the registry's SRI string, "sha512-..." (a build: the SRI of the tarball it was cached from)
    tarball: Path  # the cached .tgz
    build: dict[str, str] | None = None  # a local build's identity (harness.sdks.builds); None for a release


@dataclass(frozen=True)
class CacheEntry:
    package: str
    version: str
    path: Path
    size: int  # bytes on disk (tarball + unpacked files + manifest)
    last_used: float  # epoch seconds: fetched, or last served from the cache


class _Tampered(Exception):
    """A cache entry no longer matches what was fetched; the message says what differs."""


class NpmBundleCache:
    """Fetches ``<package>@<version>`` with npm once, then serves it from ``root`` without npm."""

    def __init__(self, root: Path | None = None, npm: str | None = None, timeout: float = NPM_TIMEOUT_S) -> None:
        self.root = Path(root) if root is not None else default_cache_dir() / "npm"
        self._npm = npm  # None: $HARNESS_NPM or "npm", looked up at call time so PATH changes are seen
        self.timeout = timeout
        self.last_event: CacheEvent | None = None  # what the last successful get() did

    def get(self, package: str, version: str) -> Bundle:
        """The verified bundle for ``package@version``, from the cache or else from the registry."""
        self.last_event = None
        _check_spec(package, version)
        entry = self._entry(package, version)
        with self._locked(entry):
            tampered = False
            if entry.exists():
                try:
                    bundle = _load_verified(entry, package, version)
                except _Tampered as problem:
                    log.warning("cached %s@%s failed its check (%s); fetching it again", package, version, problem)
                    _discard(entry)
                    tampered = True
                else:
                    self.last_event = "hit"
                    _touch(entry)
                    return bundle
            if BUILD_LABEL_RE.fullmatch(version):
                raise BundleError(f"{package} {version} is a local build that is not in the cache (any more); give "
                                  "its tarball, folder or URL again (--sdk-version ./build.tgz)")
            bundle = self._fetch(package, version, entry)
        self.last_event = "refetched-after-tamper" if tampered else "miss"
        return bundle

    def entries(self) -> list[CacheEntry]:
        """Every cached bundle (whole entries only), by package then version order."""
        out: list[CacheEntry] = []
        if not self.root.is_dir():
            return out
        folders = (p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        for package_dir in sorted(folders):
            for entry in package_dir.iterdir():
                if entry.name.startswith(".") or not (entry / MANIFEST).is_file():
                    continue
                try:
                    package = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))["package"]
                    size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
                    used = entry.stat().st_mtime
                except (OSError, ValueError, KeyError, TypeError):
                    continue  # being discarded by another process, or not ours
                out.append(CacheEntry(str(package), entry.name, entry, size, used))
        return sorted(out, key=lambda e: (e.package, _version_key(e.version)))

    def prune(self, older_than_s: float | None = None, keep: frozenset[str] = frozenset(),
              clock: Callable[[], float] = time.time) -> list[CacheEntry]:
        """Remove entries not in ``keep`` and (when ``older_than_s`` is given) not used for that long; the removed.
        Each removal holds the entry's lock and renames it away first, so no process sees half an entry."""
        removed = []
        for entry in self.entries():
            if entry.version in keep:
                continue
            if older_than_s is not None and clock() - entry.last_used < older_than_s:
                continue
            with self._locked(entry.path):
                _discard(entry.path)
            removed.append(entry)
        return removed

    def _unwritable(self, err: OSError) -> "BundleError":
        return BundleError(f"cannot write the bundle cache at {self.root} ({err.strerror or err}); "
                           "set HARNESS_CACHE_DIR to a writable folder")

    @contextlib.contextmanager
    def _locked(self, entry: Path) -> Iterator[None]:
        """An exclusive lock on one entry, shared by every process using this cache folder."""
        try:
            locks = self.root / "_locks"  # no npm name starts with "_", so this is never a package's folder
            locks.mkdir(parents=True, exist_ok=True)
            fd = os.open(locks / f"{entry.parent.name}@{entry.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise self._unwritable(e) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # another process fetching this version: wait for its whole entry
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def versions(self, package: str) -> list[str]:
        """Published versions of ``package``, in registry order (oldest first)."""
        if not _PACKAGE_RE.fullmatch(package):
            raise BundleError(f"{package!r} is not an npm package name (e.g. @clerk/clerk-js)")
        out = self._npm_json(["view", package, "versions"], package, None, f"list the versions of {package}")
        if isinstance(out, str):  # npm unwraps a one-element list
            out = [out]
        if not isinstance(out, list) or not all(isinstance(v, str) for v in out):
            raise BundleError(f"npm gave no version list for {package} (try: npm view {package} versions)")
        return out

    def view_versions_time(self, package: str) -> object:
        """npm's ``view <package> versions time --json``: ``{"versions": [...], "time": {version: ISO date}}``."""
        if not _PACKAGE_RE.fullmatch(package):
            raise BundleError(f"{package!r} is not an npm package name (e.g. @clerk/clerk-js)")
        return self._npm_json(["view", package, "versions", "time"], package, None,
                              f"list the releases of {package}")

    def dist_tags(self, package: str) -> dict[str, str]:
        """npm's dist-tags of ``package`` (``{"latest": "6.41.0", "next": ...}``), asked now."""
        if not _PACKAGE_RE.fullmatch(package):
            raise BundleError(f"{package!r} is not an npm package name (e.g. @clerk/clerk-js)")
        out = self._npm_json(["view", package, "dist-tags"], package, None, f"read the dist-tags of {package}")
        if not isinstance(out, dict):
            raise BundleError(f"npm gave no dist-tags for {package} (try: npm view {package} dist-tags --json)")
        return {str(k): str(v) for k, v in out.items()}

    def adopt_build(self, package: str, label: str, staging: Path) -> tuple[Bundle, bool]:
        """Move a checked build (``staging``: its tarball, ``package/`` and ``manifest.json``) into the cache as
        ``label``; (the entry, True) -- or, when an intact entry of that label is there already, (it, False) and
        ``staging`` is left for the caller to delete. Same lock and atomic rename as a fetch."""
        entry = self._entry(package, label)
        with self._locked(entry):
            if entry.exists():
                try:
                    bundle = _load_verified(entry, package, label)
                except _Tampered as problem:
                    log.warning("cached build %s@%s failed its check (%s); replacing it", package, label, problem)
                    _discard(entry)
                else:
                    _touch(entry)
                    return _with_source(entry, bundle, staging), False
            try:
                os.rename(staging, entry)
            except OSError as e:
                raise self._unwritable(e) from None
            try:
                return _load_verified(entry, package, label), True
            except _Tampered as problem:
                _discard(entry)
                raise BundleError(f"the build cached as {label} failed its own check ({problem}); retry") from None

    def staging_dir(self, package: str) -> Path:
        """A fresh staging folder beside ``package``'s entries (same file system: the rename is atomic)."""
        folder = self.root / package.lstrip("@").replace("/", "__")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _sweep_stale(folder)
            return Path(tempfile.mkdtemp(prefix=".staging-build-", dir=folder))
        except OSError as e:
            raise self._unwritable(e) from None

    def _entry(self, package: str, version: str) -> Path:
        return self.root / package.lstrip("@").replace("/", "__") / version

    # -- miss ----------------------------------------------------------------------------------------------------

    def _fetch(self, package: str, version: str, entry: Path) -> Bundle:
        spec = f"{package}@{version}"
        integrity = self._published_integrity(package, version)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            _sweep_stale(entry.parent)
            staging = Path(tempfile.mkdtemp(prefix=f".staging-{version}-", dir=entry.parent))
        except OSError as e:
            raise self._unwritable(e) from None
        try:
            self._npm_json(["pack", spec, "--pack-destination", str(staging)], package, version, f"fetch {spec}")
            packed = list(staging.glob("*.tgz"))
            if len(packed) != 1:
                raise BundleError(f"npm pack {spec} left no tarball; run it by hand to see why")
            tarball = packed[0]
            if not _sri_ok(tarball, integrity):
                raise BundleError(
                    f"the tarball npm gave for {spec} does not match the registry's integrity {integrity[:24]}...; "
                    "check your npm registry/proxy config (npm config get registry)"
                )
            files = unpack(tarball, staging / "package", spec)
            manifest = {
                "format": _MANIFEST_FORMAT, "package": package, "version": version,
                "integrity": integrity, "tarball": tarball.name, "files": files,
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
            try:
                os.rename(staging, entry)  # atomic: readers see no entry or a whole one
            except OSError:
                if not entry.exists():
                    raise
                # Another run finished the same entry first; theirs was checked the same way, so use it.
                try:
                    return _load_verified(entry, package, version)
                except _Tampered:
                    raise BundleError(
                        f"the cached {spec} at {entry} changed while it was written; delete that folder and retry"
                    ) from None
        except OSError as e:
            raise self._unwritable(e) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful rename
        return _bundle(entry, package, version, integrity, tarball.name)

    def _published_integrity(self, package: str, version: str) -> str:
        spec = f"{package}@{version}"
        # The whole `dist` object, not just dist.integrity: very old packages only have a sha1 `shasum`.
        dist = self._npm_json(["view", spec, "dist"], package, version, f"fetch {spec}")
        if dist is None:  # npm prints nothing for a version that does not exist (older npm)
            raise BundleError(_no_version(package, version))
        if not isinstance(dist, dict):
            raise BundleError(f"npm gave no single dist entry for {spec} (try: npm view {spec} dist --json)")
        if isinstance(dist.get("integrity"), str) and dist["integrity"].strip():
            return dist["integrity"].strip()
        if isinstance(dist.get("shasum"), str) and re.fullmatch(r"[0-9a-fA-F]{40}", dist["shasum"]):
            return "sha1-" + base64.b64encode(bytes.fromhex(dist["shasum"])).decode()
        raise BundleError(f"the registry gives no integrity for {spec}, so it cannot be verified")

    # -- npm -----------------------------------------------------------------------------------------------------

    def _find_npm(self) -> str:
        name = self._npm or os.environ.get("HARNESS_NPM") or "npm"
        found = shutil.which(name)
        if not found:
            where = "" if name == "npm" else f" at {name}"
            raise BundleError(
                f"npm not found{where}: install Node.js and npm (e.g. apt-get install -y npm) "
                "or set HARNESS_NPM to its path"
            )
        return found

    def _npm_json(self, args: list[str], package: str, version: str | None, what: str) -> object:
        """Run ``npm <args> --json``; its parsed output (None if empty) or a one-line BundleError."""
        npm = self._find_npm()
        cmd = [npm, *args, "--json", "--loglevel=error", "--no-fund", "--no-audit", "--no-update-notifier"]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, encoding="utf-8", errors="replace",
                stdin=subprocess.DEVNULL, timeout=self.timeout,  # no prompt may ever wait for a user
            )
        except subprocess.TimeoutExpired:
            raise BundleError(
                f"npm did not answer within {self.timeout:g} s to {what}; "
                f"check the network or npm config, or pre-fill the cache ({self.root})"
            ) from None
        except OSError as e:
            raise BundleError(
                f"cannot run npm at {npm} ({e.strerror or e}): reinstall Node.js and npm "
                "or set HARNESS_NPM to a working npm"
            ) from None
        if proc.returncode != 0:
            code, summary = _npm_error(proc.stdout, proc.stderr)
            raise BundleError(self._failure(code, summary, package, version, what, args))
        if not proc.stdout.strip():
            return None
        try:
            return json.loads(proc.stdout)
        except ValueError:
            raise BundleError(f"npm printed no JSON when asked to {what} (try: npm {' '.join(args)} --json)") from None

    def _failure(self, code: str, summary: str, package: str, version: str | None, what: str, args: list[str]) -> str:
        if version is not None and (code == "ETARGET" or (code == "E404" and "no match found" in summary.lower())):
            return _no_version(package, version)
        if code == "E404":
            return f"{package} is not in the npm registry (E404); check the name, or run npm login if it is private"
        if code in _NETWORK_CODES:
            return (
                f"npm could not reach its registry to {what} ({code}); "
                f"check the network or npm config, or pre-fill the cache ({self.root})"
            )
        detail = f"{code}: {summary}" if summary else code
        if len(detail) > 160:
            detail = detail[:157] + "..."
        return f"npm failed to {what} ({detail}); run it by hand to see why: npm {' '.join(args)}"


# -- helpers ---------------------------------------------------------------------------------------------------


def _check_spec(package: str, version: str) -> None:
    if not _PACKAGE_RE.fullmatch(package):
        raise BundleError(f"{package!r} is not an npm package name (e.g. @clerk/clerk-js)")
    if not _VERSION_RE.fullmatch(version) and not BUILD_LABEL_RE.fullmatch(version):
        raise BundleError(
            f"{version!r} is not an exact version of {package}: give X.Y.Z (or X.Y.Z-pre), not a range or tag "
            f"(list them with: npm view {package} versions)"
        )


def _no_version(package: str, version: str) -> str:
    return f"no published version {version} of {package} (list them with: npm view {package} versions)"


def _npm_error(stdout: str, stderr: str) -> tuple[str, str]:
    """npm's error code and one-line summary, from its --json error object or else its log lines."""
    for text in (stdout, stderr):
        start = text.find("{")
        if start < 0:
            continue
        try:
            err = json.JSONDecoder().raw_decode(text, start)[0].get("error")
        except (ValueError, AttributeError):
            continue
        if isinstance(err, dict) and err.get("code"):
            return str(err["code"]), " ".join(str(err.get("summary", "")).split())
    match = re.search(r"npm (?:error|ERR!) code (\S+)", stderr)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    return (match.group(1) if match else "unknown error"), (" ".join(lines[-1].split()) if lines else "")


def _sri_ok(path: Path, integrity: str) -> bool:
    """Whether the file matches the SRI string (any digest of its strongest algorithm, as npm does)."""
    digests: dict[str, set[str]] = {}
    for token in integrity.split():
        algo, _, value = token.partition("-")
        digests.setdefault(algo.lower(), set()).add(value.split("?")[0])
    strongest = next((a for a in _SRI_ALGOS if a in digests), None)
    if strongest is None:
        return False
    return base64.b64encode(file_digest(path, strongest)).decode() in digests[strongest]


def file_digest(path: Path, algo: str) -> bytes:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()


def unpack(tarball: Path, dest: Path, spec: str) -> dict[str, str]:
    """Write package.json and dist/** into ``dest`` -- or, for a package that ships no dist/, its top-level scripts
    (``*.js``: firebase publishes its browser builds at the package root); relative path -> sha256 hex.

    File contents are copied out by hand rather than with ``extractall``: no link, device, owner or mode from the
    archive ever reaches the disk, which is stricter than tarfile's ``filter="data"``.
    """
    files: dict[str, str] = {}
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            members = tar.getmembers()
            has_dist = any("/".join(_parts(m.name)[1:]).startswith("dist/") for m in members)
            for member in members:
                parts = _parts(member.name)
                if member.name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                    raise BundleError(f"the tarball for {spec} holds an unsafe path {member.name!r}; not unpacking it")
                rel = "/".join(parts[1:])  # npm strips the top folder ("package/" in all but ancient tarballs)
                top_script = not has_dist and "/" not in rel and rel.endswith(".js")
                if not member.isfile() or not (rel == "package.json" or rel.startswith("dist/") or top_script):
                    continue
                src = tar.extractfile(member)
                if src is None:
                    continue
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                h = hashlib.sha256()
                with src, open(target, "wb") as out:
                    for chunk in iter(functools.partial(src.read, 1 << 20), b""):
                        h.update(chunk)
                        out.write(chunk)
                files[rel] = h.hexdigest()
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise BundleError(f"the tarball for {spec} is not a readable .tgz ({e}); retry, or clear npm's cache") from None
    if "package.json" not in files:
        raise BundleError(f"the tarball for {spec} has no package.json; it is not an npm package")
    return dict(sorted(files.items()))


def _parts(name: str) -> list[str]:
    """An archive member's path, split, without empty or ``.`` parts."""
    return [p for p in re.split(r"[\\/]", name) if p not in ("", ".")]


def _load_verified(entry: Path, package: str, version: str) -> Bundle:
    """The entry as a Bundle if it is exactly what was fetched, else :class:`_Tampered`."""
    try:
        manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
        if (manifest["format"], manifest["package"], manifest["version"]) != (_MANIFEST_FORMAT, package, version):
            raise _Tampered("manifest is for another package, version or format")
        integrity, tarball_name, files = manifest["integrity"], manifest["tarball"], manifest["files"]
        if not (isinstance(integrity, str) and isinstance(tarball_name, str) and isinstance(files, dict)):
            raise _Tampered("manifest has wrong field types")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise _Tampered(f"manifest unreadable: {type(e).__name__}") from None
    tarball = entry / tarball_name
    if Path(tarball_name).name != tarball_name or not tarball.is_file():
        raise _Tampered("tarball missing")
    if not _sri_ok(tarball, integrity):
        raise _Tampered("tarball modified")
    pkg = entry / "package"
    on_disk = {p.relative_to(pkg).as_posix() for p in pkg.rglob("*") if not p.is_dir()}
    if on_disk != set(files):
        odd = sorted(on_disk ^ set(files))
        raise _Tampered(f"files added or missing: {', '.join(odd[:3])}")
    for rel, sha256 in files.items():
        if file_digest(pkg / rel, "sha256").hex() != sha256:
            raise _Tampered(f"{rel} modified")
    build = manifest.get("build")
    return _bundle(entry, package, version, integrity, tarball_name, build if isinstance(build, dict) else None)


def _bundle(entry: Path, package: str, version: str, integrity: str, tarball_name: str,
            build: dict[str, str] | None = None) -> Bundle:
    root = entry / "package"
    # The folder the page loads the bundle from: dist/, or the package root for a package that ships no dist/.
    dist = root / "dist" if (root / "dist").is_dir() or not root.is_dir() else root
    return Bundle(package, version, root, dist, integrity, entry / tarball_name, build)


def _with_source(entry: Path, bundle: Bundle, staging: Path) -> Bundle:
    """A reused build's entry, its identity naming where it came from this time (the same bytes may come from a
    folder and from its tarball). Only ``build`` in the manifest changes, by an atomic replace; nothing verified."""
    try:
        build = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))["build"]
        manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("build") != build:
            manifest["build"] = build
            fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=entry)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(manifest, f, indent=1, sort_keys=True)
            os.replace(tmp, entry / MANIFEST)
    except (OSError, ValueError, KeyError, TypeError):
        return bundle  # a read-only cache keeps the first source; the bytes are the same
    return dataclasses.replace(bundle, build=build)


def _discard(entry: Path) -> None:
    """Remove an entry; renamed away first so no reader sees it half-deleted."""
    trash = entry.with_name(f".trash-{entry.name}-{os.getpid()}-{time.monotonic_ns()}")
    try:
        os.rename(entry, trash)
    except FileNotFoundError:  # another run discarded it first
        return
    except OSError:
        trash = entry
    shutil.rmtree(trash, ignore_errors=True)


def _touch(entry: Path) -> None:
    """Stamp the entry as used now (its folder's mtime); a read-only cache just keeps its old stamp."""
    try:
        os.utime(entry)
    except OSError:
        pass


def _version_key(version: str) -> tuple:
    match = _VERSION_RE.fullmatch(version)
    if not match:
        return (1, version)
    return (0, int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4) is None,
            match.group(4) or "")


def _sweep_stale(package_dir: Path) -> None:
    """Delete staging/trash folders left by runs that were killed mid-fetch."""
    cutoff = time.time() - _STALE_S
    for p in package_dir.iterdir():
        if p.name.startswith((".staging-", ".trash-")):
            try:
                if p.stat().st_mtime < cutoff:
                    shutil.rmtree(p, ignore_errors=True)
            except OSError:
                pass
