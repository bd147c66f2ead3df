"""A Chromium the harness launches itself and reaches over CDP, so its tabs keep the browser's own visibility and focus.

Playwright sends ``Emulation.setFocusEmulationEnabled`` to every page it creates, which pins the page to "visible and
focused" whatever happens to its tab (microsoft/playwright #2286, #12099). A browser spawned here and reached with
``connect_over_cdp(..., no_defaults=True)`` gets no such emulation in its *default* context: opening a second tab
hides the first, minimising the window blurs and hides it, ``Page.setWebLifecycleState`` freezes it, and the page sees
the browser's own ``visibilitychange`` / ``focus`` / ``blur`` / ``freeze`` / ``resume``. (A ``browser.new_context()``
would switch the emulation back on, so only the default context is used.)

Each launch gets a fresh temporary profile (no cookie or storage carried from one run to the next), removed at close.
Chromium runs in its own process group (its own session), so closing kills every process it started -- renderers,
GPU, zygote -- not just the one we spawned. Its crash handler double-forks into a group of its own; it is found by a
marker in the environment every process of the launch inherits (``HARNESS_CHROMIUM_MARKER``). Nothing may outlive the
harness:

* :meth:`RealChromium.close` terminates the group, waits, kills what is left (marked stragglers included) and
  removes the profile;
* an ``atexit`` hook closes whatever is still open when Python exits (an error, a failed test);
* while a browser is open, SIGINT / SIGTERM / SIGHUP first close every live browser, then run the previous handler
  (so Ctrl-C still raises KeyboardInterrupt and SIGTERM still terminates);
* on Linux the kernel sends Chromium SIGKILL if the harness dies without running any of that (``PR_SET_PDEATHSIG``;
  it fires when the *thread* that launched Chromium ends, so launch and close from one thread -- which Playwright's
  sync API requires anyway). A profile left by a killed harness is removed by the next launch.
"""

from __future__ import annotations

import atexit
import ctypes
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from playwright.sync_api import Browser, Playwright
from playwright.sync_api import Error as PlaywrightError

from harness.errors import HarnessError, one_line

# The flags a user's browser would not have but a disposable one needs: no first-run UI, no background traffic to
# Google, no keychain prompts. Background throttling is deliberately left ON (Playwright turns it off): a real
# background tab is throttled, and that is part of what a real tab lifecycle means.
BASE_ARGS: tuple[str, ...] = (
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--password-store=basic",
    "--use-mock-keychain",
)

WORKDIR_PREFIX = "harness-chromium-"  # + "<harness pid>-<random>", in the system temp directory
MARKER_VAR = "HARNESS_CHROMIUM_MARKER"  # "<harness pid>-<n>": which process launched it, and which launch
_launches = itertools.count(1)

STARTUP_TIMEOUT = 30.0  # seconds for Chromium to write DevToolsActivePort (a cold start on 2 cores takes ~0.3 s)
SHUTDOWN_GRACE = 3.0  # seconds between SIGTERM and SIGKILL


def chromium_args(profile: Path, *, headless: bool, window_size: tuple[int, int],
                  extra: Sequence[str] = ()) -> list[str]:
    """The command-line flags (without the binary) for a self-launched Chromium with a CDP port chosen by the OS."""
    args = [f"--user-data-dir={profile}", "--remote-debugging-port=0", *BASE_ARGS,
            f"--window-size={window_size[0]},{window_size[1]}"]
    if headless:
        args.append("--headless")  # new headless: the full browser, with a real tab strip
    if _is_root():
        args.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox on
    args.extend(extra)
    args.append("about:blank")  # one tab to start with: the default context's first page
    return args


class RealChromium:
    """One self-launched Chromium process (group), its temporary profile, and the CDP connection to it."""

    def __init__(self, executable: Path, *, headless: bool = True, window_size: tuple[int, int] = (1000, 700),
                 extra_args: Sequence[str] = ()) -> None:
        self.executable = Path(executable)
        self.headless = headless
        self.window_size = window_size
        self.extra_args = tuple(extra_args)
        self.process: subprocess.Popen[bytes] | None = None
        self.browser: Browser | None = None
        self.workdir: Path | None = None
        self.endpoint: str | None = None
        self.marker = f"{os.getpid()}-{next(_launches)}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def profile(self) -> Path | None:
        return self.workdir / "profile" if self.workdir is not None else None

    # -- start ------------------------------------------------------------------------------------------------

    def launch(self, playwright: Playwright, slow_mo: float = 0, timeout: float = STARTUP_TIMEOUT) -> Browser:
        """Spawn Chromium, wait for its DevTools port, and connect Playwright to it without default overrides."""
        self.spawn(timeout)
        return self.connect(playwright, slow_mo=slow_mo, timeout=timeout)

    def spawn(self, timeout: float = STARTUP_TIMEOUT) -> "RealChromium":
        """Start the process and wait for its DevTools port; no Playwright call, so any thread may do it (a pool
        does it ahead of time). PDEATHSIG is bound to the calling thread: it must outlive the browser."""
        if self.process is not None:
            raise RuntimeError("this RealChromium was already launched")
        _sweep_orphaned_workdirs()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
        profile = self.workdir / "profile"
        profile.mkdir()
        log_path = self.workdir / "chromium.log"
        cmd = [str(self.executable), *chromium_args(profile, headless=self.headless, window_size=self.window_size,
                                                    extra=self.extra_args)]
        _install_guards()
        _LIVE.add(self)  # before the spawn: a signal arriving right after it still finds this launch
        with open(log_path, "wb") as log:
            try:
                self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                                env={**os.environ, MARKER_VAR: self.marker},
                                                start_new_session=True, preexec_fn=_die_with_parent_fn())
            except OSError as err:
                self.close()
                raise HarnessError(f"could not start Chromium at {self.executable}: {err.strerror}; "
                                   "check the path, or set HARNESS_CHROMIUM") from None
        try:
            self.endpoint = self._wait_for_endpoint(profile / "DevToolsActivePort", log_path, timeout)
        except BaseException:
            self.close()
            raise
        return self

    def connect(self, playwright: Playwright, slow_mo: float = 0, timeout: float = STARTUP_TIMEOUT) -> Browser:
        """Connect Playwright (of the calling thread) to the spawned browser, without default overrides."""
        if self.endpoint is None or not self.running:
            raise HarnessError(f"Chromium at {self.executable} is not running (it exited before the run began)")
        try:
            self.browser = playwright.chromium.connect_over_cdp(self.endpoint, no_defaults=True, is_local=True,
                                                                slow_mo=slow_mo or None, timeout=timeout * 1000)
        except BaseException as err:
            self.close()
            if isinstance(err, PlaywrightError):
                raise HarnessError(f"could not connect to Chromium at {self.executable}: {one_line(err)}") from None
            raise
        return self.browser

    def disconnect(self) -> None:
        """Drop the Playwright connection only (the calling thread must be the one that connected)."""
        browser, self.browser = self.browser, None
        if browser is not None:
            try:
                browser.close()  # for a CDP connection this only disconnects
            except Exception:
                pass

    def _wait_for_endpoint(self, port_file: Path, log_path: Path, timeout: float) -> str:
        # Chromium writes "<port>\n<browser target path>" once its DevTools server listens; poll for the file, and
        # fail at once (with Chromium's own last words) if the process dies first.
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"Chromium at {self.executable} exited at startup (status "
                                   f"{self.process.returncode}): {_last_line(log_path) or 'no output'}")
            try:
                lines = port_file.read_text().split()
            except OSError:
                lines = []
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.01)
        raise HarnessError(f"Chromium at {self.executable} did not open its DevTools port within {timeout:g} s "
                           f"({_last_line(log_path) or 'no output'})")

    # -- stop -------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Disconnect, end every process of the group, and remove the temporary profile. Safe to call twice, from
        a signal handler, or after the connection broke."""
        self.disconnect()
        self.kill()

    def kill(self) -> None:
        """End the process group (SIGTERM, then SIGKILL after a grace period) and remove the profile. No Playwright
        calls, so it is safe in a signal handler and in ``atexit``."""
        proc = self.process
        if proc is not None and proc.returncode is None:
            _terminate_group(proc)
        if proc is not None:
            for pid in self.processes():  # outside the group: the crash handler
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        _LIVE.discard(self)
        workdir, self.workdir = self.workdir, None  # two threads may kill at once (a watchdog, the closer)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
            if workdir.exists():  # a straggler wrote into it while we removed it
                shutil.rmtree(workdir, ignore_errors=True)
        if not _LIVE:
            _restore_signal_handlers()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def processes(self) -> list[int]:
        """Live (non-zombie) processes of this launch, wherever they are: its process group (the browser, zygotes,
        renderers, GPU) plus whatever carries its environment marker (the crash handler, in a group of its own)."""
        if self.process is None:
            return []
        return [p.pid for p in _scan() if p.marker == self.marker or p.pgrp == self.process.pid]


def marked_processes(launched_by: int | None = None) -> list[int]:
    """Pids of live processes of RealChromium launches -- by the harness process ``launched_by`` (a pid), or by any
    -- found by their environment marker and their process groups. Linux only (reads /proc); [] elsewhere."""
    procs = _scan()
    leaders = {p.pid for p in procs if p.marker is not None
               and (launched_by is None or p.marker.startswith(f"{launched_by}-"))}
    return sorted(p.pid for p in procs if p.pid in leaders or p.pgrp in leaders
                  or (p.marker is not None and (launched_by is None or p.marker.startswith(f"{launched_by}-"))))


@dataclass(frozen=True)
class _Proc:
    pid: int
    pgrp: int
    marker: str | None


def _scan() -> list[_Proc]:
    """Every live (non-zombie) process we can read: its group and its RealChromium marker, if any."""
    needle = f"{MARKER_VAR}=".encode()
    out: list[_Proc] = []
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return out
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
            # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
            fields = stat[stat.rindex(b")") + 2:].split()
            if fields[0] in (b"Z", b"X"):
                continue
            pgrp = int(fields[2])
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read()
        except (OSError, ValueError, IndexError):  # gone meanwhile, or not ours to read
            continue
        marker = next((item[len(needle):].decode(errors="replace") for item in environ.split(b"\0")
                       if item.startswith(needle)), None)
        out.append(_Proc(int(entry), pgrp, marker))
    return out


def _terminate_group(proc: subprocess.Popen[bytes]) -> None:
    # The group id is the leader's pid. It stays ours while the leader is unreaped (a zombie keeps the id), so the
    # leader is waited for with WNOWAIT, the group swept, and only then the leader reaped: a killpg can never hit
    # an unrelated group that reused the number.
    pgid = proc.pid
    _signal_group(pgid, signal.SIGTERM)
    if not _wait_exit_nowait(proc.pid, SHUTDOWN_GRACE):
        _signal_group(pgid, signal.SIGKILL)
        _wait_exit_nowait(proc.pid, SHUTDOWN_GRACE)
    _signal_group(pgid, signal.SIGKILL)  # children that outlived the browser (renderers, zygote)
    try:
        proc.wait(timeout=SHUTDOWN_GRACE)
    except subprocess.TimeoutExpired:  # cannot happen after SIGKILL unless the kernel is stuck; do not hang on it
        pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_exit_nowait(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` for ``pid`` to exit without reaping it; True once it has."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
                return True
        except ChildProcessError:  # already reaped
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def _sweep_orphaned_workdirs() -> None:
    """Remove profiles left by a harness process that was killed outright (SIGKILL runs no cleanup; PDEATHSIG still
    ended its Chromium). Only directories whose harness pid no longer exists are touched."""
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.glob(f"{WORKDIR_PREFIX}*-*"))
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(WORKDIR_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # alive (or a reused pid): leave it
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            continue


# -- guards: atexit and signals ---------------------------------------------------------------------------------

_LIVE: set[RealChromium] = set()
_PREVIOUS_HANDLERS: dict[int, Any] = {}
_GUARD_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def kill_all() -> None:
    """Kill every Chromium this process launched and has not closed yet."""
    for chromium in list(_LIVE):
        try:
            chromium.kill()
        except Exception:
            pass


atexit.register(kill_all)



def _on_signal(signum: int, frame: Any) -> None:
    previous = _PREVIOUS_HANDLERS.get(signum, signal.SIG_DFL)
    kill_all()  # first: whatever the previous handler does next (raise, exit), no browser is left behind
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def install_signal_guards() -> None:
    """Install the SIGINT/SIGTERM/SIGHUP guards now (main thread only): a pool that spawns browsers on another
    thread calls this first, since handlers cannot be set from there."""
    _install_guards()


def _install_guards() -> None:
    # Handlers can only be set from the main thread; elsewhere atexit and PDEATHSIG remain.
    if _PREVIOUS_HANDLERS or threading.current_thread() is not threading.main_thread():
        return
    for sig in _GUARD_SIGNALS:
        try:
            previous = signal.getsignal(sig)
            if previous == signal.SIG_IGN or previous is None:
                continue  # the process chose to ignore it (nohup); keep it that way
            signal.signal(sig, _on_signal)
            _PREVIOUS_HANDLERS[sig] = previous
        except (ValueError, OSError):
            pass


def _restore_signal_handlers() -> None:
    if not _PREVIOUS_HANDLERS or threading.current_thread() is not threading.main_thread():
        return
    for sig, previous in list(_PREVIOUS_HANDLERS.items()):
        try:
            if signal.getsignal(sig) is _on_signal:
                signal.signal(sig, previous)
        except (ValueError, OSError):
            pass
    _PREVIOUS_HANDLERS.clear()


def _die_with_parent_fn() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGKILL Chromium when the harness dies (even by SIGKILL); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork: the child only makes the call
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigkill = 1, int(signal.SIGKILL)

    def die_with_parent() -> None:
        prctl(pr_set_pdeathsig, sigkill)

    return die_with_parent


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _last_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""
