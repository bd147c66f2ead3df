"""Browser discovery: preference order, explicit paths, messages, and the apt-get install path.

Everything except the last test runs against fake executables in tmp_path: the system table, the Playwright registry
(via HOME / PLAYWRIGHT_BROWSERS_PATH in an injected env), /etc/os-release, euid and the command runner are all
replaced, so the results do not depend on what this machine has installed and nothing is ever really installed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.browser import discovery
from harness.browser.discovery import BrowserInfo, browser_version, candidates, ensure_browser, find_browser, main
from harness.errors import BrowserNotFound

PINNED = "1255"


def make_exe(path: Path, body: str = "echo 'Chromium 1.2.3 fake'") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def make_playwright(registry: Path, dirname: str, rel: str) -> Path:
    exe = make_exe(registry / dirname / rel)
    (registry / dirname / discovery.PLAYWRIGHT_MARKER).write_text("")
    return exe


class World:
    """A fake machine rooted in tmp_path."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.env: dict[str, str] = {"HOME": str(self.home), "PATH": os.environ.get("PATH", "")}
        self.registry = self.home / ".cache" / "ms-playwright"
        self.sys = {
            "debian-headless-shell": tmp_path / "usr/lib/chromium/chromium-headless-shell",
            "debian-chromium": tmp_path / "usr/lib/chromium/chromium",
            "chrome": tmp_path / "opt/google/chrome/chrome",
        }
        monkeypatch.setattr(discovery, "SYSTEM_BROWSERS", [(k, str(p)) for k, p in self.sys.items()])
        monkeypatch.setattr(discovery, "playwright_revisions",
                            lambda: {"chromium": PINNED, "chromium-headless-shell": PINNED})
        self.os_release = tmp_path / "os-release"
        self.set_os('ID=debian\nVERSION_ID="12"\n')
        monkeypatch.setattr(discovery, "OS_RELEASE", self.os_release)
        self.euid = 1000
        monkeypatch.setattr(discovery, "_geteuid", lambda: self.euid)
        monkeypatch.setattr(discovery, "_which", lambda name: f"/usr/bin/{name}" if name == "apt-get" else None)
        self.commands: list[list[str]] = []
        self.on_command = lambda cmd: 0
        monkeypatch.setattr(discovery, "_run_streaming", self._run)
        self.shell_package_known = True
        monkeypatch.setattr(discovery, "_apt_has_package", lambda name: self.shell_package_known)

    def set_os(self, text: str) -> None:
        self.os_release.write_text(text)

    def _run(self, cmd, env):
        assert env["DEBIAN_FRONTEND"] == "noninteractive"
        self.commands.append(list(cmd))
        return self.on_command(list(cmd))

    def add_system(self, kind: str) -> Path:
        return make_exe(self.sys[kind])


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.delenv(discovery.ENV_VAR, raising=False)
    return World(tmp_path, monkeypatch)


def kinds(found: list[BrowserInfo]) -> list[str]:
    return [b.kind for b in found]


# ------------------------------------------------------------------------------------------------ explicit


def test_explicit_argument_wins_over_env_and_discovery(world: World, tmp_path: Path) -> None:
    world.add_system("debian-chromium")
    mine = make_exe(tmp_path / "mine" / "chrome")
    theirs = make_exe(tmp_path / "theirs" / "chrome")
    world.env[discovery.ENV_VAR] = str(theirs)
    info = find_browser(str(mine), env=world.env)
    assert info == BrowserInfo(path=mine, kind="explicit", headless_shell=False)
    assert kinds(candidates(str(mine), env=world.env)) == ["explicit", "debian-chromium"]


def test_env_var_wins_when_no_argument(world: World, tmp_path: Path) -> None:
    world.add_system("debian-headless-shell")
    theirs = make_exe(tmp_path / "theirs" / "chrome")
    world.env[discovery.ENV_VAR] = str(theirs)
    assert find_browser(env=world.env).path == theirs


def test_explicit_headless_shell_is_flagged_and_refused_for_tabs(world: World, tmp_path: Path) -> None:
    world.add_system("debian-chromium")
    shell = make_exe(tmp_path / "x" / "chrome-headless-shell")
    assert find_browser(str(shell), env=world.env).headless_shell is True
    with pytest.raises(BrowserNotFound, match="cannot show real tabs"):
        find_browser(str(shell), need_tabs=True, env=world.env)


@pytest.mark.parametrize("make", ["missing", "directory", "not-executable"])
def test_bad_explicit_argument_is_one_line_error(world: World, tmp_path: Path, make: str) -> None:
    world.add_system("debian-chromium")  # a usable fallback must not hide the user's mistake
    bad = tmp_path / "bad" / "chrome"
    if make == "directory":
        bad.mkdir(parents=True)
    elif make == "not-executable":
        bad.parent.mkdir(parents=True)
        bad.write_text("")
        bad.chmod(0o644)
    with pytest.raises(BrowserNotFound) as exc:
        find_browser(str(bad), env=world.env, explicit_source="--chromium")
    msg = str(exc.value)
    assert "\n" not in msg
    assert f"--chromium {bad} is not an executable file" in msg
    assert "fix the path" in msg


def test_bad_env_var_names_the_variable(world: World, tmp_path: Path) -> None:
    world.add_system("debian-chromium")
    world.env[discovery.ENV_VAR] = str(tmp_path / "nope")
    with pytest.raises(BrowserNotFound) as exc:
        candidates(env=world.env)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(f"HARNESS_CHROMIUM={tmp_path / 'nope'} is not an executable file")
    assert "unset it" in msg


def test_explicit_bare_name_is_looked_up_on_path(world: World, tmp_path: Path) -> None:
    exe = make_exe(tmp_path / "bin" / "my-chrome")
    world.env["PATH"] = str(tmp_path / "bin")
    assert find_browser("my-chrome", env=world.env).path == exe


# ---------------------------------------------------------------------------------------------------- order


def test_preference_order(world: World) -> None:
    reg = world.registry
    pw_old = make_playwright(reg, "chromium-1000", "chrome-linux/chrome")
    pw_new = make_playwright(reg, "chromium-2000", "chrome-linux64/chrome")
    pw_pinned = make_playwright(reg, f"chromium-{PINNED}", "chrome-linux64/chrome")
    pw_shell = make_playwright(reg, f"chromium_headless_shell-{PINNED}",
                               "chrome-headless-shell-linux64/chrome-headless-shell")
    for kind in world.sys:
        world.add_system(kind)
    found = candidates(env=world.env)
    assert [b.path for b in found[:4]] == [pw_pinned, pw_new, pw_old, pw_shell]
    assert kinds(found) == ["playwright"] * 3 + ["playwright-headless-shell", "debian-headless-shell",
                                                  "debian-chromium", "chrome"]
    assert [b.headless_shell for b in found] == [False, False, False, True, True, False, False]
    assert find_browser(env=world.env).path == pw_pinned


def test_system_order_without_playwright(world: World) -> None:
    world.add_system("chrome")
    assert find_browser(env=world.env).kind == "chrome"
    world.add_system("debian-chromium")
    assert find_browser(env=world.env).kind == "debian-chromium"
    world.add_system("debian-headless-shell")
    assert find_browser(env=world.env).kind == "debian-headless-shell"


def test_incomplete_playwright_download_is_skipped(world: World) -> None:
    make_exe(world.registry / f"chromium-{PINNED}" / "chrome-linux64" / "chrome")  # no INSTALLATION_COMPLETE
    world.add_system("chrome")
    assert kinds(candidates(env=world.env)) == ["chrome"]


def test_playwright_browsers_path_and_xdg_cache_are_respected(world: World, tmp_path: Path) -> None:
    custom = tmp_path / "pw-browsers"
    exe = make_playwright(custom, f"chromium-{PINNED}", "chrome-linux64/chrome")
    assert candidates(env=world.env) == []
    assert find_browser(env={**world.env, "PLAYWRIGHT_BROWSERS_PATH": str(custom)}).path == exe
    xdg = tmp_path / "xdg"
    exe2 = make_playwright(xdg / "ms-playwright", f"chromium_headless_shell-{PINNED}",
                           "chrome-headless-shell-linux64/chrome-headless-shell")
    info = find_browser(env={**world.env, "XDG_CACHE_HOME": str(xdg)})
    assert (info.path, info.kind, info.headless_shell) == (exe2, "playwright-headless-shell", True)


def test_same_binary_is_listed_once(world: World) -> None:
    exe = world.add_system("debian-chromium")
    assert kinds(candidates(str(exe), env=world.env)) == ["explicit"]


def test_discovery_runs_no_subprocess(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a, **k):
        raise AssertionError("discovery must not spawn processes")

    monkeypatch.setattr(subprocess, "Popen", boom)
    monkeypatch.setattr(subprocess, "run", boom)
    world.add_system("debian-chromium")
    make_playwright(world.registry, f"chromium-{PINNED}", "chrome-linux64/chrome")
    assert len(candidates(env=world.env)) == 2


# ------------------------------------------------------------------------------------------------ need_tabs


def test_need_tabs_skips_headless_shells(world: World) -> None:
    make_playwright(world.registry, f"chromium_headless_shell-{PINNED}",
                    "chrome-headless-shell-linux64/chrome-headless-shell")
    world.add_system("debian-headless-shell")
    full = world.add_system("debian-chromium")
    assert find_browser(env=world.env).headless_shell is True
    info = find_browser(env=world.env, need_tabs=True)
    assert (info.path, info.headless_shell) == (full, False)


def test_need_tabs_with_only_shells_says_a_full_chromium_is_needed(world: World) -> None:
    shell = world.add_system("debian-headless-shell")
    with pytest.raises(BrowserNotFound) as exc:
        find_browser(env=world.env, need_tabs=True)
    msg = str(exc.value)
    assert "\n" not in msg
    assert "full Chromium" in msg and str(shell) in msg
    assert "apt-get install -y chromium" in msg


# ---------------------------------------------------------------------------------------------- nothing found


@pytest.mark.parametrize(
    "os_release", ['ID=debian\n', 'ID=ubuntu\nID_LIKE=debian\n', 'ID=pop\nID_LIKE="ubuntu debian"\n']
)
def test_nothing_found_on_debian_gives_the_apt_command(world: World, os_release: str) -> None:
    world.set_os(os_release)
    with pytest.raises(BrowserNotFound) as exc:
        find_browser(env=world.env)
    msg = str(exc.value)
    assert "\n" not in msg
    assert "run: apt-get install -y chromium chromium-headless-shell (as root)" in msg
    assert "HARNESS_CHROMIUM" in msg


def test_nothing_found_elsewhere_says_install_chromium(world: World) -> None:
    world.set_os('ID=fedora\nID_LIKE="rhel centos"\n')
    with pytest.raises(BrowserNotFound) as exc:
        find_browser(env=world.env)
    msg = str(exc.value)
    assert "apt-get" not in msg
    assert "install Chromium or Google Chrome" in msg and "HARNESS_CHROMIUM" in msg


# ---------------------------------------------------------------------------------------------------- ensure


def test_ensure_does_not_run_apt_when_not_root(world: World) -> None:
    world.euid = 1000
    with pytest.raises(BrowserNotFound, match="apt-get install -y chromium"):
        ensure_browser(env=world.env)
    assert world.commands == []


def test_ensure_does_not_run_apt_off_debian_or_when_told_not_to(world: World) -> None:
    world.euid = 0
    with pytest.raises(BrowserNotFound):
        ensure_browser(env=world.env, install=False)
    world.set_os("ID=arch\n")
    with pytest.raises(BrowserNotFound):
        ensure_browser(env=world.env)
    assert world.commands == []


def test_ensure_does_not_install_for_a_bad_explicit_path(world: World, tmp_path: Path) -> None:
    world.euid = 0
    world.env[discovery.ENV_VAR] = str(tmp_path / "nope")
    with pytest.raises(BrowserNotFound, match="HARNESS_CHROMIUM="):
        ensure_browser(env=world.env)
    assert world.commands == []


def test_ensure_returns_existing_browser_without_installing(world: World) -> None:
    world.euid = 0
    world.add_system("chrome")
    assert ensure_browser(env=world.env).kind == "chrome"
    assert world.commands == []


def test_ensure_installs_as_root_on_debian(world: World) -> None:
    world.euid = 0

    def apt(cmd: list[str]) -> int:
        if cmd[:2] == ["apt-get", "install"]:
            world.add_system("debian-headless-shell")
            world.add_system("debian-chromium")
        return 0

    world.on_command = apt
    info = ensure_browser(env=world.env)
    assert info.kind == "debian-headless-shell"
    assert world.commands == [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "chromium", "chromium-headless-shell"],
    ]


def test_ensure_installs_chromium_alone_when_shell_package_is_unknown(world: World) -> None:
    world.euid = 0
    world.shell_package_known = False
    world.on_command = lambda cmd: (world.add_system("debian-chromium"), 0)[1] if "install" in cmd else 0
    assert ensure_browser(env=world.env, need_tabs=True).kind == "debian-chromium"
    assert world.commands[-1] == ["apt-get", "install", "-y", "chromium"]


def test_ensure_reports_a_failed_install_in_one_line(world: World) -> None:
    world.euid = 0
    world.on_command = lambda cmd: 100 if "install" in cmd else 0
    with pytest.raises(BrowserNotFound) as exc:
        ensure_browser(env=world.env)
    msg = str(exc.value)
    assert "\n" not in msg
    assert "apt-get install -y chromium chromium-headless-shell` failed (exit 100)" in msg


# --------------------------------------------------------------------------------------------------- version


def test_browser_version_is_cached_and_none_on_failure(tmp_path: Path) -> None:
    counter = tmp_path / "calls"
    exe = make_exe(tmp_path / "v" / "chrome", f"echo x >> {counter}; echo 'Chromium 9.8.7 built here'")
    info = BrowserInfo(path=exe, kind="explicit", headless_shell=False)
    assert browser_version(info) == "Chromium 9.8.7 built here"
    assert browser_version(info) == "Chromium 9.8.7 built here"
    assert counter.read_text().count("x") == 1
    broken = make_exe(tmp_path / "broken" / "chrome", "exit 3")
    assert browser_version(BrowserInfo(path=broken, kind="explicit", headless_shell=False)) is None
    gone = BrowserInfo(path=tmp_path / "gone", kind="explicit", headless_shell=False)
    assert browser_version(gone) is None


# ------------------------------------------------------------------------------------------------------- CLI


def test_main_prints_one_line(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exe = make_exe(tmp_path / "cli" / "chrome", "echo 'Chromium 5.5.5'")
    assert main(["--chromium", str(exe)]) == 0
    assert capsys.readouterr().out == f"explicit {exe} (Chromium 5.5.5)\n"


def test_main_list(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOME", str(world.home))
    monkeypatch.delenv("PLAYWRIGHT_BROWSERS_PATH", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    world.add_system("debian-headless-shell")
    world.add_system("chrome")
    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["debian-headless-shell", "chrome"]


def test_main_error_is_one_line_exit_2(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--chromium", str(tmp_path / "nope")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: --chromium ") and err.count("\n") == 1
    assert "Traceback" not in err


# ------------------------------------------------------------------------------------------------------ real


def test_real_machine_has_a_working_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    """On this machine (Debian chromium + chromium-headless-shell installed) discovery finds a real Chromium."""
    monkeypatch.delenv(discovery.ENV_VAR, raising=False)
    try:
        info = find_browser()
    except BrowserNotFound:
        if Path("/usr/lib/chromium").exists():
            raise
        pytest.skip("no Chromium on this machine")
    assert info.path.is_file() and os.access(info.path, os.X_OK)
    version = browser_version(info)
    assert version is not None and "Chromium" in version
    full = find_browser(need_tabs=True)
    assert not full.headless_shell and "Chromium" in (browser_version(full) or "")
