"""The app's process, started the way Playwright's ``webServer`` starts one.

The command runs through the shell in a new session (its own process group), with the environment the session
computed, its output to a log file beside nothing the user keeps (a temporary file: its tail is what an ``error``
sentence quotes). The URL is polled until it answers 2xx, 3xx or 400-403. Every exit path stops the group: SIGTERM,
then SIGKILL after a grace; :func:`kill_all` does the same for every live app from an interrupt's last resort and
from ``atexit``, so no app outlives the harness.

Bad settings are one line (:class:`HarnessError`) before any run starts: the command exits (with its output's last
lines), the URL never answers within the timeout, or something already answers at the URL (a port in use) while the
user did not ask to reuse it.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Mapping

from harness.errors import HarnessError

POLL_S = 0.25
STOP_GRACE_S = 5.0
TAIL_LINES = 8
_LIVE: set["AppProcess"] = set()
_LIVE_LOCK = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def answers(url: str, timeout: float = 2.0) -> bool:
    """Playwright's readiness: a 2xx, 3xx or 400-403 answer (redirects are not followed)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=timeout) as response:
            return 200 <= response.status < 400
    except urllib.error.HTTPError as err:
        return 300 <= err.code < 400 or 400 <= err.code <= 403
    except (OSError, ValueError):
        return False


class AppProcess:
    """One started app: ``start()`` waits for its URL; ``stop()`` ends its process group. Idempotent stop."""

    def __init__(self, command: str, url: str, *, cwd: Path | None, env: Mapping[str, str], timeout: float) -> None:
        self.command, self.url, self.cwd, self.env, self.timeout = command, url, cwd, dict(env), timeout
        self.popen: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="harness-app-", suffix=".log", delete=False)
        self.log_path = Path(self._log.name)
        self.started_s: float | None = None  # seconds from spawn until the URL answered

    def start(self) -> "AppProcess":
        if self.cwd is not None and not self.cwd.is_dir():
            self.stop()
            raise HarnessError(f"the app's folder {self.cwd} does not exist; fix --app-cwd (app.cwd)")
        began = time.monotonic()
        self.popen = subprocess.Popen(self.command, shell=True, cwd=self.cwd, env={**os.environ, **self.env},
                                      stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            self._wait(began)
        except BaseException:
            self.stop()
            raise
        self.started_s = round(time.monotonic() - began, 1)
        return self

    def _wait(self, began: float) -> None:
        assert self.popen is not None
        while time.monotonic() - began < self.timeout:
            code = self.popen.poll()
            if code is not None:
                raise HarnessError(f"the app command exited (status {code}) before {self.url} answered: "
                                   f"{self.tail() or '(no output)'}; fix --app-command (app.command)")
            if answers(self.url, timeout=min(5.0, self.timeout)):
                return
            time.sleep(POLL_S)
        raise HarnessError(f"the app did not answer at {self.url} within {self.timeout:g} s (last output: "
                           f"{self.tail() or 'none'}); check --app-url, or raise --app-timeout")

    @property
    def exit_code(self) -> int | None:
        """None while it runs."""
        return None if self.popen is None else self.popen.poll()

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines of the app's output, joined into one line (for an ``error`` sentence)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(kept)[-600:]

    def stop(self) -> None:
        popen = self.popen
        if popen is not None and popen.poll() is None:
            _signal_group(popen.pid, signal.SIGTERM)
            try:
                popen.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        if popen is not None:
            _signal_group(popen.pid, signal.SIGKILL)  # whatever of the group is left (a dev server's workers)
            try:
                popen.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        with _LIVE_LOCK:
            _LIVE.discard(self)
        self._log.close()
        try:
            self.log_path.unlink()  # its tail was read where it mattered (an error said while it ran)
        except OSError:
            pass


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # start_new_session: the group id is the shell's pid
    except (ProcessLookupError, PermissionError):
        pass


def kill_all() -> None:
    """SIGKILL every live app's process group (an interrupt's last resort, and at exit)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
        _LIVE.clear()
    for app in live:
        if app.popen is not None:
            _signal_group(app.popen.pid, signal.SIGKILL)


atexit.register(kill_all)
