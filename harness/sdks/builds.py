"""SDK builds: what the harness accepts wherever a version goes, and how a local build enters the bundle cache.

    6.1.0                   a published release (fetched with ``npm pack``, as always)
    latest, next, canary    an npm dist-tag, resolved to its release when the command starts, and said
    ./clerk-js-6.1.0.tgz    an npm tarball (``npm pack``'s output)
    ./packages/clerk-js     an unpacked package folder: package.json and the adapter's dist file
    https://host/x.tgz      a tarball URL, fetched once per command, at most :data:`MAX_DOWNLOAD_BYTES`
    6.1.0+build.<12 hex>    a build already in the cache (what results and replay commands name)
    from:PATH               what a project's lockfile or package.json resolves (a release, a file:/link: path, a URL)

:meth:`BuildSpec.parse` says which (pure, no I/O beyond "is this a file or a folder"); :func:`resolve` turns one into
the **label** every plan, result and report carries: a release's version, or for a build
``<package.json version>+build.<first 12 hex of its SHA-256>``. That digest is of what the build plays: every file the
harness keeps from it (package.json and dist/**), path and SHA-256 each, in path order -- the same for a tarball and
the folder it was packed from. Semver ignores build metadata, so a build's claims are its version's; ``--claims-as``
overrides that (:func:`claims_version`).

Invariants: a build is checked whole in a staging folder (safe paths, a package.json naming the adapter's package, the
adapter's dist file) before it is moved into the cache, so a bad one is one :class:`BundleError` line and leaves
nothing behind; an entry's label is its content, so a rebuilt folder is a new entry and an unchanged one is reused --
never served stale.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from harness.errors import BundleError, HarnessError
from harness.sdks.npm import BUILD_LABEL_RE, MANIFEST, Bundle, NpmBundleCache, file_digest, unpack

BuildKind = Literal["release", "tag", "tarball", "folder", "url", "cached", "lockfile"]
LOCAL_KINDS: tuple[BuildKind, ...] = ("tarball", "folder", "url", "cached")
FROM = "from:"
DIST_TAGS = ("latest", "next", "canary", "snapshot", "beta", "alpha", "rc")  # the common ones; any npm tag works
MAX_DOWNLOAD_BYTES = 256 * 2**20  # an SDK tarball is a few MiB; $HARNESS_BUILD_MAX_BYTES overrides
DOWNLOAD_TIMEOUT_S = 60.0
_RELEASE = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?")
_TAG = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")  # npm refuses tags that parse as a range; so does this
_MANIFEST_FORMAT = 1

Say = Callable[[str], None]

FromLockfile = Callable[[Path], str]  # a project's lockfile -> the spec it names for the package (harness.versions)


@dataclass(frozen=True)
class BuildSpec:
    """One parsed ``--sdk-version`` value: which kind of SDK build it names, and the text as given."""

    kind: BuildKind
    text: str

    @classmethod
    def parse(cls, text: str) -> "BuildSpec":
        value = text.strip()
        if not value:
            raise HarnessError("an empty SDK version: give X.Y.Z, a dist-tag (latest), a .tgz, a package folder, "
                               "a tarball URL or from:PATH")
        if value.startswith(FROM):
            return cls("lockfile", value)
        if _RELEASE.fullmatch(value):
            return cls("release", value)
        if BUILD_LABEL_RE.fullmatch(value):
            return cls("cached", value)
        if re.match(r"https?://", value, re.IGNORECASE):
            return cls("url", value)
        if re.match(r"[a-z][a-z0-9+.-]*://", value, re.IGNORECASE):
            raise HarnessError(f"{value!r}: only http(s) URLs of a tarball are fetched; download it and give the file")
        path = Path(value).expanduser()
        if path.is_dir():
            return cls("folder", value)
        if path.is_file():
            return cls("tarball", value)
        if "/" in value or value.startswith(".") or value.endswith((".tgz", ".tar.gz")):
            raise HarnessError(f"{value}: no such file or folder; give an npm tarball (npm pack) or a package folder")
        if _TAG.fullmatch(value) and not _is_range(value):
            return cls("tag", value)
        raise HarnessError(f"{value!r} is not an SDK version: give X.Y.Z, a dist-tag ({', '.join(DIST_TAGS[:4])}), "
                           "an npm tarball, a package folder, a tarball URL or from:PATH (not a range)")

    @property
    def is_build(self) -> bool:
        return self.kind in LOCAL_KINDS


def _is_range(text: str) -> bool:
    """npm refuses a dist-tag that parses as a version range ("x", "v6", "6.x"); so does this."""
    import semantic_version

    try:
        semantic_version.NpmSpec(text)
    except ValueError:
        return False
    return True


def parse_all(values: list[str]) -> list[BuildSpec]:
    """Every value parsed, so a bad one is refused before anything is fetched."""
    return [BuildSpec.parse(v) for v in values]


def is_build_label(version: str) -> bool:
    return bool(BUILD_LABEL_RE.fullmatch(version))


def release_of(version: str) -> str:
    """The version a label stands for: ``6.1.0+build.abc...`` -> ``6.1.0``; a release as it is."""
    return version.split("+", 1)[0]


def claims_version(version: str, claims_as: str | None) -> str:
    """The version whose claims apply to a run on ``version``: ``--claims-as`` for a build when given, else its own."""
    return claims_as if claims_as and is_build_label(version) else release_of(version)


def check_claims_as(value: str | None) -> str | None:
    if value is not None and not _RELEASE.fullmatch(value):
        raise HarnessError(f"--claims-as {value!r}: give an exact version X.Y.Z whose claims a build is judged by")
    return value


# -- resolving --------------------------------------------------------------------------------------------------

def resolve(spec: BuildSpec, package: str, bundle_file: str, cache: NpmBundleCache,
            from_lockfile: FromLockfile, say: Say | None = None) -> str:
    """The label ``spec`` stands for, with any local build checked and in the cache (a dist-tag asked now).
    ``from_lockfile`` reads a ``from:PATH`` (the caller's: lockfiles are the versions layer's, above this one)."""
    if spec.kind == "release":
        return spec.text
    if spec.kind == "lockfile":
        named = BuildSpec.parse(from_lockfile(Path(spec.text[len(FROM):])))
        if named.kind == "lockfile":
            raise HarnessError(f"{spec.text}: names another from: spec; point at the project's lockfile")
        return resolve(named, package, bundle_file, cache, from_lockfile, say)
    if spec.kind == "tag":
        return _tag(spec.text, package, cache, say)
    if spec.kind == "cached":
        cache.get(package, spec.text)  # a build no longer cached is a one-line error here, not mid-run
        return spec.text
    source = _download(spec.text) if spec.kind == "url" else Path(spec.text).expanduser()
    return _adopt(spec, source, package, bundle_file, cache, say).version  # a tarball, a folder, a download


def _tag(tag: str, package: str, cache: NpmBundleCache, say: Say | None) -> str:
    tags = cache.dist_tags(package)
    version = tags.get(tag)
    if version is None:
        raise HarnessError(f"{package} has no dist-tag {tag!r} (its tags: {', '.join(sorted(tags)) or 'none'})")
    if not _RELEASE.fullmatch(version):
        raise HarnessError(f"the dist-tag {tag} of {package} points at {version!r}, not a version")
    if say:
        say(f"{tag} = {package} {version} (its dist-tag, resolved now)")
    return version


# -- local builds -----------------------------------------------------------------------------------------------

def _adopt(spec: BuildSpec, source: Path, package: str, bundle_file: str, cache: NpmBundleCache,
           say: Say | None) -> Bundle:
    """Check ``source`` (a tarball or a folder) whole in a staging folder, then move it into the cache."""
    staging = cache.staging_dir(package)
    try:
        tarball = staging / "build.tgz"
        if source.is_dir():
            _pack_folder(source, tarball, spec.text)
        else:
            try:
                shutil.copyfile(source, tarball)
            except OSError as err:
                raise HarnessError(f"{spec.text}: cannot be read ({err.strerror or err})") from None
        _readable(tarball, spec.text)
        files = unpack(tarball, staging / "package", spec.text)
        version = _check(staging / "package", files, spec.text, package, bundle_file)
        content = content_digest(files)
        if _is_published_copy(cache, package, version, content):
            if say:
                say(f"build {spec.text} = {package} {version}, byte for byte the published release: playing that")
            return cache.get(package, version)
        label = f"{release_of(version)}+build.{content[:12]}"
        identity = {
            "version": version, "sha256": content, "kind": spec.kind,
            "source": spec.text if spec.kind == "url" else str(source.resolve()),
            **({"tarball_sha256": file_digest(source, "sha256").hex()} if spec.kind in ("tarball", "url") else {}),
        }
        integrity = "sha512-" + base64.b64encode(file_digest(tarball, "sha512")).decode()
        manifest = {"format": _MANIFEST_FORMAT, "package": package, "version": label, "integrity": integrity,
                    "tarball": tarball.name, "files": files, "build": identity}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        bundle, fresh = cache.adopt_build(package, label, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when it was moved into place
    if say:
        again = "cached" if fresh else "unchanged, from the cache"
        say(f"build {spec.text} = {package} {version}, sha256 {content[:16]}... ({again} as {label})")
    return bundle


def _is_published_copy(cache: NpmBundleCache, package: str, version: str, content: str) -> bool:
    """Whether a cached release of ``version`` plays exactly these files (an unpatched node_modules copy)."""
    try:
        manifest = json.loads((cache.root / package.lstrip("@").replace("/", "__") / version / MANIFEST)
                              .read_text(encoding="utf-8"))
        return "build" not in manifest and content_digest(manifest["files"]) == content
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _readable(tarball: Path, where: str) -> None:
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            tar.next()
    except (tarfile.TarError, EOFError, OSError) as err:
        raise BundleError(f"{where} is not a readable npm tarball ({err}); give npm pack's output (.tgz) or the "
                          "package's folder") from None


def content_digest(files: dict[str, str]) -> str:
    """The SHA-256 of what a build plays: each kept file's path and SHA-256, in path order."""
    h = hashlib.sha256()
    for rel, sha in sorted(files.items()):
        h.update(f"{rel}\0{sha}\n".encode())
    return h.hexdigest()


def _check(root: Path, files: dict[str, str], where: str, package: str, bundle_file: str) -> str:
    """The build's package.json version, once it is this adapter's package with its dist file."""
    try:
        meta = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise BundleError(f"{where}: package.json is not readable JSON ({err}); is it an npm package?") from None
    name = meta.get("name") if isinstance(meta, dict) else None
    if name != package:
        raise BundleError(f"{where} is {name or 'an unnamed package'}, not {package}: give a build of {package}")
    version = meta.get("version")
    if not isinstance(version, str) or not _RELEASE.fullmatch(version.split("+", 1)[0]):
        raise BundleError(f"{where}: package.json has no version X.Y.Z ({version!r}); set one, and use --claims-as "
                          "X.Y.Z if it means nothing")
    if f"dist/{bundle_file}" not in files:
        raise BundleError(f"{where} has no dist/{bundle_file}, the file the harness plays; build it first "
                          "(e.g. pnpm build) and pack again")
    return version


def _pack_folder(folder: Path, tarball: Path, where: str) -> None:
    """package.json and dist/** of a package folder, as ``npm pack`` lays them out (regular files only)."""
    if not (folder / "package.json").is_file():
        raise BundleError(f"{where} has no package.json: give the package's folder (the one with package.json and "
                          "dist/), or its npm pack tarball")
    with tarfile.open(tarball, "w:gz", compresslevel=1) as tar:  # read back at once: speed over size
        tar.add(folder / "package.json", arcname="package/package.json", recursive=False)
        dist = folder / "dist"
        if dist.is_dir():
            for path in sorted(dist.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname="package/" + path.relative_to(folder).as_posix(), recursive=False)


# -- URLs -------------------------------------------------------------------------------------------------------

_downloads: dict[str, Path] = {}  # url -> the file fetched for it by this process: fetched once per command
_download_dir: list[Path] = []


def max_download_bytes() -> int:
    text = os.environ.get("HARNESS_BUILD_MAX_BYTES", "")
    return int(text) if text.isdigit() and int(text) > 0 else MAX_DOWNLOAD_BYTES


def _download(url: str) -> Path:
    if url in _downloads and _downloads[url].is_file():
        return _downloads[url]
    if not _download_dir:
        _download_dir.append(Path(tempfile.mkdtemp(prefix="harness-builds-")))
        atexit.register(shutil.rmtree, _download_dir[0], True)
    target = _download_dir[0] / f"{len(_downloads)}.tgz"
    limit = max_download_bytes()
    request = urllib.request.Request(url, headers={"User-Agent": "session-harness"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as reply, open(target, "wb") as out:
            declared = reply.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise HarnessError(_too_big(url, limit))
            got = 0
            for chunk in iter(lambda: reply.read(1 << 16), b""):
                got += len(chunk)
                if got > limit:
                    raise HarnessError(_too_big(url, limit))
                out.write(chunk)
    except urllib.error.HTTPError as err:
        target.unlink(missing_ok=True)
        raise HarnessError(f"{url}: the server answered {err.code} {err.reason}; check the URL") from None
    except (urllib.error.URLError, OSError) as err:
        target.unlink(missing_ok=True)
        reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or err
        raise HarnessError(f"{url}: cannot be fetched ({reason}); check the address and the network, or download "
                           "it and give the file") from None
    except HarnessError:
        target.unlink(missing_ok=True)
        raise
    _downloads[url] = target
    return target


def _too_big(url: str, limit: int) -> str:
    return (f"{url}: larger than {limit} bytes, the limit for a downloaded build; is it the tarball? "
            "(set HARNESS_BUILD_MAX_BYTES to allow more)")
