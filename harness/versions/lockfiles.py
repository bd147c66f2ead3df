"""``from:PATH``: the version of a package a project ships, read from its lockfile or package.json.

    package-lock.json   v1 (``dependencies``), v2 and v3 (``packages["node_modules/<pkg>"]``)
    pnpm-lock.yaml      v5 (``/pkg/1.2.3``, ``1.2.3_peer``), v6 (``/pkg@1.2.3``), v7-v9 (``importers``, ``pkg@1.2.3``)
    yarn.lock           classic v1 (its own format) and berry v2+ (YAML, ``pkg@npm:range``)
    package.json        a range in (dev/peer/optional)dependencies -> the newest published stable release matching it
    a folder            the first of the above found in it, in that order

A project whose own dependency is a build -- ``file:../clerk-js.tgz``, ``file:``/``link:`` a package folder, or an
``http(s)`` tarball URL (``npm install <url>``, a preview build per commit) -- resolves to that build
(:func:`spec_from`: the path made absolute from the lockfile's folder, or the URL), which the harness then plays and
identifies by hash (:mod:`harness.sdks.builds`).

Only the copy the project itself resolves counts (the top-level ``node_modules/<pkg>``, the root importer); when a
lockfile holds several versions and none is the project's own, the answer is an error naming them, never a guess.
Every failure (no file, not parseable, package absent, a link or git dependency) is one :class:`HarnessError` line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import semantic_version
import yaml

from harness.errors import HarnessError
from harness.versions.published import Releases

LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", "package.json")
_DEP_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
_EXACT = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")


_BUILD_DEP = re.compile(r"(file|link):(.+)|(https?://.+)", re.IGNORECASE)


def spec_from(path: Path, package: str, load_releases: Callable[[], Releases]) -> str:
    """What ``path`` makes the project play of ``package``: an exact version, or a build's path or URL."""
    file = _file(Path(path))
    declared = _declared(file, package)
    if declared is not None:
        match = _BUILD_DEP.fullmatch(_unalias(declared, package).strip())
        if match:
            if match.group(3):
                return match.group(3)
            where = (file.parent / match.group(2)).resolve()
            if not where.exists():
                raise HarnessError(f"from:{file}: {package} is {declared!r}, and {where} does not exist; build and "
                                   "pack it first, or pass --sdk-version X.Y.Z")
            return str(where)
    return version_from(path, package, load_releases)


def _declared(file: Path, package: str) -> str | None:
    """The project's own dependency spec for ``package`` (as it wrote it), from the lockfile or its package.json."""
    text = _read(file)
    if file.name in ("package-lock.json", "npm-shrinkwrap.json"):
        root = (_json(text, file).get("packages") or {}).get("")
        if isinstance(root, dict):
            for field in _DEP_FIELDS:
                deps = root.get(field)
                if isinstance(deps, dict) and isinstance(deps.get(package), str):
                    return str(deps[package])
    elif file.name.endswith((".yaml", ".yml")):
        data = _yaml(text, file)
        importers = data.get("importers") if isinstance(data, dict) else None
        root = importers.get(".") if isinstance(importers, dict) else data
        for field in _DEP_FIELDS:
            deps = root.get(field) if isinstance(root, dict) else None
            entry = deps.get(package) if isinstance(deps, dict) else None
            spec = entry.get("specifier") if isinstance(entry, dict) else entry
            if isinstance(spec, str) and _BUILD_DEP.fullmatch(spec.strip()):
                return spec
        if isinstance(root, dict) and isinstance(root.get("specifiers"), dict):  # v5
            spec = root["specifiers"].get(package)
            if isinstance(spec, str):
                return spec
    elif file.name.endswith(".json"):
        return _own_range(file, package)
    return _own_range(file.parent / "package.json", package)


def version_from(path: Path, package: str, load_releases: Callable[[], Releases]) -> str:
    """The exact version of ``package`` that ``path`` (a lockfile, a package.json, or a folder) resolves."""
    file = _file(Path(path))
    text = _read(file)
    name = file.name
    if name in ("package-lock.json", "npm-shrinkwrap.json"):
        found = _npm_lock(_json(text, file), package, file)
    elif name.endswith(".yaml") or name.endswith(".yml"):
        found = _pnpm_lock(_yaml(text, file), package, file)
    elif name == "yarn.lock" or name.endswith(".lock"):
        found = _yarn_lock(text, package, file)
    elif name.endswith(".json"):
        return _package_json(_json(text, file), package, file, load_releases)
    else:
        raise HarnessError(f"from:{path}: not a lockfile this harness reads; give one of {', '.join(LOCKFILES)}")
    return _one(found, package, file)


def _file(path: Path) -> Path:
    if path.is_dir():
        for name in LOCKFILES:
            if (path / name).is_file():
                return path / name
        raise HarnessError(f"from:{path}: no {', '.join(LOCKFILES)} in that folder; point at the project's lockfile")
    if not path.exists():
        raise HarnessError(f"from:{path}: no such file; point at the project's package-lock.json, pnpm-lock.yaml, "
                           "yarn.lock or package.json")
    return path


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise HarnessError(f"from:{file}: cannot be read ({getattr(err, 'strerror', None) or err})") from None


def _json(text: str, file: Path) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise HarnessError(f"from:{file}: not valid JSON ({err}); is it a merge-conflicted lockfile?") from None
    if not isinstance(data, dict):
        raise HarnessError(f"from:{file}: not a package.json or package-lock.json (no object at the top)")
    return data


def _yaml(text: str, file: Path) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise HarnessError(f"from:{file}: not valid YAML ({' '.join(str(err).split())[:120]})") from None


def _one(found: list[str], package: str, file: Path) -> str:
    """The single resolved version, checked to be exact."""
    versions = sorted(set(found), key=_sort_key)
    if not versions:
        raise HarnessError(f"from:{file}: {package} is not in it; install it (npm install {package}) or pass "
                           "--sdk-version X.Y.Z")
    if len(versions) > 1:
        raise HarnessError(f"from:{file}: {package} resolves to several versions ({', '.join(versions)}) and none "
                           "is the project's own; pass the one you ship with --sdk-version X.Y.Z")
    version = versions[0]
    if not _EXACT.fullmatch(version):
        raise HarnessError(f"from:{file}: {package} is {version!r} there, not a published version (a link, "
                           "a file or a git dependency); pass --sdk-version X.Y.Z")
    return version


def _sort_key(v: str) -> Any:
    try:
        return (0, semantic_version.Version(v))
    except ValueError:
        return (1, v)


# -- package-lock.json ------------------------------------------------------------------------------------------

def _npm_lock(data: dict[str, Any], package: str, file: Path) -> list[str]:
    packages = data.get("packages")
    if isinstance(packages, dict):  # v2, v3
        top = packages.get(f"node_modules/{package}")
        if isinstance(top, dict):
            return [str(top.get("version", "a link" if top.get("link") else "no version"))]
        nested = [str(v.get("version")) for k, v in packages.items()
                  if isinstance(v, dict) and (k.endswith(f"/node_modules/{package}") or v.get("name") == package)
                  and v.get("version")]
        if nested or "dependencies" not in data:
            return nested
    deps = data.get("dependencies")  # v1 (and v2's backwards-compatible copy)
    if isinstance(deps, dict):
        entry = deps.get(package)
        if isinstance(entry, dict) and entry.get("version"):
            return [_unalias(str(entry["version"]), package)]
        return _nested_v1(deps, package)
    if "lockfileVersion" not in data:
        raise HarnessError(f"from:{file}: not a package-lock.json (no lockfileVersion)")
    return []


def _nested_v1(deps: dict[str, Any], package: str) -> list[str]:
    out: list[str] = []
    for entry in deps.values():
        inner = entry.get("dependencies") if isinstance(entry, dict) else None
        if isinstance(inner, dict):
            hit = inner.get(package)
            if isinstance(hit, dict) and hit.get("version"):
                out.append(_unalias(str(hit["version"]), package))
            out += _nested_v1(inner, package)
    return out


def _unalias(version: str, package: str) -> str:
    """``npm:@scope/pkg@5.1.0`` (an npm alias) -> ``5.1.0``."""
    prefix = f"npm:{package}@"
    return version[len(prefix):] if version.startswith(prefix) else version


# -- pnpm-lock.yaml ---------------------------------------------------------------------------------------------

def _pnpm_lock(data: Any, package: str, file: Path) -> list[str]:
    if not isinstance(data, dict) or "lockfileVersion" not in data:
        raise HarnessError(f"from:{file}: not a pnpm-lock.yaml (no lockfileVersion)")
    importers = data.get("importers")
    root = importers.get(".") if isinstance(importers, dict) else data  # v5/v6 single project: at the top
    direct = _pnpm_direct(root if isinstance(root, dict) else {}, package)
    if direct:
        return direct
    if isinstance(importers, dict):  # a workspace: the package may be a dependency of one project only
        found = [v for imp in importers.values() if isinstance(imp, dict) for v in _pnpm_direct(imp, package)]
        if found:
            return found
    keys = list((data.get("packages") or {}).keys())
    return [v for v in (_pnpm_key_version(k, package) for k in keys) if v]


def _pnpm_direct(importer: dict[str, Any], package: str) -> list[str]:
    for field in _DEP_FIELDS:
        deps = importer.get(field)
        if isinstance(deps, dict) and package in deps:
            entry = deps[package]
            version = entry.get("version") if isinstance(entry, dict) else entry  # v6+: {specifier, version}
            return [_pnpm_peerless(str(version))]
    return []


def _pnpm_peerless(version: str) -> str:
    """Drop pnpm's peer-dependency suffix: ``5.1.0_react@18.2.0`` (v5), ``5.1.0(react@18.2.0)`` (v6+)."""
    return re.split(r"[_(]", version, maxsplit=1)[0]


def _pnpm_key_version(key: str, package: str) -> str | None:
    """``/@scope/pkg/5.1.0`` (v5), ``/@scope/pkg@5.1.0`` (v6), ``@scope/pkg@5.1.0`` (v9)."""
    for prefix in (f"/{package}/", f"/{package}@", f"{package}@"):
        if key.startswith(prefix):
            return _pnpm_peerless(key[len(prefix):])
    return None


# -- yarn.lock --------------------------------------------------------------------------------------------------

def _yarn_lock(text: str, package: str, file: Path) -> list[str]:
    entries = _yarn_berry(text, file) if "__metadata:" in text else _yarn_classic(text)
    out = []
    for specs, version in entries:
        names = {_yarn_spec_name(s) for s in specs}
        if package in names and version:
            out.append(version)
    if len(set(out)) > 1:
        own = _own_range(file.parent / "package.json", package)
        if own is not None:  # the project's own range picks its entry
            picked = [v for specs, v in entries
                      if v and any(s.strip() in (f"{package}@{own}", f"{package}@npm:{own}") for s in specs)]
            if picked:
                return picked
    return out


def _yarn_spec_name(spec: str) -> str:
    spec = spec.strip().strip('"')
    at = spec.find("@", 1)  # a scoped name starts with "@"
    return spec if at < 0 else spec[:at]


def _yarn_classic(text: str) -> list[tuple[list[str], str | None]]:
    """Classic (v1) yarn.lock: an unindented ``"spec", "spec":`` line, then indented ``version "1.2.3"``."""
    entries: list[tuple[list[str], str | None]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and line.rstrip().endswith(":"):
            entries.append(([s.strip().strip('"') for s in line.rstrip()[:-1].split(",")], None))
        elif entries and entries[-1][1] is None and line.startswith("  ") and not line.startswith("   "):
            match = re.fullmatch(r'\s+version:?\s+"?([^"\s]+)"?\s*', line)
            if match:
                entries[-1] = (entries[-1][0], match.group(1))
    return entries


def _yarn_berry(text: str, file: Path) -> list[tuple[list[str], str | None]]:
    data = _yaml(text, file)
    if not isinstance(data, dict):
        raise HarnessError(f"from:{file}: not a yarn.lock (no entries)")
    return [([s.strip() for s in str(key).split(",")], str(val.get("version")) if val.get("version") else None)
            for key, val in data.items() if key != "__metadata" and isinstance(val, dict)]


# -- package.json -----------------------------------------------------------------------------------------------

def _own_range(path: Path, package: str) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for field in _DEP_FIELDS:
        deps = data.get(field) if isinstance(data, dict) else None
        if isinstance(deps, dict) and isinstance(deps.get(package), str):
            return deps[package]
    return None


def _package_json(data: dict[str, Any], package: str, file: Path, load_releases: Callable[[], Releases]) -> str:
    wanted = _own_range(file, package)
    if wanted is None:
        raise HarnessError(f"from:{file}: {package} is not among its dependencies; add it or pass --sdk-version "
                           "X.Y.Z")
    spec_text = _unalias(wanted, package)
    if re.match(r"(file|link|workspace|git|git\+\w+|https?|github):", spec_text) or "/" in spec_text:
        raise HarnessError(f"from:{file}: {package} is {wanted!r}, not a published version range; pass "
                           "--sdk-version X.Y.Z")
    try:
        spec = semantic_version.NpmSpec(spec_text)
    except ValueError:
        raise HarnessError(f"from:{file}: {package} is {wanted!r}, which is not a version range (a dist-tag?); "
                           "pass --sdk-version X.Y.Z") from None
    releases = load_releases()
    hits = [r for r in releases.stable() if r.semver in spec]
    if not hits:
        raise HarnessError(f"from:{file}: no published stable release of {package} matches {wanted!r}")
    return hits[-1].version
