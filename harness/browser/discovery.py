"""Finding (and, as root on Debian/Ubuntu, installing) the Chromium the harness drives.

Playwright cannot always download its own browsers (offline machines, locked-down CI), so the harness also uses a
Chromium the system already has. Discovery only looks at the filesystem: no subprocess and no Playwright driver
start (that costs ~0.3 s per call), so it is cheap enough to run on every CLI invocation and pytest session.

Preference order (first usable wins):

1. an explicit path: the ``explicit`` argument, else ``$HARNESS_CHROMIUM``; a bad explicit path is an error, never
   silently skipped, because the user asked for that browser;
2. Playwright-managed browsers: the full Chromium, then the headless shell (the revision the installed ``playwright``
   package pins first, because its protocol matches; other revisions after, newest first);
3. Debian/Ubuntu packages: ``chromium-headless-shell`` then ``chromium`` (their real binaries under
   ``/usr/lib/chromium``; ``/usr/bin/chromium`` is a shell wrapper that adds flags from ``/etc/chromium.d``);
4. Google Chrome; a snap Chromium last, as its confinement cannot read profiles or files outside ``$HOME``.

Run ``python -m harness.browser.discovery [--ensure] [--need-tabs] [--chromium PATH] [--list]`` to see the choice.
"""

from __future__ import annotations

import argparse
import functools
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping, Sequence

from harness.errors import BrowserNotFound, HarnessError

BrowserKind = Literal[
    "explicit", "playwright", "playwright-headless-shell", "debian-headless-shell", "debian-chromium", "chrome",
    "attached",  # a test's own browser (pytest-playwright's), attached to rather than found (harness.pytest_attach)
]

ENV_VAR = "HARNESS_CHROMIUM"

# Kinds whose binary is the old-headless shell: 2-4x faster to launch, but it has no real tab strip (every page is
# its own window), so visibility/focus scenarios that need real tab switching cannot use it.
SHELL_KINDS: frozenset[str] = frozenset({"playwright-headless-shell", "debian-headless-shell"})

# Playwright's registry layout: <registry>/<name with '-' → '_'>-<revision>/<platform dir>/<binary>. The platform
# dirs changed over Playwright versions (chrome-linux → chrome-linux64; the shell moved from
# chrome-linux/headless_shell to its own chrome-headless-shell-linux64/), so every layout ever used is listed, current
# ones first. (kind, glob relative to the registry directory); full browsers before shells (preference order).
PLAYWRIGHT_LAYOUTS: list[tuple[BrowserKind, str]] = [
    ("playwright", "chromium-*/chrome-linux64/chrome"),
    ("playwright", "chromium-*/chrome-linux-arm64/chrome"),
    ("playwright", "chromium-*/chrome-linux/chrome"),
    ("playwright", "chromium-*/chrome-mac-*/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing"),
    ("playwright", "chromium-*/chrome-mac/Chromium.app/Contents/MacOS/Chromium"),
    ("playwright-headless-shell", "chromium_headless_shell-*/chrome-headless-shell-linux64/chrome-headless-shell"),
    ("playwright-headless-shell", "chromium_headless_shell-*/chrome-headless-shell-linux-arm64/chrome-headless-shell"),
    ("playwright-headless-shell", "chromium_headless_shell-*/chrome-linux/headless_shell"),
    ("playwright-headless-shell", "chromium-*/chrome-linux/headless_shell"),
    ("playwright-headless-shell", "chromium_headless_shell-*/chrome-headless-shell-mac-*/chrome-headless-shell"),
    ("playwright-headless-shell", "chromium_headless_shell-*/chrome-mac/headless_shell"),
]

# Playwright writes this into a browser directory only after the download is fully unpacked; an interrupted download
# leaves a binary without its resources, which then crashes at launch. Playwright re-downloads in that case; we skip it.
PLAYWRIGHT_MARKER = "INSTALLATION_COMPLETE"

# System browsers, (kind, absolute path glob), in preference order. Tests monkeypatch this to point into tmp_path.
SYSTEM_BROWSERS: list[tuple[BrowserKind, str]] = [
    ("debian-headless-shell", "/usr/lib/chromium/chromium-headless-shell"),
    ("debian-chromium", "/usr/lib/chromium/chromium"),
    ("debian-chromium", "/usr/lib/chromium-browser/chromium-browser"),  # Ubuntu's deb, before it became a snap
    ("chrome", "/opt/google/chrome/chrome"),
    ("chrome", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
    ("debian-chromium", "/snap/bin/chromium"),  # snap: confined, last resort
]

OS_RELEASE = Path("/etc/os-release")

APT_PACKAGES = ("chromium", "chromium-headless-shell")
_APT_CMD = "apt-get install -y " + " ".join(APT_PACKAGES)


@dataclass(frozen=True)
class BrowserInfo:
    """A usable browser binary and where it came from."""

    path: Path
    kind: BrowserKind
    # True for the old-headless shells: fast, but cannot show real tabs (each page is its own window).
    headless_shell: bool


# --------------------------------------------------------------------------------------------------------- probing


def candidates(
    explicit: str | None = None, *, env: Mapping[str, str] | None = None, explicit_source: str | None = None
) -> list[BrowserInfo]:
    """Every usable browser, in preference order (see the module docstring).

    ``explicit`` (else ``$HARNESS_CHROMIUM``) comes first; if it is given but is not an executable file this raises
    :class:`BrowserNotFound` naming the path and where it came from. ``explicit_source`` names the argument in that
    message (e.g. ``"--chromium"``). ``env`` replaces ``os.environ`` (HOME, PATH, XDG_CACHE_HOME,
    PLAYWRIGHT_BROWSERS_PATH, HARNESS_CHROMIUM) so tests can point everything into a temp dir.
    """
    env = os.environ if env is None else env
    found: list[BrowserInfo] = []
    chosen = _explicit_candidate(explicit, env, explicit_source)
    if chosen is not None:
        found.append(chosen)
    found.extend(_playwright_candidates(env))
    found.extend(_system_candidates())
    # The same binary can be reached twice (explicit path to /usr/lib/chromium/chromium, a symlinked registry);
    # keep its first, most specific, entry.
    seen: set[str] = set()
    unique: list[BrowserInfo] = []
    for info in found:
        key = os.path.realpath(info.path)
        if key not in seen:
            seen.add(key)
            unique.append(info)
    return unique


def find_browser(
    explicit: str | None = None,
    *,
    need_tabs: bool = False,
    env: Mapping[str, str] | None = None,
    explicit_source: str | None = None,
) -> BrowserInfo:
    """The preferred browser; with ``need_tabs`` a full browser only (headless shells cannot show real tabs).

    Raises :class:`BrowserNotFound` with the exact command to fix it when there is none.
    """
    found = candidates(explicit, env=env, explicit_source=explicit_source)
    if not need_tabs:
        if found:
            return found[0]
        raise BrowserNotFound(_not_found_message(need_tabs=False, shells=[]))
    if found and found[0].kind == "explicit" and found[0].headless_shell:
        # The user picked this binary; falling back to another one behind their back would be worse than failing.
        source = explicit_source or ("the browser path" if explicit else ENV_VAR)
        raise BrowserNotFound(
            f"{found[0].path} looks like an old-headless shell, which cannot show real tabs; "
            f"point {source} at a full Chromium or Chrome binary"
        )
    full = [info for info in found if not info.headless_shell]
    if full:
        return full[0]
    raise BrowserNotFound(_not_found_message(need_tabs=True, shells=[info for info in found if info.headless_shell]))


def is_headless_shell_name(path: str | os.PathLike[str]) -> bool:
    """Guess from the file name whether an explicit binary is an old-headless shell (chrome-headless-shell,
    chromium-headless-shell, headless_shell)."""
    return "headless" in Path(path).name.lower()


def _explicit_candidate(explicit: str | None, env: Mapping[str, str], source: str | None) -> BrowserInfo | None:
    if explicit:
        raw, label, fix = explicit, f"{source or 'browser path'} {explicit}", "fix the path"
    elif env.get(ENV_VAR):
        raw = env[ENV_VAR]
        label, fix = f"{ENV_VAR}={raw}", "fix the path or unset it"
    else:
        return None
    path = Path(os.path.expanduser(raw))
    if os.sep not in raw:
        # A bare command name ("google-chrome"): look it up on PATH the way a shell would.
        hit = shutil.which(raw, path=env.get("PATH"))
        if hit:
            path = Path(hit)
    if path.is_file() and os.access(path, os.X_OK):
        return BrowserInfo(path=path, kind="explicit", headless_shell=is_headless_shell_name(path))
    why = "a directory" if path.is_dir() else "not executable" if path.exists() else "no such file"
    raise BrowserNotFound(f"{label} is not an executable file ({why}); {fix}")


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def playwright_registry(env: Mapping[str, str] | None = None) -> Path | None:
    """Where Playwright keeps its browsers, computed the way Playwright does (no driver start)."""
    env = os.environ if env is None else env
    value = env.get("PLAYWRIGHT_BROWSERS_PATH")
    if value == "0":  # Playwright's "hermetic" mode: browsers inside the installed package
        package = _playwright_package_dir()
        return package / "driver" / "package" / ".local-browsers" if package else None
    if value:
        path = Path(os.path.expanduser(value))
        if not path.is_absolute():
            path = Path(env.get("INIT_CWD") or os.getcwd()) / path
        return path
    if sys.platform == "darwin":
        cache = _home(env) / "Library" / "Caches"
    else:
        cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else _home(env) / ".cache"
    return cache / "ms-playwright"


@functools.lru_cache(maxsize=1)
def _playwright_package_dir() -> Path | None:
    # find_spec locates the package without importing it (importing playwright is slow-ish and not needed here).
    try:
        spec = importlib.util.find_spec("playwright")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@functools.lru_cache(maxsize=1)
def playwright_revisions() -> dict[str, str]:
    """Browser name → revision pinned by the installed playwright package (``driver/package/browsers.json``)."""
    package = _playwright_package_dir()
    if package is None:
        return {}
    try:
        data = json.loads((package / "driver" / "package" / "browsers.json").read_text(encoding="utf-8"))
        return {str(b["name"]): str(b["revision"]) for b in data.get("browsers", []) if "name" in b and "revision" in b}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def _playwright_candidates(env: Mapping[str, str]) -> list[BrowserInfo]:
    registry = playwright_registry(env)
    if registry is None or not registry.is_dir():
        return []
    pinned = playwright_revisions()
    out: list[BrowserInfo] = []
    for kind in ("playwright", "playwright-headless-shell"):
        hits: list[tuple[tuple[int, int], int, Path]] = []
        for order, (layout_kind, pattern) in enumerate(PLAYWRIGHT_LAYOUTS):
            if layout_kind != kind:
                continue
            for match in registry.glob(pattern):
                browser_dir = registry / match.relative_to(registry).parts[0]
                if not _is_executable(match) or not (browser_dir / PLAYWRIGHT_MARKER).is_file():
                    continue
                prefix, _, revision = browser_dir.name.rpartition("-")
                name = prefix.replace("_", "-")  # "chromium_headless_shell" → "chromium-headless-shell"
                rank = int(revision) if revision.isdigit() else -1
                # The pinned revision first (its CDP matches this playwright), then the newest.
                hits.append(((0 if revision == pinned.get(name) else 1, -rank), order, match))
        for _, _, match in sorted(hits, key=lambda h: (h[0], h[1])):
            out.append(BrowserInfo(path=match, kind=kind, headless_shell=kind in SHELL_KINDS))
    return out


def _system_candidates() -> list[BrowserInfo]:
    out: list[BrowserInfo] = []
    for kind, pattern in SYSTEM_BROWSERS:
        for hit in sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]:
            path = Path(hit)
            if _is_executable(path):
                out.append(BrowserInfo(path=path, kind=kind, headless_shell=kind in SHELL_KINDS))
    return out


# --------------------------------------------------------------------------------------------- messages and OS


def is_debian_like(os_release: Path | None = None) -> bool:
    """True when /etc/os-release's ID or ID_LIKE names debian or ubuntu."""
    try:
        text = (os_release or OS_RELEASE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    ids: list[str] = []
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("ID", "ID_LIKE"):
            ids.extend(value.strip().strip("\"'").lower().split())
    return any(i in ("debian", "ubuntu") for i in ids)


def _not_found_message(*, need_tabs: bool, shells: Sequence[BrowserInfo]) -> str:
    debian = is_debian_like()
    if need_tabs and shells:
        where = ", ".join(str(s.path) for s in shells)
        head = f"real-tab mode needs a full Chromium, but only old-headless shells were found ({where})"
        fix = ("run: apt-get install -y chromium (as root)" if debian
               else "install Chromium or Google Chrome")
        return f"{head}; {fix}, or set {ENV_VAR} to a full Chromium binary"
    if debian:
        return f"no Chromium found; run: {_APT_CMD} (as root), or set {ENV_VAR} to a Chromium binary"
    return f"no Chromium found; install Chromium or Google Chrome, or set {ENV_VAR} to a Chromium binary"


# Seams for tests: who we are, what is on PATH, how commands run.
def _geteuid() -> int:
    geteuid = getattr(os, "geteuid", None)
    return geteuid() if geteuid else -1


def _which(name: str) -> str | None:
    return shutil.which(name)


def _run_streaming(cmd: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``cmd``, copying its output line by line to stderr (stdout stays clean for the one-line answer)."""
    print(f"+ {' '.join(cmd)}", file=sys.stderr, flush=True)
    try:
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", env=dict(env))
    except OSError as err:
        print(f"{cmd[0]}: {err}", file=sys.stderr, flush=True)
        return 127
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stderr.write(line)
        sys.stderr.flush()
    return proc.wait()


def _apt_has_package(name: str) -> bool:
    """Whether apt knows a (non-virtual) package of that name; old releases have no chromium-headless-shell."""
    try:
        result = subprocess.run(["apt-cache", "show", name], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


# ------------------------------------------------------------------------------------------------------ install


def ensure_browser(
    explicit: str | None = None,
    *,
    install: bool = True,
    need_tabs: bool = False,
    env: Mapping[str, str] | None = None,
    explicit_source: str | None = None,
) -> BrowserInfo:
    """:func:`find_browser`, and if nothing is found, install Chromium with apt-get when that is possible.

    Installs only when ``install`` is true, we are root, the OS is Debian/Ubuntu and apt-get exists; otherwise the
    :class:`BrowserNotFound` from :func:`find_browser` (which carries the exact command) is raised. An explicit path
    never triggers an install: the user asked for that binary.
    """
    try:
        return find_browser(explicit, need_tabs=need_tabs, env=env, explicit_source=explicit_source)
    except BrowserNotFound:
        env_ = os.environ if env is None else env
        if explicit or env_.get(ENV_VAR) or not install:
            raise
        if _geteuid() != 0 or not is_debian_like() or not _which("apt-get"):
            raise
    _apt_install()
    try:
        return find_browser(explicit, need_tabs=need_tabs, env=env, explicit_source=explicit_source)
    except BrowserNotFound:
        raise BrowserNotFound(
            "apt-get finished but no Chromium binary was found where this harness looks "
            f"(/usr/lib/chromium/...); set {ENV_VAR} to the installed Chromium binary"
        ) from None


def _apt_install() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("no Chromium found; installing it with apt-get (running as root)", file=sys.stderr, flush=True)
    if _run_streaming(["apt-get", "update"], env) != 0:
        # A single broken source makes `update` fail while the packages we need still install; let install decide.
        print("apt-get update failed; trying the install anyway", file=sys.stderr, flush=True)
    packages = list(APT_PACKAGES) if _apt_has_package("chromium-headless-shell") else ["chromium"]
    cmd = ["apt-get", "install", "-y", *packages]
    code = _run_streaming(cmd, env)
    if code != 0:
        raise BrowserNotFound(
            f"`{' '.join(cmd)}` failed (exit {code}); see its output above, fix that and retry, "
            f"or set {ENV_VAR} to a Chromium binary"
        )


# ------------------------------------------------------------------------------------------------------ version

_VERSIONS: dict[str, str | None] = {}


def browser_version(info: BrowserInfo) -> str | None:
    """``<path> --version`` (e.g. "Chromium 142.0.7444.175 built on Debian ..."), cached per path; None on failure."""
    key = str(info.path)
    if key not in _VERSIONS:
        try:
            result = subprocess.run([key, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    errors="replace", timeout=10)
            out = result.stdout.strip().splitlines()
            _VERSIONS[key] = out[0].strip() if result.returncode == 0 and out else None
        except (OSError, subprocess.SubprocessError):
            _VERSIONS[key] = None
    return _VERSIONS[key]


# ---------------------------------------------------------------------------------------------------------- CLI


def _line(info: BrowserInfo) -> str:
    return f"{info.kind} {info.path} ({browser_version(info) or 'version unknown'})"


def main(argv: list[str] | None = None) -> int:
    """Print the chosen browser (or, with --list, every candidate) as ``<kind> <path> (<version>)``."""
    parser = argparse.ArgumentParser(prog="python -m harness.browser.discovery",
                                     description="Show which Chromium the harness would drive.")
    parser.add_argument("--ensure", action="store_true",
                        help="if none is found, install Chromium with apt-get (root on Debian/Ubuntu only)")
    parser.add_argument("--need-tabs", action="store_true",
                        help="need a full browser (real tabs), not an old-headless shell")
    parser.add_argument("--chromium", metavar="PATH", help=f"use this binary (default: ${ENV_VAR}, then discovery)")
    parser.add_argument("--list", action="store_true", help="print every usable browser, best first")
    args = parser.parse_args(argv)
    try:
        if args.ensure:
            chosen = ensure_browser(args.chromium, need_tabs=args.need_tabs, explicit_source="--chromium")
        else:
            chosen = find_browser(args.chromium, need_tabs=args.need_tabs, explicit_source="--chromium")
        if args.list:
            for info in candidates(args.chromium, explicit_source="--chromium"):
                print(_line(info))
        else:
            print(_line(chosen))
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
